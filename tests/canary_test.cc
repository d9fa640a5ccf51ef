// The canary (issue 13, item 3) on a real 14 -> 16 pair with the quick
// start's subscription and sql/canary.sql run on both sides before it: its
// acknowledged writes arrive on the target; a row deleted there is named
// missing; a terminated session is counted and the canary reconnects; the
// CLI's exit codes; and a PgBouncer PAUSE shows up as the longest stall with
// no failed transaction.
#include "pgparity/applier/cutover/canary.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "pgparity/conn/connect.h"
#include "support/migration_env.h"
#include "support/pgbouncer.h"
#include "support/subprocess.h"

namespace pgparity {
namespace {

using namespace std::chrono_literals;
using applier::Canary;
using applier::CanaryStats;
using testing::MigrationServers;
using testing::SqlClient;

// `dsn` as the CLI would parse it, with an application_name of our own so
// the test can find the canary's session in pg_stat_activity.
conn::ConnParams Params(const std::string& dsn, const std::string& application_name = "") {
  Result<conn::ConnParams> p = conn::ParseServerDsn(dsn, "dsn", "canary");
  if (!p.ok()) throw std::runtime_error(p.status().ToString());
  if (!application_name.empty()) p->Set("application_name", application_name);
  return *p;
}

applier::CanaryOptions Options(conn::ConnParams dsn) {
  applier::CanaryOptions o;
  o.dsn = std::move(dsn);
  return o;
}

CanaryStats RunFor(Canary& canary, std::chrono::milliseconds how_long) {
  const Status s = canary.Start();
  if (!s.ok()) throw std::runtime_error(s.ToString());
  std::this_thread::sleep_for(how_long);
  return canary.Stop();
}

// One line of the numbers, in the test's output.
void Show(const CanaryStats& s) {
  std::cout << "  acknowledged " << s.acknowledged << ", failed " << s.failed << ", in doubt "
            << s.in_doubt << ", reconnects " << s.reconnects << ", longest stall "
            << applier::FormatMillis(s.longest_stall) << ", p99 "
            << applier::FormatMillis(std::chrono::microseconds(s.latency.Quantile(0.99)))
            << std::endl;
  for (const std::string& e : s.errors) std::cout << "    " << e << std::endl;
}

TEST(LatencyHistogram, QuantilesAreUpperBoundsWithinASixteenth) {
  applier::LatencyHistogram h;
  EXPECT_EQ(h.Quantile(0.5), 0);
  for (int64_t v = 1; v <= 1000; ++v) h.Add(v * 100);  // 100 us .. 100 ms
  EXPECT_EQ(h.count(), 1000);
  EXPECT_EQ(h.max(), 100000);
  for (double q : {0.5, 0.9, 0.99}) {
    const auto exact = static_cast<double>(q * 1000 * 100);
    EXPECT_GE(h.Quantile(q), exact) << q;
    EXPECT_LE(h.Quantile(q), exact * 17 / 16) << q;
  }
  EXPECT_EQ(h.Quantile(1.0), 100000);
  h.Add(3);
  EXPECT_EQ(h.count(), 1001);
}

class CanaryTest : public testing::MigrationFixture {
 protected:
  static void SetUpTestSuite() {
    MigrationFixture::SetUpTestSuite();
    MigrationServers& s = servers();
    std::string out;
    // Before the subscription, as sql/canary.sql says; twice: idempotent.
    for (int run = 0; run < 2; ++run) {
      if (testing::RunSqlScript(s.source, "canary.sql", {}, &out) != 0 ||
          testing::RunSqlScript(s.target, "canary.sql", {}, &out) != 0) {
        throw std::runtime_error("sql/canary.sql failed: " + out);
      }
    }
    testing::SetUpQuickStartPair(s);
  }

