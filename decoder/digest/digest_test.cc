#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pgparity/digest/digest128.h"
#include "pgparity/digest/md5_batch.h"
#include "pgparity/digest/row_digest.h"
#include "pgparity/wire/tuple.h"

namespace pgparity::digest {
namespace {

TEST(Digest128Test, HexRoundTripAndBigEndianOrder) {
  const std::string hex = "d41d8cd98f00b204e9800998ecf8427e";  // md5('')
  auto d = Digest128::FromHex(hex);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->hi, 0xd41d8cd98f00b204ULL);
  EXPECT_EQ(d->lo, 0xe9800998ecf8427eULL);
  EXPECT_EQ(d->ToHex(), hex);
  EXPECT_FALSE(Digest128::FromHex("d41d").ok());
  EXPECT_FALSE(Digest128::FromHex("g41d8cd98f00b204e9800998ecf8427e").ok());
}

TEST(Digest128Test, AdditionWrapsMod2To128AndSubtractionUndoesIt) {
  Digest128 max{~0ULL, ~0ULL};
  Digest128 one{0, 1};
  EXPECT_EQ(max + one, Digest128{});
  EXPECT_EQ(Digest128{} - one, max);
  Digest128 carry{0, ~0ULL};
  EXPECT_EQ(carry + one, (Digest128{1, 0}));
  Digest128 a{0x1234, 0xffffffff00000000ULL}, b{0xabcdef, 0x123456789ULL};
  EXPECT_EQ(a + b - b, a);
  EXPECT_EQ(a + b, b + a);
}

TEST(TableDigestTest, DuplicatesDoNotCancelAndDeleteUndoesInsert) {
  Digest128 row{1, 2};
  TableDigest t;
  t.Add(row);
  t.Add(row);
  EXPECT_EQ(t.rows, 2);
  EXPECT_NE(t.sum, Digest128{});  // XOR would give 0 here
  t.Remove(row);
  TableDigest once;
  once.Add(row);
  EXPECT_EQ(t, once);
}

class RowDigesterTest : public ::testing::Test {
 protected:
  std::vector<std::string> columns_{"id", "a", "b"};
  RowDigester digester_{"public", "t", columns_};

