// `pgparity audit --scan-rate` (the rolling check) on a real PostgreSQL
// pair (14 -> 16 by default): under pgbench -N load for two whole periods
// no report is divergent; an UPDATE, a DELETE and an INSERT made on the
// target in three different key ranges of pgbench_accounts are each
// reported within the period the report states, exactly the rows plain
// SQL over both servers finds different; the table without key is read
// whole; a table created after the start is unverified, not left out;
// --scan-rate with --interval is a usage error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "pgparity/sql_quote.h"
#include "verify/verify_test_env.h"

namespace pgparity::applier {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

// The rate and window the tests walk at: ranges of about 20000 rows, so
// pgbench_accounts' 100000 rows in 5 (bounds near 20001, 40001, ...), a
// walk of every table in about 6 s.
constexpr int kRate = 20000;
constexpr int kWindowSeconds = 1;

class RollingCheckTest : public VerifyFixture {
 protected:
  void SetUp() override {
    state_ = servers().source.dir() / ("rolling-" + std::to_string(++runs_));
    std::filesystem::remove_all(state_);
  }
  void TearDown() override {
    if (audit_) {
      audit_->Signal(SIGTERM);
      audit_->WaitOrKill(std::chrono::milliseconds(20000));
      audit_.reset();
    }
    SqlClient source(servers().source.Dsn());
    if (source.Value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = "
                     "'pgparity_audit'") != "0") {
      testing::DropSlotOnceReleased(source, "pgparity_audit");
    }
    // ATableCreatedAfterTheStartIsUnverifiedNotLeftOut's, on both sides.
    for (const PgServer* server : {&servers().source, &servers().target})
      SqlClient(server->Dsn()).Exec("DROP TABLE IF EXISTS late_table");
  }

