// Pure: the row pacer reads at its rate on average, bursts at most its
// burst after a pause, and ends a sleep when a stop is requested.
#include "pgparity/applier/audit/row_pacer.h"

#include <gtest/gtest.h>

#include <thread>

namespace pgparity::applier {
namespace {

using std::chrono::steady_clock;

double SecondsToTake(RowPacer& pacer, int rows) {
  std::stop_source stop;
  const auto start = steady_clock::now();
  for (int i = 0; i < rows; ++i) EXPECT_TRUE(pacer.Take(stop.get_token()).ok());
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

TEST(RowPacerTest, ReadsAtItsRate) {
  RowPacer pacer(20000);
  // 10000 rows at 20000/s from an empty bucket: 0.5 s (sleeps are coarse
  // and late, never early).
  const double took = SecondsToTake(pacer, 10000);
  EXPECT_GE(took, 0.5 - 0.011);
  EXPECT_LT(took, 0.5 * 1.5);
}

TEST(RowPacerTest, AfterAPauseBurstsAtMostItsBurst) {
  RowPacer pacer(10000, std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // 0.5 s idle earns 0.1 s of rows (1000), not 5000: 3000 rows take 0.2 s.
  const double took = SecondsToTake(pacer, 3000);
  EXPECT_GE(took, 0.2 - 0.011);
  EXPECT_LT(took, 0.2 * 1.5 + 0.05);
}

TEST(RowPacerTest, AStopEndsTheSleep) {
  RowPacer pacer(1);  // one row a second
  std::stop_source stop;
  stop.request_stop();
  Status s = Status::OK();
  const auto start = steady_clock::now();
  for (int i = 0; i < 3 && s.ok(); ++i) s = pacer.Take(stop.get_token());
  EXPECT_FALSE(s.ok());
  EXPECT_LT(std::chrono::duration<double>(steady_clock::now() - start).count(), 0.5);
}

}  // namespace
}  // namespace pgparity::applier
