#include "pgparity/utc_time.h"

#include <gtest/gtest.h>

namespace pgparity {
namespace {

TEST(UtcTimeTest, SecondsAndMillis) {
  using namespace std::chrono;
  const system_clock::time_point t =
      system_clock::time_point(seconds(1796165332)) + milliseconds(7);  // 2026-12-01T22:48:52.007Z
  EXPECT_EQ(UtcSeconds(t), "2026-12-01T22:48:52Z");
  EXPECT_EQ(UtcMillis(t), "2026-12-01T22:48:52.007Z");
  EXPECT_EQ(UtcMillis(system_clock::time_point(milliseconds(-1))), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace pgparity
