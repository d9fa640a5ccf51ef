#include "pgparity/applier/catalog/database_control.h"

#include "catalog/query_rows.h"

namespace pgparity::applier {

using catalog_internal::QueryOneRow;
using catalog_internal::QueryRows;
using catalog_internal::TextColumn;
using conn::RowReader;

Result<DatabaseControl> ReadDatabaseControl(conn::PgSession& session) {
  PGPARITY_ASSIGN_OR_RETURN(
      DatabaseControl control,
      QueryOneRow<DatabaseControl>(
          session, "reading the database's owner",
          // pg_has_role(..., 'USAGE'): the owner's rights as the server checks
          // them (pg_database_ownercheck and pg_signal_backend both go by
          // has_privs_of_role); true for a superuser.
          "SELECT d.datname::text AS database, pg_get_userbyid(d.datdba)::text AS owner, "
          "pg_has_role(d.datdba, 'USAGE') AS may_alter, "
          "pg_has_role('pg_signal_backend', 'USAGE') AS signal_backend "
          "FROM pg_database d WHERE d.datname = current_database()",
          {}, [](const RowReader& row) -> Result<DatabaseControl> {
            DatabaseControl c;
            PGPARITY_ASSIGN_OR_RETURN(c.database, row.Text("database"));
            PGPARITY_ASSIGN_OR_RETURN(c.owner, row.Text("owner"));
            PGPARITY_ASSIGN_OR_RETURN(c.may_alter, row.Bool("may_alter"));
            PGPARITY_ASSIGN_OR_RETURN(c.signal_backend, row.Bool("signal_backend"));
            return c;
          }));
  PGPARITY_ASSIGN_OR_RETURN(
      control.superusers,
      QueryRows<std::string>(session, "reading the superusers",
                             "SELECT rolname::text AS name FROM pg_roles WHERE rolsuper "
                             "ORDER BY rolname",
                             {}, TextColumn("name")));
  return control;
}

Result<std::optional<std::string>> ReadDatabaseSetting(conn::PgSession& session,
                                                       std::string_view name) {
  // setconfig holds "name=value" with the canonical (lower-case) name.
  PGPARITY_ASSIGN_OR_RETURN(
      std::vector<std::string> values,
      QueryRows<std::string>(session, "reading pg_db_role_setting",
                             "SELECT substr(s, length($1) + 2) AS value FROM pg_db_role_setting r, "
                             "unnest(r.setconfig) AS s WHERE r.setrole = 0 AND r.setdatabase = "
                             "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                             "AND left(s, length($1) + 1) = $1 || '='",
                             {std::string(name)}, TextColumn("value")));
  if (values.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(values.back()));
}

}  // namespace pgparity::applier