  void StartRollingAudit(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--scan-rate", std::to_string(kRate), "--scan-window",
                                 std::to_string(kWindowSeconds)});
    const std::vector<std::string> argv = AuditArgv(state_, extra);
    audit_ = std::make_unique<Subprocess>(argv, state_.string() + ".log");
  }
  std::string Log() { return testing::ReadFile(state_.string() + ".log"); }

  json Report() {
    std::ifstream in(state_ / "report.json");
    if (!in) return json();
    return json::parse(in, nullptr, false);
  }

  // Polls the report until `ok`; every report seen goes to `seen` first.
  json WaitForReport(const std::function<bool(const json&)>& ok, seconds timeout,
                     const std::function<void(const json&)>& seen = {}) {
    const auto deadline = steady_clock::now() + timeout;
    json r;
    while (steady_clock::now() < deadline) {
      r = Report();
      if (r.is_object() && r.contains("rolling")) {
        if (seen) seen(r);
        if (ok(r)) return r;
      }
      if (audit_ && !audit_->Running()) {
        ADD_FAILURE() << "audit exited: " << Log();
        return r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no such report in time; last: " << r.dump(2) << "\nlog: " << Log();
    return r;
  }

  static uint64_t Walks(const json& r) { return r["rolling"]["walks"].get<uint64_t>(); }

  static const json* TableOf(const json& r, const std::string& name) {
    for (const auto& t : r["tables"]) {
      if (t["table"] == name) return &t;
    }
    return nullptr;
  }

  // aid -> md5 of the whole row, on one server: the oracle's side.
  static std::map<std::string, std::string> AccountRows(const PgServer& server) {
    SqlClient c(server.Dsn());
    std::map<std::string, std::string> out;
    for (const auto& row : c.Query("SELECT aid::text, md5(a::text) FROM pgbench_accounts a")) {
      out[*row[0]] = *row[1];
    }
    return out;
  }

  std::filesystem::path state_;
  std::unique_ptr<Subprocess> audit_;
  static inline int runs_ = 0;
};

TEST_F(RollingCheckTest, NoFalsePositiveUnderLoadForTwoWholePeriods) {
  auto load = StartLoad();
  StartRollingAudit();
  uint64_t reports = 0;
  std::string divergent;
  const json last = WaitForReport([](const json& r) { return Walks(r) >= 2; }, seconds(180),
                                  [&](const json& r) {
                                    ++reports;
                                    if (r["status"] == "divergent" && divergent.empty()) {
                                      divergent = r.dump(2);
                                    }
                                  });
  EXPECT_TRUE(divergent.empty()) << divergent;
  EXPECT_EQ(last["status"], "consistent") << last.dump(2);
  const json& rolling = last["rolling"];
  // The period is the last walk's, measured; the position and counts move.
  EXPECT_TRUE(rolling["period_measured"].get<bool>()) << rolling.dump();
  // The period: the walk and its longest range (read to compared).
  const double walk = rolling["walk_seconds"].get<double>();
  const double longest = rolling["longest_range_seconds"].get<double>();
  EXPECT_GT(walk, 0) << rolling.dump();
  EXPECT_GT(longest, 0) << rolling.dump();
  EXPECT_LT(longest, walk) << rolling.dump();
  EXPECT_DOUBLE_EQ(rolling["period_seconds"].get<double>(), walk + longest) << rolling.dump();
  EXPECT_EQ(rolling["scan_rate"].get<double>(), kRate);
  ASSERT_TRUE(rolling["walked_by_range"].contains("public.pgbench_accounts")) << rolling.dump();
  const std::string how = rolling["walked_by_range"]["public.pgbench_accounts"];
  EXPECT_NE(how.find("ranges of aid"), std::string::npos) << how;
  const int ranges = std::stoi(how);
  EXPECT_GE(ranges, 4) << how;
  // The table without key is read whole, saying why.
  EXPECT_EQ(rolling["read_whole"]["public.pgbench_history"], "no key") << rolling.dump();
  EXPECT_GE(rolling["ranges_done"].get<uint64_t>(), static_cast<uint64_t>(2 * ranges));
  // Two walks compared every row of pgbench_accounts twice at least.
  EXPECT_GE(rolling["rows_compared"].get<uint64_t>(), 200000u) << rolling.dump();
  // pgbench kept updating accounts: rows changed after their range's
  // compared commit were left out, not blamed.
  EXPECT_GT(rolling["rows_left_out_in_flight"].get<uint64_t>(), 0u) << rolling.dump();
  std::cout << "rolling: " << rolling.dump() << "\n";
  EXPECT_GT(reports, 2u);
  const std::string log = Log();
  EXPECT_EQ(log.find("per-change check:"), std::string::npos) << log;
  EXPECT_EQ(log.find("divergent rows (rolling check)"), std::string::npos) << log;
  EXPECT_NE(log.find("rolling check: walk 2 of every table done"), std::string::npos) << log;
}

TEST_F(RollingCheckTest, ReportsAnUpdateADeleteAndAnInsertInDifferentRangesWithinAPeriod) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  testing::WaitForCatchUp(source, "my_subscription", seconds(60));
  StartRollingAudit();
  const json walked = WaitForReport(
      [](const json& r) { return Walks(r) >= 1 && r["status"] == "consistent"; }, seconds(120));
  // Three ranges of 20: the first, one in the middle, the last (open above).
  target.Exec("UPDATE pgbench_accounts SET filler = 'changed on the target' WHERE aid = 7");
  target.Exec("DELETE FROM pgbench_accounts WHERE aid = 50003");
  target.Exec(
      "INSERT INTO pgbench_accounts (aid, bid, abalance, filler) VALUES (100007, 1, 0, 'extra')");
  const auto injected = steady_clock::now();
  // The oracle: plain SQL over both servers.
  const auto on_source = AccountRows(servers().source);
  const auto on_target = AccountRows(servers().target);
  std::map<std::string, std::string> differing;  // aid -> kind
  for (const auto& [aid, md5] : on_source) {
    auto it = on_target.find(aid);
    if (it == on_target.end()) {
      differing[aid] = "missing_on_target";
    } else if (it->second != md5) {
      differing[aid] = "differs";
    }
  }
  for (const auto& [aid, md5] : on_target) {
    if (!on_source.contains(aid)) differing[aid] = "extra_on_target";
  }
  ASSERT_EQ(differing.size(), 3u);

  auto listed = [](const json& r) {
    std::map<std::string, std::string> out;
    const json* t = TableOf(r, "public.pgbench_accounts");
    if (t == nullptr) return out;
    for (const auto& row : (*t)["divergent_rows"]) out[row["key"]["aid"]] = row["kind"];
    return out;
  };
  const json bad =
      WaitForReport([&](const json& r) { return listed(r) == differing; }, seconds(120));
  const double elapsed = std::chrono::duration<double>(steady_clock::now() - injected).count();
  EXPECT_EQ(bad["status"], "divergent");
  const json* accounts = TableOf(bad, "public.pgbench_accounts");
  ASSERT_NE(accounts, nullptr);
  EXPECT_EQ((*accounts)["divergent_row_count"], 3) << accounts->dump(2);
  for (const auto& row : (*accounts)["divergent_rows"]) {
    if (row["kind"] == "differs") {
      EXPECT_EQ(row["columns"], json::array({"filler"}));
    }
  }
  // Within the period the report states (a walk and its longest range: the
  // row's range may have been read just before the change), plus a walk
  // slower than the last under this test's load and the report's writing.
  const double period = bad["rolling"]["period_seconds"].get<double>();
  EXPECT_TRUE(bad["rolling"]["period_measured"].get<bool>());
  EXPECT_LE(elapsed, period + kWindowSeconds + 5) << "period " << period << " s";
  std::cout << "reported " << elapsed << " s after the change; period " << period << " s\n";
  for (const auto& t : bad["tables"]) {
    if (t["table"] != "public.pgbench_accounts") {
      EXPECT_EQ(t["status"], "match") << t.dump();
    }
  }
  // Put back as on the source: the findings go as their ranges are read again.
  auto value = [&](const std::string& column, int aid) {
    return QuoteLiteral(source.Value(
        "SELECT " + column + "::text FROM pgbench_accounts WHERE aid = " + std::to_string(aid)));
  };
  target.Exec("UPDATE pgbench_accounts SET filler = " + value("filler", 7) + " WHERE aid = 7");
  target.Exec("INSERT INTO pgbench_accounts (aid, bid, abalance, filler) VALUES (50003, " +
              value("bid", 50003) + ", " + value("abalance", 50003) + ", " +
              value("filler", 50003) + ")");
  target.Exec("DELETE FROM pgbench_accounts WHERE aid = 100007");
  EXPECT_EQ(AccountRows(servers().source), AccountRows(servers().target));
  WaitForReport([](const json& r) { return r["status"] == "consistent"; }, seconds(120));
}

