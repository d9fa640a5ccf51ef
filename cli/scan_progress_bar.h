// What the table scans of verify and audit show (applier's ScanDisplay):
// a progress bar redrawn in place on stderr when it is a terminal — rows,
// rows/s, percent and ETA of the tables begun, the slowest tables —, plain
// log lines every few seconds when it is not (a log file, a pipe), nothing
// with --quiet. Log lines and the bar share stderr: the bar is cleared
// before a line is logged and redrawn after it.
#ifndef PGPARITY_CLI_SCAN_PROGRESS_BAR_H_
#define PGPARITY_CLI_SCAN_PROGRESS_BAR_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace pgparity::cli {

// Installs the display (and, for the bar, spdlog's default logger on the
// bar-aware sink). Call once, before the command scans anything.
void InstallScanDisplay(bool quiet);

// The bar's text for the scans in progress, at most `width` characters
// (pure: unit-tested). `done_rows` and `done_tables` are the finished ones.
struct ScanState {
  std::string table;
  uint64_t rows = 0;
  double estimated_rows = 0;  // 0: unknown
};
std::string ProgressLine(const std::string& what, const std::vector<ScanState>& active,
                         uint64_t done_rows, int done_tables, double seconds, size_t width);

}  // namespace pgparity::cli

#endif  // PGPARITY_CLI_SCAN_PROGRESS_BAR_H_
