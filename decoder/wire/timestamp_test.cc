#include "pgparity/wire/timestamp.h"

#include <gtest/gtest.h>

#include <limits>

namespace pgparity::wire {
namespace {

TEST(TimestampTest, PostgresEpochIs2000) {
  EXPECT_EQ(Timestamp(0).ToIso8601(), "2000-01-01T00:00:00.000000Z");
  EXPECT_EQ(*Timestamp(0).ToUnixMicros(), 946'684'800'000'000);
  EXPECT_EQ(Timestamp::FromUnixMicros(0)->pg_micros(), -946'684'800'000'000);
  EXPECT_EQ(Timestamp::FromUnixMicros(0)->ToIso8601(), "1970-01-01T00:00:00.000000Z");
}

TEST(TimestampTest, Iso8601) {
  // 2024-05-04T07:37:36.789012Z, checked with PostgreSQL:
  // SELECT '2000-01-01 UTC'::timestamptz + 768123456789012 * interval '1 us';
  EXPECT_EQ(Timestamp(768'123'456'789'012).ToIso8601(), "2024-05-04T07:37:36.789012Z");
  EXPECT_EQ(Timestamp(-1).ToIso8601(), "1999-12-31T23:59:59.999999Z");
  EXPECT_EQ(Timestamp(59 * 86'400'000'000LL).ToIso8601(), "2000-02-29T00:00:00.000000Z");
  EXPECT_EQ(Timestamp(366 * 86'400'000'000LL).ToIso8601(), "2001-01-01T00:00:00.000000Z");
  EXPECT_EQ(Timestamp::Infinity().ToIso8601(), "infinity");
  EXPECT_EQ(Timestamp::MinusInfinity().ToIso8601(), "-infinity");
}

TEST(TimestampTest, ExtremeValuesPrintWithoutOverflow) {
  const std::string max = Timestamp(std::numeric_limits<int64_t>::max() - 1).ToIso8601();
  EXPECT_EQ(max.substr(0, 8), "+294277-");
  const std::string min = Timestamp(std::numeric_limits<int64_t>::min() + 1).ToIso8601();
  EXPECT_EQ(min.substr(0, 8), "-290278-");
}

TEST(TimestampTest, UnixRoundTrip) {
  for (int64_t unix_micros : {int64_t{0}, int64_t{1'700'000'000'123'456}, int64_t{-1}}) {
    Result<Timestamp> ts = Timestamp::FromUnixMicros(unix_micros);
    ASSERT_TRUE(ts.ok());
    EXPECT_EQ(*ts->ToUnixMicros(), unix_micros);
  }
}

TEST(TimestampTest, OutOfRangeConversionsFail) {
  EXPECT_FALSE(Timestamp::Infinity().ToUnixMicros().ok());
  EXPECT_FALSE(Timestamp::MinusInfinity().ToUnixMicros().ok());
  EXPECT_FALSE(Timestamp(std::numeric_limits<int64_t>::max() - 1).ToUnixMicros().ok());
  EXPECT_FALSE(Timestamp::FromUnixMicros(std::numeric_limits<int64_t>::min()).ok());
  EXPECT_TRUE(Timestamp::FromUnixMicros(std::numeric_limits<int64_t>::max()).ok());
}

TEST(TimestampTest, Compares) {
  EXPECT_LT(Timestamp(1), Timestamp(2));
  EXPECT_EQ(Timestamp(5), Timestamp(5));
}

}  // namespace
}  // namespace pgparity::wire