// A report of the rolling check has what a full check's has beside the
// rows: with --on-schema-change stop (restart starts over instead), a table
// that joined the publication after the start (its changes not tracked) is
// unverified with what to do — the rolling check used to leave it out and
// say consistent — and the shadow's memory is there.
TEST_F(RollingCheckTest, ATableCreatedAfterTheStartIsUnverifiedNotLeftOut) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  StartRollingAudit({"--on-schema-change", "stop"});
  WaitForReport([](const json& r) { return Walks(r) >= 1; }, seconds(120));
  for (SqlClient* c : {&target, &source}) c->Exec("CREATE TABLE late_table (id int PRIMARY KEY)");
  source.Exec("INSERT INTO late_table VALUES (1)");
  const json r = WaitForReport(
      [](const json& r) { return TableOf(r, "public.late_table") != nullptr; }, seconds(60));
  const json* late = TableOf(r, "public.late_table");
  ASSERT_NE(late, nullptr) << r.dump(2);
  EXPECT_EQ((*late)["status"], "unverified") << late->dump();
  EXPECT_NE(
      (*late)["reason"].get<std::string>().find("joined the publication after pgparity started"),
      std::string::npos)
      << late->dump();
  EXPECT_NE(r["status"], "consistent") << r.dump(2);
  EXPECT_GT(r["shadow"]["rows"].get<int64_t>(), 100000) << r["shadow"];
  EXPECT_GT(r["shadow"]["bytes"].get<int64_t>(), 0) << r["shadow"];
}