  Digest128 Of(std::vector<ColumnValue> values) { return digester_.Digest(values); }
};

TEST_F(RowDigesterTest, EncodingIsTheDocumentedOne) {
  Of({ColumnValue::Value("1"), ColumnValue::Value("x y"), ColumnValue::Null()});
  // Columns by name: a, b, id.
  EXPECT_EQ(digester_.last_encoding(), "6:public.1:t1:aV3:x y1:bN2:idV1:1");
}

TEST_F(RowDigesterTest, NullEmptyStringUnchangedAndTheWordNullDiffer) {
  auto id = ColumnValue::Value("1");
  std::vector<Digest128> digests = {
      Of({id, ColumnValue::Null(), ColumnValue::Null()}),
      Of({id, ColumnValue::Value(""), ColumnValue::Null()}),
      Of({id, ColumnValue::Unchanged(), ColumnValue::Null()}),
      Of({id, ColumnValue::Value("NULL"), ColumnValue::Null()}),
      Of({id, ColumnValue::Value("N"), ColumnValue::Null()}),
  };
  for (size_t i = 0; i < digests.size(); ++i) {
    for (size_t j = i + 1; j < digests.size(); ++j) EXPECT_NE(digests[i], digests[j]) << i << j;
  }
}

TEST_F(RowDigesterTest, ColumnBoundariesAreUnambiguous) {
  auto id = ColumnValue::Value("1");
  EXPECT_NE(Of({id, ColumnValue::Value("ab"), ColumnValue::Value("c")}),
            Of({id, ColumnValue::Value("a"), ColumnValue::Value("bc")}));
  EXPECT_NE(Of({id, ColumnValue::Value("1:b"), ColumnValue::Value("")}),
            Of({id, ColumnValue::Value("1"), ColumnValue::Value("b")}));
}

TEST_F(RowDigesterTest, TableNameIsPartOfTheDigest) {
  RowDigester other("public", "u", columns_);
  std::vector<ColumnValue> row{ColumnValue::Value("1"), ColumnValue::Null(), ColumnValue::Null()};
  EXPECT_NE(digester_.Digest(row), other.Digest(row));
  RowDigester shifted("publi", "c.t", columns_);  // "public" "t" vs "publi" "c.t"
  EXPECT_NE(digester_.Digest(row), shifted.Digest(row));
}

TEST_F(RowDigesterTest, ColumnOrderOfTheTableDoesNotMatter) {
  std::vector<std::string> reordered{"b", "id", "a"};
  RowDigester other("public", "t", reordered);
  EXPECT_EQ(Of({ColumnValue::Value("1"), ColumnValue::Value("x"), ColumnValue::Null()}),
            other.Digest(std::vector<ColumnValue>{ColumnValue::Null(), ColumnValue::Value("1"),
                                                  ColumnValue::Value("x")}));
}

TEST_F(RowDigesterTest, TupleViewDigestEqualsValueDigest) {
  wire::TupleBuilder tuple;
  tuple.AddText("7").AddNull().AddUnchanged();
  EXPECT_EQ(digester_.Digest(tuple.view()),
            Of({ColumnValue::Value("7"), ColumnValue::Null(), ColumnValue::Unchanged()}));
}

TEST_F(RowDigesterTest, KnownDigest) {
  // md5('6:public.1:t1:aV3:x y1:bN2:idV1:1'), computed independently with
  // PostgreSQL: SELECT md5('6:public.1:t1:aV3:x y1:bN2:idV1:1').
  EXPECT_EQ(Of({ColumnValue::Value("1"), ColumnValue::Value("x y"), ColumnValue::Null()}).ToHex(),
            "04e456f0f720f8f46d4ebfbbdfd7c69c");
}

// Every value length the inline copies distinguish (0..130 bytes; column
// names of 1..70 bytes): the encoding is exactly the counted strings, and
// EncodeInto + Md5Batch gives the same digest as Digest.
TEST(RowDigesterLengthsTest, EncodingIsExactForEveryLength) {
  for (size_t name_len = 1; name_len <= 70; name_len += 3) {
    const std::string name(name_len, 'c');
    RowDigester d("s", "t", std::vector<std::string>{name, "id"});
    Md5Batch batch;
    std::vector<Digest128> one_by_one;
    for (size_t len = 0; len <= 130; ++len) {
      std::string value(len, '\0');
      for (size_t i = 0; i < len; ++i) value[i] = static_cast<char>('a' + (i * 7 + len) % 26);
      wire::TupleBuilder tuple;
      tuple.AddText(value).AddText("1");
      one_by_one.push_back(d.Digest(tuple.view()));
      // Up to kWideValueBytes the text, past it 'H' and its MD5.
      const std::string encoded_value = len <= kWideValueBytes
                                            ? "V" + std::to_string(len) + ":" + value
                                            : "H" + Md5(value).ToHex();
      const std::string expected =
          "1:s.1:t" + std::to_string(name_len) + ":" + name + encoded_value + "2:idV1:1";
      ASSERT_EQ(d.last_encoding(), expected) << name_len << " " << len;
      Digest128 now;
      const size_t i = d.EncodeInto(tuple.view(), batch, now);
      ASSERT_NE(i, RowDigester::kHashedNow);
      ASSERT_EQ(batch.message(i), expected);
    }
    batch.Compute();
    for (size_t i = 0; i < one_by_one.size(); ++i) ASSERT_EQ(batch.digest(i), one_by_one[i]);
  }
}

// A row too large for a batch is hashed at once, with the same digest.
// Wide values being hashed, only a row of thousands of columns is.
TEST(RowDigesterLengthsTest, ARowLargerThanABatchBoundIsHashedAtOnce) {
  const size_t columns = RowDigester::kMaxBatchedBytes / kWideValueBytes + 1;
  std::vector<std::string> names;
  for (size_t i = 0; i < columns; ++i) names.push_back("c" + std::to_string(i));
  RowDigester d("s", "t", names);
  const std::string value(kWideValueBytes, 'b');
  const std::vector<ColumnValue> row(columns, ColumnValue::Value(value));
  Md5Batch batch;
  Digest128 now;
  EXPECT_EQ(d.EncodeInto(row, batch, now), RowDigester::kHashedNow);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(now, d.Digest(row));
  TableDigester t("s", "t", names);
  const std::vector<ColumnValue> small(columns, ColumnValue::Null());
  t.Add(row);
  t.Add(small);
  TableDigest expected;
  expected.Add(d.Digest(row));
  expected.Add(d.Digest(small));
  EXPECT_EQ(t.Finish(), expected);
}

// TableDigester's batches give the sum of Digest over the same rows, for
// counts around the batch size.
TEST(TableDigesterTest, EqualsTheSumOfRowDigests) {
  const std::vector<std::string> columns{"id", "a"};
  for (const int n : {0, 1, 255, 256, 257, 1000}) {
    TableDigester batched("public", "t", columns);
    RowDigester one("public", "t", columns);
    TableDigest expected;
    for (int i = 0; i < n; ++i) {
      const std::string id = std::to_string(i);
      const std::string a(static_cast<size_t>(i % 150), 'x');
      const std::vector<ColumnValue> row{ColumnValue::Value(id),
                                         i % 7 == 0 ? ColumnValue::Null() : ColumnValue::Value(a)};
      batched.Add(row);
      expected.Add(one.Digest(row));
    }
    EXPECT_EQ(batched.Finish(), expected) << n;
    EXPECT_EQ(batched.Finish(), TableDigest()) << "Finish forgets the rows";
  }
}

}  // namespace
}  // namespace pgparity::digest
