#include "pgparity/applier/catalog/server_activity.h"

#include "catalog/query_rows.h"

namespace pgparity::applier {

using catalog_internal::QueryRows;
using conn::RowReader;

namespace {

Result<ServerSession> ReadSessionRow(const RowReader& row) {
  ServerSession s;
  PGPARITY_ASSIGN_OR_RETURN(s.pid, row.Int64("pid"));
  PGPARITY_ASSIGN_OR_RETURN(s.backend_type, row.Text("backend_type"));
  PGPARITY_ASSIGN_OR_RETURN(s.application_name, row.Text("application_name"));
  PGPARITY_ASSIGN_OR_RETURN(s.user, row.Text("usename"));
  PGPARITY_ASSIGN_OR_RETURN(s.database, row.Text("datname"));
  PGPARITY_ASSIGN_OR_RETURN(s.state, row.Text("state"));
  PGPARITY_ASSIGN_OR_RETURN(s.transaction_seconds, row.Double("xact_seconds"));
  PGPARITY_ASSIGN_OR_RETURN(s.transaction_age, row.Text("xact_age"));
  PGPARITY_ASSIGN_OR_RETURN(s.has_written, row.Bool("has_xid"));
  PGPARITY_ASSIGN_OR_RETURN(s.query, row.Text("query"));
  return s;
}

}  // namespace

Result<std::vector<ServerSession>> ReadSessions(conn::PgSession& session) {
  return QueryRows<ServerSession>(
      session, "reading pg_stat_activity",
      "SELECT pid, coalesce(backend_type, '') AS backend_type, coalesce(application_name, '') AS "
      "application_name, coalesce(usename::text, '') AS usename, coalesce(datname::text, '') AS "
      "datname, coalesce(state, '') AS state, "
      "coalesce(extract(epoch FROM now() - xact_start)::float8, -1) AS xact_seconds, "
      "coalesce(date_trunc('second', now() - xact_start)::text, '') AS xact_age, "
      "backend_xid IS NOT NULL AS has_xid, "
      "left(regexp_replace(coalesce(query, ''), '\\s+', ' ', 'g'), 80) AS query "
      "FROM pg_stat_activity WHERE pid <> pg_backend_pid() ORDER BY xact_start, pid",
      {}, ReadSessionRow);
}

Result<std::vector<PreparedTransaction>> ReadPreparedTransactions(conn::PgSession& session) {
  return QueryRows<PreparedTransaction>(
      session, "reading pg_prepared_xacts",
      "SELECT gid, date_trunc('second', prepared)::text AS prepared_at, owner, database "
      "FROM pg_prepared_xacts ORDER BY prepared",
      {}, [](const RowReader& row) -> Result<PreparedTransaction> {
        PreparedTransaction p;
        PGPARITY_ASSIGN_OR_RETURN(p.gid, row.Text("gid"));
        PGPARITY_ASSIGN_OR_RETURN(p.prepared_at, row.Text("prepared_at"));
        PGPARITY_ASSIGN_OR_RETURN(p.owner, row.Text("owner"));
        PGPARITY_ASSIGN_OR_RETURN(p.database, row.Text("database"));
        return p;
      });
}

Result<std::optional<SessionRole>> ReadSessionRole(conn::PgSession& session) {
  PGPARITY_ASSIGN_OR_RETURN(
      std::vector<SessionRole> roles,
      QueryRows<SessionRole>(
          session, "reading the role's rights",
          "SELECT current_user AS name, rolsuper OR pg_has_role(current_user, "
          "'pg_read_all_stats', 'USAGE') AS sees_all FROM pg_roles WHERE rolname = current_user",
          {}, [](const RowReader& row) -> Result<SessionRole> {
            SessionRole r;
            PGPARITY_ASSIGN_OR_RETURN(r.name, row.Text("name"));
            PGPARITY_ASSIGN_OR_RETURN(r.sees_all_sessions, row.Bool("sees_all"));
            return r;
          }));
  if (roles.size() != 1) return std::optional<SessionRole>();
  return std::optional<SessionRole>(std::move(roles[0]));
}

}  // namespace pgparity::applier