// Stopped inside pgbench_accounts' walk, the next run goes on from the
// range after the last one checked (state-dir/rolling.json), not from the
// first table; the walk it finishes is not reported as a period.
TEST_F(RollingCheckTest, ARestartGoesOnWhereTheWalkWas) {
  StartRollingAudit();
  const auto in_accounts = [](const json& r) {
    const json& at = r["rolling"]["position"];
    return at["table"] == "public.pgbench_accounts" &&
           at["range"].get<std::string>().rfind("[-inf", 0) != 0;  // past its first range
  };
  WaitForReport(in_accounts, seconds(120));
  audit_->Signal(SIGTERM);
  ASSERT_EQ(audit_->Wait(std::chrono::milliseconds(20000)), 0) << Log();
  audit_.reset();
  std::ifstream in(state_ / "rolling.json");
  const json saved = json::parse(in, nullptr, false);
  ASSERT_TRUE(saved.is_object()) << "no rolling.json: " << Log();
  // Where the last run's last range ended.
  const json stopped = Report()["rolling"]["position"];
  const std::string range = stopped["range"];  // "[lo, hi)"
  const std::string hi = range.substr(range.find(", ") + 2, range.size() - range.find(", ") - 3);
  if (stopped["table"] == saved["table"]) {
    EXPECT_EQ(saved["next_from"].dump(), hi) << saved.dump() << " after " << stopped.dump();
  } else {  // it was the table's last range: the next table from its start
    EXPECT_TRUE(saved["next_from"].is_null()) << saved.dump();
  }

  const std::string log_before = Log();
  std::filesystem::remove(state_ / "report.json");  // only the new run's reports
  StartRollingAudit();
  const json first = WaitForReport(
      [](const json& r) { return r["rolling"]["ranges_done"].get<uint64_t>() >= 1; }, seconds(60));
  EXPECT_EQ(first["rolling"]["position"]["table"], saved["table"]) << first["rolling"].dump();
  const std::string first_range = first["rolling"]["position"]["range"];
  if (!saved["next_from"].is_null()) {
    EXPECT_EQ(first_range.rfind("[" + saved["next_from"].dump() + ", ", 0), 0u)
        << first_range << " after " << saved.dump();
  }
  const std::string log = Log().substr(log_before.size());
  EXPECT_NE(log.find("rolling check: going on where the last run was, " +
                     saved["table"].get<std::string>()),
            std::string::npos)
      << log;
  // The walk begun by the last run ends without a period; the next is one.
  const json whole = WaitForReport([](const json& r) { return Walks(r) >= 1; }, seconds(120));
  EXPECT_TRUE(whole["rolling"]["period_measured"].get<bool>());
  const std::string log2 = Log().substr(log_before.size());
  const size_t done = log2.find("rolling check: the walk the last run began is done");
  EXPECT_NE(done, std::string::npos) << log2;
  EXPECT_LT(done, log2.find("rolling check: walk 1 of every table done")) << log2;
}

TEST_F(RollingCheckTest, ScanRateWithIntervalOrNotPositiveIsAUsageError) {
  const std::string base = "audit --source " + ShellQuote(Dsn(servers().source)) + " --target " +
                           ShellQuote(Dsn(servers().target)) + " --state-dir " +
                           ShellQuote(state_.string());
  Cli both = RunCli(base + " --scan-rate 1000 --interval 30");
  EXPECT_EQ(both.code, 2) << both.output;
  EXPECT_NE(both.output.find("--scan-rate and --interval exclude each other"), std::string::npos)
      << both.output;
  Cli zero = RunCli(base + " --scan-rate 0");
  EXPECT_EQ(zero.code, 2) << zero.output;
  EXPECT_NE(zero.output.find("must be positive"), std::string::npos) << zero.output;
  SqlClient source(servers().source.Dsn());
  EXPECT_EQ(
      source.Value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgparity_audit'"),
      "0");
}

}  // namespace
}  // namespace pgparity::applier
