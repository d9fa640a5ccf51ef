// `pgparity audit` on a real PostgreSQL 14 -> 16 pair under pgbench load:
// consistent report after report; kill -9 and restart resumes from the
// checkpoint with nothing lost or counted twice (the final shadow digests
// equal the source's own, recomputed with SQL); SIGTERM exits 0; a
// divergence injected on the target shows in the next report and goes
// once repaired; a slot without state is refused.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "pgparity/digest/digest_sql.h"
#include "support/http_get.h"
#include "verify/verify_test_env.h"

namespace pgparity::applier {
namespace {

using testing::HttpGet;

using std::chrono::seconds;
using std::chrono::steady_clock;

// "name{labels}" -> value, checking the exposition format on the way: every
// sample follows a # TYPE line of its family.
std::map<std::string, double> ParseMetrics(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line, family;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    const std::string key = line.substr(0, space);
    EXPECT_EQ(key.substr(0, key.find('{')), family) << line;
    out[key] = std::stod(line.substr(space + 1));
  }
  return out;
}

class AuditTest : public VerifyFixture {
 protected:
  void SetUp() override {
    state_ = servers().source.dir() / ("audit-" + std::to_string(++runs_));
    std::filesystem::remove_all(state_);
  }
  void TearDown() override {
    audit_.reset();
    SqlClient source(servers().source.Dsn());
    // The walsender of a stopped audit may take a moment to let go of it.
    const auto deadline = steady_clock::now() + seconds(10);
    while (source.Value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = "
                        "'pgparity_audit' AND active") != "0" &&
           steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    source.Exec(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
        "WHERE slot_name = 'pgparity_audit' AND NOT active");
  }

