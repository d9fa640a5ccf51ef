// MissingGrants: the grants each command needs (docs/privileges.md), checked
// against hand-made role privileges; tests/privileges_test.cc checks the
// same on real servers with the scripted roles.
#include "preflight/command_privileges.h"

#include <gtest/gtest.h>

#include "pgparity/applier/preflight/preflight.h"

namespace pgparity::applier::preflight {
namespace {

const RelationName kUsers{"public", "users"};
const RelationName kOrders{"public", "orders"};
const RelationName kOnlySource{"public", "gone"};

// A role with every right pgparity may need on both tables.
RolePrivileges Everything(std::string role) {
  RolePrivileges p;
  p.role = std::move(role);
  p.replication = p.origin_status_view = p.origin_status_function = p.set_replication_role = true;
  for (const auto& t : {kUsers, kOrders}) p.tables[t] = {true, true, true, true, true, false};
  return p;
}

struct Case {
  RolePrivileges source = Everything("pgp");
  RolePrivileges target = Everything("pgp");
  std::vector<RelationName> published = {kOrders, kUsers};
  int64_t target_version = 160000;

  std::vector<MissingGrant> For(std::vector<std::string> commands) const {
    return MissingGrants({commands, source, target, published, target_version});
  }
};

TEST(CommandPrivilegesTest, NothingMissingWithEveryRight) {
  Case c;
  std::vector<std::string> all(PrivilegeCommands().begin(), PrivilegeCommands().end());
  EXPECT_TRUE(c.For(all).empty());
}

TEST(CommandPrivilegesTest, ReplicationNamesTheCommandsThatNeedIt) {
  Case c;
  c.source.replication = false;
  EXPECT_TRUE(c.For({"digest", "repair"}).empty());
  auto missing = c.For({"verify", "digest", "tail"});
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].side, "source");
  EXPECT_EQ(missing[0].object, "role pgp");
  EXPECT_EQ(missing[0].detail,
            "the role may not open a replication connection (needed by verify, tail)");
  EXPECT_EQ(missing[0].fix, "ALTER ROLE \"pgp\" WITH LOGIN REPLICATION;");
}

TEST(CommandPrivilegesTest, TablesGroupedByWhatTheyLackInOneGrant) {
  Case c;
  c.target.tables[kUsers].select = false;
  c.target.tables[kOrders].select = false;
  c.target.tables[kOrders].delete_ = false;
  c.target.tables[kOnlySource] = {};  // not published: not asked for
  auto read = c.For({"verify"});
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].side, "target");
  EXPECT_EQ(read[0].object, "public.orders, public.users");
  EXPECT_EQ(read[0].detail,
            "the role pgp lacks SELECT on 2 of 2 published tables (needed by verify)");
  EXPECT_EQ(read[0].fix,
            "GRANT SELECT ON TABLE \"public\".\"orders\", \"public\".\"users\" TO \"pgp\";");
  auto write = c.For({"repair-apply"});
  ASSERT_EQ(write.size(), 2u);
  EXPECT_EQ(write[1].object, "public.orders");
  EXPECT_EQ(write[1].fix, "GRANT DELETE ON TABLE \"public\".\"orders\" TO \"pgp\";");
}

TEST(CommandPrivilegesTest, TableMissingOnASideIsLeftToTheTableChecks) {
  Case c;
  c.published.push_back(kOnlySource);
  c.source.tables[kOnlySource] = {true, true, false, false, false};
  EXPECT_TRUE(c.For({"verify", "repair-apply"}).empty());
}

TEST(CommandPrivilegesTest, SchemaUsageComesFirst) {
  Case c;
  c.source.tables[kUsers].schema_usage = false;
  auto missing = c.For({"repair"});
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].object, "schema public");
  EXPECT_EQ(missing[0].fix, "GRANT USAGE ON SCHEMA \"public\" TO \"pgp\";");
}

TEST(CommandPrivilegesTest, RowLevelSecurityNeedsBypassOnEachSideThatReads) {
  Case c;
  c.source.tables[kOrders].row_security_applies = true;
  c.target.tables[kUsers].row_security_applies = true;
  c.target.tables[kOrders].row_security_applies = true;
  EXPECT_TRUE(c.For({"record", "tail"}).empty());
  auto missing = c.For({"verify", "repair"});
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(missing[0].side, "source");
  EXPECT_EQ(missing[0].object, "public.orders");
  EXPECT_EQ(missing[0].detail,
            "row-level security applies to the role pgp on 1 of 2 published tables: it would see "
            "only the rows their policies show (needed by verify, repair)");
  EXPECT_EQ(missing[0].fix, "ALTER ROLE \"pgp\" BYPASSRLS;");
  EXPECT_EQ(missing[1].side, "target");
  EXPECT_EQ(missing[1].object, "public.orders, public.users");
  EXPECT_EQ(missing[1].detail,
            "row-level security applies to the role pgp on 2 of 2 published tables: it would see "
            "only the rows their policies show (needed by verify)");
}

TEST(CommandPrivilegesTest, OriginStatusNeedsTheViewAndTheFunction) {
  Case c;
  c.target.origin_status_view = c.target.origin_status_function = false;
  EXPECT_TRUE(c.For({"record", "digest", "repair-apply"}).empty());
  auto missing = c.For({"audit"});
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(missing[0].fix, "GRANT SELECT ON pg_catalog.pg_replication_origin_status TO \"pgp\";");
  EXPECT_EQ(missing[1].fix,
            "GRANT EXECUTE ON FUNCTION pg_catalog.pg_show_replication_origin_status() TO \"pgp\";");
}

TEST(CommandPrivilegesTest, SessionReplicationRoleDependsOnTheTargetVersion) {
  Case c;
  c.target.set_replication_role = false;
  auto on16 = c.For({"repair-apply"});
  ASSERT_EQ(on16.size(), 1u);
  EXPECT_EQ(on16[0].fix, "GRANT SET ON PARAMETER session_replication_role TO \"pgp\";");
  c.target_version = 140010;
  auto on14 = c.For({"repair-apply"});
  ASSERT_EQ(on14.size(), 1u);
  EXPECT_EQ(on14[0].detail,
            "before PostgreSQL 15 only a superuser may set it (needed by repair-apply)");
}

}  // namespace
}  // namespace pgparity::applier::preflight
