// The subscription's health as the target sees it now, for provenance
// (docs/provenance.md): whether it is enabled, whether its apply worker
// runs and how far it has received (pg_stat_subscription), and its error
// counters (pg_stat_subscription_stats, PostgreSQL 15+); and whether the
// server records commit timestamps (track_commit_timestamp), which tells a
// local write from a replicated one.
//
// Read-only queries on a plain session to the target.
// Errors and thread-safety: as catalog.h says.
#ifndef PGPARITY_APPLIER_CATALOG_SUBSCRIPTION_STATS_H_
#define PGPARITY_APPLIER_CATALOG_SUBSCRIPTION_STATS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "pgparity/applier/catalog/subscription.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::applier {

struct SubscriptionHealth {
  bool enabled = false;  // pg_subscription.subenabled, now
  // The apply worker (not a tablesync or parallel apply worker) has a pid.
  bool apply_worker_running = false;
  // The apply worker's last reported receive position and its time
  // ("2024-05-06T07:08:09.123456Z", UTC); nullopt without a worker.
  std::optional<wire::Lsn> latest_end_lsn;
  std::optional<std::string> latest_end_time;
  // pg_stat_subscription_stats (PostgreSQL 15+) since stats_reset (nullopt
  // reset: never reset since the subscription was created); the counts are
  // nullopt before 15 or without a row.
  std::optional<int64_t> apply_errors;
  std::optional<int64_t> sync_errors;
  std::optional<std::string> stats_reset;
};

// `sub`'s health. NotFound when the subscription no longer exists.
Result<SubscriptionHealth> ReadSubscriptionHealth(conn::PgSession& target,
                                                  const SubscriptionInfo& sub);

// current_setting('track_commit_timestamp') = on: the server records each
// transaction's commit time and replication origin
// (pg_xact_commit_timestamp_origin). Takes effect at a server restart.
Result<bool> ReadTrackCommitTimestamp(conn::PgSession& session);

// The SQL expression printing timestamptz `expr` as ISO 8601 in UTC with 6
// fraction digits, as wire::Timestamp::ToIso8601 does (NULL stays NULL).
std::string IsoUtcSql(const std::string& expr);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_SUBSCRIPTION_STATS_H_