  std::string Source() { return servers().source.Dsn(); }
  std::string Target() { return servers().target.Dsn(); }
};

TEST_F(CanaryTest, AcknowledgedWritesArriveOnTheTarget) {
  Canary canary(Options(Params(Source())));
  const CanaryStats stats = RunFor(canary, 1s);
  EXPECT_GT(stats.acknowledged, 10);
  EXPECT_EQ(stats.failed, 0);
  EXPECT_EQ(stats.in_doubt, 0);
  EXPECT_TRUE(stats.errors.empty()) << stats.errors.front();
  EXPECT_GT(stats.longest_stall, 0us);
  EXPECT_LE(stats.latency.Quantile(0.5), stats.latency.Quantile(0.99));
  EXPECT_LE(stats.latency.Quantile(0.99), stats.latency.max());

  Result<applier::CanaryCheck> check = Canary::Check(stats, Params(Target()), 30s);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(check->checked, stats.acknowledged);
  EXPECT_EQ(check->missing, 0);
  EXPECT_TRUE(check->first_missing.empty());
  // What the table holds for the run is exactly what was acknowledged.
  SqlClient target(Target());
  EXPECT_EQ(
      target.Value("SELECT count(*) FROM pgparity_canary WHERE run_id = '" + stats.run_id + "'"),
      std::to_string(stats.acknowledged));

  const auto report = nlohmann::json::parse(applier::CanaryReportJson(stats, *check));
  EXPECT_EQ(report["run_id"], stats.run_id);
  EXPECT_EQ(report["acknowledged"], stats.acknowledged);
  EXPECT_EQ(report["check"]["missing"], 0);
}

TEST_F(CanaryTest, ARowDeletedOnTheTargetIsNamedMissing) {
  Canary canary(Options(Params(Source())));
  const CanaryStats stats = RunFor(canary, 500ms);
  ASSERT_GT(stats.acknowledged, 3);
  Result<applier::CanaryCheck> before = Canary::Check(stats, Params(Target()), 30s);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_EQ(before->missing, 0);

  const int64_t victim = stats.acknowledged_ranges.front().first + 2;
  SqlClient target(Target());
  target.Exec("DELETE FROM pgparity_canary WHERE run_id = '" + stats.run_id +
              "' AND seq = " + std::to_string(victim));
  Result<applier::CanaryCheck> after = Canary::Check(stats, Params(Target()), 0ms);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->missing, 1);
  EXPECT_EQ(after->first_missing, std::vector<int64_t>{victim});
  EXPECT_EQ(after->checked, stats.acknowledged);
}

TEST_F(CanaryTest, ATerminatedSessionIsCountedAndTheCanaryReconnects) {
  const std::string app = "canary-terminate-test";
  Canary canary(Options(Params(Source(), app)));
  ASSERT_TRUE(canary.Start().ok());
  SqlClient source(Source());
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 3; ++i) {
    source.Exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" + app +
        "'");
    std::this_thread::sleep_for(200ms);
  }
  const int64_t acks_after_kills = canary.Snapshot().acknowledged;
  std::this_thread::sleep_for(500ms);
  const CanaryStats stats = canary.Stop();
  Show(stats);

  EXPECT_GE(stats.failed + stats.in_doubt, 1);
  EXPECT_GE(stats.reconnects, 1);
  EXPECT_FALSE(stats.errors.empty());
  EXPECT_GT(stats.acknowledged, acks_after_kills) << "it went on acknowledging";
  // Acknowledged writes are all there, on the source and the target.
  for (const std::string& dsn : {Source(), Target()}) {
    Result<applier::CanaryCheck> check = Canary::Check(stats, Params(dsn), 30s);
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_EQ(check->missing, 0) << dsn;
    EXPECT_LE(check->in_doubt_present, stats.in_doubt) << dsn;
  }
}

// Runs the binary; its exit code, stdout+stderr in *out.
int RunCli(const std::string& args, std::string* out) {
  return testing::RunCommand(testing::ShellQuote(PGPARITY_CLI) + " canary " + args, out);
}

TEST_F(CanaryTest, CliMissingTableIsAUsageErrorOfOneLine) {
  SqlClient source(Source());
  source.Exec("DROP DATABASE IF EXISTS nocanary");
  source.Exec("CREATE DATABASE nocanary");
  std::string out;
  const int rc =
      RunCli("--duration 1 --dsn " + testing::ShellQuote(servers().source.Dsn("nocanary")), &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("pgparity_canary does not exist"), std::string::npos) << out;
  EXPECT_NE(out.find("sql/canary.sql"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;

  EXPECT_EQ(RunCli("--duration 1", &out), 2) << out;
  EXPECT_EQ(RunCli("--dsn " + testing::ShellQuote(Source()) + " --duration 0", &out), 2) << out;
}

TEST_F(CanaryTest, CliRunsChecksAndReports) {
  const std::filesystem::path report =
      std::filesystem::temp_directory_path() / ("canary-report-" + std::to_string(getpid()));
  std::string out;
  const int rc = RunCli("--duration 1 --dsn " + testing::ShellQuote(Source()) + " --check " +
                            testing::ShellQuote(Target()) + " --check-timeout 30 --report " +
                            testing::ShellQuote(report.string()),
                        &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("longest write stall"), std::string::npos) << out;
  EXPECT_NE(out.find(" 0 missing"), std::string::npos) << out;
  std::ifstream in(report);
  const auto doc = nlohmann::json::parse(in);
  std::filesystem::remove(report);
  EXPECT_GT(doc["acknowledged"].get<int64_t>(), 0);
  EXPECT_EQ(doc["failed"], 0);
  EXPECT_EQ(doc["check"]["missing"], 0);
  EXPECT_EQ(doc["check"]["checked"], doc["acknowledged"]);
  EXPECT_GT(doc["longest_stall_ms"].get<double>(), 0.0);
}

// A check server that never received the writes (its own table, no
// subscription): every acknowledged write is missing, exit 1.
TEST_F(CanaryTest, CliMissingWritesOnTheCheckServerAreExitOne) {
  SqlClient target(Target());
  target.Exec("DROP DATABASE IF EXISTS lonely");
  target.Exec("CREATE DATABASE lonely");
  SqlClient lonely(servers().target.Dsn("lonely"));
  lonely.Exec(testing::ReadFile(testing::SourcePath("sql/canary.sql")));
  std::string out;
  const int rc = RunCli("--duration 0.5 --dsn " + testing::ShellQuote(Source()) + " --check " +
                            testing::ShellQuote(servers().target.Dsn("lonely")),
                        &out);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find(" missing (seq 1, 2, 3"), std::string::npos) << out;
}

// Through PgBouncer (which refuses the startup parameter `options`) until
// SIGTERM: the summary is printed and the exit is 0.
TEST_F(CanaryTest, CliThroughPgBouncerUntilSigterm) {
  if (!testing::PgBouncer::Available()) GTEST_SKIP() << "no pgbouncer on PATH";
  testing::PgBouncer bouncer(servers().source);
  const std::filesystem::path log =
      std::filesystem::temp_directory_path() / ("canary-cli-" + std::to_string(getpid()));
  testing::Subprocess cli({PGPARITY_CLI, "canary", "--dsn", bouncer.Dsn(), "--progress", "0.2"},
                          log);
  std::this_thread::sleep_for(1s);
  cli.Signal(SIGTERM);
  const std::optional<int> rc = cli.WaitOrKill(10s);
  const std::string out = testing::ReadFile(log);
  std::filesystem::remove(log);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("pgparity canary: run "), std::string::npos) << out;
  EXPECT_NE(out.find("acknowledged, 0 failed, 0 in doubt; current stall"), std::string::npos)
      << out;
  EXPECT_NE(out.find("longest write stall"), std::string::npos) << out;
}

