// MetricsServer: a small HTTP/1.1 server (Boost.Beast over Boost.Asio) for
// `--metrics-listen HOST:PORT`: GET /metrics (Prometheus text format),
// /status (the current report as JSON), the /healthz and /readyz probes and
// the live page at /, answered by a handler.
//
// It runs its own io_context on its own thread rather than the consumer's:
// a scrape must be answered while the consumer is reconnecting to the
// source, held at a transaction boundary, or bootstrapping, when the
// consumer's loop does not run. Each request is answered and the
// connection closed (no keep-alive); requests are read with a 10 s limit.
//
// Thread-safety: the handler runs on the server's thread.
#ifndef PGPARITY_APPLIER_METRICS_METRICS_SERVER_H_
#define PGPARITY_APPLIER_METRICS_METRICS_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgparity/result.h"

namespace pgparity::applier {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {};  // more fields, e.g. CSP
};

// For answers that change from one request to the next (the probes, the
// report): no cache may keep them.
inline const std::pair<std::string, std::string> kNoStoreHeader{"Cache-Control", "no-store"};

class MetricsServer {
 public:
  using Handler = std::function<HttpResponse(std::string_view path)>;

  // Listens on `listen` ("HOST:PORT", "[::1]:PORT"; port 0 picks one).
  // InvalidArgument for a malformed address, FailedPrecondition when it
  // cannot listen (in use, not permitted). `paths`: what the handler
  // answers, for the log line.
  static Result<std::unique_ptr<MetricsServer>> Start(
      std::string_view listen, Handler handler,
      std::string_view paths = "/metrics, /status, /healthz, /readyz");
  ~MetricsServer();  // stops accepting and joins the thread
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  uint16_t port() const;

  struct Impl;

 private:
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_METRICS_METRICS_SERVER_H_
