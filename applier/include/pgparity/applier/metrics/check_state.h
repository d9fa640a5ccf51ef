// CheckState: what a running check (verify or audit) shows on its metrics
// endpoint (and its /healthz, /readyz probes), read through this interface
// so that metrics/ knows no check.
// CheckSession (session/) implements it; MetricsCollector (metrics/) reads
// it at every scrape. Part of metrics/: the arrow points from the session
// down to the metrics, never back.
//
// Thread-safety: both readers are called on the metrics server's thread
// while the check runs on others; implementations synchronise with their
// writers and return copies.
#ifndef PGPARITY_APPLIER_METRICS_CHECK_STATE_H_
#define PGPARITY_APPLIER_METRICS_CHECK_STATE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pgparity/applier/report/verify_report.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::applier {

// The shadow state and pgparity's own stream, as of one reading.
struct StreamFigures {
  struct Table {
    std::string name;  // schema.name
    ShadowState::OpCounts ops;
  };
  std::vector<Table> tables;  // in the shadow's order
  uint64_t transactions = 0;  // applied to the shadow
  uint64_t changes = 0;
  uint64_t tracked_rows = 0;
  uint64_t shadow_bytes = 0;
  wire::Lsn received;   // highest wal end seen (frames and keepalives)
  wire::Lsn processed;  // end of the last commit applied to the shadow
  wire::Lsn durable;    // what pgparity's slot is confirmed up to
};

// The checks so far.
struct CheckFigures {
  uint64_t full_checks = 0;                    // full checks that reached a verdict
  double last_check_unix = 0;                  // Unix time of the last verdict; 0: none yet
  uint64_t change_rows = 0;                    // rows compared by the per-change checks
  uint64_t change_divergent = 0;               // ... of them found divergent
  std::shared_ptr<const VerifyReport> report;  // the last verdict; null before the first
};

// Whether the loops are alive and have something to show: what /healthz
// and /readyz answer from (docs/cli.md, "Metrics").
struct Liveness {
  bool base_point = false;     // the shadow has one: bootstrap done or checkpoint loaded
  bool stream_ended = false;   // the consumer's thread returned
  std::string stream_error{};  // its error once ended with one; "" otherwise
  std::string check_error{};   // the last full check attempt's error; "" when it reached a
                               // verdict or is waiting for the target (or none ran yet)
};

class CheckState {
 public:
  virtual ~CheckState() = default;
  virtual StreamFigures ReadStream() const = 0;
  virtual CheckFigures ReadChecks() const = 0;
  // Cheap: no server is read (probes are asked every few seconds).
  virtual Liveness ReadLiveness() const = 0;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_METRICS_CHECK_STATE_H_
