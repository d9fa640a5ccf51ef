// RowPacer: a token bucket on rows read, so that a reader that takes one
// token per row reads `rate` rows per second on average: the rolling
// check's cap on what it reads from the target (audit --scan-rate). After
// a pause (a range's bracket, its comparison) the bucket holds at most
// `burst` worth of rows, so the long-run rate stays at the cap.
//
// Thread-compatible.
#ifndef PGPARITY_APPLIER_AUDIT_ROW_PACER_H_
#define PGPARITY_APPLIER_AUDIT_ROW_PACER_H_

#include <chrono>
#include <stop_token>

#include "pgparity/status.h"

namespace pgparity::applier {

class RowPacer {
 public:
  explicit RowPacer(double rows_per_second,
                    std::chrono::milliseconds burst = std::chrono::milliseconds(1000));

  // One row read: sleeps while the bucket is behind. Unavailable when a
  // stop is requested while it sleeps (the read ends at once).
  [[nodiscard]] Status Take(const std::stop_token& stop);

  double rate() const { return rate_; }

 private:
  double rate_;
  double capacity_;  // tokens, at most
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_AUDIT_ROW_PACER_H_
