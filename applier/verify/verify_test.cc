// `pgparity verify` against a real PostgreSQL 14 source and 16 target with
// the native subscription running: consistent under pgbench load, each
// injected divergence pinpointed (table, key, kind, columns, values) with
// exit 1, a disabled subscription's lag, bad input with its exit codes and
// no slot left behind; and the decoder's oracle workload (types, TOAST,
// identities, TRUNCATE, streamed transactions) with no false positive.
#include "pgparity/applier/verify/verify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>

#include "pgparity/applier/scan/rewritten_tables.h"
#include "pgparity/digest/digest_sql.h"
#include "pgparity/sql_quote.h"
#include "verify/verify_test_env.h"

namespace pgparity::applier {
namespace {

TEST_F(VerifyFixture, ConsistentUnderPgbenchLoadEveryTime) {
  auto load = StartLoad();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  for (int i = 0; i < 3; ++i) {
    Verdict v = Verify();
    ASSERT_EQ(v.code, 0) << v.output;
    ASSERT_TRUE(v.report.is_object()) << v.output;
    EXPECT_EQ(v.report["status"], "consistent");
    ASSERT_EQ(v.report["tables"].size(), 7u) << v.report.dump(2);
    for (const auto& t : v.report["tables"]) {
      EXPECT_EQ(t["status"], "match") << t.dump();
      EXPECT_EQ(t["source_digest"], t["target_digest"]) << t.dump();
      EXPECT_EQ(t["source_rows"], t["target_rows"]) << t.dump();
    }
    EXPECT_NE(v.output.find("verify: consistent"), std::string::npos) << v.output;
    // Columns are matched by name; the target's own column is reported.
    ASSERT_NE(Table(v, "public.reordered"), nullptr);
    EXPECT_EQ((*Table(v, "public.reordered"))["extra_columns"], json::array({"note"}));
  }
  ASSERT_TRUE(load->Running()) << "pgbench ended early: "
                               << testing::ReadFile(servers().source.dir() / "pgbench.log");
  EXPECT_EQ(VerifySlotsLeft(), 0);
}

// The values of PinpointsUpdateDeleteAndInsertOnTheTarget's rows: the
// differing column on both sides, the extra row and the missing row whole
// (docs/report.md "Values"), in the JSON and on the text output's lines.
void ExpectValuesShown(const Verdict& v, const json& changed, const json& extra,
                       const json& missing, const std::string& order, SqlClient& source) {
  EXPECT_EQ(v.report["redacted"], false);
  ASSERT_EQ(changed["values"].size(), 1u) << changed.dump(2);
  EXPECT_EQ(changed["values"][0]["column"], "email");
  EXPECT_EQ(changed["values"][0]["source"]["text"],
            source.Value("SELECT email FROM users WHERE id = 2"));
  EXPECT_EQ(changed["values"][0]["target"]["text"], "changed@example.com");
  EXPECT_EQ(changed["values"][0]["target"]["md5"],
            source.Value("SELECT md5('changed@example.com')"));
  ASSERT_EQ(extra["values"].size(), 4u) << extra.dump(2);
  EXPECT_EQ(extra["values"][1]["target"]["text"], "ghost");
  ASSERT_EQ(missing["values"].size(), 6u) << missing.dump(2);
  EXPECT_EQ(missing["values"][0]["source"]["text"], order);
  EXPECT_EQ(missing["values"][2]["source"]["text"],
            source.Value("SELECT product_name FROM orders WHERE id = " + order));
  EXPECT_NE(v.output.find("        email: source E'" +
                          source.Value("SELECT email FROM users WHERE id = 2") +
                          "', target E'changed@example.com'\n"),
            std::string::npos)
      << v.output;
  EXPECT_NE(v.output.find("        username: target E'ghost'\n"), std::string::npos) << v.output;
}

TEST_F(VerifyFixture, PinpointsUpdateDeleteAndInsertOnTheTarget) {
  SqlClient target(servers().target.Dsn());
  auto load = StartLoad();
  const std::string order = target.Value("SELECT min(id) FROM orders");
  target.Exec("CREATE TABLE saved_order AS SELECT * FROM orders WHERE id = " + order);
  target.Exec("UPDATE users SET email = 'changed@example.com' WHERE id = 2");
  target.Exec("DELETE FROM orders WHERE id = " + order);
  target.Exec("INSERT INTO users (id, username, email) VALUES (999, 'ghost', 'ghost@example.com')");
  Cleanup repair([&] {
    // The source's rows back, the extra one gone.
    SqlClient source(servers().source.Dsn());
    const auto email = source.Value("SELECT email FROM users WHERE id = 2");
    target.Exec("UPDATE users SET email = '" + email + "' WHERE id = 2");
    target.Exec("DELETE FROM users WHERE id = 999");
    target.Exec("INSERT INTO orders SELECT * FROM saved_order; DROP TABLE saved_order");
  });
  Verdict v = Verify();
  EXPECT_EQ(v.code, 1) << v.output;
  ASSERT_TRUE(v.report.is_object()) << v.output;
  EXPECT_EQ(v.report["status"], "divergent");
  const json* users = Table(v, "public.users");
  ASSERT_NE(users, nullptr);
  EXPECT_EQ((*users)["status"], "mismatch");
  const json* changed = Row(v, "public.users", "id", "2");
  ASSERT_NE(changed, nullptr) << users->dump(2);
  EXPECT_EQ((*changed)["kind"], "differs");
  EXPECT_EQ((*changed)["columns"], json::array({"email"}));
  const json* extra = Row(v, "public.users", "id", "999");
  ASSERT_NE(extra, nullptr) << users->dump(2);
  EXPECT_EQ((*extra)["kind"], "extra_on_target");
  const json* missing = Row(v, "public.orders", "id", order);
  ASSERT_NE(missing, nullptr) << v.report.dump(2);
  EXPECT_EQ((*missing)["kind"], "missing_on_target");
  EXPECT_EQ((*Table(v, "public.orders"))["divergent_row_count"], 1);
  EXPECT_EQ((*users)["divergent_row_count"], 2);
  // Each row the source had carries its digest then, as the documented SQL
  // computes it from the source's row (unchanged since).
  SqlClient source(servers().source.Dsn());
  const auto digest_of = [&](const std::string& table, const std::string& where) {
    std::vector<std::string> columns;
    const std::string list = source.Value(
        "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '" +
        table + "'::regclass AND attnum > 0 AND NOT attisdropped");
    for (size_t at = 0, next; at <= list.size(); at = next + 1) {
      next = std::min(list.find(',', at), list.size());
      columns.push_back(list.substr(at, next - at));
    }
    return source.Value("SELECT " + digest::RowDigestSql("public", table, columns) + " FROM " +
                        table + " WHERE " + where);
  };
  EXPECT_EQ((*changed)["source_row_digest"], digest_of("users", "id = 2"));
  EXPECT_EQ((*missing)["source_row_digest"], digest_of("orders", "id = " + order));
  EXPECT_TRUE((*extra)["source_row_digest"].is_null());
  ExpectValuesShown(v, *changed, *extra, *missing, order, source);
  // The pgbench tables, changing all along, are not blamed.
  for (const char* t : {"public.pgbench_accounts", "public.pgbench_branches",
                        "public.pgbench_tellers", "public.pgbench_history"}) {
    ASSERT_NE(Table(v, t), nullptr) << t;
    EXPECT_EQ((*Table(v, t))["status"], "match") << Table(v, t)->dump();
  }
  EXPECT_NE(v.output.find("differs id=2 columns: email"), std::string::npos) << v.output;
  EXPECT_EQ(VerifySlotsLeft(), 0);
}

// --memory-limit 1MiB: pgbench_accounts (100,000 rows, ~5 MB of maps)
// lives in the row store. Under load the verdict is consistent every time;
// rows changed, deleted and added on the target in that table are named
// exactly as without a limit.
TEST_F(VerifyFixture, ASpilledShadowGivesTheSameVerdictsAndRows) {
  {
    auto load = StartLoad();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    for (int i = 0; i < 2; ++i) {
      Verdict v = Verify("--memory-limit 1MiB");
      ASSERT_EQ(v.code, 0) << v.output;
      EXPECT_EQ(v.report["status"], "consistent") << v.report.dump(2);
      EXPECT_GE(v.report["shadow"]["spilled_tables"].get<int>(), 1) << v.report["shadow"];
      EXPECT_EQ(v.report["shadow"]["memory_limit"], 1 << 20);
    }
  }
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  testing::WaitForCatchUp(source, "my_subscription", std::chrono::seconds(60));
  target.Exec("UPDATE pgbench_accounts SET filler = 'tampered' WHERE aid = 7");
  target.Exec("CREATE TABLE saved_account AS SELECT * FROM pgbench_accounts WHERE aid = 8");
  target.Exec("DELETE FROM pgbench_accounts WHERE aid = 8");
  target.Exec("INSERT INTO pgbench_accounts VALUES (999999, 1, 0, 'ghost')");
  Cleanup repair([&] {
    const std::string filler = source.Value("SELECT filler FROM pgbench_accounts WHERE aid = 7");
    target.Exec("UPDATE pgbench_accounts SET filler = '" + filler + "' WHERE aid = 7");
    target.Exec(
        "INSERT INTO pgbench_accounts SELECT * FROM saved_account; DROP TABLE saved_account");
    target.Exec("DELETE FROM pgbench_accounts WHERE aid = 999999");
  });
  std::vector<std::set<std::pair<std::string, std::string>>> found;
  for (const char* limit : {"--memory-limit 1MiB", "--memory-limit 0"}) {
    Verdict v = Verify(limit);
    EXPECT_EQ(v.code, 1) << v.output;
    const json* accounts = Table(v, "public.pgbench_accounts");
    ASSERT_NE(accounts, nullptr) << v.output;
    EXPECT_EQ((*accounts)["divergent_row_count"], 3) << accounts->dump(2);
    std::set<std::pair<std::string, std::string>> rows;
    for (const auto& r : (*accounts)["divergent_rows"]) rows.emplace(r["key"]["aid"], r["kind"]);
    found.push_back(rows);
  }
  const std::set<std::pair<std::string, std::string>> expect{
      {"7", "differs"}, {"8", "missing_on_target"}, {"999999", "extra_on_target"}};
  EXPECT_EQ(found[0], expect);
  EXPECT_EQ(found[1], expect);
  EXPECT_EQ(VerifySlotsLeft(), 0);
}

// A spilled table is compared row by row in key ranges, so its target rows
// need not fit in memory: at --memory-limit 1MiB, ranges of 4 MiB's worth
// of rows (about 32,768 of pgbench_accounts' 100,000). Rows tampered with
// on the target at random keys across the table (changed, deleted, added
// below and above its keys), more than --max-rows of them: the count is
// exactly the test's own, the rows listed are some of its rows, and both
// are the same as the whole-table comparison's without a limit.
TEST_F(VerifyFixture, ASpilledTableIsComparedRowByRowInKeyRanges) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  testing::WaitForCatchUp(source, "my_subscription", std::chrono::seconds(60));
  const unsigned seed = static_cast<unsigned>(std::random_device{}());
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::uniform_int_distribution<int> aid(1, 100000);
  std::set<int> chosen;
  while (chosen.size() < 30) chosen.insert(aid(rng));
  std::vector<int> picked(chosen.begin(), chosen.end());
  std::shuffle(picked.begin(), picked.end(), rng);
  std::set<std::pair<std::string, std::string>> expect;
  std::string changed, deleted;
  for (size_t i = 0; i < picked.size(); ++i) {
    std::string& list = i < 15 ? changed : deleted;
    list += (list.empty() ? "" : ",") + std::to_string(picked[i]);
    expect.emplace(std::to_string(picked[i]), i < 15 ? "differs" : "missing_on_target");
  }
  const std::vector<int> added = {-7, 0, 100001 + aid(rng), 250000 + aid(rng)};
  target.Exec("CREATE TABLE saved_accounts AS SELECT * FROM pgbench_accounts WHERE aid IN (" +
              changed + "," + deleted + ")");
  Cleanup repair([&] {
    target.Exec("DELETE FROM pgbench_accounts WHERE aid IN (" + changed + ") OR aid < 1 OR " +
                "aid > 100000; INSERT INTO pgbench_accounts SELECT * FROM saved_accounts; " +
                "DROP TABLE saved_accounts");
  });
  target.Exec("UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid IN (" + changed + ")");
  target.Exec("DELETE FROM pgbench_accounts WHERE aid IN (" + deleted + ")");
  for (int a : added) {
    target.Exec("INSERT INTO pgbench_accounts VALUES (" + std::to_string(a) + ", 1, 0, 'added')");
    expect.emplace(std::to_string(a), "extra_on_target");
  }
  std::vector<std::set<std::pair<std::string, std::string>>> listed;
  for (const char* limit : {"--memory-limit 1MiB", "--memory-limit 0"}) {
    Verdict v = Verify(std::string(limit) + " --max-rows 20");
    EXPECT_EQ(v.code, 1) << v.output;
    const json* accounts = Table(v, "public.pgbench_accounts");
    ASSERT_NE(accounts, nullptr) << v.output;
    EXPECT_EQ((*accounts)["divergent_row_count"], expect.size()) << accounts->dump(2);
    std::set<std::pair<std::string, std::string>> rows;
    for (const auto& r : (*accounts)["divergent_rows"]) rows.emplace(r["key"]["aid"], r["kind"]);
    EXPECT_EQ(rows.size(), 20u) << accounts->dump(2);
    for (const auto& row : rows)
      EXPECT_TRUE(expect.contains(row)) << row.first << " " << row.second;
    listed.push_back(rows);
    const std::string line = "rows compared: public.pgbench_accounts read in ";
    const size_t by_range = v.output.find(line);
    if (listed.size() == 1) {
      ASSERT_NE(by_range, std::string::npos) << v.output;
      EXPECT_GE(std::stoi(v.output.substr(by_range + line.size())), 3) << v.output.substr(by_range);
    } else {
      EXPECT_EQ(by_range, std::string::npos) << v.output;
    }
  }
  EXPECT_EQ(listed[0], listed[1]);
  EXPECT_EQ(VerifySlotsLeft(), 0);
}

TEST_F(VerifyFixture, ReportsATableMissingOnTheTarget) {
  SqlClient source(servers().source.Dsn());
  source.Exec("CREATE TABLE only_on_source (id int PRIMARY KEY, v text)");
  source.Exec("INSERT INTO only_on_source VALUES (1, 'a')");
  Cleanup drop([&] {
    // The apply worker stops at the first change of a table it cannot
    // find; once the table exists it skips the change (not subscribed).
    SqlClient target(servers().target.Dsn());
    target.Exec("CREATE TABLE only_on_source (id int PRIMARY KEY, v text)");
    testing::WaitForCatchUp(source, "my_subscription", std::chrono::seconds(60));
    source.Exec("DROP TABLE only_on_source");
    target.Exec("DROP TABLE only_on_source");
  });
  Verdict v = Verify();
  EXPECT_EQ(v.code, 1) << v.output;
  const json* t = Table(v, "public.only_on_source");
  ASSERT_NE(t, nullptr) << v.output;
  EXPECT_EQ((*t)["status"], "missing_on_target");
  EXPECT_EQ((*t)["source_rows"], 1);
  EXPECT_EQ((*Table(v, "public.users"))["status"], "match");
}

// What both checks rely on (rewritten_tables.h): a transaction whose
// snapshot predates a TRUNCATE reads the table empty after it, and
// RewrittenSinceSnapshot names the table — or the partition — then, and
// nothing before. On the target, where no publication sees these tables.
TEST_F(VerifyFixture, RewrittenSinceSnapshotNamesATruncatedTableOrPartition) {
  SqlClient other(servers().target.Dsn());
  other.Exec(
      "CREATE TABLE rw_plain (id int PRIMARY KEY); INSERT INTO rw_plain VALUES (1), (2), (3);"
      "CREATE TABLE rw_parted (id int) PARTITION BY RANGE (id);"
      "CREATE TABLE rw_parted_1 PARTITION OF rw_parted FOR VALUES FROM (1) TO (10);"
      "CREATE TABLE rw_parted_2 PARTITION OF rw_parted FOR VALUES FROM (10) TO (20);"
      "INSERT INTO rw_parted VALUES (1), (15)");
  Cleanup drop([&] { other.Exec("DROP TABLE rw_plain, rw_parted"); });
  auto session = conn::PgSession::Connect(servers().target.Dsn());
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  ASSERT_TRUE(session->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1").ok());
  TableSpec plain, parted;
  plain.schema = parted.schema = "public";
  plain.name = "rw_plain";
  parted.name = "rw_parted";
  parted.relkind = 'p';
  const auto rewritten = [&](const TableSpec& spec) {
    auto r = RewrittenSinceSnapshot(*session, spec);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "<error>";
  };
  EXPECT_EQ(rewritten(plain), "");
  EXPECT_EQ(rewritten(parted), "");
  other.Exec("TRUNCATE rw_plain; TRUNCATE rw_parted_2");
  auto count = session->Query("SELECT count(*) FROM rw_plain");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->Value(0, 0), "0") << "the snapshot's 3 rows are gone: not MVCC-safe";
  EXPECT_EQ(rewritten(plain), "public.rw_plain");
  EXPECT_EQ(rewritten(parted), "public.rw_parted_2");
  ASSERT_TRUE(session->Exec("COMMIT").ok());
}

// TRUNCATE is not MVCC-safe: a scan inside the slot's snapshot that reads
// a table after a TRUNCATE committed past the snapshot finds it empty, and
// the changes streamed before that TRUNCATE touch rows the scan never saw.
// Here a session deletes a row of a small table, truncates and refills it
// in one transaction as soon as verify's slot is consistent, while verify
// (--jobs 1) scans pgbench_accounts (100,000 rows) before it: verify must
// find the rewrite, take a new slot, and agree. (No lock can hold the scan
// back deterministically: an ACCESS EXCLUSIVE lock takes a transaction id,
// and the slot would wait for it.) Races until the TRUNCATE came first.
TEST_F(VerifyFixture, ATableTruncatedAfterTheSnapshotBeforeItsScanGetsANewSlot) {
  SqlClient source(servers().source.Dsn());
  bool overtaken = false;
  for (int attempt = 0; attempt < 5 && !overtaken; ++attempt) {
    auto verdict = std::async(std::launch::async, [] { return Verify("--jobs 1"); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (source.Value("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE "
                        "'pgparity_verify%' AND confirmed_flush_lsn IS NOT NULL") == "0" &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    source.Exec(
        "BEGIN; DELETE FROM reordered WHERE a = 1; TRUNCATE reordered;"
        "INSERT INTO reordered SELECT g, 'row ' || g, g / 3.0 FROM generate_series(1, 50) g;"
        "COMMIT");
    Verdict v = verdict.get();
    ASSERT_EQ(v.code, 0) << v.output;
    ASSERT_EQ(v.report["status"], "consistent") << v.output;
    overtaken = v.output.find(
                    "table public.reordered was truncated or rewritten after the "
                    "slot's snapshot") != std::string::npos;
    if (overtaken) {
      EXPECT_NE(v.output.find("creating it again"), std::string::npos) << v.output;
    }
  }
  EXPECT_TRUE(overtaken) << "the TRUNCATE never came between verify's snapshot and its scan";
  EXPECT_EQ(VerifySlotsLeft(), 0);
}

// The target's side of the same PostgreSQL behaviour: a table truncated on
// the target after the full check's snapshot, before its read, reads as
// empty there. Here the truncating transaction puts every row back, so the
// target equals the source once it commits: the check must not call the
// rows missing (a false alarm) but check the table again, in a snapshot
// that sees the rows: consistent.
// Deterministic: the TRUNCATE holds its lock until the check's read waits
// for it, then commits.
TEST_F(VerifyFixture, ATableTruncatedOnTheTargetUnderTheChecksSnapshotIsCheckedAgain) {
  SqlClient truncator(servers().target.Dsn());
  truncator.Exec(
      "BEGIN; CREATE TEMP TABLE kept ON COMMIT DROP AS SELECT * FROM reordered;"
      "TRUNCATE reordered; INSERT INTO reordered SELECT * FROM kept");
  std::future<Verdict> verdict;
  bool committed = false;
  Cleanup commit([&] {  // before `verdict` joins: never leave verify waiting on the lock
    if (!committed) truncator.Exec("COMMIT");
  });
  verdict = std::async(std::launch::async, [] { return Verify("--jobs 1"); });
  SqlClient watcher(servers().target.Dsn());
  const std::string waiting = testing::WaitForPgparityLockWait(watcher);
  truncator.Exec("COMMIT");
  committed = true;
  Verdict v = verdict.get();
  ASSERT_FALSE(waiting.empty()) << "verify never waited for the TRUNCATE's lock: " << v.output;
  EXPECT_EQ(v.code, 0) << "waited in: " << waiting << "\n" << v.output;
  EXPECT_EQ(v.report["status"], "consistent") << v.output;
  EXPECT_EQ(Row(v, "public.reordered", "a", "1"), nullptr) << v.report.dump(2);
}

TEST_F(VerifyFixture, DisabledSubscriptionIsDivergentThenConvergesWhenEnabled) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  target.Exec("ALTER SUBSCRIPTION my_subscription DISABLE");
  Cleanup enable([&] { target.Exec("ALTER SUBSCRIPTION my_subscription ENABLE"); });
  source.Exec("UPDATE users SET email = 'moved@example.com' WHERE id = 3");
  source.Exec("INSERT INTO users (id, username, email) VALUES (500, 'late', 'late@example.com')");
  Verdict v = Verify();
  EXPECT_EQ(v.code, 1) << v.output;
  const json* changed = Row(v, "public.users", "id", "3");
  ASSERT_NE(changed, nullptr) << v.report.dump(2);
  EXPECT_EQ((*changed)["kind"], "differs");
  EXPECT_EQ((*changed)["columns"], json::array({"email"}));
  const json* missing = Row(v, "public.users", "id", "500");
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ((*missing)["kind"], "missing_on_target");
  EXPECT_NE(v.output.find("is disabled"), std::string::npos) << v.output;

  target.Exec("ALTER SUBSCRIPTION my_subscription ENABLE");
  Verdict after = Verify();
  EXPECT_EQ(after.code, 0) << after.output;
  EXPECT_EQ(after.report["status"], "consistent") << after.output;
}

TEST_F(VerifyFixture, BadInputIsOneLineWithItsExitCodeAndLeavesNoSlot) {
  SqlClient source(servers().source.Dsn());
  source.Exec("CREATE PUBLICATION empty_pub");
  Cleanup drop([&] { source.Exec("DROP PUBLICATION empty_pub"); });
  struct Case {
    std::string args, source, target;
    int code;
    std::string says;
  } cases[] = {
      {"", Dsn(servers().source, "wrong"), "", 3, "source"},
      {"", "", Dsn(servers().target, "wrong"), 3, "target"},
      {"", "host=127.0.0.1 port=1 dbname=x user=postgres connect_timeout=2", "", 3, "source"},
      {"", "port=notaport x", "", 2, "source"},
      {"--publication nope", "", "", 2, "publication \"nope\" does not exist"},
      {"--publication empty_pub", "", "", 2, "publishes no table"},
      {"--subscription nope", "", "", 2, "subscription \"nope\" does not exist"},
      {"--timeout 0", "", "", 2, "--timeout"},
      {"--metrics-listen 127.0.0.1:" + std::to_string(servers().source.port()), "", "", 2,
       "--metrics-listen"},
  };
  for (const auto& c : cases) {
    Verdict v = Verify(c.args, c.source, c.target);
    EXPECT_EQ(v.code, c.code) << c.args << c.source << c.target << ": " << v.output;
    EXPECT_NE(v.output.find(c.says), std::string::npos) << v.output;
    EXPECT_NE(v.output.find("pgparity verify: error: "), std::string::npos) << v.output;
    EXPECT_EQ(v.output.find("internal error"), std::string::npos) << v.output;
    EXPECT_EQ(v.output.find("password=wrong"), std::string::npos) << v.output;
  }
  EXPECT_EQ(VerifySlotsLeft(), 0);
  // A role that may log in but not replicate: the fix is named, exit 2.
  source.Exec("CREATE ROLE weak LOGIN PASSWORD 'weak'");
  Cleanup drop_role([&] { source.Exec("DROP ROLE weak"); });
  Verdict weak = Verify("", "host=127.0.0.1 port=" + std::to_string(servers().source.port()) +
                                " dbname=sourcedb user=weak password=weak");
  EXPECT_EQ(weak.code, 2) << weak.output;
  EXPECT_NE(weak.output.find("REPLICATION"), std::string::npos) << weak.output;
  EXPECT_EQ(VerifySlotsLeft(), 0);
  Verdict usage = Verify("--no-such-option");
  EXPECT_EQ(usage.code, 2) << usage.output;
}

// The decoder's oracle workload, made on the source after the bootstrap,
// through the shadow state: every type, 'u' TOAST columns (also with
// toast_tuple_target = 128), REPLICA IDENTITY FULL, a table without key,
// TRUNCATE CASCADE, a streamed transaction with subtransaction aborts.
class VerifyOracleFixture : public testing::MigrationFixture {
 protected:
  static void SetUpTestSuite() {
    MigrationFixture::SetUpTestSuite();
    auto& s = servers();
    const std::string schema = ShellQuote(SourcePath("tests/oracle/schema.sql").string());
    Psql(s.source, "-f " + schema);
    Psql(s.target, "-f " + schema);
    SqlClient source(s.source.Dsn());
    if (testing::SourceMajor() >= 13) {  // 13+; streaming itself needs a 14+ source
      source.Exec("ALTER SYSTEM SET logical_decoding_work_mem = '64kB'");
      source.Exec("SELECT pg_reload_conf()");
    }
    SetUpReplication(s);
  }
};

TEST_F(VerifyOracleFixture, OracleWorkloadStreamedThroughTheShadowHasNoFalsePositive) {
  auto& s = servers();
  VerifyOptions options;
  options.source = *conn::ConnParams::Parse(Dsn(s.source));
  options.target = *conn::ConnParams::Parse(Dsn(s.target));
  auto session = VerifySession::Start(options);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  Psql(s.source, "-f " + ShellQuote(SourcePath("tests/oracle/workload.sql").string()));
  SqlClient source(s.source.Dsn());
  testing::WaitForCatchUp(source, "my_subscription", std::chrono::seconds(120));

  auto report = (*session)->Check(std::chrono::seconds(60));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::ostringstream text;
  RenderReportText(*report, text);
  EXPECT_EQ(report->status, ReportStatus::kConsistent) << text.str();
  for (const auto& t : report->tables) {
    EXPECT_EQ(t.status, TableStatus::kMatch) << t.table << ": " << t.reason;
  }
  const auto counters = (*session)->counters();
  EXPECT_GT(counters.changes, 1000u);  // the streamed transaction alone
  EXPECT_EQ(counters.unresolved_rows, 0u);
  EXPECT_EQ(counters.anomalies, 0u);
  // The shadow's digests — bootstrap with wide values hashed by the server,
  // then the changes, unchanged TOAST resolved from kept hashes — are the
  // source's own, computed by the server with docs/digest.md's SQL.
  for (const auto& t : report->tables) {
    const std::string table = t.table.substr(t.table.find('.') + 1);
    std::vector<std::string> cols;
    for (const auto& row : source.Query(
             "SELECT attname FROM pg_attribute WHERE attrelid = ('public.' || quote_ident(" +
             QuoteLiteral(table) +
             "))::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' "
             "ORDER BY attnum")) {
      cols.push_back(*row[0]);
    }
    const auto sql =
        source.Query(digest::TableDigestSql("public", table, cols, digest::RowsOf::kTableOnly));
    EXPECT_EQ(*sql[0][0], std::to_string(t.source_rows)) << t.table;
    EXPECT_EQ(*sql[0][1], t.source_digest) << t.table;
  }
  EXPECT_GT(std::stoll(source.Value("SELECT count(*) FROM docs WHERE octet_length(body) > 128")), 0)
      << "the workload has wide values";

  // And the check can fail: a changed TOASTed value is caught.
  SqlClient target(s.target.Dsn());
  target.Exec("UPDATE docs SET body = body || 'tampered' WHERE id = 2");
  auto bad = (*session)->Check(std::chrono::seconds(60));
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  EXPECT_EQ(bad->status, ReportStatus::kDivergent);
  bool found = false;
  for (const auto& t : bad->tables) {
    if (t.table != "public.docs") continue;
    ASSERT_EQ(t.divergent_rows.size(), 1u);
    EXPECT_EQ(t.divergent_rows[0].kind, RowDivergence::kDiffers);
    EXPECT_EQ(t.divergent_rows[0].key.at(0).second.value_or(""), "2");
    EXPECT_EQ(t.divergent_rows[0].columns, std::vector<std::string>{"body"});
    found = true;
  }
  EXPECT_TRUE(found);

  // Tables without a key are compared as multisets of row digests: a row
  // duplicated on the target and a row missing from it are both found.
  target.Exec("INSERT INTO events SELECT * FROM events LIMIT 1");
  target.Exec("DELETE FROM full_ident WHERE ctid IN (SELECT ctid FROM full_ident LIMIT 1)");
  auto keyless = (*session)->Check(std::chrono::seconds(60));
  ASSERT_TRUE(keyless.ok()) << keyless.status().ToString();
  EXPECT_EQ(keyless->status, ReportStatus::kDivergent);
  int keyless_tables = 0;
  for (const auto& t : keyless->tables) {
    if (t.table != "public.events" && t.table != "public.full_ident") continue;
    ++keyless_tables;
    ASSERT_EQ(t.divergent_rows.size(), 1u) << t.table;
    EXPECT_EQ(t.divergent_rows[0].kind, t.table == "public.events"
                                            ? RowDivergence::kExtraOnTarget
                                            : RowDivergence::kMissingOnTarget)
        << t.table;
  }
  EXPECT_EQ(keyless_tables, 2);
}

}  // namespace
}  // namespace pgparity::applier
