// FindSubscribedInstead and ExplainNotSubscribed on hand-made relations:
// the relatives a subscription lists in a table's place (partitions at any
// depth, the chain of partitioned parents), and the fix each case gets.
#include "pgparity/applier/catalog/not_subscribed.h"

#include <gtest/gtest.h>

#include <set>

namespace pgparity::applier {
namespace {

Relation Table(const std::string& name, char relkind = 'r') {
  Relation r;
  r.schema = "public";
  r.name = name;
  r.qualified = "public." + name;
  r.relkind = relkind;
  return r;
}

RelationName Name(const std::string& name) { return {"public", name}; }

// events (root) > events_2024 (leaf), events_2025 (partitioned) > events_2025_q1 (leaf).
Relations Tree() {
  Relations rs;
  Relation root = Table("events", 'p');
  root.leaves = {Name("events_2024"), Name("events_2025_q1")};
  Relation leaf = Table("events_2024");
  leaf.parent = Name("events");
  leaf.root = Name("events");
  Relation mid = Table("events_2025", 'p');
  mid.parent = Name("events");
  mid.root = Name("events");
  mid.leaves = {Name("events_2025_q1")};
  Relation deep = Table("events_2025_q1");
  deep.parent = Name("events_2025");
  deep.root = Name("events");
  for (Relation* r : {&root, &leaf, &mid, &deep}) rs[r->key()] = *r;
  rs[Name("plain")] = Table("plain");
  return rs;
}

auto In(std::set<std::string> names) {
  return [names](const RelationName& r) { return names.contains(r.name); };
}

TEST(NotSubscribedTest, ARootWhosePartitionsAreSubscribed) {
  const SubscribedInstead i =
      FindSubscribedInstead(Tree(), Name("events"), In({"events_2025_q1", "events_2024"}));
  EXPECT_EQ(i.partitions,
            (std::vector<std::string>{"public.events_2024", "public.events_2025_q1"}));
  EXPECT_TRUE(i.partitioned.empty());
  const NotSubscribedExplained e = ExplainNotSubscribed("sub", i);
  EXPECT_EQ(e.listed,
            "subscription sub replicates its partitions public.events_2024, "
            "public.events_2025_q1 instead");
  EXPECT_EQ(e.statement, "ALTER SUBSCRIPTION sub REFRESH PUBLICATION WITH (copy_data = false)");
  EXPECT_NE(e.cause.find("publish_via_partition_root changed"), std::string::npos) << e.cause;
  EXPECT_FALSE(e.caveat.empty());
  EXPECT_FALSE(e.then.empty());
}

TEST(NotSubscribedTest, APartitionWhoseParentsAreSubscribed) {
  const SubscribedInstead i =
      FindSubscribedInstead(Tree(), Name("events_2025_q1"), In({"events", "events_2025"}));
  EXPECT_TRUE(i.partitions.empty());
  EXPECT_EQ(i.partitioned, (std::vector<std::string>{"public.events", "public.events_2025"}));
  EXPECT_EQ(ExplainNotSubscribed("sub", i).listed,
            "subscription sub replicates its partitioned table public.events, public.events_2025 "
            "instead");
}

TEST(NotSubscribedTest, NoRelativeSubscribedIsAPlainRefresh) {
  for (const char* table : {"events", "events_2024", "plain", "not_on_the_target"}) {
    const SubscribedInstead i = FindSubscribedInstead(Tree(), Name(table), In({"plain", table}));
    EXPECT_TRUE(i.empty()) << table;
    const NotSubscribedExplained e = ExplainNotSubscribed("sub", i);
    EXPECT_EQ(e.listed, "subscription sub does not replicate this table");
    EXPECT_EQ(e.statement, "ALTER SUBSCRIPTION sub REFRESH PUBLICATION");
    EXPECT_TRUE(e.caveat.empty());
    EXPECT_TRUE(e.then.empty());
  }
}

}  // namespace
}  // namespace pgparity::applier
