// ProgressLine: the bar's text from the scans in progress.
#include "scan_progress_bar.h"

#include <gtest/gtest.h>

namespace pgparity::cli {
namespace {

TEST(ProgressLineTest, PercentRateAndEtaOfTheTablesBegun) {
  const std::vector<ScanState> active = {{"public.orders", 300000, 1000000},
                                         {"public.users", 100000, 200000}};
  // 200k rows done before, 600k now of 1.4M expected, in 2 s: 300k rows/s.
  const std::string line = ProgressLine("bootstrap", active, 200000, 3, 2.0, 200);
  EXPECT_EQ(line,
            "bootstrap: [########------------] 42% 600k/1.4M rows, 300k rows/s, ETA 3 s | 3 "
            "tables done, public.orders 30%, public.users 50%");
}

TEST(ProgressLineTest, UnknownEstimateShowsRowsAndRateOnly) {
  const std::string line = ProgressLine("full check", {{"public.t", 5000, 0}}, 0, 0, 1.0, 200);
  EXPECT_EQ(line, "full check: 5000 rows, 5000 rows/s | 0 tables done, public.t");
}

TEST(ProgressLineTest, CutToTheTerminalWidth) {
  const std::string line = ProgressLine("bootstrap", {{"public.t", 1, 10}}, 0, 0, 1.0, 20);
  EXPECT_EQ(line.size(), 20u);
}

}  // namespace
}  // namespace pgparity::cli
