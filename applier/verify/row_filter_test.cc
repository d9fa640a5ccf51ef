// `pgparity verify`, `audit` and `repair` on a publication that narrows
// what it publishes (PostgreSQL 15+ sources): a row filter and a column
// list, each through a real subscription. The oracle is plain SQL over both
// servers — the source's rows WHERE filter, its published columns — never
// pgparity's digests. Skipped on a source before 15 (no row filters or
// column lists there).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "verify/schema_pair.h"

namespace pgparity::applier {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

class RowFilterTest : public testing::MigrationFixture {
 protected:
  void SetUp() override {
    if (testing::SourceMajor() < 15) {
      GTEST_SKIP() << "row filters and column lists need a PostgreSQL 15+ source (this pair's is "
                   << testing::SourceMajor() << ")";
    }
  }
};

// orders: REPLICA IDENTITY FULL, so its filter may use a non-key column and
// an UPDATE of amount moves a row into or out of it. tags: the default
// identity, filtered on its key, so a key change moves a row.
constexpr const char* kFilteredSource =
    "CREATE TABLE orders (id int PRIMARY KEY, amount int NOT NULL, note text);"
    "ALTER TABLE orders REPLICA IDENTITY FULL;"
    "INSERT INTO orders SELECT g, g * 10, 'n' || g FROM generate_series(1, 100) g;"
    "CREATE TABLE tags (id int PRIMARY KEY, label text);"
    "INSERT INTO tags SELECT g, 't' || g FROM generate_series(1, 40) g;";
constexpr const char* kFilteredTarget =
    "CREATE TABLE orders (id int PRIMARY KEY, amount int NOT NULL, note text);"
    "CREATE TABLE tags (id int PRIMARY KEY, label text);";
constexpr const char* kFilteredPublication =
    "FOR TABLE orders WHERE (amount > 300), tags WHERE (id % 2 = 0)";

// The oracle: `table`'s rows on the source that pass `filter` equal the
// target's rows, compared as text in a total order, by SQL alone.
std::string Rows(SqlClient db, const std::string& table, const std::string& filter) {
  return db.Value(
      "SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') FROM (SELECT * "
      "FROM " +
      table + " WHERE " + filter + ") t");
}
void ExpectTargetIsSourceWhere(SchemaPair& pair, const std::string& table,
                               const std::string& filter) {
  const std::string source = Rows(pair.source(), table, filter);
  EXPECT_FALSE(source.empty()) << table;
  EXPECT_EQ(Rows(pair.target(), table, "true"), source) << table << " WHERE " << filter;
}
int64_t Count(SqlClient db, const std::string& sql) { return std::stoll(db.Value(sql)); }

// Names of a report row's differing columns.
json Columns(const json* row) { return row == nullptr ? json() : (*row)["columns"]; }

// The kinds of a report table's divergent rows, by key column id.
std::map<std::string, std::string> RowKinds(const json* table) {
  std::map<std::string, std::string> out;
  if (table == nullptr) return out;
  for (const auto& r : (*table)["divergent_rows"]) {
    out[r["key"].value("id", "?")] = r["kind"].get<std::string>();
  }
  return out;
}

// preflight's findings of `check` on the pair: object -> detail. No finding
// may be about the unpublished column "secret".
std::map<std::string, std::string> PreflightFindings(SchemaPair& pair, const std::string& check) {
  Cli pre = RunCli("preflight --source " + ShellQuote(pair.SourceDsn()) + " --target " +
                       ShellQuote(pair.TargetDsn()) + " --publication pub --subscription " +
                       pair.subscription() + " --for none --json",
                   /*stdout_only=*/true);
  const json doc = json::parse(pre.output, nullptr, false);
  std::map<std::string, std::string> out;
  if (!doc.is_object()) {
    ADD_FAILURE() << pre.output;
    return out;
  }
  for (const auto& f : doc["findings"]) {
    if (f["check"] == check) out[f["object"]] = f["detail"];
    EXPECT_EQ(f["object"].get<std::string>().find("secret"), std::string::npos) << f.dump();
  }
  return out;
}

TEST_F(RowFilterTest, RowsOutsideTheFilterAreNeverMissingAndDivergenceInsideIsFound) {
  SchemaPair pair(servers(), "rowfilter", kFilteredSource, kFilteredTarget, false,
                  kFilteredPublication);
  // The subscription copied only the filter's rows: 70 of 100, 20 of 40.
  ASSERT_EQ(Count(pair.target(), "SELECT count(*) FROM orders"), 70);
  ASSERT_EQ(Count(pair.target(), "SELECT count(*) FROM tags"), 20);
  ExpectTargetIsSourceWhere(pair, "orders", "amount > 300");
  ExpectTargetIsSourceWhere(pair, "tags", "id % 2 = 0");

  Verdict v = pair.Verify();
  ASSERT_EQ(v.code, 0) << v.output;
  const json* orders = ReportTable(v.report, "public.orders");
  ASSERT_NE(orders, nullptr) << v.report.dump(2);
  EXPECT_EQ((*orders)["status"], "match");
  EXPECT_EQ((*orders)["source_rows"], 70);
  EXPECT_EQ((*orders)["divergent_row_count"], 0);
  EXPECT_NE((*orders)["row_filter"].get<std::string>().find("amount > 300"), std::string::npos)
      << orders->dump(2);
  EXPECT_TRUE((*orders)["columns"].is_null()) << orders->dump(2);
  EXPECT_NE(v.output.find("row filter"), std::string::npos) << v.output;
  std::map<std::string, std::string> filters = PreflightFindings(pair, "row_filter");
  EXPECT_EQ(filters.size(), 2u);
  EXPECT_NE(filters["public.orders"].find("amount > 300"), std::string::npos) << filters.size();

  // Under replication: rows moved into the filter (an INSERT for the
  // subscriber) and out of it (a DELETE), by a non-key column and by the
  // key, changes inside and outside it.
  pair.source().Exec(
      "UPDATE orders SET amount = 1000 WHERE id = 5;"  // into
      "UPDATE orders SET amount = 1 WHERE id = 90;"    // out of
      "UPDATE orders SET note = 'in' WHERE id = 80;"   // inside
      "UPDATE orders SET note = 'out' WHERE id = 10;"  // outside
      "INSERT INTO orders VALUES (200, 5, 'outside'), (201, 5000, 'inside');"
      "DELETE FROM orders WHERE id IN (3, 95);"
      "UPDATE tags SET id = 1002 WHERE id = 3;"  // into, by the key
      "UPDATE tags SET id = 1003 WHERE id = 4;"  // out of, by the key
      "UPDATE tags SET label = 'x' WHERE id IN (6, 7)");
  pair.CatchUp();
  ExpectTargetIsSourceWhere(pair, "orders", "amount > 300");
  ExpectTargetIsSourceWhere(pair, "tags", "id % 2 = 0");
  v = pair.Verify();
  ASSERT_EQ(v.code, 0) << v.output;
  orders = ReportTable(v.report, "public.orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ((*orders)["source_rows"],
            Count(pair.source(), "SELECT count(*) FROM orders WHERE amount > 300"));

  // Divergence made on the target: a row inside the filter changed (50),
  // one deleted (60), a source row outside the filter inserted (7: an extra
  // row, since the subscriber must not have it).
  pair.target().Exec(
      "UPDATE orders SET note = 'tampered' WHERE id = 50;"
      "DELETE FROM orders WHERE id = 60;"
      "INSERT INTO orders VALUES (7, 70, 'n7');"
      "INSERT INTO tags VALUES (5, 't5')");
  v = pair.Verify();
  ASSERT_EQ(v.code, 1) << v.output;
  orders = ReportTable(v.report, "public.orders");
  const std::map<std::string, std::string> want = {
      {"50", "differs"}, {"60", "missing_on_target"}, {"7", "extra_on_target"}};
  EXPECT_EQ(RowKinds(orders), want) << v.report.dump(2);
  EXPECT_EQ((*orders)["divergent_row_count"], 3);
  const json* row50 = ReportRow(orders, "id", "50");
  ASSERT_NE(row50, nullptr);
  EXPECT_EQ((*row50)["columns"], json::array({"note"}));
  const std::map<std::string, std::string> want_tags = {{"5", "extra_on_target"}};
  EXPECT_EQ(RowKinds(ReportTable(v.report, "public.tags")), want_tags) << v.report.dump(2);

  // repair puts back the filter's rows and removes the rows outside it;
  // it never copies a source row outside the filter.
  const std::string report = (servers().source.dir() / "rowfilter-repair.json").string();
  std::ofstream(report) << v.report.dump();
  Cli repair =
      RunCli("repair --source " + ShellQuote(pair.SourceDsn()) + " --target " +
             ShellQuote(pair.TargetDsn()) + " --report " + ShellQuote(report) + " --apply");
  ASSERT_EQ(repair.code, 0) << repair.output;
  ExpectTargetIsSourceWhere(pair, "orders", "amount > 300");
  ExpectTargetIsSourceWhere(pair, "tags", "id % 2 = 0");
  EXPECT_EQ(Count(pair.target(), "SELECT count(*) FROM orders WHERE amount <= 300"), 0);
  v = pair.Verify();
  EXPECT_EQ(v.code, 0) << v.output;
}

// people: published without its secret column (the target lacks it, and
// has an extra one); logs: published without its key, so insert-only (the
// server refuses UPDATE and DELETE on it), compared as a multiset of rows.
constexpr const char* kListedSource =
    "CREATE TABLE people (id int PRIMARY KEY, name text, secret text, age int);"
    "INSERT INTO people SELECT g, 'p' || g, 's' || g, g FROM generate_series(1, 50) g;"
    "CREATE TABLE logs (id int PRIMARY KEY, msg text);"
    "INSERT INTO logs SELECT g, 'm' || (g % 7) FROM generate_series(1, 30) g;";
constexpr const char* kListedTarget =
    "CREATE TABLE people (id int PRIMARY KEY, name text, age int, extra text DEFAULT 'x');"
    "CREATE TABLE logs (id serial PRIMARY KEY, msg text);";
constexpr const char* kListedPublication = "FOR TABLE people (id, name, age), logs (msg)";

TEST_F(RowFilterTest, OnlyTheListedColumnsAreCompared) {
  SchemaPair pair(servers(), "collist", kListedSource, kListedTarget, false, kListedPublication);
  // The oracle: the published columns equal.
  const std::string people = "(SELECT id, name, age FROM people) p";
  EXPECT_EQ(Rows(pair.target(), people, "true"), Rows(pair.source(), people, "true"));
  const std::string logs = "(SELECT msg FROM logs) l";
  EXPECT_EQ(Rows(pair.target(), logs, "true"), Rows(pair.source(), logs, "true"));

  pair.source().Exec(
      "UPDATE people SET secret = 'changed' WHERE id <= 10;"
      "UPDATE people SET name = 'renamed' WHERE id = 20;"
      "INSERT INTO logs VALUES (31, 'm1'), (32, 'new')");
  pair.target().Exec("UPDATE people SET extra = 'y' WHERE id > 40");
  pair.CatchUp();
  Verdict v = pair.Verify();
  ASSERT_EQ(v.code, 0) << v.output;
  const json* t = ReportTable(v.report, "public.people");
  ASSERT_NE(t, nullptr) << v.report.dump(2);
  EXPECT_EQ((*t)["status"], "match");
  EXPECT_EQ((*t)["columns"], "published: id, name, age (of 4)") << t->dump(2);
  EXPECT_TRUE((*t)["row_filter"].is_null());
  const json* l = ReportTable(v.report, "public.logs");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ((*l)["status"], "match");
  EXPECT_EQ((*l)["source_rows"], 32);
  EXPECT_EQ((*l)["columns"], "published: msg (of 2)");
  EXPECT_NE(v.output.find("column list, published: id, name, age (of 4)"), std::string::npos)
      << v.output;

  // preflight: the column lists noted, the secret the target lacks is no
  // problem (it is never sent).
  std::map<std::string, std::string> lists = PreflightFindings(pair, "column_list");
  EXPECT_EQ(lists.size(), 2u);
  EXPECT_NE(lists["public.people"].find("published columns id, name, age of 4"), std::string::npos)
      << lists["public.people"];
  // logs' key is not in its list while UPDATE and DELETE are published: the
  // source refuses them, which preflight blocks on.
  const std::map<std::string, std::string> keys = PreflightFindings(pair, "column_list_key");
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_TRUE(keys.contains("public.logs"));
  EXPECT_THROW(pair.source().Exec("UPDATE logs SET msg = 'm' WHERE id = 1"), std::exception);

  // A published column changed on the target is found; a duplicate log
  // line (a multiset) too.
  pair.target().Exec(
      "UPDATE people SET age = 99 WHERE id = 30;"
      "INSERT INTO logs (msg) VALUES ('new')");
  v = pair.Verify();
  ASSERT_EQ(v.code, 1) << v.output;
  t = ReportTable(v.report, "public.people");
  const std::map<std::string, std::string> want = {{"30", "differs"}};
  EXPECT_EQ(RowKinds(t), want) << v.report.dump(2);
  EXPECT_EQ(Columns(ReportRow(t, "id", "30")), json::array({"age"}));
  l = ReportTable(v.report, "public.logs");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ((*l)["divergent_row_count"], 1) << l->dump(2);
  if ((*l)["divergent_row_count"] == 1) {
    EXPECT_EQ((*l)["divergent_rows"][0]["kind"], "extra_on_target") << l->dump(2);
  }
}

// Audit's per-change checks and full checks on the filtered publication,
// under a load that moves rows into and out of the filter: no divergence
// until one is made inside the filter, which is then found.
TEST_F(RowFilterTest, AuditSeesNoFalsePositiveUnderUpdatesAcrossTheFilter) {
  SchemaPair pair(servers(), "rowaudit", kFilteredSource, kFilteredTarget, false,
                  kFilteredPublication);
  pair.StartAudit("2");
  pair.WaitForAuditReport([](const json& r) { return r["status"] == "consistent"; });
  for (int round = 0; round < 20; ++round) {
    const std::string r = std::to_string(round);
    pair.source().Exec(
        "UPDATE orders SET amount = CASE WHEN amount > 300 THEN amount - 300 ELSE amount + 300 "
        "END WHERE id % 20 = " +
        r +
        ";"
        "UPDATE orders SET note = note || '.' WHERE id % 7 = " +
        std::to_string(round % 7) +
        ";"
        "INSERT INTO orders VALUES (" +
        std::to_string(1000 + round) + ", " + std::to_string(round * 40) +
        ", 'load');"
        "UPDATE tags SET id = id + 1001 WHERE id = " +
        std::to_string(round + 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  pair.CatchUp();
  ExpectTargetIsSourceWhere(pair, "orders", "amount > 300");
  ExpectTargetIsSourceWhere(pair, "tags", "id % 2 = 0");
  // A full check that started after the load matches.
  const std::string after = pair.AuditReport().value("checked_at", "");
  pair.WaitForAuditReport([&](const json& r) {
    return r.value("checked_at", "") > after && r["status"] == "consistent";
  });
  EXPECT_EQ(pair.AuditLog().find("per-change check:"), std::string::npos) << pair.AuditLog();

  // The control: a row inside the filter changed on the target is found.
  const std::string inside = pair.source().Value("SELECT min(id) FROM orders WHERE amount > 300");
  pair.target().Exec("UPDATE orders SET note = 'tampered' WHERE id = " + inside);
  const json r = pair.WaitForAuditReport([](const json& r) { return r["status"] == "divergent"; });
  EXPECT_NE(ReportRow(ReportTable(r, "public.orders"), "id", inside), nullptr) << r.dump(2);
  pair.StopAudit();
}

// PostgreSQL 18 publishes a stored generated column named in a column list:
// the target's plain column holds the source's values, and pgparity
// compares it (read by SELECT: COPY's column list refuses generated ones).
TEST_F(RowFilterTest, AListedGeneratedColumnIsComparedOnA18Source) {
  if (testing::SourceMajor() < 18) {
    GTEST_SKIP() << "generated columns are published only by a PostgreSQL 18+ source (this "
                    "pair's is "
                 << testing::SourceMajor() << ")";
  }
  SchemaPair pair(servers(), "gencols",
                  "CREATE TABLE g (id int PRIMARY KEY, a int, twice int GENERATED ALWAYS AS "
                  "(a * 2) STORED);"
                  "INSERT INTO g (id, a) SELECT x, x FROM generate_series(1, 20) x;",
                  "CREATE TABLE g (id int PRIMARY KEY, a int, twice int);", false,
                  "FOR TABLE g (id, a, twice)");
  EXPECT_EQ(Rows(pair.target(), "g", "true"), Rows(pair.source(), "g", "true"));
  Verdict v = pair.Verify();
  ASSERT_EQ(v.code, 0) << v.output;
  const json* t = ReportTable(v.report, "public.g");
  ASSERT_NE(t, nullptr) << v.report.dump(2);
  EXPECT_EQ((*t)["columns"], "published: id, a, twice (of 3)") << t->dump(2);
  pair.target().Exec("UPDATE g SET twice = 0 WHERE id = 7");
  v = pair.Verify();
  ASSERT_EQ(v.code, 1) << v.output;
  EXPECT_EQ(Columns(ReportRow(ReportTable(v.report, "public.g"), "id", "7")),
            json::array({"twice"}))
      << v.report.dump(2);
}

}  // namespace
}  // namespace pgparity::applier
