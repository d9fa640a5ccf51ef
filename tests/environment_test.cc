// The environment's quick start, end to end, on real servers: a source of
// SourceMajor() and a target of TargetMajor() (14 and 16 by default) on free
// ports, the scripts of sql/ exactly as a user runs them, and every table of
// the target asserted equal to the source's.
#include <gtest/gtest.h>

#include <string>

#include "support/migration_env.h"

namespace pgparity::testing {
namespace {

class EnvironmentTest : public MigrationFixture {
 protected:
  // Asserts the target equals the source for every published table:
  // same columns, same rows. Returns how many rows were compared.
  static size_t ExpectTargetEqualsSource(SqlClient& source, SqlClient& target) {
    size_t rows = 0;
    auto tables = PublishedTables(source, "my_publication");
    EXPECT_EQ(tables, (std::vector<std::string>{"public.orders", "public.users"}));
    for (const auto& table : tables) {
      EXPECT_EQ(TableColumns(source, table), TableColumns(target, table)) << table;
      auto source_rows = TableRows(source, table);
      EXPECT_EQ(source_rows, TableRows(target, table)) << table;
      rows += source_rows.size();
    }
    return rows;
  }
};

TEST_F(EnvironmentTest, QuickStartReplicatesSampleDataAndDml) {
  auto& s = servers();
  ASSERT_EQ(RunSqlScript(s.source, "init-source.sql"), 0);
  ASSERT_EQ(RunSqlScript(s.target, "init-target.sql"), 0);
  SqlClient source(s.source.Dsn());
  SqlClient target(s.target.Dsn());
  EXPECT_EQ(std::stoi(source.Value("SHOW server_version_num")) / 10000, SourceMajor());
  EXPECT_EQ(std::stoi(target.Value("SHOW server_version_num")) / 10000, TargetMajor());
  EXPECT_EQ(source.Value("SELECT count(*) FROM users"), "5");
  EXPECT_EQ(source.Value("SELECT count(*) FROM orders"), "6");
  EXPECT_EQ(target.Value("SELECT count(*) FROM users"), "0");

  // Setup scripts twice: they are idempotent.
  const std::map<std::string, std::string> conninfo{{"source_conninfo", SubscriptionConninfo(s)}};
  for (int i = 0; i < 2; ++i) {
    std::string out;
    ASSERT_EQ(RunSqlScript(s.source, "setup-replication.sql", {}, &out), 0) << out;
    ASSERT_EQ(RunSqlScript(s.target, "setup-subscription.sql", conninfo, &out), 0) << out;
  }
  EXPECT_EQ(source.Value("SELECT count(*) FROM pg_publication"), "1");
  EXPECT_EQ(target.Value("SELECT count(*) FROM pg_subscription"), "1");

  // Initial copy.
  WaitForSubscriptionReady(target, "my_subscription");
  WaitForCatchUp(source, "my_subscription");
  EXPECT_EQ(ExpectTargetEqualsSource(source, target), 11u);

  // Ongoing replication of INSERT, UPDATE and DELETE.
  std::string out;
  ASSERT_EQ(RunSqlScript(s.source, "test-replication.sql", {}, &out), 0) << out;
  WaitForCatchUp(source, "my_subscription");
  EXPECT_EQ(ExpectTargetEqualsSource(source, target), 12u);
  EXPECT_EQ(target.Value("SELECT email FROM users WHERE username = 'alice'"),
            "alice@new-domain.example");
  EXPECT_EQ(target.Value("SELECT count(*) FROM users WHERE username = 'eve'"), "0");
  EXPECT_EQ(RunSqlScript(s.target, "verify-target.sql", {}, &out), 0) << out;

  // The checks can fail: a row changed behind the subscriber's back is seen
  // by verify-target.sql and by the row comparison.
  target.Exec("UPDATE users SET email = 'eve@example.com' WHERE username = 'alice'");
  EXPECT_NE(TableRows(source, "public.users"), TableRows(target, "public.users"));
  EXPECT_NE(RunSqlScript(s.target, "verify-target.sql", {}, &out), 0);
  EXPECT_NE(out.find("UPDATE of alice's email was not replicated"), std::string::npos) << out;
}

}  // namespace
}  // namespace pgparity::testing
