// Why a published table is not in its subscription (pg_subscription_rel),
// and the fix — one text for preflight and verify/audit.
//
// The usual cause is a table published after the subscription was created
// or last refreshed, and the fix is ALTER SUBSCRIPTION ... REFRESH
// PUBLICATION. When the subscription lists the table's partitions or its
// partitioned table instead, publish_via_partition_root changed on the
// publication: the subscriber skips the table's changes (its relation is in
// no state), and a plain REFRESH would copy the rows the partitions already
// hold again, failing on their keys for ever (seen on 14 -> 16). Its fix
// refreshes without copying; the changes skipped until then stay to be
// found as divergent rows.
//
// Pure: no I/O.
#ifndef PGPARITY_APPLIER_CATALOG_NOT_SUBSCRIBED_H_
#define PGPARITY_APPLIER_CATALOG_NOT_SUBSCRIBED_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/catalog/relations.h"

namespace pgparity::applier {

// The relatives of a table the subscription lists in its place, as
// format('%I.%I') names, sorted: its partitions, or its partitioned tables.
struct SubscribedInstead {
  std::vector<std::string> partitions;
  std::vector<std::string> partitioned;  // the chain of parents up to the root
  bool empty() const { return partitions.empty() && partitioned.empty(); }
};

// `table`'s relatives on the target (its leaves and its parents, from
// `target`) that `subscribed` says the subscription lists.
SubscribedInstead FindSubscribedInstead(const Relations& target, const RelationName& table,
                                        const std::function<bool(const RelationName&)>& subscribed);

// The parts each caller words its message from.
struct NotSubscribedExplained {
  // "subscription S does not replicate this table" / "subscription S
  // replicates its partitions a, b instead"
  std::string listed;
  std::string cause;      // why, a clause
  std::string statement;  // the fix, to run on the target
  std::string caveat;     // "" or why not another statement, a clause
  std::string then;       // "" or what shows after the fix, a clause
};

// The cause and fix for a table subscription `subscription` (as shown to
// the user) does not list; `instead` from FindSubscribedInstead.
NotSubscribedExplained ExplainNotSubscribed(std::string_view subscription,
                                            const SubscribedInstead& instead);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_NOT_SUBSCRIBED_H_
