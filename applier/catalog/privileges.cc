#include "pgparity/applier/catalog/privileges.h"

#include "catalog/query_rows.h"

namespace pgparity::applier {

namespace {

using catalog_internal::QueryOneRow;
using catalog_internal::QueryRows;

// has_parameter_privilege exists from PostgreSQL 15 on; before, only a
// superuser may set session_replication_role.
Status ReadRoleAttributes(conn::PgSession& session, RolePrivileges& p) {
  const std::string set_role = session.server_version() >= 150000
                                   ? "has_parameter_privilege('session_replication_role', 'SET')"
                                   : "r.rolsuper";
  return QueryOneRow<bool>(
             session, "reading the role's privileges",
             "SELECT current_user AS name, r.rolsuper, r.rolreplication OR r.rolsuper AS repl, "
             "has_table_privilege('pg_catalog.pg_replication_origin_status', 'SELECT') AS view, "
             "has_function_privilege('pg_catalog.pg_show_replication_origin_status()', "
             "'EXECUTE') AS func, " +
                 set_role + " AS set_role FROM pg_roles r WHERE r.rolname = current_user",
             {},
             [&p](const conn::RowReader& row) -> Result<bool> {
               PGPARITY_ASSIGN_OR_RETURN(p.role, row.Text("name"));
               PGPARITY_ASSIGN_OR_RETURN(p.superuser, row.Bool("rolsuper"));
               PGPARITY_ASSIGN_OR_RETURN(p.replication, row.Bool("repl"));
               PGPARITY_ASSIGN_OR_RETURN(p.origin_status_view, row.Bool("view"));
               PGPARITY_ASSIGN_OR_RETURN(p.origin_status_function, row.Bool("func"));
               PGPARITY_ASSIGN_OR_RETURN(p.set_replication_role, row.Bool("set_role"));
               return true;
             })
      .status();
}

Result<std::vector<std::pair<RelationName, TableRights>>> ReadTableRights(
    conn::PgSession& session) {
  return QueryRows<std::pair<RelationName, TableRights>>(
      session, "reading the role's privileges on the tables",
      "SELECT n.nspname, c.relname, has_schema_privilege(n.oid, 'USAGE') AS usage, "
      "has_table_privilege(c.oid, 'SELECT') AS sel, has_table_privilege(c.oid, 'INSERT') AS ins, "
      "has_table_privilege(c.oid, 'UPDATE') AS upd, has_table_privilege(c.oid, 'DELETE') AS del, "
      // The server's check_enable_rls: ownership counts through role
      // membership (pg_has_role USAGE), unless the table forces it.
      "c.relrowsecurity AND NOT (r.rolsuper OR r.rolbypassrls OR (pg_has_role(c.relowner, "
      "'USAGE') AND NOT c.relforcerowsecurity)) AS rls "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "JOIN pg_roles r ON r.rolname = current_user "
      "WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' "
      "AND n.nspname NOT LIKE 'pg\\_%'",
      {}, [](const conn::RowReader& row) -> Result<std::pair<RelationName, TableRights>> {
        std::pair<RelationName, TableRights> t;
        PGPARITY_ASSIGN_OR_RETURN(t.first.schema, row.Text("nspname"));
        PGPARITY_ASSIGN_OR_RETURN(t.first.name, row.Text("relname"));
        PGPARITY_ASSIGN_OR_RETURN(t.second.schema_usage, row.Bool("usage"));
        PGPARITY_ASSIGN_OR_RETURN(t.second.select, row.Bool("sel"));
        PGPARITY_ASSIGN_OR_RETURN(t.second.insert, row.Bool("ins"));
        PGPARITY_ASSIGN_OR_RETURN(t.second.update, row.Bool("upd"));
        PGPARITY_ASSIGN_OR_RETURN(t.second.delete_, row.Bool("del"));
        PGPARITY_ASSIGN_OR_RETURN(t.second.row_security_applies, row.Bool("rls"));
        return t;
      });
}

}  // namespace

Result<RolePrivileges> ReadRolePrivileges(conn::PgSession& session) {
  RolePrivileges p;
  PGPARITY_RETURN_IF_ERROR(ReadRoleAttributes(session, p));
  PGPARITY_ASSIGN_OR_RETURN(auto tables, ReadTableRights(session));
  for (auto& [name, rights] : tables) p.tables.emplace(std::move(name), rights);
  return p;
}

}  // namespace pgparity::applier
