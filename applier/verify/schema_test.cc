// `pgparity verify` and `audit` on the shapes of real-world schemas, each in
// a database pair of its own on real PostgreSQL 14 -> 16 servers: NULLs in
// every lookup (never read as ''), partitioned tables published via their
// root or as their partitions (target partitioned differently or not at
// all, rows moving between partitions, ATTACH/DETACH during audit), column
// types changed on the target (compared by their class's rule), a table
// created on the source after the subscription, and the values of divergent
// rows (NULL, TOASTed, bytea, control characters; cut, redacted).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "verify/schema_pair.h"

namespace pgparity::applier {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

class SchemaTest : public testing::MigrationFixture {};

// Names of a report row's differing columns.
json Columns(const json* row) { return row == nullptr ? json() : (*row)["columns"]; }

// A report condition: `table`'s row whose id is `id` is listed as differing.
std::function<bool(const json&)> RowDiffers(std::string table, std::string id) {
  return [=](const json& r) {
    const json* row = ReportRow(ReportTable(r, table), "id", id);
    return row != nullptr && (*row)["kind"] == "differs";
  };
}

// The one value entry of a differs row of `table`: its column, both sides.
json OnlyValue(const json* table, const char* id) {
  const json* row = ReportRow(table, "id", id);
  if (row == nullptr || !(*row)["values"].is_array() || (*row)["values"].size() != 1) {
    ADD_FAILURE() << "row " << id << ": " << (table ? table->dump(2) : "no table");
    return json::object({{"source", nullptr}, {"target", nullptr}});
  }
  return (*row)["values"][0];
}

constexpr const char* kNullable =
    "CREATE TABLE people (id int PRIMARY KEY, name text, nick text, born date, note text);"
    "INSERT INTO people SELECT g, 'name ' || g, CASE WHEN g % 2 = 0 THEN NULL ELSE 'n' || g END, "
    "CASE WHEN g % 3 = 0 THEN NULL ELSE date '2000-01-01' + g END, NULL "
    "FROM generate_series(1, 60) g;";

TEST_F(SchemaTest, NullIsNeverReadAsEmptyText) {
  SchemaPair pair(servers(), "nulls", kNullable,
                  "CREATE TABLE people (id int PRIMARY KEY, name text, nick text, born date, "
                  "note text)");
  pair.StartAudit("3600");  // per-change checks only after the first full check
  pair.WaitForAuditReport([](const json& r) { return r["status"] == "consistent"; });
  // Updates of rows that hold NULLs: each is checked by the per-change
  // check, and none is a divergence.
  pair.source().Exec("UPDATE people SET name = name || '!' WHERE id <= 30");
  pair.CatchUp();
  // Divergences that only NULL tells apart, made by a trigger on the
  // target as the source's next update of each row is applied (so the
  // per-change check looks at them): NULL -> '' (34), '' -> NULL (32, whose
  // note the source sets to ''), NULL -> a value (36).
  pair.target().Exec(
      "CREATE FUNCTION skew() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "IF NEW.id = 34 THEN NEW.nick := ''; END IF; "
      "IF NEW.id = 32 THEN NEW.note := NULL; END IF; "
      "IF NEW.id = 36 THEN NEW.born := '1999-01-01'; END IF; RETURN NEW; END $$;"
      "CREATE TRIGGER skew BEFORE UPDATE ON people FOR EACH ROW EXECUTE FUNCTION skew();"
      "ALTER TABLE people ENABLE ALWAYS TRIGGER skew");
  pair.source().Exec(
      "UPDATE people SET name = 'changed', note = CASE WHEN id = 32 THEN '' END "
      "WHERE id IN (32, 34, 36)");
  pair.CatchUp();
  pair.target().Exec("DROP TRIGGER skew ON people");
  const auto deadline = steady_clock::now() + seconds(30);
  auto found = [&](const std::string& id) {
    return pair.AuditLog().find("public.people id=" + id + " differs") != std::string::npos;
  };
  while (!(found("32") && found("34") && found("36")) && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string log = pair.AuditLog();
  EXPECT_TRUE(found("32")) << "'' -> NULL not found by the per-change check\n" << log;
  EXPECT_TRUE(found("34")) << "NULL -> '' not found by the per-change check\n" << log;
  EXPECT_TRUE(found("36")) << "NULL -> value not found by the per-change check\n" << log;
  // No other row blamed: the 30 updated rows hold NULLs too.
  size_t blamed = 0;
  for (size_t p = log.find("per-change check: public.people"); p != std::string::npos;
       p = log.find("per-change check: public.people", p + 1)) {
    ++blamed;
  }
  EXPECT_EQ(blamed, 3u) << log;
  pair.StopAudit();

  // verify names the columns of each, NULL or not.
  Verdict v = pair.Verify();
  EXPECT_EQ(v.code, 1) << v.output;
  const json* people = ReportTable(v.report, "public.people");
  ASSERT_NE(people, nullptr) << v.output;
  EXPECT_EQ((*people)["divergent_row_count"], 3) << people->dump(2);
  EXPECT_EQ(Columns(ReportRow(people, "id", "32")), json::array({"note"})) << people->dump(2);
  EXPECT_EQ(Columns(ReportRow(people, "id", "34")), json::array({"nick"})) << people->dump(2);
  EXPECT_EQ(Columns(ReportRow(people, "id", "36")), json::array({"born"})) << people->dump(2);
  // And their values: NULL apart from ''.
  EXPECT_EQ(OnlyValue(people, "32")["source"]["text"], "");
  EXPECT_EQ(OnlyValue(people, "32")["source"]["bytes"], 0);
  EXPECT_TRUE(OnlyValue(people, "32")["target"].is_null());
  EXPECT_TRUE(OnlyValue(people, "34")["source"].is_null());
  EXPECT_EQ(OnlyValue(people, "34")["target"]["text"], "");
  EXPECT_TRUE(OnlyValue(people, "36")["source"].is_null());
  EXPECT_EQ(OnlyValue(people, "36")["target"]["text"], "1999-01-01");
  EXPECT_NE(v.output.find("nick: source NULL, target E''\n"), std::string::npos) << v.output;
}

// Range partitions with a composite (timestamptz, int) key; rows move
// between partitions. Via the root: the target has one plain table and one
// hash-partitioned table under the root's names.
constexpr const char* kParted =
    "CREATE TABLE events (at timestamptz, id int, body text, PRIMARY KEY (at, id)) "
    "  PARTITION BY RANGE (at);"
    "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO "
    "('2025-01-01');"
    "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO "
    "('2026-01-01');"
    "CREATE TABLE tags (id int, tag text, note text, PRIMARY KEY (id, tag)) "
    "  PARTITION BY LIST (tag);"
    "CREATE TABLE tags_a PARTITION OF tags FOR VALUES IN ('a');"
    "CREATE TABLE tags_b PARTITION OF tags FOR VALUES IN ('b');"
    "INSERT INTO events SELECT timestamptz '2024-06-01' + g * interval '1 day', g, 'e' || g "
    "  FROM generate_series(1, 300) g;"
    "INSERT INTO tags SELECT g, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END "
    "  FROM generate_series(1, 40) g;";

void MoveRowsBetweenPartitions(SchemaPair& pair) {
  pair.source().Exec(
      "UPDATE events SET at = at + interval '200 days' WHERE id % 7 = 0;"
      "UPDATE tags SET tag = CASE WHEN tag = 'a' THEN 'b' ELSE 'a' END WHERE id <= 10;"
      "DELETE FROM events WHERE id % 11 = 0;"
      "INSERT INTO events VALUES ('2025-03-01', 1, 'same id, other partition');");
  pair.CatchUp();
}

TEST_F(SchemaTest, PartitionsPublishedViaTheirRoot) {
  if (const std::string why = WithoutViaRoot(); !why.empty()) GTEST_SKIP() << why;
  SchemaPair pair(
      servers(), "viaroot", kParted,
      "CREATE TABLE events (at timestamptz, id int, body text, PRIMARY KEY (at, id));"
      "CREATE TABLE tags (id int, tag text, note text, PRIMARY KEY (id, tag)) "
      "  PARTITION BY HASH (id);"
      "CREATE TABLE tags_h0 PARTITION OF tags FOR VALUES WITH (MODULUS 2, REMAINDER 0);"
      "CREATE TABLE tags_h1 PARTITION OF tags FOR VALUES WITH (MODULUS 2, REMAINDER 1);",
      /*via_root=*/true);
  MoveRowsBetweenPartitions(pair);
  Verdict v = pair.Verify();
  ASSERT_EQ(v.code, 0) << v.output;
  // The report names the relations as they are published: the roots.
  ASSERT_EQ(v.report["tables"].size(), 2u) << v.report.dump(2);
  ASSERT_NE(ReportTable(v.report, "public.events"), nullptr);
  EXPECT_EQ((*ReportTable(v.report, "public.events"))["source_rows"], 274);
  EXPECT_EQ((*ReportTable(v.report, "public.tags"))["status"], "match");

  pair.target().Exec("UPDATE events SET body = 'x' WHERE id = 5");
  pair.target().Exec("DELETE FROM tags WHERE id = 3");
  v = pair.Verify();
  EXPECT_EQ(v.code, 1) << v.output;
  const json* events = ReportTable(v.report, "public.events");
  const json* row = ReportRow(events, "id", "5");
  ASSERT_NE(row, nullptr) << v.report.dump(2);
  EXPECT_EQ((*row)["kind"], "differs");
  EXPECT_EQ((*row)["columns"], json::array({"body"}));
  EXPECT_EQ((*row)["key"]["at"], "2024-06-06 00:00:00+00");
  ASSERT_NE(ReportRow(ReportTable(v.report, "public.tags"), "id", "3"), nullptr) << v.output;
}

TEST_F(SchemaTest, PartitionsPublishedAsThemselves) {
  // Each partition is published under its own name; the target holds them
  // as plain tables (not partitioned at all).
  SchemaPair pair(servers(), "leaves", kParted,
                  "CREATE TABLE events_2024 (at timestamptz, id int, body text, "
                  "  PRIMARY KEY (at, id));"
                  "CREATE TABLE events_2025 (body text, id int, at timestamptz, "
                  "  PRIMARY KEY (at, id));"
                  "CREATE TABLE tags_a (id int, tag text, note text, PRIMARY KEY (id, tag));"
                  "CREATE TABLE tags_b (id int, tag text, note text, PRIMARY KEY (id, tag));",
                  /*via_root=*/false);
  MoveRowsBetweenPartitions(pair);
  Verdict v = pair.Verify();
  ASSERT_EQ(v.code, 0) << v.output;
  ASSERT_EQ(v.report["tables"].size(), 4u) << v.report.dump(2);
  EXPECT_NE(ReportTable(v.report, "public.events_2025"), nullptr);
  EXPECT_EQ(ReportTable(v.report, "public.events"), nullptr);
  pair.target().Exec("INSERT INTO tags_a VALUES (1000, 'a', NULL)");
  v = pair.Verify();
  EXPECT_EQ(v.code, 1) << v.output;
  const json* extra = ReportRow(ReportTable(v.report, "public.tags_a"), "id", "1000");
  ASSERT_NE(extra, nullptr) << v.report.dump(2);
  EXPECT_EQ((*extra)["kind"], "extra_on_target");
}

// public.tags_c on the source, a table of its own to be attached to tags
// later, published and subscribed (the target has its own tags_c).
void AddTagsCToBeAttached(SchemaPair& pair) {
  pair.source().Exec("CREATE TABLE tags_c (id int, tag text, note text, PRIMARY KEY (id, tag))");
  pair.target().Exec("ALTER SUBSCRIPTION " + pair.subscription() + " REFRESH PUBLICATION");
  SqlClient target = pair.target();
  testing::WaitForSubscriptionReady(target, pair.subscription());
}

TEST_F(SchemaTest, AttachAndDetachDuringAuditAreNamedNeverDiffers) {
  if (const std::string why = WithoutViaRoot(); !why.empty()) GTEST_SKIP() << why;
  SchemaPair pair(servers(), "attach", kParted,
                  "CREATE TABLE events (at timestamptz, id int, body text, PRIMARY KEY (at, id));"
                  // Where the detached partition's own changes land (skipped:
                  // not subscribed), so the apply worker does not stop.
                  "CREATE TABLE events_2025 (at timestamptz, id int, body text, "
                  "  PRIMARY KEY (at, id));"
                  "CREATE TABLE tags (id int, tag text, note text, PRIMARY KEY (id, tag));"
                  "CREATE TABLE tags_c (id int, tag text, note text, PRIMARY KEY (id, tag));",
                  /*via_root=*/true);
  AddTagsCToBeAttached(pair);
  pair.StartAudit("1", {"--on-schema-change", "stop"});
  pair.WaitForAuditReport([](const json& r) { return r["status"] == "consistent"; });
  pair.source().Exec("ALTER TABLE events DETACH PARTITION events_2025");
  pair.source().Exec("INSERT INTO events_2025 VALUES ('2025-05-05', 9999, 'after detach')");
  json r = pair.WaitForAuditReport([](const json& r) {
    const json* events = ReportTable(r, "public.events");
    return events != nullptr && (*events)["status"] == "unverified";
  });
  const json* events = ReportTable(r, "public.events");
  ASSERT_NE(events, nullptr);
  EXPECT_NE((*events)["reason"].get<std::string>().find("detached: public.events_2025"),
            std::string::npos)
      << events->dump(2);
  // The detached table's own changes are not tracked, and say so.
  r = pair.WaitForAuditReport(
      [](const json& r) { return ReportTable(r, "public.events_2025") != nullptr; });
  EXPECT_NE((*ReportTable(r, "public.events_2025"))["reason"].get<std::string>().find(
                "joined the publication after pgparity started"),
            std::string::npos);
  // ATTACH: rows join the root without passing through replication.
  pair.source().Exec("INSERT INTO tags_c VALUES (500, 'c', NULL)");
  pair.source().Exec("ALTER TABLE tags ATTACH PARTITION tags_c FOR VALUES IN ('c')");
  r = pair.WaitForAuditReport([](const json& r) {
    const json* tags = ReportTable(r, "public.tags");
    return tags != nullptr && (*tags)["status"] == "unverified";
  });
  EXPECT_NE(
      (*ReportTable(r, "public.tags"))["reason"].get<std::string>().find("attached: public.tags_c"),
      std::string::npos)
      << r.dump(2);
  for (const auto& t : r["tables"]) EXPECT_NE(t["status"], "mismatch") << t.dump(2);
  EXPECT_EQ(pair.AuditLog().find(" differs on the target"), std::string::npos) << pair.AuditLog();
  pair.StopAudit();
}

// The same ATTACH under audit's default (--on-schema-change restart): the
// check that finds the partitions changed makes audit start over, and the
// new state sees what the ATTACH did — the row it moved into tags on the
// source is not in the target's tags (the subscriber put it in its own
// tags_c, replicated as a table of its own before the ATTACH): named, by
// key, instead of the table left unverified.
TEST_F(SchemaTest, AnAttachUnderAuditStartsOverAndNamesTheRowItMoved) {
  if (const std::string why = WithoutViaRoot(); !why.empty()) GTEST_SKIP() << why;
  SchemaPair pair(servers(), "attach_restart", kParted,
                  "CREATE TABLE events (at timestamptz, id int, body text, PRIMARY KEY (at, id));"
                  "CREATE TABLE tags (id int, tag text, note text, PRIMARY KEY (id, tag));"
                  "CREATE TABLE tags_c (id int, tag text, note text, PRIMARY KEY (id, tag));",
                  /*via_root=*/true);
  AddTagsCToBeAttached(pair);
  pair.source().Exec("INSERT INTO tags_c VALUES (500, 'c', NULL)");
  pair.StartAuditUntilConsistent();
  pair.source().Exec("ALTER TABLE tags ATTACH PARTITION tags_c FOR VALUES IN ('c')");
  const json r = pair.WaitForAuditReport([](const json& r) {
    const json* tags = ReportTable(r, "public.tags");
    return tags != nullptr && (*tags)["status"] == "mismatch";
  });
  const std::string log = pair.AuditLog();
  EXPECT_NE(log.find("the partitions of public.tags changed on the source (ATTACH or DETACH "
                     "PARTITION) since pgparity started: starting over"),
            std::string::npos)
      << log;
  const json* moved = ReportRow(ReportTable(r, "public.tags"), "id", "500");
  ASSERT_NE(moved, nullptr) << r.dump(2);
  EXPECT_EQ((*moved)["kind"], "missing_on_target") << moved->dump();
  EXPECT_EQ((*ReportTable(r, "public.tags"))["divergent_rows"].size(), 1u) << r.dump(2);
  pair.StopAudit();
}

// ALTER PUBLICATION ... SET (publish_via_partition_root = true) while the
// subscription and audit run. A PostgreSQL 14 walsender then sends the
// root's changes without describing the root (the decoder's
// UndescribedRelation), a newer one describes it; audit starts over either
// way. The subscriber skips the root's changes (its subscription lists the
// partitions), a plain REFRESH would copy the partitions' rows again and
// fail on their keys: pgparity says to refresh without copying, and then
// names the rows whose changes the subscriber skipped.
TEST_F(SchemaTest, APublicationSwitchedToItsRootUnderAuditStartsOverAndFindsTheSkippedChanges) {
  if (const std::string why = WithoutViaRoot(); !why.empty()) GTEST_SKIP() << why;
  const std::string tables(kParted, std::string_view(kParted).find("INSERT INTO"));
  SchemaPair pair(servers(), "root_switch", kParted, tables);
  pair.StartAuditUntilConsistent();
  // Described to the audit's walsender as a partition before the switch.
  pair.source().Exec("UPDATE events SET body = 'before' WHERE id = 1");
  pair.source().Exec("ALTER PUBLICATION pub SET (publish_via_partition_root = true)");
  pair.source().Exec(
      "INSERT INTO events VALUES ('2024-07-01', 1000, 'skipped');"
      "UPDATE tags SET note = 'skipped' WHERE id = 3");
  json r = pair.WaitForAuditReport([](const json& r) {
    const json* events = ReportTable(r, "public.events");
    return events != nullptr && (*events)["status"] == "unverified";
  });
  const std::string reason = (*ReportTable(r, "public.events"))["reason"];
  EXPECT_NE(reason.find("not subscribed: subscription sub_root_switch replicates its partitions "
                        "public.events_2024, public.events_2025 instead"),
            std::string::npos)
      << reason;
  EXPECT_NE(reason.find("REFRESH PUBLICATION WITH (copy_data = false) on the target"),
            std::string::npos)
      << reason;
  std::string log = pair.AuditLog();
  EXPECT_NE(log.find("starting over (--on-schema-change restart)"), std::string::npos) << log;
  if (testing::SourceMajor() == 14) {
    EXPECT_NE(log.find("was not described by a Relation message"), std::string::npos) << log;
  }

  // The subscriber past the skipped changes first (a 14 source's walsender
  // made its apply worker fail on them too, and its restart re-reads them:
  // a REFRESH before that would have them applied).
  pair.CatchUp();
  pair.target().Exec(
      "ALTER SUBSCRIPTION sub_root_switch REFRESH PUBLICATION WITH (copy_data = false)");
  pair.source().Exec("INSERT INTO events VALUES ('2024-07-02', 1001, 'applied')");
  r = pair.WaitForAuditReport([](const json& r) {
    const json* events = ReportTable(r, "public.events");
    const json* tags = ReportTable(r, "public.tags");
    return events != nullptr && tags != nullptr && (*events)["status"] == "mismatch" &&
           (*tags)["status"] == "mismatch";
  });
  const json* events = ReportTable(r, "public.events");
  const json* skipped = ReportRow(events, "id", "1000");
  ASSERT_NE(skipped, nullptr) << r.dump(2);
  EXPECT_EQ((*skipped)["kind"], "missing_on_target");
  EXPECT_EQ((*events)["divergent_rows"].size(), 1u) << events->dump(2);  // not 1001
  const json* tags = ReportTable(r, "public.tags");
  EXPECT_EQ(Columns(ReportRow(tags, "id", "3")), json::array({"note"})) << tags->dump(2);
  EXPECT_EQ((*tags)["divergent_rows"].size(), 1u) << tags->dump(2);
  pair.StopAudit();
}

// A table dropped on both sides (target first, as DDL goes) while audit
// runs: the shadow still held it, and every check reported it
// missing_on_target, a divergence for ever. Now a check finds it left the
// publication, and audit starts over with the tables published now; a
// table dropped from the publication alone is the same.
TEST_F(SchemaTest, TablesLeavingThePublicationUnderAuditMakeItStartOverNotReportThemMissing) {
  const std::string tables =
      "CREATE TABLE kept (id int PRIMARY KEY, v text);"
      "CREATE TABLE dropped (id int PRIMARY KEY, v text);"
      "CREATE TABLE unpublished (id int PRIMARY KEY, v text);";
  SchemaPair pair(servers(), "left_pub",
                  tables +
                      "INSERT INTO kept SELECT g, 'k' FROM generate_series(1, 50) g;"
                      "INSERT INTO dropped SELECT g, 'd' FROM generate_series(1, 50) g;"
                      "INSERT INTO unpublished SELECT g, 'u' FROM generate_series(1, 50) g;",
                  tables, /*via_root=*/false, "FOR TABLE kept, dropped, unpublished");
  pair.StartAuditUntilConsistent();
  pair.target().Exec("DROP TABLE dropped");
  pair.source().Exec("DROP TABLE dropped");
  json r = pair.WaitForAuditReport(
      [](const json& r) { return r["status"] == "consistent" && r["tables"].size() == 2; });
  EXPECT_EQ(ReportTable(r, "public.dropped"), nullptr) << r.dump(2);
  std::string log = pair.AuditLog();
  EXPECT_NE(log.find("table public.dropped left the publication since pgparity started: dropped "
                     "(or renamed) on the source: starting over"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("full check: divergent"), std::string::npos) << log;

  pair.source().Exec("ALTER PUBLICATION pub DROP TABLE unpublished");
  pair.source().Exec("UPDATE unpublished SET v = 'not replicated' WHERE id = 1");
  r = pair.WaitForAuditReport(
      [](const json& r) { return r["status"] == "consistent" && r["tables"].size() == 1; });
  ASSERT_NE(ReportTable(r, "public.kept"), nullptr) << r.dump(2);
  log = pair.AuditLog();
  EXPECT_NE(log.find("table public.unpublished left the publication since pgparity started: no "
                     "longer published by pub"),
            std::string::npos)
      << log;
  pair.StopAudit();
}

// A primary key added to a table without one (what preflight advises)
// while audit runs: pgoutput's Relation message flags the key from then on,
// and an update carries only the key where the shadow, which kept the table
// as a multiset of rows, needs the whole old row. audit exited 2 with "has
// no key ... set REPLICA IDENTITY FULL on the source", wrong for a table
// that has one now. A changed replica identity is a schema change: audit
// starts over and checks the table by its key. The same change made while
// audit was stopped is found in its checkpoint (rows without key).
TEST_F(SchemaTest, AKeyAddedUnderAuditOrWhileItWasStoppedMakesItStartOver) {
  const std::string tables =
      "CREATE TABLE logt (id int NOT NULL, v text);"
      "CREATE TABLE fullt (id int NOT NULL, v text);"
      "ALTER TABLE fullt REPLICA IDENTITY FULL;";
  SchemaPair pair(servers(), "key_added",
                  tables +
                      "INSERT INTO logt SELECT g, 'l' FROM generate_series(1, 50) g;"
                      "INSERT INTO fullt SELECT g, 'f' FROM generate_series(1, 50) g;",
                  tables);
  pair.StartAuditUntilConsistent();
  pair.target().Exec("ALTER TABLE logt ADD PRIMARY KEY (id)");
  pair.source().Exec("ALTER TABLE logt ADD PRIMARY KEY (id)");
  pair.source().Exec("UPDATE logt SET v = 'u' WHERE id = 1; DELETE FROM logt WHERE id = 2");
  pair.CatchUp();
  pair.target().Exec("UPDATE logt SET v = 'target' WHERE id = 5");
  // Named by its key: the new state keeps the table by it.
  json r = pair.WaitForAuditReport(RowDiffers("public.logt", "5"));
  EXPECT_EQ((*ReportTable(r, "public.logt"))["divergent_rows"].size(), 1u) << r.dump(2);
  EXPECT_EQ((*ReportTable(r, "public.fullt"))["status"], "match") << r.dump(2);
  EXPECT_NE(pair.AuditLog().find("the replica identity of table public.logt changed on the source "
                                 "(a primary key added or dropped"),
            std::string::npos)
      << pair.AuditLog();
  pair.StopAudit();

  const char* keyed = "ALTER TABLE fullt ADD PRIMARY KEY (id), REPLICA IDENTITY DEFAULT";
  pair.target().Exec(keyed);
  pair.source().Exec(keyed);
  pair.target().Exec("UPDATE fullt SET v = 'target' WHERE id = 7");
  pair.ResumeAudit("1");
  r = pair.WaitForAuditReport(RowDiffers("public.fullt", "7"));
  EXPECT_EQ((*ReportTable(r, "public.fullt"))["divergent_rows"].size(), 1u) << r.dump(2);
  EXPECT_NE(pair.AuditLog().find("the checkpoint holds 50 multiset entries of table public.fullt"),
            std::string::npos)
      << pair.AuditLog();
  pair.StopAudit();
}

// A column's type changed on the target alone (int to bigint, as a
// migration widens a column on the target before the source): the
// comparison was planned for integer, and the table stayed unverified until
// audit was run again by hand. Now audit runs again from its checkpoint
// (its slot kept, no bootstrap) and compares the column as bigint.
TEST_F(SchemaTest, ATypeChangedOnTheTargetUnderAuditIsPlannedAgainFromTheCheckpoint) {
  const std::string table = "CREATE TABLE widened (id int PRIMARY KEY, n int);";
  SchemaPair pair(servers(), "target_retype",
                  table + "INSERT INTO widened SELECT g, g FROM generate_series(1, 50) g;", table);
  pair.StartAuditUntilConsistent();
  pair.target().Exec("ALTER TABLE widened ALTER n TYPE bigint");
  pair.source().Exec("UPDATE widened SET n = n + 1 WHERE id <= 10");
  pair.CatchUp();
  pair.target().Exec("UPDATE widened SET n = 5000000000 WHERE id = 20");
  const json r = pair.WaitForAuditReport(RowDiffers("public.widened", "20"));
  const json* widened = ReportTable(r, "public.widened");
  EXPECT_EQ(Columns(ReportRow(widened, "id", "20")), json::array({"n"})) << widened->dump(2);
  EXPECT_EQ((*widened)["divergent_rows"].size(), 1u) << widened->dump(2);
  const std::string log = pair.AuditLog();
  EXPECT_NE(log.find("column n of table public.widened is bigint on the target, but pgparity "
                     "planned its comparison for integer when it started: running again from "
                     "the checkpoint"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("starting over"), std::string::npos) << log;
  EXPECT_EQ(log.find("created replication slot"), log.rfind("created replication slot")) << log;
  pair.StopAudit();
}

// A lock held on the target (as DDL takes one, or queues for one behind a
// check) makes a check's read give up after its lock timeout instead of
// waiting: the corpus found a check's snapshot holding an ALTER TABLE up
// while its next read waited behind that ALTER, for ever. The check is
// retried, and consistent once the lock is gone.
TEST_F(SchemaTest, ACheckWaitsForATargetLockNoLongerThanItsLockTimeout) {
  const std::string table = "CREATE TABLE locked (id int PRIMARY KEY, v text);";
  SchemaPair pair(servers(), "lock_wait",
                  table + "INSERT INTO locked SELECT g, 'v' FROM generate_series(1, 50) g;", table);
  pair.StartAuditUntilConsistent();
  SqlClient locker = pair.target();
  locker.Exec("BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE");
  const auto deadline = steady_clock::now() + seconds(30);
  while (pair.AuditLog().find("lock timeout") == std::string::npos &&
         steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const std::string log = pair.AuditLog();
  const size_t timed_out = log.find("lock timeout");
  EXPECT_NE(timed_out, std::string::npos) << "a check waited on the lock for 30 s\n" << log;
  locker.Exec("COMMIT");
  const auto consistent_again = steady_clock::now() + seconds(30);
  while (pair.AuditLog().find("full check: consistent", timed_out) == std::string::npos &&
         steady_clock::now() < consistent_again) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_NE(pair.AuditLog().find("full check: consistent", timed_out), std::string::npos)
      << pair.AuditLog();
  pair.StopAudit();
}

constexpr const char* kTyped =
    "CREATE TABLE typed (id int PRIMARY KEY, small smallint, n int, code varchar(20), "
    "  price numeric(10,2), at timestamp, seen timestamptz, doc json, ratio real);"
    "INSERT INTO typed SELECT g, g, g * 1000, 'c' || g, g / 7.0, "
    "  timestamp '2024-03-10 01:30' + g * interval '1 hour', "
    "  timestamptz '2024-03-10 01:30+00' + g * interval '1 hour', "
    "  ('{\"b\": ' || g || ', \"a\": [1,  2]}')::json, g / 3.0 "
    "FROM generate_series(1, 50) g;"
    "INSERT INTO typed VALUES (51, NULL, NULL, NULL, NULL, 'infinity', '-infinity', NULL, 'NaN');";

constexpr const char* kTypedTarget =
    "CREATE TABLE typed (id bigint PRIMARY KEY, small int, n bigint, code text, "
    "  price numeric(12,2), at timestamptz, seen timestamp, doc jsonb, ratio double precision)";

TEST_F(SchemaTest, ChangedColumnTypesAreComparedByTheirClass) {
  SchemaPair pair(servers(), "typed", kTyped, kTypedTarget);
  pair.source().Exec("UPDATE typed SET n = n + 1, at = at + interval '1 minute' WHERE id < 10");
  pair.CatchUp();
  Verdict v = pair.Verify();
  ASSERT_EQ(v.code, 0) << v.output;
  const json* typed = ReportTable(v.report, "public.typed");
  ASSERT_NE(typed, nullptr);
  EXPECT_EQ((*typed)["status"], "match");
  std::map<std::string, std::string> classes, compared;
  for (const auto& c : (*typed)["type_changes"]) {
    classes[c["column"]] = c["class"];
    compared[c["column"]] = c["compared_as"];
  }
  EXPECT_EQ(classes["id"], "exact");
  EXPECT_EQ(classes["code"], "exact");
  EXPECT_EQ(classes["price"], "exact");
  EXPECT_EQ(classes["at"], "conversion");
  // The source's default TimeZone (the test servers run in UTC).
  EXPECT_TRUE(compared["at"] == "at time zone UTC" || compared["at"] == "at time zone Etc/UTC")
      << compared["at"];
  EXPECT_EQ(compared["ratio"], "cast back to the source type");
  EXPECT_EQ(compared["doc"], "not compared");
  ASSERT_EQ((*typed)["unverified_columns"].size(), 1u) << typed->dump(2);
  EXPECT_EQ((*typed)["unverified_columns"][0]["column"], "doc");

  // Real differences in each class are still found.
  pair.target().Exec("UPDATE typed SET n = 5000000000 WHERE id = 3");
  pair.target().Exec("UPDATE typed SET at = at + interval '1 hour' WHERE id = 4");
  pair.target().Exec("UPDATE typed SET ratio = 1e300 WHERE id = 5");
  pair.target().Exec("UPDATE typed SET ratio = 1e-50 WHERE id = 6");  // underflows as real
  // Rounds back to the source's real: the same value, not a difference.
  pair.target().Exec("UPDATE typed SET ratio = ratio::real::float8 * (1 + 1e-12) WHERE id = 7");
  v = pair.Verify();
  EXPECT_EQ(v.code, 1) << v.output;
  typed = ReportTable(v.report, "public.typed");
  EXPECT_EQ(Columns(ReportRow(typed, "id", "3")), json::array({"n"})) << v.report.dump(2);
  EXPECT_EQ(Columns(ReportRow(typed, "id", "4")), json::array({"at"})) << v.report.dump(2);
  EXPECT_EQ(Columns(ReportRow(typed, "id", "5")), json::array({"ratio"})) << v.report.dump(2);
  EXPECT_EQ(Columns(ReportRow(typed, "id", "6")), json::array({"ratio"})) << v.report.dump(2);
  EXPECT_EQ(ReportRow(typed, "id", "7"), nullptr) << v.report.dump(2);
}

TEST_F(SchemaTest, ApplyWorkerInAnotherTimeZoneShiftsInstantsAndIsFound) {
  SchemaPair pair(servers(), "zones",
                  "CREATE TABLE stamps (id int PRIMARY KEY, at timestamp);"
                  "INSERT INTO stamps VALUES (1, '2024-01-01 10:00')",
                  "CREATE TABLE stamps (id int PRIMARY KEY, at timestamptz)");
  ASSERT_EQ(pair.Verify().code, 0);
  // The apply worker reads wall-clock times in its own TimeZone.
  pair.target().Exec("ALTER DATABASE zones SET timezone = 'America/New_York'");
  pair.target().Exec("ALTER SUBSCRIPTION " + pair.subscription() + " DISABLE");
  pair.target().Exec("ALTER SUBSCRIPTION " + pair.subscription() + " ENABLE");
  pair.source().Exec("INSERT INTO stamps VALUES (2, '2024-07-01 10:00')");
  pair.CatchUp();
  Verdict v = pair.Verify();
  EXPECT_EQ(v.code, 1) << v.output;
  const json* row = ReportRow(ReportTable(v.report, "public.stamps"), "id", "2");
  ASSERT_NE(row, nullptr) << v.report.dump(2);
  EXPECT_EQ((*row)["columns"], json::array({"at"}));
  EXPECT_EQ(ReportRow(ReportTable(v.report, "public.stamps"), "id", "1"), nullptr);
}

TEST_F(SchemaTest, TableCreatedOnTheSourceAfterTheSubscriptionIsNotSubscribed) {
  SchemaPair pair(servers(), "later", "CREATE TABLE a (id int PRIMARY KEY)",
                  "CREATE TABLE a (id int PRIMARY KEY)");
  pair.source().Exec("CREATE TABLE b (id int PRIMARY KEY); INSERT INTO b VALUES (1)");
  pair.target().Exec("CREATE TABLE b (id int PRIMARY KEY)");
  Verdict v = pair.Verify("--timeout 20");
  EXPECT_EQ(v.code, 4) << v.output;
  const json* b = ReportTable(v.report, "public.b");
  ASSERT_NE(b, nullptr) << v.output;
  EXPECT_EQ((*b)["status"], "unverified");
  EXPECT_NE((*b)["reason"].get<std::string>().find(
                "not subscribed: subscription sub_later does not replicate this table"),
            std::string::npos)
      << b->dump(2);
  EXPECT_NE(
      (*b)["reason"].get<std::string>().find("ALTER SUBSCRIPTION sub_later REFRESH PUBLICATION"),
      std::string::npos);
  EXPECT_EQ((*ReportTable(v.report, "public.a"))["status"], "match");
}

// The values of each divergent row (docs/report.md "Values"), made by local
// writes on the target: NULL <-> value, a TOASTed text past the cut, bytea,
// a value with a newline and a terminal escape, a missing and an extra row
// shown whole; and none of them with --redact.
constexpr const char* kValues =
    "CREATE TABLE vals (id int PRIMARY KEY, note text, data bytea, big text);"
    "ALTER TABLE vals ALTER big SET STORAGE EXTERNAL;";

// A TOASTed value: cut to 256 bytes, with the whole value's length and MD5
// as SQL computes them on each side.
void ExpectCutAsSqlSays(const json& big, SqlClient& source, SqlClient& target) {
  for (const auto& [side, client] : {std::pair{"source", &source}, std::pair{"target", &target}}) {
    const json& shown = big[side];
    EXPECT_EQ(shown["truncated"], true) << shown.dump();
    EXPECT_EQ(shown["text"].get<std::string>().size(), 256u);
    EXPECT_EQ(shown["bytes"],
              std::stoi(client->Value("SELECT octet_length(big) FROM vals WHERE id = 3")));
    EXPECT_EQ(shown["md5"], client->Value("SELECT md5(big) FROM vals WHERE id = 3")) << side;
  }
  EXPECT_EQ(big["target"]["bytes"].get<int>(), big["source"]["bytes"].get<int>() + 8);
}

// Missing and extra rows whole, the side without the row absent.
void ExpectWholeRows(const json* vals) {
  const json* missing = ReportRow(vals, "id", "6");
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ((*missing)["kind"], "missing_on_target");
  ASSERT_EQ((*missing)["values"].size(), 4u) << missing->dump(2);
  EXPECT_EQ((*missing)["values"][1]["source"]["text"], "gone-row");
  EXPECT_EQ((*missing)["values"][2]["source"]["text"], "\\xdead");
  EXPECT_FALSE((*missing)["values"][1].contains("target"));
  const json* extra = ReportRow(vals, "id", "100");
  ASSERT_NE(extra, nullptr);
  ASSERT_EQ((*extra)["values"].size(), 4u) << extra->dump(2);
  EXPECT_EQ((*extra)["values"][1]["target"]["text"], "ghost-row");
  EXPECT_TRUE((*extra)["values"][3]["target"].is_null());
  EXPECT_FALSE((*extra)["values"][1].contains("source"));
}

// The text output: each value on its row's line, escaped.
void ExpectValueLines(const std::string& output, const json& big) {
  EXPECT_NE(output.find("note: source NULL, target E'now-set'\n"), std::string::npos) << output;
  EXPECT_NE(output.find("note: source E'plain', target E'line1\\nline2\\x1B[31m'\n"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("data: source E'\\\\x0001ff', target E'\\\\x02'\n"), std::string::npos)
      << output;
  EXPECT_NE(output.find("... (cut: " + std::to_string(big["source"]["bytes"].get<int>()) +
                        " bytes, md5 " + big["source"]["md5"].get<std::string>() + ")"),
            std::string::npos)
      << output;
  EXPECT_EQ(output.find('\x1b'), std::string::npos) << output;
}

// --redact: the same verdict, the keys and columns, no value anywhere.
void ExpectRedacted(SchemaPair& pair, const json& big) {
  Verdict redacted = pair.Verify("--timeout 60 --redact");
  EXPECT_EQ(redacted.code, 1) << redacted.output;
  EXPECT_EQ(redacted.report["redacted"], true);
  const json* r = ReportTable(redacted.report, "public.vals");
  ASSERT_NE(r, nullptr) << redacted.output;
  EXPECT_EQ((*r)["divergent_row_count"], 7);
  EXPECT_EQ(Columns(ReportRow(r, "id", "1")), json::array({"note"}));
  for (const auto& row : (*r)["divergent_rows"]) EXPECT_FALSE(row.contains("values"));
  const std::string leaked = redacted.report.dump() + redacted.output;
  const std::vector<std::string> values = {"now-set",
                                           "was set",
                                           "tampered",
                                           "x0001ff",
                                           "line1",
                                           "plain",
                                           "gone-row",
                                           "xdead",
                                           "ghost-row",
                                           "xbeef",
                                           big["source"]["md5"].get<std::string>(),
                                           big["source"]["text"].get<std::string>().substr(0, 32)};
  for (const std::string& value : values) {
    EXPECT_EQ(leaked.find(value), std::string::npos) << value << " in " << leaked;
  }
}

TEST_F(SchemaTest, DivergentRowsShowTheirValues) {
  SchemaPair pair(servers(), "vals",
                  std::string(kValues) +
                      "INSERT INTO vals VALUES (1, NULL, NULL, NULL), (2, 'was set', NULL, NULL),"
                      "(3, NULL, NULL, (SELECT string_agg(md5(g::text), '') FROM "
                      "generate_series(1, 200) g)),"
                      "(4, NULL, '\\x0001ff', NULL), (5, 'plain', NULL, NULL),"
                      "(6, 'gone-row', '\\xdead', 'gone-big');",
                  kValues);
  SqlClient source = pair.source();
  SqlClient target = pair.target();
  target.Exec(
      "UPDATE vals SET note = 'now-set' WHERE id = 1;"
      "UPDATE vals SET note = NULL WHERE id = 2;"
      "UPDATE vals SET big = big || 'tampered' WHERE id = 3;"
      "UPDATE vals SET data = '\\x02' WHERE id = 4;"
      "UPDATE vals SET note = E'line1\\nline2\\x1b[31m' WHERE id = 5;"
      "DELETE FROM vals WHERE id = 6;"
      "INSERT INTO vals VALUES (100, 'ghost-row', '\\xbeef', NULL)");
  Verdict v = pair.Verify();
  EXPECT_EQ(v.code, 1) << v.output;
  const json* vals = ReportTable(v.report, "public.vals");
  ASSERT_NE(vals, nullptr) << v.output;
  EXPECT_EQ(v.report["redacted"], false);
  EXPECT_EQ((*vals)["divergent_row_count"], 7) << vals->dump(2);
  const json one = OnlyValue(vals, "1");
  EXPECT_EQ(one["column"], "note");
  EXPECT_TRUE(one["source"].is_null()) << one.dump();
  EXPECT_EQ(one["target"]["text"], "now-set");
  EXPECT_EQ(one["target"]["bytes"], 7);
  EXPECT_EQ(OnlyValue(vals, "2")["source"]["text"], "was set");
  EXPECT_TRUE(OnlyValue(vals, "2")["target"].is_null());
  const json big = OnlyValue(vals, "3");
  ExpectCutAsSqlSays(big, source, target);
  EXPECT_EQ(OnlyValue(vals, "4")["source"]["text"], "\\x0001ff");
  EXPECT_EQ(OnlyValue(vals, "4")["target"]["text"], "\\x02");
  EXPECT_EQ(OnlyValue(vals, "5")["target"]["text"], "line1\nline2\x1b[31m");
  ExpectWholeRows(vals);
  ExpectValueLines(v.output, big);
  ExpectRedacted(pair, big);
}

// A table without key: its rows are named by row digest, and found again by
// it (a small table) to show them whole — the duplicate the target gained,
// the row it lost.
TEST_F(SchemaTest, KeylessRowsShowTheirValuesFoundByDigest) {
  constexpr const char* kBag =
      "CREATE TABLE bag (n int, label text); ALTER TABLE bag REPLICA IDENTITY FULL;";
  SchemaPair pair(servers(), "bag",
                  std::string(kBag) +
                      "INSERT INTO bag VALUES (1, 'twice'), (1, 'twice'), "
                      "(2, 'lost'), (3, NULL);",
                  kBag);
  pair.target().Exec(
      "INSERT INTO bag VALUES (1, 'twice');"
      "DELETE FROM bag WHERE n = 2;");
  Verdict v = pair.Verify();
  EXPECT_EQ(v.code, 1) << v.output;
  const json* bag = ReportTable(v.report, "public.bag");
  ASSERT_NE(bag, nullptr) << v.output;
  ASSERT_EQ((*bag)["divergent_rows"].size(), 2u) << bag->dump(2);
  for (const json& row : (*bag)["divergent_rows"]) {
    ASSERT_TRUE(row["key"].contains("row_digest")) << row.dump(2);
    ASSERT_TRUE(row["values"].is_array()) << row.dump(2);
    ASSERT_EQ(row["values"].size(), 2u) << row.dump(2);
    const bool extra = row["kind"] == "extra_on_target";
    const char* side = extra ? "target" : "source";
    EXPECT_EQ(row["values"][0][side]["text"], extra ? "1" : "2") << row.dump(2);
    EXPECT_EQ(row["values"][1][side]["text"], extra ? "twice" : "lost") << row.dump(2);
    EXPECT_FALSE(row["values"][0].contains(extra ? "source" : "target"));
  }
  EXPECT_NE(v.output.find("label: target E'twice'"), std::string::npos) << v.output;
  EXPECT_NE(v.output.find("label: source E'lost'"), std::string::npos) << v.output;
}

}  // namespace
}  // namespace pgparity::applier
