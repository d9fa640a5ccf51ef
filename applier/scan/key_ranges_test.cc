// Pure: the planner of range-parallel scans (key_ranges.h) — how many
// ranges a table gets, its bounds, the SQL of each range, the units' order.
#include "pgparity/applier/scan/key_ranges.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace pgparity::applier {
namespace {

ScanPlanOptions Jobs(size_t jobs, double min_range_rows = 100'000) {
  ScanPlanOptions o;
  o.jobs = jobs;
  o.min_range_rows = min_range_rows;
  return o;
}

TEST(RangesWanted, OneSessionOrUnknownSizeReadsWhole) {
  EXPECT_EQ(RangesWanted(10e6, 10e6, Jobs(1)), 1u);
  EXPECT_EQ(RangesWanted(-1, 10e6, Jobs(4)), 1u);
  EXPECT_EQ(RangesWanted(0, 0, Jobs(4)), 1u);
}

TEST(RangesWanted, OneHugeTableGetsFourUnitsPerSession) {
  // 10 M rows alone on 3 sessions: units of 10M / 12 rows, so 12 ranges.
  EXPECT_EQ(RangesWanted(10e6, 10e6, Jobs(3)), 12u);
}

TEST(RangesWanted, SmallTablesStayWholeAndRangesKeepTheirMinimum) {
  EXPECT_EQ(RangesWanted(50'000, 50'000, Jobs(3)), 1u);  // below the minimum range
  // 300k rows alone on 3 sessions: 25k-row units are below the 100k minimum.
  EXPECT_EQ(RangesWanted(300'000, 300'000, Jobs(3)), 3u);
  // A 1 M table among 99 M of others: units of 100M / 12, so one range.
  EXPECT_EQ(RangesWanted(1e6, 100e6, Jobs(3)), 1u);
}

TEST(RangesWanted, CappedPerTable) {
  ScanPlanOptions o = Jobs(64, 1);
  o.max_ranges = 10;
  EXPECT_EQ(RangesWanted(1e9, 1e9, o), 10u);
}

TEST(EvenIntegerBounds, EvenlySpacedAscendingInsideTheKeys) {
  EXPECT_EQ(EvenIntegerBounds(1, 100, 4), (std::vector<std::string>{"26", "51", "76"}));
  EXPECT_EQ(EvenIntegerBounds(-10, 9, 2), (std::vector<std::string>{"0"}));
}

TEST(EvenIntegerBounds, FewValuesGiveFewerDistinctBounds) {
  EXPECT_EQ(EvenIntegerBounds(5, 6, 8), (std::vector<std::string>{"6"}));
  EXPECT_TRUE(EvenIntegerBounds(5, 5, 8).empty());
  EXPECT_TRUE(EvenIntegerBounds(1, 100, 1).empty());
}

TEST(EvenIntegerBounds, WholeBigintRangeDoesNotOverflow) {
  constexpr int64_t lo = std::numeric_limits<int64_t>::min();
  constexpr int64_t hi = std::numeric_limits<int64_t>::max();
  const std::vector<std::string> b = EvenIntegerBounds(lo, hi, 4);
  EXPECT_EQ(b, (std::vector<std::string>{"-4611686018427387904", "0", "4611686018427387904"}));
}

TEST(HistogramSubset, InnerBoundsEvenlyChosen) {
  const std::vector<std::string> h = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
  // 8 buckets into 4 ranges: every second inner bound.
  EXPECT_EQ(HistogramSubset(h, 4), (std::vector<std::string>{"c", "e", "g"}));
  // More ranges than buckets: every inner bound once.
  EXPECT_EQ(HistogramSubset(h, 20), (std::vector<std::string>{"b", "c", "d", "e", "f", "g", "h"}));
}

TEST(HistogramSubset, TooShortOrRepeatedBounds) {
  EXPECT_TRUE(HistogramSubset(std::vector<std::string>{"a", "z"}, 4).empty());
  EXPECT_EQ(HistogramSubset(std::vector<std::string>{"a", "m", "m", "m", "z"}, 4),
            (std::vector<std::string>{"m"}));
}

KeySplit Split(std::vector<std::string> bounds, std::string type = "integer") {
  KeySplit s;
  s.column = "id";
  s.type = std::move(type);
  s.bounds = std::move(bounds);
  return s;
}

TEST(KeyRangeCondition, RangesPartitionTheKeyAtTheBounds) {
  const KeySplit s = Split({"10", "20"});
  ASSERT_EQ(s.ranges(), 3u);
  EXPECT_EQ(KeyRangeCondition(s, 0), "\"id\" < '10'::integer OR \"id\" IS NULL");
  EXPECT_EQ(KeyRangeCondition(s, 1), "\"id\" >= '10'::integer AND \"id\" < '20'::integer");
  EXPECT_EQ(KeyRangeCondition(s, 2), "\"id\" >= '20'::integer");
  EXPECT_EQ(KeyRangeCondition(Split({}), 0), "");
}

TEST(KeyRangeCondition, BoundsAreQuotedLiterals) {
  const KeySplit s = Split({"it's\\"}, "text");
  EXPECT_EQ(KeyRangeCondition(s, 1), "\"id\" >= E'it''s\\\\'::text");
}

TEST(RangeRead, ComposesWithTheRowFilterAndNamesTheRange) {
  TableRead read;
  read.qualified = "public.t";
  read.relation = "\"public\".\"t\"";
  read.select_list = {"\"id\""};
  read.row_filter = "id > 0";
  const TableRead r = RangeRead(read, Split({"10"}), 1);
  EXPECT_EQ(r.qualified, "public.t (range 2 of 2)");
  EXPECT_EQ(CopySql(r),
            "COPY (SELECT \"id\" FROM ONLY \"public\".\"t\" WHERE (\"id\" >= '10'::integer) AND "
            "(id > 0)) TO STDOUT");
  // One range: the read as it was (a plain COPY stays plain).
  TableRead plain = read;
  plain.row_filter.clear();
  EXPECT_EQ(CopySql(RangeRead(plain, Split({}), 0)), CopySql(plain));
}

TEST(WhyNotSplit, NeedsAKeyReadAsItsText) {
  TableSpec spec;
  spec.columns = {"id", "v"};
  spec.types = {"integer", "text"};
  EXPECT_EQ(WhyNotSplit(spec, {}), "no key");
  spec.key_positions = {0};
  EXPECT_EQ(WhyNotSplit(spec, {}), "");
  TypeChange widened;
  widened.change_class = TypeChangeClass::kExact;
  EXPECT_EQ(WhyNotSplit(spec, widened), "");
  TypeChange converted;
  converted.change_class = TypeChangeClass::kConversion;
  converted.rule = CompareRule::kAtTimeZone;
  EXPECT_EQ(WhyNotSplit(spec, converted),
            "its first key column id changes type on the target (conversion)");
}

TEST(PlanUnits, BiggestFirstEveryRangeOnce) {
  const std::vector<KeySplit> splits = {Split({}), Split({"1", "2", "3"}), Split({})};
  const std::vector<double> rows = {100, 1000, 300};
  const std::vector<ScanUnit> units = PlanUnits(splits, rows);
  ASSERT_EQ(units.size(), 6u);
  EXPECT_EQ(units[0].table, 2u);  // 300 rows whole
  for (size_t i = 1; i <= 4; ++i) {
    EXPECT_EQ(units[i].table, 1u);  // 250 rows each, in range order
    EXPECT_EQ(units[i].range, i - 1);
  }
  EXPECT_EQ(units[5].table, 0u);
}

}  // namespace
}  // namespace pgparity::applier
