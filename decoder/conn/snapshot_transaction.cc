#include "pgparity/conn/snapshot_transaction.h"

#include "pgparity/sql_quote.h"

namespace pgparity::conn {

namespace {
constexpr const char* kBeginReadOnly = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
}  // namespace

Result<std::string> BeginExportedSnapshot(PgSession& session) {
  PGPARITY_RETURN_IF_ERROR(session.Exec(kBeginReadOnly));
  PGPARITY_ASSIGN_OR_RETURN(QueryResult r, session.Query("SELECT pg_export_snapshot()"));
  if (r.rows() != 1) return Status::Internal("pg_export_snapshot() returned no row");
  return std::string(r.Value(0, 0));
}

Status BeginInSnapshot(PgSession& session, std::string_view name) {
  PGPARITY_RETURN_IF_ERROR(session.Exec(kBeginReadOnly));
  return session.Exec("SET TRANSACTION SNAPSHOT " + QuoteLiteral(name));
}

}  // namespace pgparity::conn
