// The live page served at / of `--metrics-listen`: applier/metrics/web/'s
// HTML, CSS and JS, compiled into the binary (metrics/web/embed.cmake
// generates their definition at configure time). Nothing of the page is
// fetched from elsewhere: it polls /status, /metrics and /readyz of the
// same server.
#ifndef PGPARITY_APPLIER_METRICS_WEB_ASSETS_H_
#define PGPARITY_APPLIER_METRICS_WEB_ASSETS_H_

#include <span>
#include <string_view>

namespace pgparity::applier {

struct WebAsset {
  std::string_view path;  // "/", "/style.css", "/app.js"
  std::string_view content_type;
  std::string_view body;
};

// Every file of the page, "/" (index.html) first.
std::span<const WebAsset> WebAssets();

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_METRICS_WEB_ASSETS_H_
