#include "pgparity/applier/catalog/subscription_stats.h"

#include "catalog/query_rows.h"

namespace pgparity::applier {

using catalog_internal::QueryOneRow;
using catalog_internal::QueryRows;
using conn::RowReader;

namespace {

// The query of ReadSubscriptionHealth for a server of `version`: one row
// per subscription oid $1, none when it is gone.
std::string HealthSql(int version) {
  // PostgreSQL 16's parallel apply workers also have relid NULL: only the
  // leader is the apply worker.
  const std::string leader = version >= 160000 ? " AND leader_pid IS NULL" : "";
  const std::string stats =
      version >= 150000
          ? "st.apply_error_count AS apply_errors, st.sync_error_count AS sync_errors, " +
                IsoUtcSql("st.stats_reset") + " AS stats_reset"
          : "NULL::bigint AS apply_errors, NULL::bigint AS sync_errors, NULL::text AS stats_reset";
  const std::string stats_join =
      version >= 150000 ? " LEFT JOIN pg_stat_subscription_stats st ON st.subid = s.oid" : "";
  return "SELECT s.subenabled AS enabled, w.pid IS NOT NULL AS running, "
         "w.latest_end_lsn::text AS latest_end_lsn, " +
         IsoUtcSql("w.latest_end_time") + " AS latest_end_time, " + stats +
         " FROM pg_subscription s"
         " LEFT JOIN LATERAL (SELECT pid, latest_end_lsn, latest_end_time"
         " FROM pg_stat_subscription WHERE subid = s.oid AND relid IS NULL AND pid IS NOT NULL" +
         leader + " LIMIT 1) w ON true" + stats_join + " WHERE s.oid = $1::oid";
}

Result<SubscriptionHealth> ReadHealthRow(const RowReader& row) {
  SubscriptionHealth h;
  PGPARITY_ASSIGN_OR_RETURN(h.enabled, row.Bool("enabled"));
  PGPARITY_ASSIGN_OR_RETURN(h.apply_worker_running, row.Bool("running"));
  PGPARITY_ASSIGN_OR_RETURN(h.latest_end_lsn, row.OptionalLsn("latest_end_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(auto end_time, row.OptionalText("latest_end_time"));
  if (end_time) h.latest_end_time = std::string(*end_time);
  PGPARITY_ASSIGN_OR_RETURN(h.apply_errors, row.OptionalInt64("apply_errors"));
  PGPARITY_ASSIGN_OR_RETURN(h.sync_errors, row.OptionalInt64("sync_errors"));
  PGPARITY_ASSIGN_OR_RETURN(auto reset, row.OptionalText("stats_reset"));
  if (reset) h.stats_reset = std::string(*reset);
  return h;
}

}  // namespace

std::string IsoUtcSql(const std::string& expr) {
  return "to_char((" + expr + ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
}

Result<SubscriptionHealth> ReadSubscriptionHealth(conn::PgSession& target,
                                                  const SubscriptionInfo& sub) {
  PGPARITY_ASSIGN_OR_RETURN(
      std::vector<SubscriptionHealth> rows,
      QueryRows<SubscriptionHealth>(target, "reading the subscription's health",
                                    HealthSql(target.server_version()), {sub.oid}, ReadHealthRow));
  if (rows.empty()) {
    return Status::NotFound("subscription " + sub.name + " (oid " + sub.oid +
                            ") no longer exists on the target");
  }
  return rows[0];
}

Result<bool> ReadTrackCommitTimestamp(conn::PgSession& session) {
  return QueryOneRow<bool>(session, "reading track_commit_timestamp",
                           "SELECT current_setting('track_commit_timestamp')::bool AS track", {},
                           [](const RowReader& row) { return row.Bool("track"); });
}

}  // namespace pgparity::applier
