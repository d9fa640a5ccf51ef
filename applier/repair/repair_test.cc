// `pgparity repair` on real PostgreSQL 14 -> 16 with the subscription
// running: every kind of divergence injected on the target (differs with
// NULL <-> value, a TOASTed text, bytea; a composite non-ASCII key; missing
// and extra rows; a duplicate row of a keyless table; rows missing from a
// table of no columns, one too many in a table of only a generated column
// and a target-only one;
// values and keys that are quoting attacks), verify's report repaired by
// the binary. The dry run changes nothing; its script run by psql does
// exactly what --apply does; after --apply verify exits 0; a row the
// source changed after the report is left to replication, never
// overwritten with stale data.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "pgparity/sql_quote.h"
#include "verify/schema_pair.h"

namespace pgparity::applier {
namespace {

class RepairTest : public testing::MigrationFixture {};

constexpr const char* kAttack = "'); DROP TABLE x; --";

constexpr const char* kSchema =
    "CREATE TABLE items (id int PRIMARY KEY, name text, note text, body text, data bytea);"
    "ALTER TABLE items ALTER body SET STORAGE EXTERNAL;"  // out of line, uncompressed
    "CREATE TABLE cities (country text, name text, population int, PRIMARY KEY (name, country));"
    "CREATE TABLE log (msg text, n int);"
    "ALTER TABLE log REPLICA IDENTITY FULL;"
    "CREATE TABLE attack (k text PRIMARY KEY, v text);"
    "CREATE TABLE x (i int PRIMARY KEY);"
    "CREATE TABLE leer ();"  // no columns: rows only to count
    // Only a generated column, which is not published: nothing to compare
    // either, though the target's table has columns (a target-only one
    // is added below).
    "CREATE TABLE gen (g int GENERATED ALWAYS AS (7) STORED);";

std::string SourceSql() {
  return std::string(kSchema) +
         "INSERT INTO items SELECT g, 'item ' || g, CASE WHEN g % 2 = 0 THEN NULL ELSE 'n' || g "
         "END, CASE WHEN g = 5 THEN (SELECT string_agg(md5(i::text), '') FROM "
         "generate_series(1, 300) i) ELSE 'short' END, decode(md5(g::text), 'hex') "
         "FROM generate_series(1, 30) g;"
         "INSERT INTO cities VALUES ('de', 'Köln', 1000), ('jp', '東京', 2000), ('fr', 'Paris', "
         "3000);"
         "INSERT INTO log VALUES ('a', 1), ('b', 2), ('b', 2), ('c', 3);"
         "INSERT INTO attack VALUES ('ключ', " +
         QuoteLiteral(kAttack) + "), ('bs', " + QuoteLiteral("\\'") +
         "), ('dollar', '$$ body $$'), (" + QuoteLiteral(kAttack) +
         ", 'key attack');"
         "INSERT INTO x VALUES (1);"
         "INSERT INTO leer SELECT FROM generate_series(1, 3);"
         "INSERT INTO gen SELECT FROM generate_series(1, 2);";
}

// Local writes on the target: one of each kind of divergence.
constexpr const char* kDivergences =
    "UPDATE items SET note = 'was null' WHERE id = 2;"
    "UPDATE items SET note = NULL WHERE id = 3;"
    "UPDATE items SET body = body || 'tail' WHERE id = 5;"
    "UPDATE items SET data = '\\xdeadbeef' WHERE id = 6;"
    "DELETE FROM items WHERE id = 7;"
    "UPDATE items SET name = 'target only' WHERE id = 9;"
    "INSERT INTO items VALUES (100, 'extra', NULL, 'short', NULL);"
    "UPDATE cities SET population = 1 WHERE name = '東京';"
    "DELETE FROM cities WHERE name = 'Köln';"
    "INSERT INTO log VALUES ('a', 1);"
    "DELETE FROM log WHERE msg = 'b';"
    "DELETE FROM attack WHERE k = 'ключ';"
    "UPDATE attack SET v = 'x' WHERE k = 'bs';"
    "UPDATE attack SET v = NULL WHERE k = 'dollar';"
    "UPDATE attack SET v = 'y' WHERE k = '''); DROP TABLE x; --';"
    "DELETE FROM leer WHERE ctid IN (SELECT ctid FROM leer LIMIT 2);"
    "INSERT INTO gen DEFAULT VALUES;";

// Every repaired table's rows, as one line (what psql prints too).
constexpr const char* kSnapshot =
    "SELECT concat_ws(' ', (SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM items t), "
    "(SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM cities t), "
    "(SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM log t), "
    "(SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM attack t), "
    "(SELECT count(*) FROM x), (SELECT count(*) FROM leer), (SELECT count(*) FROM gen))";

Cli Repair(SchemaPair& pair, const std::string& report, const std::string& extra) {
  return RunCli("repair --source " + ShellQuote(pair.SourceDsn()) + " --target " +
                ShellQuote(pair.TargetDsn()) + " --report " + ShellQuote(report) + " " + extra);
}

// Runs `script` with psql on the target, but rolls back instead of
// committing and prints the snapshot the transaction saw.
std::string SnapshotAfterScript(SchemaPair& pair, std::string script) {
  const size_t commit = script.rfind("COMMIT;");
  EXPECT_NE(commit, std::string::npos) << script;
  script = script.substr(0, commit) + kSnapshot + ";\nROLLBACK;\n";
  const std::filesystem::path file = std::filesystem::temp_directory_path() / "repair-test.sql";
  { std::ofstream(file) << script; }
  std::string out;
  const int rc = testing::RunCommand("psql -X -q -At -v ON_ERROR_STOP=1 -d " +
                                         ShellQuote(pair.TargetDsn()) + " -f " + file.string(),
                                     &out);
  EXPECT_EQ(rc, 0) << out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string WriteReport(const std::string& path, const json& report) {
  std::ofstream(path) << report.dump();
  return path;
}

// Bad input: one line naming the problem, exit 5 (malformed) or 2 (another
// database, a table no longer published); the caller checks nothing changed.
void ExpectBadInputRejected(SchemaPair& pair, const json& report, const std::string& dir) {
  std::ofstream(dir + "/bad.json") << "{\"status\": ";
  Cli bad = Repair(pair, dir + "/bad.json", "--apply");
  EXPECT_EQ(bad.code, 5) << bad.output;
  EXPECT_NE(bad.output.find("not a pgparity verify report"), std::string::npos) << bad.output;
  json other = report;
  other["source"] = "127.0.0.1:1/otherdb";
  bad = Repair(pair, WriteReport(dir + "/other.json", other), "--apply");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("otherdb"), std::string::npos) << bad.output;
  json gone = report;
  gone["tables"][0]["table"] = "public.gone";
  gone["tables"][0]["divergent_rows"] = json::array({{{"key", {{"id", "1"}}},
                                                      {"kind", "extra_on_target"},
                                                      {"columns", json::array()},
                                                      {"source_row_digest", nullptr}}});
  bad = Repair(pair, WriteReport(dir + "/gone.json", gone), "--apply");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("public.gone is no longer published"), std::string::npos) << bad.output;
  json unknown = report;
  for (auto& t : unknown["tables"]) {
    if (t["table"] == "public.items") t["divergent_rows"][0]["columns"] = json::array({"nope"});
  }
  bad = Repair(pair, WriteReport(dir + "/unknown.json", unknown), "--apply");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("unknown or not compared column 'nope'"), std::string::npos)
      << bad.output;
}