TEST_F(CanaryTest, PgBouncerPauseIsTheLongestStallWithNoFailure) {
  if (!testing::PgBouncer::Available()) GTEST_SKIP() << "no pgbouncer on PATH";
  testing::PgBouncer bouncer(servers().source);
  Canary canary(Options(Params(bouncer.Dsn())));
  ASSERT_TRUE(canary.Start().ok());
  std::this_thread::sleep_for(300ms);
  const auto paused = std::chrono::steady_clock::now();
  bouncer.Admin("PAUSE appdb");
  std::this_thread::sleep_for(300ms);
  bouncer.Admin("RESUME appdb");
  const auto pause_length = std::chrono::steady_clock::now() - paused;
  std::this_thread::sleep_for(300ms);
  const CanaryStats stats = canary.Stop();
  Show(stats);

  EXPECT_GT(stats.acknowledged, 10);
  EXPECT_EQ(stats.failed, 0);
  EXPECT_EQ(stats.in_doubt, 0);
  EXPECT_EQ(stats.reconnects, 0);
  EXPECT_GE(stats.longest_stall, 300ms);
  EXPECT_LE(stats.longest_stall, pause_length + 1s);
  EXPECT_GE(stats.longest_stall_began, stats.started + 250ms);
  Result<applier::CanaryCheck> check = Canary::Check(stats, Params(Source()), 0ms);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(check->missing, 0);
}

// A PgBouncer paused for good: Stop does not wait for ever; the waiting
// transaction's connection is closed after the grace and counted failed.
TEST_F(CanaryTest, StopCutsATransactionWaitingPastTheGrace) {
  if (!testing::PgBouncer::Available()) GTEST_SKIP() << "no pgbouncer on PATH";
  testing::PgBouncer bouncer(servers().source);
  applier::CanaryOptions options = Options(Params(bouncer.Dsn()));
  options.stop_grace = 300ms;
  Canary canary(options);
  ASSERT_TRUE(canary.Start().ok());
  std::this_thread::sleep_for(200ms);
  bouncer.Admin("PAUSE appdb");
  std::this_thread::sleep_for(100ms);
  const auto stopping = std::chrono::steady_clock::now();
  const CanaryStats stats = canary.Stop();
  const auto stop_took = std::chrono::steady_clock::now() - stopping;
  bouncer.Admin("RESUME appdb");
  Show(stats);

  EXPECT_GE(stop_took, 250ms);
  EXPECT_LT(stop_took, 5s);
  EXPECT_EQ(stats.failed + stats.in_doubt, 1);
  ASSERT_FALSE(stats.errors.empty());
  EXPECT_NE(stats.errors.front().find("still waited after 300 ms"), std::string::npos)
      << stats.errors.front();
  // The stall runs from the last acknowledgement before the pause to the
  // cut: at least the 100 ms slept plus the 300 ms grace, less the moment
  // the client takes to record an ack PgBouncer had already released (the
  // pause returns once the server connection is free, not once the client
  // has read its reply; CI saw 399.5 ms).
  EXPECT_GE(stats.longest_stall, 350ms);
}

}  // namespace
}  // namespace pgparity
