// ReadTargetRowDigests on a real PostgreSQL (TargetMajor(), 16 unless
// tests/matrix.sh picks another): a table keyed by one integer column read
// by range for its dense runs of keys gives exactly the rows the IN lists
// give — the keys asked for that have a row, never another row of the
// range — and a table with another key is read by IN lists.
#include "pgparity/applier/audit/target_rows.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <set>

#include "pgparity/applier/catalog/publication.h"
#include "pgparity/applier/scan/row_read.h"
#include "support/pg_server.h"
#include "support/sql_client.h"

namespace pgparity::applier {
namespace {

using testing::PgServer;
using testing::SqlClient;

class TargetRowsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new PgServer(testing::TargetMajor(), "rowsdb");
    SqlClient sql(server_->Dsn());
    sql.Exec(
        "CREATE TABLE by_int (id bigint PRIMARY KEY, pad text);"
        "INSERT INTO by_int SELECT g, md5(g::text) FROM generate_series(1, 3000) g;"
        "CREATE TABLE by_text (code text PRIMARY KEY, n int);"
        "INSERT INTO by_text SELECT g::text, g FROM generate_series(1, 300) g;"
        // NULLs, wide values (hashed in the encoding), other scripts,
        // bytea: rows of every length, read in batches of their MD5s.
        "CREATE TABLE mixed (code text PRIMARY KEY, n int, note text, b bytea);"
        "INSERT INTO mixed SELECT 'k' || g || CASE WHEN g % 5 = 0 THEN ' ☃' ELSE '' END,"
        "  CASE WHEN g % 3 = 0 THEN NULL ELSE g END,"
        "  CASE WHEN g % 7 = 0 THEN repeat('wide é ', g % 90) WHEN g % 4 = 0 THEN NULL"
        "       ELSE md5(g::text) END,"
        "  CASE WHEN g % 2 = 0 THEN decode(md5(g::text), 'hex') END"
        "  FROM generate_series(1, 2500) g;"
        "CREATE PUBLICATION rows_pub FOR TABLE by_int, by_text, mixed;");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  conn::PgSession Session() {
    auto s = conn::PgSession::Connect(server_->Dsn());
    if (!s.ok()) throw std::runtime_error(s.status().ToString());
    return std::move(s).value();
  }
  TableSpec Spec(conn::PgSession& s, const std::string& name) {
    auto specs = LoadPublishedTables(s, "rows_pub");
    if (!specs.ok()) throw std::runtime_error(specs.status().ToString());
    for (TableSpec& spec : *specs) {
      if (spec.name == name) return spec;
    }
    throw std::runtime_error("no published table " + name);
  }