TEST_F(RepairTest, RepairsEveryKindOfDivergenceAndLeavesLaterChangesToReplication) {
  SchemaPair pair(servers(), "repair", SourceSql(), kSchema);
  pair.target().Exec("ALTER TABLE gen ADD COLUMN note text DEFAULT 'target only'");
  pair.target().Exec(kDivergences);
  Verdict v = pair.Verify();
  ASSERT_EQ(v.code, 1) << v.output;
  const std::string dir = servers().source.dir().string();
  const std::string report = WriteReport(dir + "/repair-report.json", v.report);

  const std::string before = pair.target().Value(kSnapshot);
  ExpectBadInputRejected(pair, v.report, dir);
  EXPECT_EQ(pair.target().Value(kSnapshot), before);

  // The source changes row 9 after the report, and the target does not
  // apply it yet: the repair must leave the row alone.
  pair.target().Exec("ALTER SUBSCRIPTION " + pair.subscription() + " DISABLE");
  pair.source().Exec("UPDATE items SET name = 'changed after the report' WHERE id = 9");

  // Dry run: the script on stdout, nothing changed.
  Cli dry = Repair(pair, report, "");
  ASSERT_EQ(dry.code, 0) << dry.output;
  EXPECT_NE(dry.output.find("skipped: public.items id = '9' (differs): changed on the source "
                            "after the report"),
            std::string::npos)
      << dry.output;
  EXPECT_NE(dry.output.find("INSERT INTO \"public\".\"attack\""), std::string::npos);
  EXPECT_EQ(pair.target().Value(kSnapshot), before);
  Cli to_file = Repair(pair, report, "--out " + ShellQuote(dir + "/repair.sql"));
  ASSERT_EQ(to_file.code, 0) << to_file.output;
  const std::string script = testing::ReadFile(dir + "/repair.sql");
  EXPECT_EQ(pair.target().Value(kSnapshot), before);

  // The script run by psql and --apply end in the same rows.
  const std::string by_psql = SnapshotAfterScript(pair, script);
  EXPECT_EQ(pair.target().Value(kSnapshot), before);
  Cli applied = Repair(pair, report, "--apply");
  ASSERT_EQ(applied.code, 0) << applied.output;
  EXPECT_NE(applied.output.find("repaired: public.cities"), std::string::npos) << applied.output;
  EXPECT_NE(applied.output.find("skipped: public.items id = '9'"), std::string::npos);
  EXPECT_EQ(pair.target().Value(kSnapshot), by_psql);
  EXPECT_NE(by_psql, before);
  EXPECT_EQ(pair.target().Value("SELECT count(*) FROM x"), "1");  // no injection ran
  EXPECT_EQ(pair.target().Value("SELECT count(*) FROM leer"), "3");
  EXPECT_EQ(pair.target().Value("SELECT count(*) FROM gen"), "2");
  EXPECT_EQ(pair.target().Value("SELECT v FROM attack WHERE k = 'ключ'"), kAttack);
  EXPECT_EQ(pair.target().Value("SELECT v FROM attack WHERE k = 'bs'"), "\\'");
  // Not overwritten with stale data: still the target's own value.
  EXPECT_EQ(pair.target().Value("SELECT name FROM items WHERE id = 9"), "target only");
  // Idempotent: the same repair again changes nothing.
  Cli again = Repair(pair, report, "--apply");
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(pair.target().Value(kSnapshot), by_psql);

  // Replication applies the source's later change; then nothing differs.
  pair.target().Exec("ALTER SUBSCRIPTION " + pair.subscription() + " ENABLE");
  pair.CatchUp();
  EXPECT_EQ(pair.target().Value("SELECT name FROM items WHERE id = 9"), "changed after the report");
  Verdict after = pair.Verify();
  EXPECT_EQ(after.code, 0) << after.output << after.report.dump(2);
}

