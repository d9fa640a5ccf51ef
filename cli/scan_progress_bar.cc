#include "scan_progress_bar.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "pgparity/applier/scan/scan_display.h"

namespace pgparity::cli {

namespace {

using Clock = std::chrono::steady_clock;

// "1.2M", "310k", "950".
std::string Count(double n) {
  char buf[32];
  if (n >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  } else if (n >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.0fk", n / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", n);
  }
  return buf;
}

}  // namespace

std::string ProgressLine(const std::string& what, const std::vector<ScanState>& active,
                         uint64_t done_rows, int done_tables, double seconds, size_t width) {
  double rows = static_cast<double>(done_rows), expected = rows;
  bool estimable = true;
  for (const auto& s : active) {
    rows += static_cast<double>(s.rows);
    expected += std::max(static_cast<double>(s.rows), s.estimated_rows);
    estimable = estimable && s.estimated_rows > 0;
  }
  const double rate = seconds > 0 ? rows / seconds : 0;
  std::string line = what + ": ";
  if (estimable && expected > 0) {
    const double fraction = std::min(1.0, rows / expected);
    const int filled = static_cast<int>(fraction * 20);
    line += "[" + std::string(filled, '#') + std::string(20 - filled, '-') + "] " +
            std::to_string(static_cast<int>(fraction * 100)) + "% ";
  }
  line += Count(rows) + (estimable ? "/" + Count(expected) : std::string()) + " rows, " +
          Count(rate) + " rows/s";
  if (estimable && rate > 0 && expected > rows) {
    line += ", ETA " + std::to_string(static_cast<int>((expected - rows) / rate + 0.5)) + " s";
  }
  line += " | " + std::to_string(done_tables) + " tables done";
  for (const auto& s : active) {
    line += ", " + s.table;
    if (s.estimated_rows > 0) {
      line += " " +
              std::to_string(static_cast<int>(
                  100 * std::min(1.0, static_cast<double>(s.rows) / s.estimated_rows))) +
              "%";
    }
  }
  if (line.size() > width) line.resize(width);
  return line;
}

namespace {

class Bar final : public applier::ScanDisplay {
 public:
  void Begin(std::string_view what, const std::string& table, double estimated_rows) override {
    std::lock_guard lk(mu_);
    // A new count when another kind of scan starts, or the same kind after
    // a pause (the next full check); not between two tables of one scan.
    if (active_.empty() && (what_ != what || Clock::now() - ended_at_ > std::chrono::seconds(2))) {
      Restart(what);
    }
    active_[table] = {table, 0, estimated_rows};
    DrawLocked(true);
  }
  void Progress(std::string_view, const std::string& table, uint64_t rows) override {
    std::lock_guard lk(mu_);
    active_[table].rows = rows;
    DrawLocked(false);
  }
  void End(std::string_view, const std::string& table, uint64_t rows, bool) override {
    std::lock_guard lk(mu_);
    active_.erase(table);
    done_rows_ += rows;
    ++done_tables_;
    if (active_.empty()) {
      ClearLocked();
      ended_at_ = Clock::now();
    } else {
      DrawLocked(true);
    }
  }
  // Around a log line: the bar off, then on again.
  void Clear() {
    std::lock_guard lk(mu_);
    ClearLocked();
  }
  void Redraw() {
    std::lock_guard lk(mu_);
    if (!active_.empty()) DrawLocked(true);
  }

 private:
  void Restart(std::string_view what) {
    what_ = std::string(what);
    done_rows_ = 0;
    done_tables_ = 0;
    start_ = Clock::now();
  }
  void DrawLocked(bool now) {
    const auto t = Clock::now();
    if (!now && t - drawn_at_ < std::chrono::milliseconds(100)) return;
    drawn_at_ = t;
    std::vector<ScanState> active;
    for (const auto& [table, s] : active_) active.push_back(s);
    const std::string line =
        ProgressLine(what_, active, done_rows_, done_tables_,
                     std::chrono::duration<double>(t - start_).count(), Width());
    std::fprintf(stderr, "\r\x1b[2K%s", line.c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  void ClearLocked() {
    if (!shown_) return;
    std::fputs("\r\x1b[2K", stderr);
    std::fflush(stderr);
    shown_ = false;
  }
  static size_t Width() {
    winsize w{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 10) return w.ws_col - 1;
    return 79;
  }

  std::mutex mu_;
  std::string what_;
  std::map<std::string, ScanState> active_;
  uint64_t done_rows_ = 0;
  int done_tables_ = 0;
  Clock::time_point start_ = Clock::now(), drawn_at_, ended_at_;
  bool shown_ = false;
};

// spdlog's stderr sink behind the bar: a log line never lands in the middle
// of the bar's line.
class BarAwareSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit BarAwareSink(Bar& bar)
      : bar_(bar), inner_(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    bar_.Clear();
    inner_->log(msg);
    bar_.Redraw();
  }
  void flush_() override { inner_->flush(); }
  void set_pattern_(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> f) override {
    inner_->set_formatter(std::move(f));
  }

 private:
  Bar& bar_;
  std::shared_ptr<spdlog::sinks::stderr_color_sink_mt> inner_;
};

}  // namespace

void InstallScanDisplay(bool quiet) {
  if (quiet) return applier::SetScanDisplay(applier::MakeSilentDisplay());
  if (!isatty(STDERR_FILENO)) return;  // the plain lines, the default
  auto bar = std::make_unique<Bar>();
  auto sink = std::make_shared<BarAwareSink>(*bar);
  auto logger = std::make_shared<spdlog::logger>("pgparity", sink);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  logger->set_level(spdlog::default_logger()->level());
  applier::SetScanDisplay(std::move(bar));  // lives as long as the process
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace pgparity::cli
