// Range-parallel scans (`--jobs`, scan/key_ranges.h) through real
// subscriptions: verify cuts tables into key ranges on both sides (a tiny
// --min-range-rows so that small tables are cut) and must find exactly what
// a whole-table read finds. The oracle is plain SQL over both servers:
// counts, and the rows of each side compared as text in C++ (an EXCEPT
// across the two servers) — never pgparity's digests.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pgparity/applier/scan/key_ranges.h"
#include "verify/schema_pair.h"

namespace pgparity::applier {
namespace {

class RangeScanTest : public testing::MigrationFixture {};

// verify --jobs 3 with ranges of at least 50 rows, report and all.
constexpr const char* kRanges = "--timeout 60 --jobs 3 --min-range-rows 50";

int64_t Count(SqlClient db, const std::string& sql) { return std::stoll(db.Value(sql)); }

// `table`'s rows as key text -> row text, by SQL (`key`: the key's columns
// as one text expression).
std::map<std::string, std::string> RowsByKey(SqlClient db, const std::string& table,
                                             const std::string& key) {
  std::map<std::string, std::string> out;
  const std::string all = db.Value("SELECT coalesce(string_agg((" + key +
                                   ") || chr(1) || t::text, chr(2)), '') FROM " + table + " t");
  size_t at = 0;
  while (at < all.size()) {
    size_t end = all.find('\2', at);
    if (end == std::string::npos) end = all.size();
    const std::string row = all.substr(at, end - at);
    const size_t sep = row.find('\1');
    out[row.substr(0, sep)] = row.substr(sep + 1);
    at = end + 1;
  }
  return out;
}

// The oracle: what differs between the two servers' rows of `table`, by
// key: missing_on_target, extra_on_target or differs.
std::map<std::string, std::string> Oracle(SchemaPair& pair, const std::string& table,
                                          const std::string& key) {
  const auto source = RowsByKey(pair.source(), table, key);
  const auto target = RowsByKey(pair.target(), table, key);
  std::map<std::string, std::string> out;
  for (const auto& [k, row] : source) {
    auto it = target.find(k);
    if (it == target.end()) {
      out[k] = "missing_on_target";
    } else if (it->second != row) {
      out[k] = "differs";
    }
  }
  for (const auto& [k, row] : target) {
    if (!source.contains(k)) out[k] = "extra_on_target";
  }
  return out;
}

// The report's divergent rows of `table`, by the key columns' values
// joined with '|' in `columns` order.
std::map<std::string, std::string> Reported(const json* table,
                                            const std::vector<std::string>& columns) {
  std::map<std::string, std::string> out;
  if (table == nullptr) return out;
  for (const auto& r : (*table)["divergent_rows"]) {
    std::string key;
    for (const auto& c : columns) {
      key += (key.empty() ? "" : "|") + r["key"].value(c, std::string("?"));
    }
    out[key] = r["kind"].get<std::string>();
  }
  return out;
}

// The table's entry, its scan read in more than one range, its row counts
// those of SQL on each side (a range read twice or missed changes them).
const json* ExpectScannedInRanges(const Verdict& v, SchemaPair& pair, const std::string& table) {
  const json* t = ReportTable(v.report, "public." + table);
  EXPECT_NE(t, nullptr) << v.output << v.report.dump(2);
  if (t == nullptr) return nullptr;
  EXPECT_TRUE((*t)["scan"].is_object()) << t->dump(2);
  if (!(*t)["scan"].is_object()) return t;
  EXPECT_GT((*t)["scan"]["ranges"].get<int>(), 1) << t->dump(2);
  EXPECT_FALSE((*t)["scan"].contains("why")) << t->dump(2);
  EXPECT_EQ((*t)["target_rows"], Count(pair.target(), "SELECT count(*) FROM " + table));
  return t;
}

// A range is named in verify's log for each table it cut.
void ExpectSplitLogged(const Verdict& v, const std::string& table) {
  EXPECT_NE(v.output.find("target check: public." + table + " read in "), std::string::npos)
      << v.output;
  EXPECT_NE(v.output.find("bootstrap: public." + table + " read in "), std::string::npos)
      << v.output;
}

TEST_F(RangeScanTest, IntegerKeyUnderPgbenchLoadIsConsistentEveryTime) {
  SchemaPair pair(servers(), "range_load",
                  "CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL, note text);"
                  "INSERT INTO acct SELECT g, 0, 'n' || g FROM generate_series(1, 3000) g;"
                  "ANALYZE acct",
                  "CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL, note text)");
  pair.target().Exec("ANALYZE acct");
  const std::filesystem::path script = servers().source.dir() / "range_load.sql";
  std::ofstream(script) << "\\set id random(1, 3000)\n"
                           "UPDATE acct SET balance = balance + 1 WHERE id = :id;\n"
                           "\\set fresh random(3001, 6000)\n"
                           "INSERT INTO acct VALUES (:fresh, 0, 'new') ON CONFLICT (id) DO "
                           "UPDATE SET balance = acct.balance - 1;\n"
                           "\\set gone random(3001, 6000)\n"
                           "DELETE FROM acct WHERE id = :gone;\n";
  testing::Subprocess load(
      {"pgbench", "-n", "-f", script.string(), "-c", "2", "-T", "120", pair.SourceDsn()},
      servers().source.dir() / "range_load.log");
  for (int round = 0; round < 3; ++round) {
    Verdict v = pair.Verify(kRanges);
    ASSERT_EQ(v.code, 0) << "round " << round << ": " << v.output << v.report.dump(2);
    EXPECT_EQ(v.report["status"], "consistent");
    const json* t = ReportTable(v.report, "public.acct");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ((*t)["status"], "match") << t->dump(2);
    EXPECT_GT((*t)["scan"]["ranges"].get<int>(), 1) << t->dump(2);
    if (round == 0) ExpectSplitLogged(v, "acct");
  }
  ASSERT_TRUE(load.Running()) << testing::ReadFile(servers().source.dir() / "range_load.log");
}

TEST_F(RangeScanTest, DivergenceInTheFirstAMiddleAndOnABoundaryRangeIsFound) {
  SchemaPair pair(servers(), "range_div",
                  "CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL);"
                  "INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 1200) g;"
                  "ANALYZE items",
                  "CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL)");
  pair.target().Exec("ANALYZE items");
  Verdict clean = pair.Verify(kRanges);
  ASSERT_EQ(clean.code, 0) << clean.output << clean.report.dump(2);
  const json* t = ExpectScannedInRanges(clean, pair, "items");
  ASSERT_NE(t, nullptr);
  // The target's bounds, as the planner spaces them over min 1 and max 1200.
  const size_t ranges = (*t)["scan"]["ranges"].get<size_t>();
  const std::vector<std::string> bounds = EvenIntegerBounds(1, 1200, ranges);
  ASSERT_GE(bounds.size(), 3u) << ranges;
  const std::string boundary = bounds[bounds.size() / 2];
  const std::string below_boundary = std::to_string(std::stoi(boundary) - 1);
  const std::string inside_middle = std::to_string(std::stoi(bounds[0]) + 3);
  // First range: an UPDATE and a DELETE; a middle range: an UPDATE; a
  // bound itself: an UPDATE, and an INSERT of a key the source deleted;
  // the key just below a bound: a DELETE. The keys 1 and 1200 stay, so
  // both sides keep the bounds above.
  pair.target().Exec(
      "UPDATE items SET v = 'tampered' WHERE id = 2;"
      "DELETE FROM items WHERE id = 3;"
      "UPDATE items SET v = 'tampered' WHERE id = " +
      inside_middle +
      ";"
      "UPDATE items SET v = 'tampered' WHERE id = " +
      boundary +
      ";"
      "DELETE FROM items WHERE id = " +
      below_boundary + ";");
  pair.source().Exec("DELETE FROM items WHERE id = " + bounds[1]);
  pair.CatchUp();
  pair.target().Exec("INSERT INTO items VALUES (" + bounds[1] + ", 'resurrected')");
  const std::map<std::string, std::string> oracle = Oracle(pair, "items", "t.id::text");
  ASSERT_EQ(oracle.size(), 6u);
  EXPECT_EQ(oracle.at(boundary), "differs");
  EXPECT_EQ(oracle.at(bounds[1]), "extra_on_target");
  Verdict v = pair.Verify(kRanges);
  ASSERT_EQ(v.code, 1) << v.output << v.report.dump(2);
  t = ReportTable(v.report, "public.items");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ((*t)["status"], "mismatch");
  // The same ranges as before: the changes sat where the test says.
  EXPECT_EQ((*t)["scan"]["ranges"].get<size_t>(), ranges) << t->dump(2);
  EXPECT_EQ(Reported(t, {"id"}), oracle) << t->dump(2);
  EXPECT_EQ((*t)["target_rows"], Count(pair.target(), "SELECT count(*) FROM items"));
  EXPECT_EQ((*t)["source_rows"], Count(pair.source(), "SELECT count(*) FROM items"));
}

TEST_F(RangeScanTest, CompositeAndTextKeysAreCutByTheirHistogram) {
  SchemaPair pair(servers(), "range_text",
                  "CREATE TABLE regional (region text, id int, v int, PRIMARY KEY (region, id));"
                  "INSERT INTO regional SELECT 'r' || lpad((g % 400)::text, 3, '0'), g, g "
                  "FROM generate_series(1, 2000) g;"
                  "CREATE TABLE words (w text PRIMARY KEY, n int);"
                  "INSERT INTO words SELECT md5(g::text), g FROM generate_series(1, 1500) g;"
                  "ANALYZE",
                  "CREATE TABLE regional (region text, id int, v int, PRIMARY KEY (region, id));"
                  "CREATE TABLE words (w text PRIMARY KEY, n int)");
  pair.target().Exec("ANALYZE");
  Verdict clean = pair.Verify(kRanges);
  ASSERT_EQ(clean.code, 0) << clean.output << clean.report.dump(2);
  ExpectScannedInRanges(clean, pair, "regional");
  ExpectScannedInRanges(clean, pair, "words");
  ExpectSplitLogged(clean, "words");

  // One change of each kind in each table, spread over the key space.
  pair.target().Exec(
      "UPDATE regional SET v = -1 WHERE region = 'r000' AND id = 400;"
      "DELETE FROM regional WHERE region = 'r200' AND id = 200;"
      "INSERT INTO regional VALUES ('r399', 99999, 0);"
      "UPDATE words SET n = -1 WHERE w = md5('10');"
      "DELETE FROM words WHERE w = md5('700');"
      "INSERT INTO words VALUES ('zzzz', 0)");
  Verdict v = pair.Verify(kRanges);
  ASSERT_EQ(v.code, 1) << v.output << v.report.dump(2);
  const json* regional = ReportTable(v.report, "public.regional");
  const json* words = ReportTable(v.report, "public.words");
  EXPECT_EQ(Reported(regional, {"region", "id"}),
            Oracle(pair, "regional", "t.region || '|' || t.id::text"))
      << (regional ? regional->dump(2) : "");
  EXPECT_EQ(Reported(words, {"w"}), Oracle(pair, "words", "t.w")) << (words ? words->dump(2) : "");
  EXPECT_EQ(Reported(words, {"w"}).size(), 3u);
  EXPECT_EQ(Reported(regional, {"region", "id"}).size(), 3u);
}

TEST_F(RangeScanTest, KeylessAndSmallTablesAreReadWholeSayingWhy) {
  SchemaPair pair(servers(), "range_whole",
                  "CREATE TABLE logs (v text);"
                  "ALTER TABLE logs REPLICA IDENTITY FULL;"
                  "INSERT INTO logs SELECT 'l' || g FROM generate_series(1, 500) g;"
                  "CREATE TABLE tiny (id int PRIMARY KEY);"
                  "INSERT INTO tiny VALUES (1), (2);"
                  "ANALYZE",
                  "CREATE TABLE logs (v text); CREATE TABLE tiny (id int PRIMARY KEY)");
  pair.target().Exec("ANALYZE");
  Verdict v = pair.Verify(kRanges);
  ASSERT_EQ(v.code, 0) << v.output << v.report.dump(2);
  const json* logs = ReportTable(v.report, "public.logs");
  ASSERT_NE(logs, nullptr);
  EXPECT_EQ((*logs)["scan"], json({{"ranges", 1}, {"why", "no key"}}));
  const json* tiny = ReportTable(v.report, "public.tiny");
  ASSERT_NE(tiny, nullptr);
  EXPECT_EQ((*tiny)["scan"]["ranges"], 1);
  EXPECT_NE((*tiny)["scan"]["why"].get<std::string>().find("small"), std::string::npos)
      << tiny->dump(2);
  // One session (by --jobs' old name, still accepted): nothing is cut, and
  // the report says why.
  Verdict one = pair.Verify("--timeout 60 --parallel 1 --min-range-rows 50");
  ASSERT_EQ(one.code, 0) << one.output;
  EXPECT_EQ((*ReportTable(one.report, "public.tiny"))["scan"]["why"], "one session (--jobs 1)");
}

TEST_F(RangeScanTest, PartitionedTablePublishedViaRootIsCutAcrossItsPartitions) {
  if (const std::string why = WithoutViaRoot(); !why.empty()) GTEST_SKIP() << why;
  const std::string schema =
      "CREATE TABLE events (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);"
      "CREATE TABLE events_a PARTITION OF events FOR VALUES FROM (MINVALUE) TO (700);"
      "CREATE TABLE events_b PARTITION OF events FOR VALUES FROM (700) TO (MAXVALUE);";
  SchemaPair pair(servers(), "range_parts",
                  schema +
                      "INSERT INTO events SELECT g, 'e' || g FROM generate_series(1, 1500) g;"
                      "ANALYZE",
                  schema, /*via_root=*/true);
  pair.target().Exec("ANALYZE");
  Verdict clean = pair.Verify(kRanges);
  ASSERT_EQ(clean.code, 0) << clean.output << clean.report.dump(2);
  ExpectScannedInRanges(clean, pair, "events");
  pair.target().Exec("UPDATE events SET v = 'x' WHERE id IN (5, 699, 700, 1400)");
  Verdict v = pair.Verify(kRanges);
  ASSERT_EQ(v.code, 1) << v.output;
  EXPECT_EQ(Reported(ReportTable(v.report, "public.events"), {"id"}),
            Oracle(pair, "events", "t.id::text"));
}

TEST_F(RangeScanTest, RowFilteredTableIsCutWithinItsFilter) {
  if (testing::SourceMajor() < 15) {
    GTEST_SKIP() << "row filters need a PostgreSQL 15+ source (this pair's is "
                 << testing::SourceMajor() << ")";
  }
  SchemaPair pair(servers(), "range_filter",
                  "CREATE TABLE orders (id int PRIMARY KEY, amount int NOT NULL);"
                  "INSERT INTO orders SELECT g, g % 10 FROM generate_series(1, 2000) g;"
                  "ANALYZE",
                  "CREATE TABLE orders (id int PRIMARY KEY, amount int NOT NULL)", false,
                  "FOR TABLE orders WHERE (amount > 2)");
  pair.target().Exec("ANALYZE");
  Verdict clean = pair.Verify(kRanges);
  ASSERT_EQ(clean.code, 0) << clean.output << clean.report.dump(2);
  const json* t = ExpectScannedInRanges(clean, pair, "orders");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ((*t)["source_rows"],
            Count(pair.source(), "SELECT count(*) FROM orders WHERE amount > 2"));
  ExpectSplitLogged(clean, "orders");
  pair.target().Exec(
      "UPDATE orders SET amount = 9 WHERE id = 13;"  // inside the filter
      "INSERT INTO orders VALUES (1001, 1)");        // a row outside it: extra on the target
  Verdict v = pair.Verify(kRanges);
  ASSERT_EQ(v.code, 1) << v.output;
  const std::map<std::string, std::string> want = {{"13", "differs"}, {"1001", "extra_on_target"}};
  EXPECT_EQ(Reported(ReportTable(v.report, "public.orders"), {"id"}), want) << v.report.dump(2);
}

TEST_F(RangeScanTest, DigestInRangesEqualsTheServersDigest) {
  SchemaPair pair(
      servers(), "range_digest",
      "CREATE TABLE d (id bigint PRIMARY KEY, v text);"
      "INSERT INTO d SELECT g * 7, repeat('x', g % 300) FROM generate_series(1, 1000) g;"
      "ANALYZE",
      "CREATE TABLE d (id bigint PRIMARY KEY, v text)");
  auto digest = [&](const std::string& extra) {
    Cli c = RunCli("digest --dsn " + ShellQuote(pair.SourceDsn()) + " --table public.d " + extra);
    EXPECT_EQ(c.code, 0) << c.output;
    const size_t at = c.output.find("digest=");
    return std::make_pair(at == std::string::npos ? "" : c.output.substr(at, 39), c.output);
  };
  const auto server = digest("--server-side");
  const auto ranged = digest("--jobs 3 --min-range-rows 50");
  EXPECT_FALSE(server.first.empty()) << server.second;
  EXPECT_EQ(ranged.first, server.first) << ranged.second;
  EXPECT_EQ(ranged.second.find("ranges=1\n"), std::string::npos) << ranged.second;
  EXPECT_EQ(digest("--jobs 1").first, server.first);
  Cli both = RunCli("digest --dsn " + ShellQuote(pair.SourceDsn()) +
                    " --table public.d --jobs 2 --parallel 2");
  EXPECT_EQ(both.code, 2) << both.output;
  EXPECT_NE(both.output.find("--parallel is the old name of --jobs"), std::string::npos)
      << both.output;
  Cli none = RunCli("digest --dsn " + ShellQuote(pair.SourceDsn()) + " --table public.d --jobs 0");
  EXPECT_EQ(none.code, 2) << none.output;
  EXPECT_NE(none.output.find("--jobs must be 1 to 64"), std::string::npos) << none.output;
}

// An inheritance parent's digest is of its own rows (its child is a table
// of its own, as the publication and verify see it); a partitioned table's
// is of all its partitions' rows. The server's SQL and the COPY agree on
// both (the server's read the child's rows too before).
TEST_F(RangeScanTest, DigestOfAParentTableIsOfItsOwnRowsBothWays) {
  const std::string schema =
      "CREATE TABLE p (id int PRIMARY KEY, v text);"
      "CREATE TABLE c (note text, PRIMARY KEY (id)) INHERITS (p);"
      "CREATE TABLE q (id int, v text) PARTITION BY RANGE (id);"
      "CREATE TABLE q1 PARTITION OF q FOR VALUES FROM (0) TO (50);"
      "CREATE TABLE q2 PARTITION OF q FOR VALUES FROM (50) TO (MAXVALUE);";
  SchemaPair pair(servers(), "digest_parent",
                  schema +
                      "INSERT INTO p SELECT g, 'p' || g FROM generate_series(1, 5) g;"
                      "INSERT INTO c SELECT g, 'c' || g, 'n' FROM generate_series(1, 3) g;"
                      "INSERT INTO q SELECT g, 'q' || g FROM generate_series(1, 100) g;",
                  schema);
  for (const std::string table : {"public.p", "public.q"}) {
    SCOPED_TRACE(table);
    Cli client = RunCli("digest --dsn " + ShellQuote(pair.SourceDsn()) + " --table " + table);
    Cli server = RunCli("digest --dsn " + ShellQuote(pair.SourceDsn()) + " --table " + table +
                        " --server-side");
    ASSERT_EQ(client.code, 0) << client.output;
    ASSERT_EQ(server.code, 0) << server.output;
    const size_t at = client.output.find("rows=");
    ASSERT_NE(at, std::string::npos) << client.output;
    const std::string counted = client.output.substr(at, client.output.find(" seconds=") - at);
    EXPECT_NE(server.output.find(counted), std::string::npos) << server.output;
    EXPECT_EQ(counted.substr(0, counted.find(' ')), table == "public.p" ? "rows=5" : "rows=100");
  }
}

// digest reads every table in one snapshot (with --jobs N on N sessions
// sharing it): a table truncated (and refilled) after it, before its read,
// reads as empty — no state the table had. The digest says so (exit 4)
// instead of printing the empty table's digest. Deterministic: the
// TRUNCATE holds its lock until the digest waits for it, then commits.
TEST_F(RangeScanTest, DigestRefusesATableTruncatedAfterItsSnapshot) {
  SchemaPair pair(servers(), "digest_truncated",
                  "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);"
                  "INSERT INTO a SELECT generate_series(1, 10);"
                  "INSERT INTO b SELECT generate_series(1, 10)",
                  "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY)");
  const std::string digest_b = "digest --dsn " + ShellQuote(pair.SourceDsn()) + " --table public.b";
  SqlClient watcher(pair.SourceDsn());
  for (const std::string jobs : {"2", "1"}) {
    SCOPED_TRACE("--jobs " + jobs);
    const std::string refill = jobs == "2" ? "5" : "3";
    SqlClient truncator(pair.SourceDsn());
    truncator.Exec("BEGIN; TRUNCATE b; INSERT INTO b SELECT generate_series(1, " + refill + ")");
    std::future<Cli> digest;
    bool committed = false;
    Cleanup commit([&] {  // before `digest` joins: never leave it waiting on the lock
      if (!committed) truncator.Exec("COMMIT");
    });
    digest = std::async(std::launch::async, [&] {
      return RunCli("digest --dsn " + ShellQuote(pair.SourceDsn()) +
                    " --table public.a --table public.b --jobs " + jobs);
    });
    const std::string waiting = testing::WaitForPgparityLockWait(watcher, std::chrono::seconds(10));
    truncator.Exec("COMMIT");
    committed = true;
    Cli refused = digest.get();
    ASSERT_FALSE(waiting.empty()) << "the digest never waited for the TRUNCATE's lock: "
                                  << refused.output;
    EXPECT_EQ(refused.code, 4) << refused.output;
    EXPECT_NE(refused.output.find("public.a rows=10 "), std::string::npos) << refused.output;
    EXPECT_EQ(refused.output.find("public.b rows="), std::string::npos) << refused.output;
    EXPECT_NE(refused.output.find("table public.b was truncated or rewritten after the digest's "
                                  "snapshot"),
              std::string::npos)
        << refused.output;
    Cli again = RunCli(digest_b + " --jobs " + jobs);
    EXPECT_EQ(again.code, 0) << again.output;
    EXPECT_NE(again.output.find("public.b rows=" + refill + " "), std::string::npos)
        << again.output;
  }
}

}  // namespace
}  // namespace pgparity::applier
