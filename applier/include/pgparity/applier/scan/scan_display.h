// How the long table scans show their progress. The bootstrap's and the
// full checks' scans report to one process-wide ScanDisplay, as spdlog's
// default logger is process-wide: what to show is the command line's choice
// (a progress bar on a terminal, plain lines in a log file or a pipe,
// nothing with --quiet), not the scan's.
//
// Thread-safety: Begin/Progress/End are called from every scanning thread at
// once; an implementation serializes itself. SetScanDisplay must be called
// before any scan starts.
#ifndef PGPARITY_APPLIER_SCAN_SCAN_DISPLAY_H_
#define PGPARITY_APPLIER_SCAN_SCAN_DISPLAY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace pgparity::applier {

class ScanDisplay {
 public:
  virtual ~ScanDisplay() = default;
  // A scan of `table` ("public.users") for `what` ("bootstrap", "full
  // check") begins; `estimated_rows` from pg_class.reltuples, 0 if unknown.
  virtual void Begin(std::string_view what, const std::string& table, double estimated_rows) = 0;
  // `rows` scanned so far; called every kProgressRows rows.
  virtual void Progress(std::string_view what, const std::string& table, uint64_t rows) = 0;
  // The scan ended: all rows read (`complete`), or stopped by an error.
  virtual void End(std::string_view what, const std::string& table, uint64_t rows,
                   bool complete) = 0;

  static constexpr uint64_t kProgressRows = 4096;
};

// The display scans report to (the plain lines unless replaced).
ScanDisplay& CurrentScanDisplay();
void SetScanDisplay(std::unique_ptr<ScanDisplay> display);

// A log line every 5 s of a scan that runs longer ("bootstrap: public.t
// 1200000 rows (40%), 310000 rows/s, ETA 6 s") and one when it ends.
std::unique_ptr<ScanDisplay> MakeLogLinesDisplay();
// Nothing (--quiet).
std::unique_ptr<ScanDisplay> MakeSilentDisplay();

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SCAN_SCAN_DISPLAY_H_