// Column types changed on the target (exact, a timestamp that gained or
// lost its zone, real -> double precision, json -> jsonb not compared) and
// a target partitioned where the source is not.
constexpr const char* kTypedSource =
    "CREATE TABLE typed (id int PRIMARY KEY, n int, at timestamp, seen timestamptz, doc json, "
    "ratio real);"
    "INSERT INTO typed SELECT g, g * 1000, timestamp '2024-03-10 01:30' + g * interval '1 hour', "
    "timestamptz '2024-03-10 01:30+00' + g * interval '1 hour', ('{\"b\": ' || g || ', \"a\": "
    "1}')::json, g / 3.0 FROM generate_series(1, 20) g;";

constexpr const char* kTypedTarget =
    "CREATE TABLE typed (id bigint PRIMARY KEY, n bigint, at timestamptz, seen timestamp, "
    "doc jsonb, ratio double precision) PARTITION BY RANGE (id);"
    "CREATE TABLE typed_lo PARTITION OF typed FOR VALUES FROM (MINVALUE) TO (10);"
    "CREATE TABLE typed_hi PARTITION OF typed FOR VALUES FROM (10) TO (MAXVALUE);";

TEST_F(RepairTest, WritesChangedTypesByTheirRuleIntoAPartitionedTarget) {
  SchemaPair pair(servers(), "repair_typed", kTypedSource, kTypedTarget);
  // The session writing the divergences is in another TimeZone: repair
  // must not depend on any session's.
  pair.target().Exec(
      "SET TimeZone = 'America/New_York';"
      "UPDATE typed SET n = 1 WHERE id = 3;"
      "UPDATE typed SET at = at + interval '1 hour' WHERE id = 4;"
      "UPDATE typed SET seen = seen - interval '1 hour' WHERE id = 5;"
      "UPDATE typed SET ratio = 1e300 WHERE id = 6;"
      "DELETE FROM typed WHERE id IN (7, 12);"
      "INSERT INTO typed VALUES (100, 1, now(), now(), '{}', 1)");
  Verdict v = pair.Verify();
  ASSERT_EQ(v.code, 1) << v.output;
  const std::string report = servers().source.dir().string() + "/repair-typed.json";
  WriteReport(report, v.report);
  Cli applied = Repair(pair, report, "--apply");
  ASSERT_EQ(applied.code, 0) << applied.output;
  EXPECT_EQ(applied.output.find("skipped"), std::string::npos) << applied.output;
  // A new row gets the column that is not compared too, as replication would.
  EXPECT_EQ(pair.target().Value("SELECT doc FROM typed WHERE id = 12"), R"({"a": 1, "b": 12})");
  Verdict after = pair.Verify();
  EXPECT_EQ(after.code, 0) << after.output;
}

}  // namespace
}  // namespace pgparity::applier
