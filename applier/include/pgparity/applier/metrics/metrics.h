// Metrics: what `--metrics-listen` serves while verify or audit runs.
// MetricsCollector renders, in the Prometheus text exposition format
// (version 0.0.4), the running check's state — read through CheckState
// (check_state.h): the shadow state, the stream positions, the full and
// per-change checks — and a few catalog queries on both servers made at
// scrape time (slot lag, retained WAL, the subscription's applied
// position); /status is the last report. docs/cli.md ("Metrics") lists
// every metric.
//
// It depends on no check: the session implements CheckState and owns the
// collector. Errors of the servers are figures (pgparity_scrape_errors),
// never failures of the scrape.
//
// Thread-safety: Handle() runs on the metrics server's thread only.
#ifndef PGPARITY_APPLIER_METRICS_METRICS_H_
#define PGPARITY_APPLIER_METRICS_METRICS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pgparity/applier/catalog/catalog.h"
#include "pgparity/applier/metrics/check_state.h"
#include "pgparity/applier/metrics/metrics_server.h"
#include "pgparity/conn/pg_handle.h"

namespace pgparity::applier {

// What one scrape read from the servers (metrics.cc).
struct ScrapedServers;

// The probes (docs/cli.md, "Metrics"): why /healthz, /readyz answer 503,
// "" when they answer 200 "ok".
// Unhealthy: pgparity's replication stream ended (with an error, or
// stopped: the process is on its way out).
std::string Unhealthy(const Liveness& l);
// Unready: unhealthy, or no base point yet (bootstrap running), or the
// last full check attempt failed (a verdict or a "not yet" clears it).
std::string Unready(const Liveness& l);

// The servers a scrape reads, and what it reads there.
struct ScrapeTargets {
  conn::ConnParams source;  // with the pinned formats
  conn::ConnParams target;
  std::string slot;  // pgparity's own
  SubscriptionInfo subscription;
};

class MetricsCollector {
 public:
  // `state` must outlive the collector.
  MetricsCollector(const CheckState& state, ScrapeTargets targets);
  ~MetricsCollector();

  // GET /metrics, /status, /healthz, /readyz, the page's files (/,
  // /index.html, /style.css, /app.js); 404 otherwise.
  HttpResponse Handle(std::string_view path);

 private:
  std::string RenderMetrics();
  // Connects when needed; a session whose query fails is dropped (and
  // reconnected at the next scrape).
  ScrapedServers ReadServers();
  // Changes per second since the previous scrape (0 on the first).
  double DecodeRate(uint64_t changes);

  const CheckState& state_;
  ScrapeTargets targets_;
  std::unique_ptr<conn::PgSession> source_, target_;
  std::chrono::steady_clock::time_point last_scrape_{};
  uint64_t changes_at_last_scrape_ = 0;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_METRICS_METRICS_H_
