// A test's HTTP client: GET on 127.0.0.1, as Prometheus or a browser asks
// pgparity's metrics server (or Prometheus's API), and percent-encoding
// for the URLs and URIs tests build.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace pgparity::testing {

struct HttpReply {
  int status = 0;  // 0: no answer (`body` says why)
  std::string content_type;
  std::string content_security_policy;
  std::string body;
};

// GET http://127.0.0.1:<port><target>, at most 10 s; never throws.
HttpReply HttpRequest(int port, const std::string& target);
// The status and body of HttpRequest.
std::pair<int, std::string> HttpGet(int port, const std::string& target);

// "a b/c" -> "a%20b%2Fc": every byte but RFC 3986's unreserved ones escaped.
std::string PercentEncode(std::string_view text);

}  // namespace pgparity::testing
