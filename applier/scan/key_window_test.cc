// Pure: an integer KeySplit's ranges as KeyWindows — the same rows as
// KeyRangeCondition selects (NULL in the first), and which tables can be
// walked by them.
#include "pgparity/applier/scan/key_window.h"

#include <gtest/gtest.h>

#include "pgparity/applier/shadow/row_key.h"

namespace pgparity::applier {
namespace {

TEST(KeyWindowTest, RangesOfASplitPartitionTheKeys) {
  KeySplit split;
  split.column = "aid";
  split.type = "integer";
  split.bounds = {"10", "20"};
  ASSERT_EQ(split.ranges(), 3u);
  const auto first = WindowOf(split, 0);
  const auto middle = WindowOf(split, 1);
  const auto last = WindowOf(split, 2);
  ASSERT_TRUE(first.ok() && middle.ok() && last.ok());
  EXPECT_EQ(first->ToString(), "[-inf, 10)");
  EXPECT_EQ(middle->ToString(), "[10, 20)");
  EXPECT_EQ(last->ToString(), "[20, +inf)");
  for (const int64_t key :
       {INT64_MIN, int64_t{-5}, int64_t{9}, int64_t{10}, int64_t{19}, int64_t{20}, INT64_MAX}) {
    const int in = first->Contains(key) + middle->Contains(key) + last->Contains(key);
    EXPECT_EQ(in, 1) << key;
  }
  EXPECT_TRUE(first->Contains(std::nullopt));  // as KeyRangeCondition's range 0
  EXPECT_FALSE(middle->Contains(std::nullopt));
  split.bounds = {"ten"};
  EXPECT_FALSE(WindowOf(split, 1).ok());
}

TEST(KeyWindowTest, FirstKeyColumnFromTheKeyEncoding) {
  std::string key;
  const std::vector<digest::ColumnValue> row = {digest::ColumnValue::Value("-42"),
                                                digest::ColumnValue::Value("x")};
  const std::vector<size_t> positions = {0, 1};
  EncodeKey(row, positions, key);
  EXPECT_EQ(FirstKeyAsInteger(key, 2), -42);
  key.clear();
  const std::vector<digest::ColumnValue> null_row = {digest::ColumnValue::Null()};
  EncodeKey(null_row, std::vector<size_t>{0}, key);
  EXPECT_EQ(FirstKeyAsInteger(key, 1), std::nullopt);
  key.clear();
  const std::vector<digest::ColumnValue> text_row = {digest::ColumnValue::Value("abc")};
  EncodeKey(text_row, std::vector<size_t>{0}, key);
  EXPECT_EQ(FirstKeyAsInteger(key, 1), std::nullopt);
}

TEST(KeyWindowTest, OnlyIntegerFirstKeysOnTheTargetAreWalkedByRange) {
  TableSpec spec;
  spec.schema = "public";
  spec.name = "t";
  spec.columns = {"id", "v"};
  spec.types = {"bigint", "text"};
  EXPECT_EQ(WhyNotByKeyWindow(spec, "bigint"), "no key");
  spec.key_positions = {0};
  EXPECT_EQ(WhyNotByKeyWindow(spec, "bigint"), "");
  EXPECT_EQ(WhyNotByKeyWindow(spec, "smallint"), "");
  EXPECT_NE(WhyNotByKeyWindow(spec, "text").find("not an integer"), std::string::npos);
  spec.key_positions = {1};
  EXPECT_NE(WhyNotByKeyWindow(spec, "text").find("its first key column v is text"),
            std::string::npos);
}

}  // namespace
}  // namespace pgparity::applier
