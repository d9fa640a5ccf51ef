#include "pgparity/applier/scan/scan_display.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <mutex>

namespace pgparity::applier {

namespace {

using Clock = std::chrono::steady_clock;

class LogLines final : public ScanDisplay {
 public:
  void Begin(std::string_view what, const std::string& table, double estimated_rows) override {
    std::lock_guard lk(mu_);
    scans_[Key(what, table)] = {Clock::now(), Clock::now(), estimated_rows};
  }
  void Progress(std::string_view what, const std::string& table, uint64_t rows) override;
  void End(std::string_view what, const std::string& table, uint64_t rows, bool complete) override;

 private:
  struct Scan {
    Clock::time_point start, last_log;
    double estimated_rows = 0;
  };
  static std::string Key(std::string_view what, const std::string& table) {
    return std::string(what) + '\0' + table;
  }
  std::mutex mu_;
  std::map<std::string, Scan> scans_;
};

void LogLines::Progress(std::string_view what, const std::string& table, uint64_t rows) {
  std::lock_guard lk(mu_);
  Scan& s = scans_[Key(what, table)];
  const auto now = Clock::now();
  if (now - s.last_log < std::chrono::seconds(5)) return;
  s.last_log = now;
  const double rate = rows / std::chrono::duration<double>(now - s.start).count();
  if (s.estimated_rows > rows) {
    spdlog::info("{}: {} {} rows ({:.0f}%), {:.0f} rows/s, ETA {:.0f} s", what, table, rows,
                 100.0 * rows / s.estimated_rows, rate, (s.estimated_rows - rows) / rate);
  } else {
    spdlog::info("{}: {} {} rows, {:.0f} rows/s", what, table, rows, rate);
  }
}

void LogLines::End(std::string_view what, const std::string& table, uint64_t rows, bool complete) {
  std::lock_guard lk(mu_);
  auto it = scans_.find(Key(what, table));
  if (it == scans_.end()) return;
  const double secs = std::chrono::duration<double>(Clock::now() - it->second.start).count();
  if (complete && secs >= 5) {
    spdlog::info("{}: {} done, {} rows in {:.1f} s ({:.0f} rows/s)", what, table, rows, secs,
                 rows / secs);
  }
  scans_.erase(it);
}

class Silent final : public ScanDisplay {
 public:
  void Begin(std::string_view, const std::string&, double) override {}
  void Progress(std::string_view, const std::string&, uint64_t) override {}
  void End(std::string_view, const std::string&, uint64_t, bool) override {}
};

std::unique_ptr<ScanDisplay>& Installed() {
  static std::unique_ptr<ScanDisplay> display = MakeLogLinesDisplay();
  return display;
}

}  // namespace

ScanDisplay& CurrentScanDisplay() { return *Installed(); }
void SetScanDisplay(std::unique_ptr<ScanDisplay> display) { Installed() = std::move(display); }
std::unique_ptr<ScanDisplay> MakeLogLinesDisplay() { return std::make_unique<LogLines>(); }
std::unique_ptr<ScanDisplay> MakeSilentDisplay() { return std::make_unique<Silent>(); }

}  // namespace pgparity::applier
