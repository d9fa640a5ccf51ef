#include "pgparity/applier/catalog/not_subscribed.h"

#include <algorithm>

namespace pgparity::applier {

namespace {

std::string List(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

SubscribedInstead FindSubscribedInstead(
    const Relations& target, const RelationName& table,
    const std::function<bool(const RelationName&)>& subscribed) {
  SubscribedInstead out;
  auto it = target.find(table);
  if (it == target.end()) return out;
  for (const RelationName& leaf : it->second.leaves) {
    if (leaf == table || !subscribed(leaf)) continue;
    auto l = target.find(leaf);
    out.partitions.push_back(l != target.end() ? l->second.qualified
                                               : leaf.schema + "." + leaf.name);
  }
  // Up the parents (a partition of a partition has two).
  for (std::optional<RelationName> p = it->second.parent; p;) {
    auto parent = target.find(*p);
    if (parent == target.end()) break;
    if (subscribed(*p)) out.partitioned.push_back(parent->second.qualified);
    p = parent->second.parent;
  }
  std::sort(out.partitions.begin(), out.partitions.end());
  std::sort(out.partitioned.begin(), out.partitioned.end());
  return out;
}

NotSubscribedExplained ExplainNotSubscribed(std::string_view subscription,
                                            const SubscribedInstead& instead) {
  NotSubscribedExplained e;
  const std::string sub = "subscription " + std::string(subscription);
  e.statement = "ALTER SUBSCRIPTION " + std::string(subscription) + " REFRESH PUBLICATION";
  if (instead.empty()) {
    e.listed = sub + " does not replicate this table";
    e.cause =
        "created or published on the source after the subscription was created or last "
        "refreshed";
    return e;
  }
  e.listed = sub + " replicates " +
             (!instead.partitions.empty() ? "its partitions " + List(instead.partitions)
                                          : "its partitioned table " + List(instead.partitioned)) +
             " instead";
  e.cause =
      "publish_via_partition_root changed on the publication since the subscription was "
      "created or last refreshed: the subscriber skips this table's changes";
  e.statement += " WITH (copy_data = false)";
  e.caveat = "a plain REFRESH copies the rows the partitions hold again and fails on their keys";
  e.then = "the changes skipped until then show as divergent rows";
  return e;
}

}  // namespace pgparity::applier
