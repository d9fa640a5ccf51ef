#include "cutover/way_back.h"

#include "pgparity/applier/catalog/database_control.h"
#include "pgparity/sql_quote.h"

namespace pgparity::applier::cutover_internal {

namespace {

Result<std::string> CurrentDatabase(conn::PgSession& session) {
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult r, session.Query("SELECT current_database()", {}));
  return std::string(r.Value(0, 0));
}

// Whether `name` exists in catalog `catalog` (pg_publication, pg_subscription).
Result<bool> Exists(conn::PgSession& session, std::string_view catalog, std::string_view column,
                    const std::string& name) {
  PGPARITY_ASSIGN_OR_RETURN(
      conn::QueryResult r, session.Query("SELECT count(*) FROM pg_catalog." + std::string(catalog) +
                                             " WHERE " + std::string(column) + " = $1",
                                         {name}));
  return r.Value(0, 0) != "0";
}

}  // namespace

Result<std::optional<std::string>> DatabaseReadOnly(conn::PgSession& session) {
  PGPARITY_ASSIGN_OR_RETURN(std::optional<std::string> value,
                            ReadDatabaseSetting(session, "default_transaction_read_only"));
  if (!value) return value;
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult r,
                            session.Query("SELECT $1::bool::text", {*value}));  // on, yes, 1, ...
  if (r.Value(0, 0) != "true") return std::optional<std::string>();
  return value;
}

Status ResetDatabaseReadOnly(conn::PgSession& session) {
  PGPARITY_ASSIGN_OR_RETURN(std::string db, CurrentDatabase(session));
  return session.Exec("ALTER DATABASE " + QuoteIdent(db) + " RESET default_transaction_read_only");
}

Status SetDatabaseReadOnly(conn::PgSession& session, const std::string& value) {
  PGPARITY_ASSIGN_OR_RETURN(std::string db, CurrentDatabase(session));
  return session.Exec("ALTER DATABASE " + QuoteIdent(db) +
                      " SET default_transaction_read_only = " + QuoteLiteral(value));
}

Status StartReverse(conn::PgSession& source, conn::PgSession& target,
                    const SubscriptionInfo& forward, const ReverseReplication& reverse) {
  PGPARITY_ASSIGN_OR_RETURN(bool taken, Exists(source, "pg_subscription", "subname", reverse.name));
  if (taken) {
    return Status::AlreadyExists("a subscription " + reverse.name +
                                 " exists on the source already: drop it there (DROP "
                                 "SUBSCRIPTION " +
                                 QuoteIdent(reverse.name) + ") or leave out --reverse");
  }
  // Disabled first: the reverse subscription's writes on the source must
  // not come back to the target through it.
  PGPARITY_RETURN_IF_ERROR(
      target.Exec("ALTER SUBSCRIPTION " + QuoteIdent(forward.name) + " DISABLE"));
  PGPARITY_ASSIGN_OR_RETURN(bool published,
                            Exists(target, "pg_publication", "pubname", reverse.name));
  if (!published) {
    PGPARITY_RETURN_IF_ERROR(
        target.Exec("CREATE PUBLICATION " + QuoteIdent(reverse.name) + " FOR ALL TABLES"));
  }
  // The slot is created on the target now, before the application writes
  // there: every later write reaches the source.
  return source.Exec("CREATE SUBSCRIPTION " + QuoteIdent(reverse.name) + " CONNECTION " +
                     QuoteLiteral(ConninfoString(reverse.target)) + " PUBLICATION " +
                     QuoteIdent(reverse.name) + " WITH (copy_data = false)");
}

Status UndoReverse(conn::PgSession& source, conn::PgSession& target,
                   const SubscriptionInfo& forward, const ReverseReplication& reverse) {
  PGPARITY_ASSIGN_OR_RETURN(bool subscribed,
                            Exists(source, "pg_subscription", "subname", reverse.name));
  if (subscribed) {
    PGPARITY_RETURN_IF_ERROR(source.Exec("DROP SUBSCRIPTION " + QuoteIdent(reverse.name)));
  }
  PGPARITY_RETURN_IF_ERROR(target.Exec("DROP PUBLICATION IF EXISTS " + QuoteIdent(reverse.name)));
  return target.Exec("ALTER SUBSCRIPTION " + QuoteIdent(forward.name) + " ENABLE");
}

}  // namespace pgparity::applier::cutover_internal
