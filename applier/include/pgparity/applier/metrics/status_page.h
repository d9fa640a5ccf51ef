// The live page for a command that runs no check (cutover's
// --metrics-listen): the page's files, and /status answering whatever JSON
// the command published last. WebAssetResponse is the one place that
// answers the page's files, for verify/audit's MetricsCollector too.
//
// Thread-safety: Publish from any thread (the cutover's); Handle on the
// metrics server's thread.
#ifndef PGPARITY_APPLIER_METRICS_STATUS_PAGE_H_
#define PGPARITY_APPLIER_METRICS_STATUS_PAGE_H_

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "pgparity/applier/metrics/metrics_server.h"

namespace pgparity::applier {

// GET of one of the page's files (/, /index.html, /style.css, /app.js),
// with its Content-Security-Policy; nullopt for any other path.
std::optional<HttpResponse> WebAssetResponse(std::string_view path);

class StatusPage {
 public:
  // `json`: what /status answers until the first Publish.
  explicit StatusPage(std::string json) : json_(std::move(json)) {}

  // /status answers `json` from now on.
  void Publish(std::string json);

  // GET /status, /healthz and /readyz (200 "ok": the command is running
  // while this is served), the page's files; 404 otherwise.
  HttpResponse Handle(std::string_view path) const;

 private:
  mutable std::mutex mu_;
  std::string json_;  // guarded by mu_
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_METRICS_STATUS_PAGE_H_