  static PgServer* server_;
};

PgServer* TargetRowsTest::server_ = nullptr;

template <typename T>
T Ok(Result<T> r) {
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  return std::move(r).value();
}

std::vector<std::string> IntegerKeys(const std::vector<int64_t>& values) {
  std::vector<std::string> out;
  for (int64_t v : values) {
    out.emplace_back();
    EncodeIntegerKey(v, out.back());
  }
  return out;
}

std::set<std::string> KeysOf(const TargetRowDigests& rows) {
  std::set<std::string> out;
  for (const auto& [key, digest] : rows) out.insert(key);
  return out;
}

TEST_F(TargetRowsTest, DenseRunsByRangeGiveExactlyTheRowsAskedFor) {
  conn::PgSession s = Session();
  const TableSpec spec = Spec(s, "by_int");
  ASSERT_TRUE(spec.integer_key);
  ASSERT_TRUE(ReadsIntegerKey(ForDigest(TargetRead(spec, spec.target_relkind), spec), spec));
  // 1..1000 without the multiples of 7 (dense: their rows are in the range
  // and must not be in the result), 2001..2100 (every key of its range:
  // its rows are taken without a lookup), two sparse keys, and
  // 5000, 1001 with no row on the target (1001 just past the run's end).
  std::vector<int64_t> values;
  std::set<int64_t> present;
  for (int64_t v = 1000; v >= 1; --v) {
    if (v % 7 != 0) values.push_back(v);
  }
  for (int64_t v = 2001; v <= 2100; ++v) values.push_back(v);
  for (int64_t v : {1500, 2777}) values.push_back(v);
  for (int64_t v : values) present.insert(v);
  values.push_back(5000);
  values.push_back(-3);
  values.push_back(1500);  // asked twice
  const std::vector<std::string> keys = IntegerKeys(values);
  const KeyRunSplit split = SplitIntegerKeyRuns(keys);
  ASSERT_EQ(split.runs.size(), 2u) << "the dense keys are read by range";

  TargetRowReadOptions by_range;
  by_range.keys_per_select = 50;
  TargetRowReadOptions by_in_list = by_range;
  by_in_list.use_ranges = false;
  const TargetRowDigests ranged = Ok(ReadTargetRowDigests(s, spec, keys, by_range));
  const TargetRowDigests listed = Ok(ReadTargetRowDigests(s, spec, keys, by_in_list));

  EXPECT_EQ(KeysOf(ranged), KeysOf(listed));
  std::set<std::string> expected;
  for (const std::string& k : IntegerKeys({present.begin(), present.end()})) expected.insert(k);
  EXPECT_EQ(KeysOf(ranged), expected) << "a row of the range not asked for was read";
  EXPECT_EQ(ranged.size(), present.size());
  for (const auto& [key, digest] : listed) {
    auto it = ranged.find(key);
    ASSERT_NE(it, ranged.end()) << key;
    EXPECT_EQ(it->second, digest) << key;
  }
}

// A batch of many keys shared out over several sessions gives the same rows
// and digests as on one session: exactly the keys asked for that have a
// row. Keys drawn at random (the seed is printed): dense stretches, sparse
// keys, keys without a row. (Which session reads which part is up to the
// threads; bench/README.md measures what sharing gains.)
TEST_F(TargetRowsTest, ManyKeysAreReadOnEverySessionWithTheSameRows) {
  const unsigned seed = static_cast<unsigned>(std::random_device{}());
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::set<int64_t> values;
  for (int stretch = 0; stretch < 12; ++stretch) {  // dense: read by range
    const int64_t from = std::uniform_int_distribution<int64_t>(1, 2800)(rng);
    for (int64_t v = from; v < from + 150; ++v) {
      if (rng() % 5 != 0) values.insert(v);
    }
  }
  for (int i = 0; i < 200; ++i) {  // sparse, some without a row (> 3000)
    values.insert(std::uniform_int_distribution<int64_t>(1, 3500)(rng));
  }
  const std::vector<std::string> keys = IntegerKeys({values.begin(), values.end()});
  std::set<std::string> expected;
  for (int64_t v : values) {
    if (v <= 3000) expected.insert(IntegerKeys({v})[0]);
  }
  std::vector<conn::PgSession> sessions;
  for (int i = 0; i < 3; ++i) sessions.push_back(Session());
  conn::PgSession& first = sessions[0];
  const TableSpec spec = Spec(first, "by_int");
  TargetRowReadOptions options;
  options.parallel_min_keys = 100;
  options.keys_per_select = 50;
  const TargetRowDigests alone = Ok(ReadTargetRowDigests(first, spec, keys, options));
  const TargetRowDigests shared = Ok(
      ReadTargetRowDigests(std::vector<conn::PgSession*>{&sessions[0], &sessions[1], &sessions[2]},
                           spec, keys, options));
  EXPECT_EQ(KeysOf(shared), expected);
  ASSERT_EQ(shared.size(), alone.size());
  for (const auto& [key, digest] : alone) {
    auto it = shared.find(key);
    ASSERT_NE(it, shared.end()) << key;
    EXPECT_EQ(it->second, digest) << key;
  }
}

TEST_F(TargetRowsTest, OtherKeysAreReadByInLists) {
  conn::PgSession s = Session();
  const TableSpec spec = Spec(s, "by_text");
  ASSERT_FALSE(spec.integer_key);
  std::vector<std::string> keys;
  std::set<std::string> expected;
  for (int i = 1; i <= 310; i += 2) {
    std::string key;
    EncodeKey(std::vector<digest::ColumnValue>{digest::ColumnValue::Value(std::to_string(i))},
              spec.key_positions, key);
    keys.push_back(key);
    if (i <= 300) expected.insert(key);
  }
  const TargetRowDigests rows = Ok(ReadTargetRowDigests(s, spec, keys));
  EXPECT_EQ(KeysOf(rows), expected);
}

// The digests read are those PostgreSQL computes from the same rows with
// the row digest's SQL expression (ComparedRowDigestSql): an oracle apart
// from RowSink's batched hashing, over rows read by range and by IN list,
// in more than one batch of MD5s.
TEST_F(TargetRowsTest, DigestsAreThoseOfTheRowDigestSqlExpression) {
  conn::PgSession s = Session();
  SqlClient sql(server_->Dsn());
  for (const std::string name : {"by_int", "mixed"}) {
    SCOPED_TRACE(name);
    const TableSpec spec = Spec(s, name);
    const std::string key_column = spec.columns[spec.key_positions[0]];
    std::map<std::string, std::string> expected;  // key -> digest's hex
    for (const auto& row : sql.Query("SELECT " + key_column + "::text, " +
                                     ComparedRowDigestSql(spec) + " FROM " + name)) {
      std::string key;
      EncodeKey(std::vector<digest::ColumnValue>{digest::ColumnValue::Value(*row[0])},
                spec.key_positions, key);
      expected.emplace(std::move(key), *row[1]);
    }
    ASSERT_GE(expected.size(), 2500u);
    std::vector<std::string> keys;
    for (const auto& [key, hex] : expected) keys.push_back(key);
    TargetRowReadOptions options;
    options.keys_per_select = 5000;  // one query's rows over several batches
    const TargetRowDigests rows = Ok(ReadTargetRowDigests(s, spec, keys, options));
    ASSERT_EQ(rows.size(), expected.size());
    for (const auto& [key, digest] : rows) {
      auto it = expected.find(key);
      ASSERT_NE(it, expected.end()) << key;
      EXPECT_EQ(digest.ToHex(), it->second) << key;
    }
  }
}

}  // namespace
}  // namespace pgparity::applier