  void StartAudit(const std::string& interval = "1", std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--interval", interval});
    const std::vector<std::string> argv = AuditArgv(state_, extra);
    audit_ = std::make_unique<Subprocess>(argv, state_.string() + ".log");
  }
  std::string Log() { return testing::ReadFile(state_.string() + ".log"); }
  // A restart catching up a backlog from its checkpoint: a first run until
  // its report is consistent, stopped; `make_backlog` on the source (it
  // returns the number of keys it changed), applied by the subscriber; row
  // `aid` of pgbench_accounts changed on the target behind its back; the
  // restart with --until-lsn past the backlog; the row put back.
  struct CatchUp {
    std::string keys;
    std::optional<int> code;
    std::string log;  // the restart's
  };
  CatchUp CatchUpBacklog(const std::function<std::string(SqlClient&)>& make_backlog, int aid) {
    CatchUp run;
    StartAudit("3600");
    WaitForReport([](const json& r) { return r["status"] == "consistent"; });
    audit_->Signal(SIGTERM);
    run.code = audit_->Wait(std::chrono::milliseconds(20000));
    if (run.code != 0) {
      run.log = Log();
      return run;
    }
    SqlClient source(servers().source.Dsn());
    SqlClient target(servers().target.Dsn());
    run.keys = make_backlog(source);
    // The end past the last commit, as after any write pgoutput does not
    // send (bench/audit_catchup.sh's backlogs end so): the rounds' cursor
    // passes it only once the stream's keepalive says nothing else was
    // committed.
    source.Exec("CHECKPOINT");
    const std::string end = source.Value("SELECT pg_current_wal_lsn()");
    testing::WaitForCatchUp(source, "my_subscription", seconds(60));
    const std::string row = "aid = " + std::to_string(aid);
    target.Exec("CREATE TEMP TABLE saved AS SELECT aid, filler FROM pgbench_accounts WHERE " + row);
    target.Exec("UPDATE pgbench_accounts SET filler = 'changed on the target' WHERE " + row);
    const size_t first_run_log = Log().size();  // the log file is appended to
    StartAudit("3600", {"--until-lsn", end});
    run.code = audit_->Wait(std::chrono::milliseconds(60000));
    run.log = Log().substr(first_run_log);
    target.Exec("UPDATE pgbench_accounts a SET filler = s.filler FROM saved s WHERE a.aid = s.aid");
    return run;
  }
  // The catch-up compared every key once and named exactly row `aid`.
  static void ExpectOnlyTheChangedRowNamed(const CatchUp& run, int aid) {
    EXPECT_NE(run.log.find("per-change checks: " + run.keys +
                           " changed rows compared on the target, 1 divergent"),
              std::string::npos)
        << run.log;
    EXPECT_NE(run.log.find("per-change check: public.pgbench_accounts aid=" + std::to_string(aid) +
                           " differs on the target"),
              std::string::npos)
        << run.log;
  }
  // A state directory with a checkpoint: one audit until its first report
  // (any verdict: earlier tests of the suite may leave divergences), then
  // SIGTERM.
  void MakeStateDir() {
    StartAudit();
    WaitForReport([](const json& r) { return r.contains("status"); });
    audit_->Signal(SIGTERM);
    ASSERT_TRUE(audit_->Wait(std::chrono::milliseconds(20000)).has_value());
    audit_.reset();
  }
  // An exit 2 that says `why` and how to start over: the slot and the
  // state directory go together.
  void ExpectStateRefused(const Cli& c, std::string_view why) {
    EXPECT_EQ(c.code, 2) << c.output;
    EXPECT_NE(c.output.find(why), std::string::npos) << c.output;
    EXPECT_NE(c.output.find("drop slot pgparity_audit on the source (SELECT "
                            "pg_drop_replication_slot('pgparity_audit')) and remove " +
                            state_.string()),
              std::string::npos)
        << c.output;
  }
  // The log's lines after its first `starting over`; "" when none.
  std::string LogAfterStartingOver() {
    const std::string log = Log();
    const size_t at = log.find("starting over (--on-schema-change restart)");
    return at == std::string::npos ? "" : log.substr(at);
  }
  // Until the log has `line` after a start over, or 60 s.
  bool WaitAfterStartingOver(std::string_view line) {
    const auto deadline = steady_clock::now() + seconds(60);
    while (LogAfterStartingOver().find(line) == std::string::npos) {
      if (steady_clock::now() > deadline || !audit_->Running()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
  }
  // `pgparity audit` on the pair and state_ to its exit, with `extra`.
  Cli RunAuditOnce(const std::string& extra = "") {
    return RunCli("audit --source " + ShellQuote(Dsn(servers().source)) + " --target " +
                  ShellQuote(Dsn(servers().target)) + " --state-dir " +
                  ShellQuote(state_.string()) + extra);
  }

  json Report() {
    std::ifstream in(state_ / "report.json");
    if (!in) return json();
    return json::parse(in, nullptr, false);
  }

  // Waits for a report (newer than `after`'s checked_at/source_lsn) that
  // satisfies `ok`; returns it.
  json WaitForReport(const std::function<bool(const json&)>& ok, seconds timeout = seconds(60)) {
    const auto deadline = steady_clock::now() + timeout;
    json r;
    while (steady_clock::now() < deadline) {
      r = Report();
      if (r.is_object() && ok(r)) return r;
      if (audit_ && !audit_->Running()) {
        ADD_FAILURE() << "audit exited: " << testing::ReadFile(state_.string() + ".log");
        return r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no such report in time; last: " << r.dump(2)
                  << "\nlog: " << testing::ReadFile(state_.string() + ".log");
    return r;
  }

  static int Checkpoints(const std::string& log) {
    int n = 0;
    for (size_t p = log.find("checkpoint at"); p != std::string::npos;
         p = log.find("checkpoint at", p + 1))
      ++n;
    return n;
  }

  void KillNineResumes(const std::vector<std::string>& extra, int load_rate = 0);
  std::string log1_;  // KillNineResumes' killed run's log

  std::filesystem::path state_;
  std::unique_ptr<Subprocess> audit_;
  static inline int runs_ = 0;
};

// Under load: checkpoints, kill -9, a restart that resumes from the last
// checkpoint; then every table's shadow digest must equal the source's own
// (TableDigestSql). `extra`: more audit options, for both runs;
// `load_rate`: pgbench's transactions a second (0: as fast as it goes).
void AuditTest::KillNineResumes(const std::vector<std::string>& extra, int load_rate) {
  auto load = StartLoad(load_rate);
  StartAudit("1", extra);
  json first = WaitForReport([](const json& r) { return r["status"] == "consistent"; });
  EXPECT_EQ(first["tables"].size(), 7u);
  // Let it checkpoint a few times under load, then kill it hard.
  std::this_thread::sleep_for(seconds(3));
  audit_->Signal(SIGKILL);
  audit_->Wait(std::chrono::milliseconds(5000));
  const std::string log1 = testing::ReadFile(state_.string() + ".log");
  log1_ = log1;
  ASSERT_GE(Checkpoints(log1), 2) << log1;
  const std::string before_kill = Report()["source_lsn"];

  StartAudit("1", extra);
  // Consistent again while the load goes on, and past the kill.
  WaitForReport([&](const json& r) {
    return r["status"] == "consistent" && r["source_lsn"].get<std::string>() != before_kill;
  });
  load.reset();  // stop writing
  SqlClient source(servers().source.Dsn());
  testing::WaitForCatchUp(source, "my_subscription", seconds(60));
  // The last commit's state: pgparity's shadow digests must be the source's
  // own, computed by the server itself (docs/digest.md).
  json last = WaitForReport([&](const json& r) {
    if (r["status"] != "consistent") return false;
    // Every commit has been compared: the report is at the last one.
    return source.Value("SELECT count(*) FROM pgbench_history") == std::to_string([&] {
             for (const auto& t : r["tables"])
               if (t["table"] == "public.pgbench_history") return t["source_rows"].get<int64_t>();
             return int64_t{-1};
           }());
  });
  for (const auto& t : last["tables"]) {
    const std::string name = t["table"];
    const std::string table = name.substr(name.find('.') + 1);
    std::vector<std::string> cols;
    for (const auto& row :
         source.Query("SELECT attname FROM pg_attribute WHERE attrelid = 'public." + table +
                      "'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
      cols.push_back(*row[0]);
    }
    const auto sql =
        source.Query(digest::TableDigestSql("public", table, cols, digest::RowsOf::kTableOnly));
    EXPECT_EQ(*sql[0][0], std::to_string(t["source_rows"].get<int64_t>())) << name;
    EXPECT_EQ(*sql[0][1], t["source_digest"].get<std::string>()) << name;
    EXPECT_EQ(t["status"], "match") << t.dump();
  }
  const std::string log2 = testing::ReadFile(state_.string() + ".log");
  EXPECT_NE(log2.find("resuming from the checkpoint"), std::string::npos) << log2;
  // Under load, the per-change checks never cried wolf either.
  EXPECT_EQ(log1.find("per-change check:"), std::string::npos) << log1;
  EXPECT_EQ(log2.find("per-change check:"), std::string::npos) << log2;
  EXPECT_NE(last["notes"].dump().find("changed rows compared"), std::string::npos) << last.dump();

  audit_->Signal(SIGTERM);
  auto code = audit_->Wait(std::chrono::milliseconds(20000));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << testing::ReadFile(state_.string() + ".log");
}

TEST_F(AuditTest, KillNineUnderLoadResumesWithNothingLostOrCountedTwice) { KillNineResumes({}); }

// At 200 transactions a second (about 400 changed rows, of 100,000 and
// more) the checkpoints after the first are deltas (shadow.ckpt.delta: the
// rows changed since the full one), and the restart reads one.
TEST_F(AuditTest, KillNineResumesFromADeltaCheckpoint) {
  KillNineResumes({}, 200);
  EXPECT_NE(log1_.find("changed rows) in"), std::string::npos) << log1_;
  const std::string log2 = Log();
  EXPECT_NE(log2.find("and its delta)"), std::string::npos) << log2;
}

// The same with pgbench_accounts (100,000 rows, ~5 MB of maps) beyond a
// 1 MiB limit: its rows live in the row store, the checkpoints name a store
// checkpoint, and kill -9 resumes from one.
TEST_F(AuditTest, KillNineWithASpilledStateResumesFromTheStoreCheckpoint) {
  KillNineResumes({"--memory-limit", "1MiB"});
  const std::string log = Log();
  // Before its scan (planned from its estimate) or while scanned.
  const size_t moved = log.find("memory limit: table public.pgbench_accounts (");
  ASSERT_NE(moved, std::string::npos) << log;
  EXPECT_NE(log.find("rows) moved to the row store", moved), std::string::npos) << log;
  const json last = Report();
  EXPECT_GE(last["shadow"]["spilled_tables"].get<int>(), 1) << last.dump();
  EXPECT_GT(last["shadow"]["store_bytes"].get<int64_t>(), 0) << last.dump();
  // One store checkpoint is left beside the checkpoint file: the one it
  // names; the older ones went.
  int store_checkpoints = 0;
  for (const auto& e : std::filesystem::directory_iterator(state_)) {
    if (e.path().filename().string().starts_with("store.")) ++store_checkpoints;
  }
  EXPECT_EQ(store_checkpoints, 1);
  // A spilled shadow's checkpoints are full ones: the store's copy holds its rows.
  EXPECT_EQ(log.find("changed rows) in"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(state_ / "shadow.ckpt.delta"));
}

TEST_F(AuditTest, ReportsADivergenceAndItsRepair) {
  auto load = StartLoad();
  StartAudit();
  WaitForReport([](const json& r) { return r["status"] == "consistent"; });
  SqlClient target(servers().target.Dsn());
  target.Exec("UPDATE users SET username = 'renamed' WHERE id = 4");
  json bad = WaitForReport([](const json& r) { return r["status"] == "divergent"; });
  bool found = false;
  for (const auto& t : bad["tables"]) {
    if (t["table"] != "public.users") {
      EXPECT_EQ(t["status"], "match") << t.dump();
      continue;
    }
    ASSERT_EQ(t["divergent_rows"].size(), 1u) << t.dump();
    EXPECT_EQ(t["divergent_rows"][0]["key"]["id"], "4");
    EXPECT_EQ(t["divergent_rows"][0]["kind"], "differs");
    EXPECT_EQ(t["divergent_rows"][0]["columns"], json::array({"username"}));
    found = true;
  }
  EXPECT_TRUE(found) << bad.dump(2);
  SqlClient source(servers().source.Dsn());
  target.Exec("UPDATE users SET username = '" +
              source.Value("SELECT username FROM users WHERE id = 4") + "' WHERE id = 4");
  WaitForReport([](const json& r) { return r["status"] == "consistent"; });
  audit_->Signal(SIGTERM);
  auto code = audit_->Wait(std::chrono::milliseconds(20000));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

// A trigger on the target that rewrites replicated rows (ENABLE ALWAYS: it
// fires in the apply worker) makes every changed row diverge; the
// per-change check names the row long before the next full check.
TEST_F(AuditTest, PerChangeCheckCatchesAChangedRowBetweenFullChecks) {
  auto load = StartLoad();
  StartAudit("3600");
  WaitForReport([](const json& r) { return r["status"] == "consistent"; });
  SqlClient target(servers().target.Dsn());
  target.Exec(
      "CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS "
      "$$ BEGIN NEW.email := upper(NEW.email); RETURN NEW; END $$");
  target.Exec("CREATE TRIGGER shout BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION shout()");
  target.Exec("ALTER TABLE users ENABLE ALWAYS TRIGGER shout");
  SqlClient source(servers().source.Dsn());
  source.Exec("UPDATE users SET email = 'quiet@example.com' WHERE id = 5");
  const auto deadline = steady_clock::now() + seconds(30);
  while (Log().find("public.users id=5 differs") == std::string::npos &&
         steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string log = Log();
  EXPECT_NE(log.find("per-change check: public.users id=5 differs on the target"),
            std::string::npos)
      << log;
  // Nothing else was blamed while pgbench kept changing its tables.
  EXPECT_EQ(log.find("per-change check: public.pgbench"), std::string::npos) << log;
  target.Exec("DROP TRIGGER shout ON users");
  target.Exec("UPDATE users SET email = 'quiet@example.com' WHERE id = 5");
  audit_->Signal(SIGTERM);
  auto code = audit_->Wait(std::chrono::milliseconds(20000));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << Log();
}

// A restart catching up a backlog the target has already applied: the
// per-change reads run ahead of pgparity's stream and wait for it
// (change_checker.h). Every key the backlog changed is compared exactly
// once — the oracle is the source's own list of the keys the backlog's
// UPDATEs touched, not pgparity's — and the one row changed behind the
// subscriber's back is named.
TEST_F(AuditTest, CatchingUpABacklogComparesEveryChangedKeyOnceAndNamesTheDivergentOne) {
  const CatchUp run = CatchUpBacklog(
      [](SqlClient& source) {
        // 100 commits of 1,000 keys each, and keys 1-50 in every one of
        // them: five rounds' 20,000-key caps, keys changed again in later
        // rounds, and enough for the stream to take a while.
        source.Exec("CREATE TEMP TABLE touched (aid int PRIMARY KEY)");
        for (int i = 0; i < 100; ++i) {
          const std::string where = "aid BETWEEN " + std::to_string(i * 1000 + 1) + " AND " +
                                    std::to_string(i * 1000 + 1000) + " OR aid <= 50";
          source.Exec("WITH u AS (UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE " +
                      where +
                      " RETURNING aid) INSERT INTO touched SELECT aid FROM u ON CONFLICT DO "
                      "NOTHING");
        }
        return source.Value("SELECT count(*) FROM touched");
      },
      25000);
  ASSERT_EQ(run.code, 0) << run.log;
  ASSERT_EQ(run.keys, "100000");
  EXPECT_NE(run.log.find("caught up: every commit up to"), std::string::npos) << run.log;
  // The rounds end the catch-up: the full check due since the start waits
  // for them, and for the rounds after they caught up that wait for the
  // stream's published position (Audit::settling_, ChangeRound::
  // stream_short), instead of scanning every table first.
  EXPECT_EQ(run.log.find("full check"), std::string::npos) << run.log;
  ExpectOnlyTheChangedRowNamed(run, 25000);
}

// A backlog holding one big streamed transaction (the source database's
// logical_decoding_work_mem at 64 kB; 150,000 changes of 100,000 keys, WAL
// well past the 16 MiB lead): its keys are read on the target while it
// streams (the stop's line says so), every key is compared once, and the
// row changed on the target behind the subscriber's back is named.
TEST_F(AuditTest, ABacklogsBigStreamedTransactionIsReadWhileItStreams) {
  SqlClient source(servers().source.Dsn());
  const auto work_mem = [&](const std::string& set) {
    source.Exec("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I " + set +
                "', current_database()); END $$");
  };
  work_mem("SET logical_decoding_work_mem = ''64kB''");
  const CatchUp run = CatchUpBacklog(
      [](SqlClient& source) {
        source.Exec(
            "BEGIN; UPDATE pgbench_accounts SET abalance = abalance + 1; "
            "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 2 = 0; COMMIT");
        return source.Value("SELECT count(*) FROM pgbench_accounts");
      },
      77777);
  work_mem("RESET logical_decoding_work_mem");
  ASSERT_EQ(run.code, 0) << run.log;
  ExpectOnlyTheChangedRowNamed(run, 77777);
  const std::regex early(R"(before their commit: (\d+) while they streamed \((\d+) of them)");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(run.log, m, early)) << run.log;
  EXPECT_GT(std::stoull(m[2].str()), 0u) << m[0];
}

TEST_F(AuditTest, MetricsEndpointServesPrometheusAndTheReport) {
  const int port = testing::FreePort();
  auto load = StartLoad();
  StartAudit("1", {"--metrics-listen", "127.0.0.1:" + std::to_string(port)});
  WaitForReport([](const json& r) { return r["status"] == "consistent"; });
  std::this_thread::sleep_for(seconds(2));  // pgbench changes decoded meanwhile
  auto [code, body] = HttpGet(port, "/metrics");
  ASSERT_EQ(code, 200) << body;
  auto m = ParseMetrics(body);
  EXPECT_GT(m["pgparity_changes_total{table=\"public.pgbench_accounts\",op=\"update\"}"], 0)
      << body;
  EXPECT_GT(m["pgparity_changes_total{table=\"public.pgbench_history\",op=\"insert\"}"], 0);
  EXPECT_GT(m["pgparity_transactions_total"], 0);
  EXPECT_GT(m["pgparity_lsn_bytes{position=\"processed\"}"], 0);
  EXPECT_GT(m["pgparity_lsn_bytes{position=\"durable\"}"], 0);
  EXPECT_TRUE(m.count("pgparity_slot_lag_bytes{slot=\"pgparity_audit\"}")) << body;
  EXPECT_TRUE(m.count("pgparity_slot_lag_bytes{slot=\"my_subscription\"}")) << body;
  EXPECT_TRUE(m.count("pgparity_slot_retained_wal_bytes{slot=\"my_subscription\"}")) << body;
  EXPECT_TRUE(m.count("pgparity_subscription_apply_lag_bytes")) << body;
  EXPECT_GE(m["pgparity_full_checks_total"], 1);
  EXPECT_EQ(m["pgparity_table_status{table=\"public.users\",status=\"match\"}"], 1) << body;
  EXPECT_EQ(m["pgparity_report_status{status=\"consistent\"}"], 1) << body;
  EXPECT_EQ(m["pgparity_scrape_errors"], 0) << body;
  EXPECT_GT(m["pgparity_shadow_rows"], 100000);  // pgbench_accounts
  // The rate needs two scrapes.
  std::this_thread::sleep_for(seconds(1));
  auto again = ParseMetrics(HttpGet(port, "/metrics").second);
  EXPECT_GT(again["pgparity_decode_rate_changes_per_second"], 0);

  auto [scode, status] = HttpGet(port, "/status");
  ASSERT_EQ(scode, 200);
  json st = json::parse(status, nullptr, false);
  ASSERT_TRUE(st.is_object()) << status;
  EXPECT_EQ(st["tables"].size(), 7u);
  EXPECT_EQ(HttpGet(port, "/nope").first, 404);

  // Every connection announces the command: the walsender of its own slot
  // and its SQL sessions on the source, its sessions on the target.
  SqlClient source(servers().source.Dsn());
  EXPECT_EQ(source.Value("SELECT count(*) FROM pg_stat_replication "
                         "WHERE application_name = 'pgparity audit'"),
            "1");
  SqlClient target(servers().target.Dsn());
  EXPECT_NE(target.Value("SELECT count(*) FROM pg_stat_activity "
                         "WHERE application_name = 'pgparity audit'"),
            "0");
  EXPECT_EQ(target.Value("SELECT count(*) FROM pg_stat_activity "
                         "WHERE application_name LIKE 'pgparity%' "
                         "AND application_name <> 'pgparity audit'"),
            "0");

  // A divergence shows in the metrics of the next report.
  target.Exec("DELETE FROM orders WHERE id = (SELECT max(id) FROM orders)");
  WaitForReport([](const json& r) { return r["status"] == "divergent"; });
  auto bad = ParseMetrics(HttpGet(port, "/metrics").second);
  EXPECT_EQ(bad["pgparity_table_divergent_rows{table=\"public.orders\"}"], 1);
  EXPECT_EQ(bad["pgparity_table_status{table=\"public.orders\",status=\"mismatch\"}"], 1);
  EXPECT_EQ(bad["pgparity_report_status{status=\"divergent\"}"], 1);
  audit_->Signal(SIGTERM);
  auto exit = audit_->Wait(std::chrono::milliseconds(20000));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(*exit, 0) << Log();
}

TEST_F(AuditTest, BadMetricsAddressFailsBeforeAnySlotExists) {
  for (const std::string& addr : std::vector<std::string>{
           "nonsense", "127.0.0.1:99999", "127.0.0.1:" + std::to_string(servers().source.port())}) {
    Cli c = RunAuditOnce(" --metrics-listen " + ShellQuote(addr));
    EXPECT_EQ(c.code, 2) << addr << ": " << c.output;
    EXPECT_NE(c.output.find("--metrics-listen"), std::string::npos) << c.output;
  }
  SqlClient source(servers().source.Dsn());
  EXPECT_EQ(
      source.Value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgparity_audit'"),
      "0");
}

TEST_F(AuditTest, RefusesASlotItHasNoStateFor) {
  SqlClient source(servers().source.Dsn());
  source.Exec("SELECT pg_create_logical_replication_slot('pgparity_audit', 'pgoutput')");
  Cli c = RunAuditOnce();
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_NE(c.output.find("pg_drop_replication_slot('pgparity_audit')"), std::string::npos)
      << c.output;
  Cli usage = RunCli("audit --source x --target y");
  EXPECT_EQ(usage.code, 2) << usage.output;
  EXPECT_NE(usage.output.find("--state-dir is required"), std::string::npos) << usage.output;
}

// What a run killed -9 in its bootstrap leaves — the slot created, no
// checkpoint yet, the state directory naming the slot pending — made by
// hand (a kill in a bootstrap of this size cannot be timed: holding it on
// a lock holds the slot's creation too): the next run drops the slot and
// starts again instead of refusing a slot it has no state for, as it
// refuses one the directory does not name (RefusesASlotItHasNoStateFor).
// A start over killed midway leaves the same.
TEST_F(AuditTest, ASlotLeftByARunKilledInItsBootstrapIsDroppedByTheNext) {
  SqlClient source(servers().source.Dsn());
  source.Exec("SELECT pg_create_logical_replication_slot('pgparity_audit', 'pgoutput')");
  std::filesystem::create_directories(state_);
  std::ofstream(state_ / "slot.pending") << "pgparity_audit";
  const std::string before = source.Value(
      "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'pgparity_audit'");
  StartAudit();
  WaitForReport([](const json& r) { return r.contains("status"); });
  EXPECT_NE(Log().find("slot pgparity_audit was created by a run of " + state_.string() +
                       " that ended before its first checkpoint: dropping it"),
            std::string::npos)
      << Log();
  EXPECT_NE(Log().find("created replication slot pgparity_audit"), std::string::npos) << Log();
  EXPECT_FALSE(std::filesystem::exists(state_ / "slot.pending"));
  EXPECT_TRUE(std::filesystem::exists(state_ / "shadow.ckpt"));
  audit_->Signal(SIGTERM);
  EXPECT_EQ(audit_->Wait(std::chrono::milliseconds(20000)), 0) << Log();
  EXPECT_NE(source.Value("SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = "
                         "'pgparity_audit'"),
            before);
}

// A state directory of digest definition 1 (checkpoint format 02) is
// refused with the fix, and left as it was: its digests would not compare.
TEST_F(AuditTest, RefusesStateOfTheOldDigestDefinition) {
  ASSERT_NO_FATAL_FAILURE(MakeStateDir());
  const std::filesystem::path ckpt = state_ / "shadow.ckpt";
  std::string bytes = testing::ReadFile(ckpt.string());
  ASSERT_EQ(bytes.substr(0, 8), "PGPSHD05");
  bytes.replace(0, 8, "PGPSHD02");
  {
    std::ofstream out(ckpt, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  ExpectStateRefused(RunAuditOnce(), "holds row digests of digest definition 1");
  EXPECT_EQ(testing::ReadFile(ckpt.string()), bytes) << "the refused state was rewritten";
}

// A checkpoint whose rows no longer fit the published tables (one more
// table since) is refused with the fix, exit 2. Its rows load while the
// stream starts, so this is found with the stream starting or under way
// (its log had `streaming slot` first when this was written): nothing is
// applied, confirmed or rewritten.
TEST_F(AuditTest, RefusesACheckpointOfOtherTablesWithNothingConfirmed) {
  ASSERT_NO_FATAL_FAILURE(MakeStateDir());
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  const std::string slot_sql =
      "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgparity_audit'";
  const std::string confirmed = source.Value(slot_sql);
  const std::string ckpt = testing::ReadFile((state_ / "shadow.ckpt").string());
  for (SqlClient* side : {&source, &target}) {
    side->Exec("CREATE TABLE audit_added (id int PRIMARY KEY)");
  }
  // Changes for the stream to bring while the rows load.
  source.Exec("UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 100");
  const Cli c = RunAuditOnce(" --on-schema-change stop");
  ExpectStateRefused(c, "the published tables changed since it was written");
  EXPECT_NE(c.output.find("or run audit with --on-schema-change restart"), std::string::npos)
      << c.output;
  EXPECT_EQ(source.Value(slot_sql), confirmed) << c.output;
  EXPECT_TRUE(testing::ReadFile((state_ / "shadow.ckpt").string()) == ckpt)
      << "the refused state was rewritten";
  EXPECT_EQ(c.output.find("resuming from the checkpoint"), std::string::npos) << c.output;
  for (SqlClient* side : {&source, &target}) side->Exec("DROP TABLE audit_added");
}

// A column added under a running audit (on the target, then the source, as
// logical replication needs), under pgbench load: the stream's Relation
// message of public.users no longer fits the shadow, so audit starts over
// in the same run — slot dropped, a new bootstrap — and compares the new
// column from then on: a value changed behind the subscriber's back in it
// is named, and nothing else. With --on-schema-change stop it exits 2
// naming the table and the fix instead.
TEST_F(AuditTest, AColumnAddedUnderAuditStartsOverAndIsCompared) {
  // The suite's other tests expect the table as it was; the source first:
  // the subscriber then never sees the column missing.
  Cleanup drop_nickname([] {
    for (const PgServer* side : {&servers().source, &servers().target}) {
      SqlClient(side->Dsn()).Exec("ALTER TABLE users DROP COLUMN IF EXISTS nickname");
    }
  });
  auto load = StartLoad(200);
  StartAudit();
  // Any verdict: earlier tests of the suite may leave divergences.
  const json before = WaitForReport([](const json& r) { return r.contains("status"); });
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  target.Exec("ALTER TABLE users ADD COLUMN nickname text");
  source.Exec("ALTER TABLE users ADD COLUMN nickname text");
  source.Exec("UPDATE users SET nickname = 'nick ' || id WHERE id <= 5");
  ASSERT_TRUE(WaitAfterStartingOver("full check:")) << Log();
  EXPECT_NE(Log().find("the columns of table public.users changed on the source (ALTER TABLE)"),
            std::string::npos)
      << Log();
  EXPECT_NE(LogAfterStartingOver().find("created replication slot pgparity_audit"),
            std::string::npos)
      << Log();
  // The started-over state knows the column: a value changed in it alone
  // is named by it.
  target.Exec("UPDATE users SET nickname = 'not the source''s' WHERE id = 3");
  const auto users_names_3 = [](const json& r) {
    for (const auto& t : r["tables"]) {
      if (t["table"] == "public.users" && t["divergent_rows"].size() == 1 &&
          t["divergent_rows"][0]["key"]["id"] == "3") {
        return true;
      }
    }
    return false;
  };
  const json bad = WaitForReport(users_names_3);
  std::map<std::string, json> status_before;
  for (const auto& t : before["tables"]) status_before[t["table"]] = t["status"];
  for (const auto& t : bad["tables"]) {
    if (t["table"] == "public.users") {
      EXPECT_EQ(t["divergent_rows"][0]["columns"], json::array({"nickname"})) << t.dump();
    } else {
      EXPECT_EQ(t["status"], status_before[t["table"]]) << t.dump();
    }
  }
  audit_->Signal(SIGTERM);
  ASSERT_EQ(audit_->Wait(std::chrono::milliseconds(20000)), 0) << Log();
  audit_.reset();
  source.Exec("ALTER TABLE users ADD COLUMN stopped int");
  target.Exec("ALTER TABLE users ADD COLUMN stopped int");
  const Cli stop = RunAuditOnce(" --on-schema-change stop");
  ExpectStateRefused(stop, "the published tables changed since it was written");
  SqlClient(servers().source.Dsn()).Exec("ALTER TABLE users DROP COLUMN stopped");
  SqlClient(servers().target.Dsn()).Exec("ALTER TABLE users DROP COLUMN stopped");
}

// A table created on both sides and added to the subscription under a
// running audit: its first change on the stream is of a table the state
// does not hold, so audit starts over (its stream still running: the run
// must let go of the slot first) and the new state checks it — a row
// changed behind the subscriber's back in it is named.
TEST_F(AuditTest, ATableJoiningThePublicationUnderAuditStartsOverAndIsChecked) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  Cleanup drop_joined([&] {
    for (SqlClient* side : {&source, &target}) side->Exec("DROP TABLE IF EXISTS joined");
    target.Exec("ALTER SUBSCRIPTION my_subscription REFRESH PUBLICATION");
  });
  StartAudit();
  WaitForReport([](const json& r) { return r.contains("status"); });
  for (SqlClient* side : {&target, &source}) {
    side->Exec("CREATE TABLE joined (id int PRIMARY KEY, v text)");
  }
  target.Exec("ALTER SUBSCRIPTION my_subscription REFRESH PUBLICATION");
  WaitForSubscriptionReady(target, "my_subscription");
  source.Exec("INSERT INTO joined SELECT g, 'v' || g FROM generate_series(1, 20) g");
  ASSERT_TRUE(WaitAfterStartingOver("full check:")) << Log();
  EXPECT_NE(Log().find("table public.joined joined the publication since pgparity started: "
                       "starting over"),
            std::string::npos)
      << Log();
  WaitForCatchUp(source, "my_subscription");
  target.Exec("UPDATE joined SET v = 'not the source''s' WHERE id = 7");
  const json bad = WaitForReport([](const json& r) {
    for (const auto& t : r["tables"]) {
      if (t["table"] == "public.joined" && t["divergent_rows"].size() == 1) return true;
    }
    return false;
  });
  for (const auto& t : bad["tables"]) {
    if (t["table"] != "public.joined") continue;
    EXPECT_EQ(t["divergent_rows"][0]["key"]["id"], "7") << t.dump();
    EXPECT_EQ(t["divergent_rows"][0]["columns"], json::array({"v"})) << t.dump();
  }
  audit_->Signal(SIGTERM);
  EXPECT_EQ(audit_->Wait(std::chrono::milliseconds(20000)), 0) << Log();
  audit_.reset();
}

// A type changed while audit was stopped (integer to numeric(10,2) prints
// 1 as 1.00, with no change on the stream): the checkpoint's digests no
// longer compare. Before its type was recorded in the checkpoint (format
// 05) the restart loaded them and reported every row of the table as
// differing; now it starts over and the table matches.
TEST_F(AuditTest, ATypeChangedWhileStoppedStartsOverInsteadOfReportingEveryRow) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  for (SqlClient* side : {&source, &target})
    side->Exec("CREATE TABLE retyped (id int PRIMARY KEY, v int)");
  target.Exec("ALTER SUBSCRIPTION my_subscription REFRESH PUBLICATION");
  source.Exec("INSERT INTO retyped SELECT g, g FROM generate_series(1, 100) g");
  WaitForSubscriptionReady(target, "my_subscription");
  WaitForCatchUp(source, "my_subscription");
  ASSERT_NO_FATAL_FAILURE(MakeStateDir());
  for (SqlClient* side : {&target, &source})
    side->Exec("ALTER TABLE retyped ALTER v TYPE numeric(10,2)");
  std::filesystem::remove(state_ / "report.json");  // the first run's
  StartAudit();
  ASSERT_TRUE(WaitAfterStartingOver("full check:")) << Log();
  const json report = WaitForReport([](const json& r) { return r.contains("status"); });
  EXPECT_NE(Log().find("column v of table public.retyped is numeric(10,2) on the source, but the "
                       "checkpoint's digests are of integer values"),
            std::string::npos)
      << Log();
  bool found = false;
  for (const auto& t : report["tables"]) {
    if (t["table"] != "public.retyped") continue;
    EXPECT_EQ(t["status"], "match") << t.dump();
    found = true;
  }
  EXPECT_TRUE(found) << report.dump(2);
  audit_->Signal(SIGTERM);
  ASSERT_EQ(audit_->Wait(std::chrono::milliseconds(20000)), 0) << Log();
  audit_.reset();
  source.Exec("DROP TABLE retyped");
  target.Exec("DROP TABLE retyped");
  target.Exec("ALTER SUBSCRIPTION my_subscription REFRESH PUBLICATION");
}

}  // namespace
}  // namespace pgparity::applier
