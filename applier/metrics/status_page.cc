#include "pgparity/applier/metrics/status_page.h"

#include "pgparity/applier/metrics/web_assets.h"

namespace pgparity::applier {

namespace {

// The policy lets the browser load only this server's files and fetch only
// from it: nothing from elsewhere, no inline script.
HttpResponse Page(const WebAsset& asset) {
  return {200,
          std::string(asset.content_type),
          std::string(asset.body),
          {{"Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
           {"X-Content-Type-Options", "nosniff"},
           kNoStoreHeader}};
}

}  // namespace

std::optional<HttpResponse> WebAssetResponse(std::string_view path) {
  for (const WebAsset& asset : WebAssets()) {
    if (path == asset.path || (path == "/index.html" && asset.path == "/")) return Page(asset);
  }
  return std::nullopt;
}

void StatusPage::Publish(std::string json) {
  std::lock_guard lock(mu_);
  json_ = std::move(json);
}

HttpResponse StatusPage::Handle(std::string_view path) const {
  if (path == "/status") {
    std::lock_guard lock(mu_);
    return {200, "application/json", json_, {kNoStoreHeader}};
  }
  if (path == "/healthz" || path == "/readyz") {
    return {200, "text/plain; charset=utf-8", "ok\n", {kNoStoreHeader}};
  }
  if (auto asset = WebAssetResponse(path)) return std::move(*asset);
  return {404, "text/plain; charset=utf-8", "not found: try /, /status or /healthz\n"};
}

}  // namespace pgparity::applier
