// The subscription on the target: pg_subscription (every one of the
// server, or the one that replicates the migration's publication), the
// copy state of each of its tables (pg_subscription_rel), and whether its
// workers run and fail (pg_stat_subscription, pg_stat_subscription_stats).
//
// Read-only queries on a plain session to the target.
// Errors and thread-safety: as catalog.h says.
#ifndef PGPARITY_APPLIER_CATALOG_SUBSCRIPTION_H_
#define PGPARITY_APPLIER_CATALOG_SUBSCRIPTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/catalog/relations.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct SubscriptionInfo {
  std::string oid;
  std::string name;
  bool enabled = false;
  std::string slot_name;  // on the source; "" for slot_name = NONE
  std::vector<std::string> publications;
  bool in_current_database = true;  // of the session's database

  // Its replication origin on the target ("pg_<oid>").
  std::string origin() const { return "pg_" + oid; }
  // Its tablesync workers' slots and application names start so.
  std::string sync_prefix() const { return "pg_" + oid + "_sync_"; }
  // The slot is its own or one of its tablesync slots.
  bool OwnsSlot(std::string_view slot) const;
  // The origin is its own or one of its tablesync origins ("pg_<oid>_<relid>").
  bool OwnsOrigin(std::string_view origin) const;
  bool Subscribes(std::string_view publication) const;
};

// Every subscription of the target's server (pg_subscription is shared by
// its databases), sorted by name.
Result<std::vector<SubscriptionInfo>> ReadSubscriptions(conn::PgSession& target);

// The subscription named `name`, or (nullopt) the one subscription of the
// target's database that subscribes to `publication`. NotFound / a
// FailedPrecondition naming the candidates when there is none or several.
Result<SubscriptionInfo> FindSubscription(conn::PgSession& target,
                                          const std::optional<std::string>& name,
                                          const std::string& publication);

struct SubscriptionTable {
  RelationName table;     // on the target
  std::string qualified;  // format('%I.%I')
  char state = 'i';       // srsubstate: 'i', 'd', 'f', 's', 'r'
};

// The tables `sub` replicates (pg_subscription_rel), in no particular order.
Result<std::vector<SubscriptionTable>> ReadSubscriptionTables(conn::PgSession& target,
                                                              const SubscriptionInfo& sub);

// "r: ready", "d: copying data", ... for a srsubstate.
std::string SubscriptionStateName(char state);

struct SubscriptionActivity {
  bool apply_worker_running = false;
  // pg_stat_subscription_stats (PostgreSQL 15+), since its last reset;
  // nullopt before 15 or without a row.
  std::optional<int64_t> apply_errors;
  std::optional<int64_t> sync_errors;
};

Result<SubscriptionActivity> ReadSubscriptionActivity(conn::PgSession& target,
                                                      const SubscriptionInfo& sub);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_SUBSCRIPTION_H_
