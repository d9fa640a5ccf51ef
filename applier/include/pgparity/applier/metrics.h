// Metrics: what `--metrics-listen` serves while verify or audit runs.
// MetricsCollector gathers the figures — from the shadow state and the
// stream position (in memory), the last report, and a few catalog queries
// on both servers at scrape time (slot lag, retained WAL, the
// subscription's applied position) — and renders them in the Prometheus
// text exposition format (version 0.0.4); /status is the last report.
// docs/cli.md ("Metrics") lists every metric.
//
// Thread-safety: Handle() runs on the metrics server's thread; SetReport
// and AddChangeCheck may be called from any thread.
#ifndef PGPARITY_APPLIER_METRICS_H_
#define PGPARITY_APPLIER_METRICS_H_

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "pgparity/applier/catalog.h"
#include "pgparity/applier/metrics_server.h"
#include "pgparity/applier/shadow_state.h"
#include "pgparity/applier/target_checker.h"
#include "pgparity/applier/verify_report.h"
#include "pgparity/conn/pg_handle.h"

namespace pgparity::applier {

struct MetricsSources {
  ShadowState* shadow = nullptr;
  const StreamPosition* position = nullptr;
  // The position pgparity's slot is confirmed up to.
  std::function<wire::Lsn()> durable;
  conn::ConnParams source_params;
  conn::ConnParams target_params;
  std::string slot;  // pgparity's own
  SubscriptionInfo subscription;
};

class MetricsCollector {
 public:
  explicit MetricsCollector(MetricsSources sources);
  ~MetricsCollector();

  void SetReport(const VerifyReport& report);
  void AddChangeCheck(uint64_t rows_compared, uint64_t divergent_rows);

  // GET /metrics, /status; 404 otherwise.
  HttpResponse Handle(std::string_view path);

 private:
  std::string RenderMetrics();

  MetricsSources src_;
  std::mutex mu_;  // guards the report and the counters below
  std::optional<VerifyReport> report_;
  uint64_t full_checks_ = 0;
  double last_check_unix_ = 0;
  uint64_t change_rows_ = 0, change_divergent_ = 0;
  // Server thread only.
  std::unique_ptr<conn::PgSession> source_, target_;
  std::chrono::steady_clock::time_point last_scrape_{};
  uint64_t changes_at_last_scrape_ = 0;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_METRICS_H_
