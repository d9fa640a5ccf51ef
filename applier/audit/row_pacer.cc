#include "pgparity/applier/audit/row_pacer.h"

#include <algorithm>
#include <thread>

namespace pgparity::applier {

using std::chrono::steady_clock;

namespace {

// Sleeps only once this far behind: a sleep per row would cost more than
// the row at high rates.
constexpr std::chrono::milliseconds kSleepQuantum{10};
// A requested stop is seen within this.
constexpr std::chrono::milliseconds kStopPoll{100};

}  // namespace

RowPacer::RowPacer(double rows_per_second, std::chrono::milliseconds burst)
    : rate_(std::max(rows_per_second, 1.0)),
      capacity_(std::max(1.0, rate_ * std::chrono::duration<double>(burst).count())),
      tokens_(0),
      last_(steady_clock::now()) {}

Status RowPacer::Take(const std::stop_token& stop) {
  auto now = steady_clock::now();
  tokens_ =
      std::min(capacity_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
  last_ = now;
  tokens_ -= 1;
  const double behind = -tokens_ / rate_;  // seconds
  if (behind < std::chrono::duration<double>(kSleepQuantum).count()) return Status::OK();
  const auto until = now + std::chrono::duration_cast<steady_clock::duration>(
                               std::chrono::duration<double>(behind));
  while (now < until) {
    if (stop.stop_requested())
      return Status::Unavailable("stopping: the rolling check's read ends");
    std::this_thread::sleep_for(std::min<steady_clock::duration>(until - now, kStopPoll));
    now = steady_clock::now();
  }
  return Status::OK();
}

}  // namespace pgparity::applier
