// The digest recomputed independently: for a table holding every type of the
// decoder's test corpus, the C++ RowDigester over the rows' text values must
// equal what TableDigestSql computes inside PostgreSQL 14 and 16 — and the
// two servers must agree with each other.
#include "pgparity/digest/digest_sql.h"

#include <gtest/gtest.h>

#include "pgparity/digest/md5_batch.h"
#include "pgparity/digest/row_digest.h"
#include "pgparity/sql_quote.h"
#include "support/pg_server.h"
#include "support/sql_client.h"

namespace pgparity::digest {
namespace {

using pgparity::testing::PgServer;
using pgparity::testing::SqlClient;

const char* kCorpusSchema = R"sql(
CREATE SCHEMA "Odd schema";
CREATE TABLE "Odd schema"."types ""corpus""" (
  id int PRIMARY KEY,
  i2 smallint, i4 int, i8 bigint,
  n numeric, n2 numeric(12,4),
  f4 real, f8 double precision,
  t text, "quoted ""col""" varchar(20), c char(5),
  b bytea, j jsonb, js json,
  arr int[], tarr text[],
  u uuid, ts timestamp, tstz timestamptz, d date, tm time, iv interval,
  bo boolean, ip inet, bits bit varying(8), pt point
);
INSERT INTO "Odd schema"."types ""corpus""" VALUES
 (1, 32767, 2147483647, 9223372036854775807, 'NaN', 1.5, 'Infinity', '-Infinity',
  'it''s a "quote" \ backslash', 'tab	here', 'ab',
  '\x00ff10', '{"b": [1, 2.50, null], "a": "é"}', '{"b":1,   "a":2}',
  '{1,NULL,3}', '{"a b","c,d",NULL,""}',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29 23:59:59.999999',
  '2024-02-29 23:59:59.123456+05:30', '0001-01-01', '24:00:00', '1 year 2 mons -3 days 04:05:06.7',
  true, '10.1.2.3/32', B'1011', '(1.5,-2)'),
 (2, -32768, -2147483648, -9223372036854775808, '-0.000000000000000000001', -0.0001,
  '-0', '-0', E'line1\nline2\r\n', '', '     ',
  '\x', '[]', 'null', '{}', '{}',
  '00000000-0000-0000-0000-000000000000', '-infinity', 'infinity', 'epoch', '00:00', '0',
  false, '::1', B'', '(0,0)'),
 (3, NULL, NULL, NULL, '123456789012345678901234567890.123456789', NULL,
  1.17549435e-38, 2.2250738585072014e-308, 'unicode: ☃ 𝄞 日本', NULL, NULL,
  NULL, '{"deep": {"x": [true, false]}}', NULL, '{{1,2},{3,4}}', NULL,
  NULL, NULL, NULL, NULL, NULL, '-178000000 years',
  NULL, '2001:db8::/32', NULL, NULL),
 (4, 0, 0, 0, '0', 0, 3.4028235e38, 1e308, '', '', '',
  '\xdeadbeef', '"just a string"', '"x"', '{-1}', '{NULL}',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '1999-12-31 23:59:59', '2000-01-01 00:00:00+00', '2000-01-01', '12:34:56.789', '-1 days +02:03',
  NULL, '0.0.0.0/0', B'11111111', '(1e300,-1e-300)'),
 (5, 1, 1, 1, '1e-20', 0.1, 0.1, 0.1, repeat('long value ', 1000), 'x', 'x',
  decode(repeat('ab', 5000), 'hex'), NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 -- Around the wide-value threshold (128 bytes of text): 128 stays text,
 -- 129 is hashed; bytea's text is 2 + 2n bytes, 'é' is 2 bytes.
 (6, 2, 2, 2, repeat('9', 128)::numeric, 2, 2, 2, repeat('x', 128), 'y', 'y',
  decode(repeat('cd', 63), 'hex'), ('{"k": "' || repeat('v', 119) || '"}')::jsonb, NULL,
  NULL, ARRAY[repeat('a', 63), repeat('b', 62)], NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL),
 (7, 3, 3, 3, repeat('9', 129)::numeric, 3, 3, 3, repeat('x', 129), 'z', 'z',
  decode(repeat('cd', 64), 'hex'), ('{"k": "' || repeat('v', 120) || '"}')::jsonb, NULL,
  NULL, ARRAY[repeat('a', 63), repeat('b', 63)], NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL),
 (8, 4, 4, 4, NULL, 4, 4, 4, repeat('é', 64), NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (9, 5, 5, 5, NULL, 5, 5, 5, repeat('é', 64) || 'x', NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- char(n) keeps its padding in its text: 'x' in char(128) is 128 bytes,
-- in char(130) 130 (wide); 128 'é' are 256 bytes, 'éé' and 126 blanks 130.
ALTER TABLE "Odd schema"."types ""corpus""" ADD COLUMN c128 char(128), ADD COLUMN c130 char(130),
  ADD COLUMN vw varchar(200);
UPDATE "Odd schema"."types ""corpus""" SET c128 = 'x', c130 = 'y', vw = repeat('v', 128) WHERE id = 6;
UPDATE "Odd schema"."types ""corpus""" SET c128 = repeat('é', 128), vw = repeat('v', 129) WHERE id = 7;
UPDATE "Odd schema"."types ""corpus""" SET c128 = 'éé' WHERE id = 8;
)sql";

struct Computed {
  int64_t rows;
  std::string cpp;
  std::string sql;
};

Computed DigestBothWays(SqlClient& db) {
  const std::string schema = "Odd schema", table = "types \"corpus\"";
  std::vector<std::string> columns;
  for (auto& row : db.Query("SELECT attname FROM pg_attribute WHERE attrelid = "
                            "'\"Odd schema\".\"types \"\"corpus\"\"\"'::regclass "
                            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
    columns.push_back(*row[0]);
  }
  RowDigester digester(schema, table, columns);
  TableDigest cpp;
  for (auto& row : db.Query("SELECT * FROM \"Odd schema\".\"types \"\"corpus\"\"\"")) {
    std::vector<ColumnValue> values;
    for (auto& v : row) values.push_back(v ? ColumnValue::Value(*v) : ColumnValue::Null());
    cpp.Add(digester.Digest(values));
  }
  auto sql = db.Query(TableDigestSql(schema, table, columns, RowsOf::kTableOnly));
  EXPECT_EQ(*sql[0][0], std::to_string(cpp.rows));
  return {cpp.rows, cpp.sum.ToHex(), *sql[0][1]};
}

// The columns' names and types (format_type), in table order.
std::vector<std::pair<std::string, std::string>> CorpusColumns(SqlClient& db) {
  std::vector<std::pair<std::string, std::string>> columns;
  for (auto& row : db.Query("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                            "WHERE attrelid = '\"Odd schema\".\"types \"\"corpus\"\"\"'::regclass "
                            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
    columns.emplace_back(*row[0], *row[1]);
  }
  return columns;
}

// The table digest from values read through WideValueReadSql (wide values
// hashed by the server, by the cheap length where the type has one), as
// the scans read them.
std::string DigestFromWideRead(SqlClient& db, int64_t* hashed, size_t shown_chars = 0) {
  std::vector<std::string> names, select;
  for (const auto& [name, type] : CorpusColumns(db)) {
    names.push_back(name);
    select.push_back(WideValueReadSql(QuoteIdent(name), type, shown_chars));
  }
  RowDigester digester("Odd schema", "types \"corpus\"", names);
  TableDigest sum;
  std::string list;
  for (const auto& e : select) list += (list.empty() ? "" : ", ") + e;
  for (auto& row : db.Query("SELECT " + list + " FROM \"Odd schema\".\"types \"\"corpus\"\"\"")) {
    std::vector<ColumnValue> values;
    EXPECT_EQ(row.size(), 2 * names.size());
    for (size_t i = 0; i + 1 < row.size(); i += 2) {
      if (row[i + 1]) {
        Result<ColumnValue> wide = ParseWideValue(*row[i + 1]);
        EXPECT_TRUE(wide.ok()) << wide.status().ToString();
        if (!wide.ok()) return "";
        EXPECT_FALSE(row[i].has_value());
        ++*hashed;
        values.push_back(*wide);
      } else {
        values.push_back(row[i] ? ColumnValue::Value(*row[i]) : ColumnValue::Null());
      }
    }
    sum.Add(digester.Digest(values));
  }
  return sum.sum.ToHex();
}

// pg14/pg16: the source and target majors, 14 and 16 unless the matrix
// (tests/matrix.sh) picks another pair.
TEST(DigestSqlTest, CppEqualsSqlOnPostgres14And16ForEveryCorpusType) {
  PgServer pg14(testing::SourceMajor(), "corpus"), pg16(testing::TargetMajor(), "corpus");
  SqlClient db14(pg14.Dsn()), db16(pg16.Dsn());
  db14.Exec(kCorpusSchema);
  db16.Exec(kCorpusSchema);

  Computed c14 = DigestBothWays(db14);
  Computed c16 = DigestBothWays(db16);
  EXPECT_EQ(c14.rows, 9);
  EXPECT_EQ(c14.cpp, c14.sql);
  EXPECT_EQ(c16.cpp, c16.sql);
  EXPECT_EQ(c14.cpp, c16.cpp) << "the same rows digest differently on the source and target majors";

  // Per row too (a sum could hide two compensating errors).
  std::vector<std::string> cols;
  for (auto& r : db14.Query("SELECT attname FROM pg_attribute WHERE attrelid = "
                            "'\"Odd schema\".\"types \"\"corpus\"\"\"'::regclass AND attnum > 0 "
                            "ORDER BY attnum")) {
    cols.push_back(*r[0]);
  }
  const std::string per_row = "SELECT id, " + RowDigestSql("Odd schema", "types \"corpus\"", cols) +
                              " FROM \"Odd schema\".\"types \"\"corpus\"\"\" ORDER BY id";
  EXPECT_EQ(db14.Query(per_row), db16.Query(per_row));

  // Wide values hashed by the server digest as the same values sent whole.
  // Wide: rows 5 (t, b), 6 (c130), 7 (n, t, b, j, tarr, c128, vw),
  // 8 (c128), 9 (t); the others are at 128 or below.
  int64_t hashed14 = 0, hashed16 = 0;
  EXPECT_EQ(DigestFromWideRead(db14, &hashed14), c14.sql);
  EXPECT_EQ(DigestFromWideRead(db16, &hashed16), c16.sql);
  EXPECT_EQ(hashed14, 12);
  EXPECT_EQ(hashed16, 12);
  // Read for showing (values up to 200 bytes whole, wider ones with their
  // first 200 characters): the same digests.
  int64_t hashed_shown = 0;
  EXPECT_EQ(DigestFromWideRead(db16, &hashed_shown, 200), c16.sql);
  EXPECT_EQ(hashed_shown, 3);  // row 5: t and b, row 7: c128 (256 bytes)

  // The definition's example (docs/digest.md): a wide value enters as 'H'
  // and the MD5 of its text (printf 'x%.0s' {1..129} | md5sum).
  const std::string cols_t[] = {"id", "t"};
  RowDigester example("public", "t", cols_t);
  const std::string wide(129, 'x');
  const ColumnValue row_values[] = {ColumnValue::Value("1"), ColumnValue::Value(wide)};
  example.Digest(row_values);
  EXPECT_EQ(example.last_encoding(), "6:public.1:t2:idV1:11:tH" + Md5(wide).ToHex());
  EXPECT_EQ(Md5(wide).ToHex(), "3926841d393c00c3f36260e5ace10dc1");

  // A one-character change anywhere changes the digest.
  db16.Exec("UPDATE \"Odd schema\".\"types \"\"corpus\"\"\" SET c = 'ab ' WHERE id = 1");
  EXPECT_EQ(DigestBothWays(db16).cpp, c14.cpp) << "char(5) pads: 'ab' and 'ab ' are equal";
  db16.Exec("UPDATE \"Odd schema\".\"types \"\"corpus\"\"\" SET f8 = 0 WHERE id = 2");
  Computed changed = DigestBothWays(db16);
  EXPECT_NE(changed.cpp, c14.cpp) << "-0 and 0 must differ";
  EXPECT_EQ(changed.cpp, changed.sql);
}

}  // namespace
}  // namespace pgparity::digest
