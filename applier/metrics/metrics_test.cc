// The probes and the page, without a database: /healthz and /readyz for
// each state a check goes through (bootstrap, checking, a failed check,
// the stream ended), answered by the real server over a socket, and what /
// serves — HTML whose files come from this server only.
#include "pgparity/applier/metrics/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <regex>

#include "pgparity/applier/metrics/metrics_server.h"
#include "pgparity/applier/metrics/status_page.h"
#include "pgparity/applier/metrics/web_assets.h"
#include "support/http_get.h"

namespace pgparity::applier {
namespace {

// A check's state as the test sets it (the probes read nothing else).
class FixedState final : public CheckState {
 public:
  StreamFigures ReadStream() const override { return {}; }
  CheckFigures ReadChecks() const override { return {}; }
  Liveness ReadLiveness() const override {
    std::lock_guard lk(mu_);
    return liveness_;
  }
  void Set(Liveness l) {
    std::lock_guard lk(mu_);
    liveness_ = std::move(l);
  }

 private:
  mutable std::mutex mu_;
  Liveness liveness_;
};

// The metrics server's answer, headers included.
testing::HttpReply Get(uint16_t port, const std::string& path) {
  return testing::HttpRequest(port, path);
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = MetricsServer::Start(
        "127.0.0.1:0", [this](std::string_view path) { return collector_.Handle(path); });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }
  uint16_t port() const { return server_->port(); }

  FixedState state_;
  MetricsCollector collector_{state_, ScrapeTargets{}};
  std::unique_ptr<MetricsServer> server_;
};

TEST(ProbeRules, EachStateOfACheck) {
  Liveness bootstrapping;
  EXPECT_EQ(Unhealthy(bootstrapping), "");
  EXPECT_EQ(Unready(bootstrapping),
            "no base point yet: the bootstrap scan, or the load of a checkpoint, is running");

  Liveness checking{.base_point = true};
  EXPECT_EQ(Unhealthy(checking), "");
  EXPECT_EQ(Unready(checking), "");

  Liveness failed_check{.base_point = true, .check_error = "Unavailable: target went away"};
  EXPECT_EQ(Unhealthy(failed_check), "") << "a failed check is retried: the process lives";
  EXPECT_EQ(Unready(failed_check), "the last full check failed: Unavailable: target went away");

  Liveness broken{.base_point = true, .stream_ended = true, .stream_error = "IOError: slot lost"};
  EXPECT_EQ(Unhealthy(broken), "the replication stream ended: IOError: slot lost");
  EXPECT_EQ(Unready(broken), Unhealthy(broken));

  Liveness stopped{.base_point = true, .stream_ended = true};
  EXPECT_EQ(Unhealthy(stopped), "the replication stream stopped");
}

TEST_F(MetricsServerTest, ProbesFollowTheState) {
  testing::HttpReply h = Get(port(), "/healthz"), r = Get(port(), "/readyz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok\n");
  EXPECT_EQ(r.status, 503) << "no base point yet";
  EXPECT_EQ(r.body,
            "no base point yet: the bootstrap scan, or the load of a checkpoint, is running\n");

  state_.Set({.base_point = true});
  EXPECT_EQ(Get(port(), "/readyz").status, 200);
  EXPECT_EQ(Get(port(), "/readyz?verbose=1").body, "ok\n") << "the query string is ignored";

  state_.Set({.base_point = true, .check_error = "Unavailable: no route"});
  r = Get(port(), "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "the last full check failed: Unavailable: no route\n");
  EXPECT_EQ(Get(port(), "/healthz").status, 200);

  state_.Set({.base_point = true, .stream_ended = true, .stream_error = "IOError: slot gone"});
  h = Get(port(), "/healthz");
  EXPECT_EQ(h.status, 503);
  EXPECT_EQ(h.body, "the replication stream ended: IOError: slot gone\n");
  EXPECT_EQ(Get(port(), "/readyz").status, 503);
}

TEST_F(MetricsServerTest, RootServesThePageFromThisServerOnly) {
  const testing::HttpReply page = Get(port(), "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<!doctype html>"), std::string::npos);
  EXPECT_NE(page.body.find("id=\"verdict\""), std::string::npos);
  EXPECT_NE(page.content_security_policy.find("default-src 'none'"), std::string::npos)
      << "the browser enforces it";
  EXPECT_EQ(Get(port(), "/index.html").body, page.body);

  // Every file the page loads, and nothing else: the same server's
  // relative paths; no http(s):// anywhere (no CDN, font or image).
  const std::regex url(R"(https?://)", std::regex::icase);
  size_t served = 0;
  for (const WebAsset& asset : WebAssets()) {
    const testing::HttpReply r = Get(port(), std::string(asset.path));
    ASSERT_EQ(r.status, 200) << asset.path;
    EXPECT_EQ(r.content_type, asset.content_type);
    EXPECT_EQ(r.body, asset.body);
    EXPECT_FALSE(std::regex_search(r.body, url)) << asset.path << " names another server";
    if (asset.path != "/") {
      EXPECT_NE(page.body.find("\"" + std::string(asset.path.substr(1)) + "\""), std::string::npos)
          << "the page loads " << asset.path;
    }
    ++served;
  }
  EXPECT_EQ(served, 3u);
  EXPECT_EQ(Get(port(), "/favicon.ico").status, 404);
}

// Report values are data: the script puts them in the DOM as text only.
TEST(WebPage, ScriptBuildsNoHtmlFromStrings) {
  std::string_view script;
  for (const WebAsset& asset : WebAssets()) {
    if (asset.path == "/app.js") script = asset.body;
  }
  ASSERT_FALSE(script.empty());
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                           "eval(", "new Function"}) {
    EXPECT_EQ(script.find(sink), std::string_view::npos) << sink;
  }
  EXPECT_NE(script.find("textContent"), std::string_view::npos);
}

// A command that runs no check (cutover): /status is what it published
// last; the page's files are the same as a check's, with their policy.
TEST(StatusPage, AnswersThePublishedJsonAndThePage) {
  StatusPage page("{\"cutover\": {\"status\": \"running\"}}\n");
  EXPECT_EQ(page.Handle("/status").body, "{\"cutover\": {\"status\": \"running\"}}\n");
  page.Publish("{\"cutover\": {\"status\": \"switched\"}}\n");
  const HttpResponse status = page.Handle("/status");
  EXPECT_EQ(status.status, 200);
  EXPECT_EQ(status.content_type, "application/json");
  EXPECT_EQ(status.body, "{\"cutover\": {\"status\": \"switched\"}}\n");
  EXPECT_EQ(page.Handle("/healthz").status, 200);
  EXPECT_EQ(page.Handle("/metrics").status, 404);
  for (const WebAsset& asset : WebAssets()) {
    const HttpResponse r = page.Handle(asset.path);
    EXPECT_EQ(r.status, 200) << asset.path;
    EXPECT_EQ(r.body, asset.body) << asset.path;
    EXPECT_TRUE(std::any_of(r.headers.begin(), r.headers.end(), [](const auto& h) {
      return h.first == "Content-Security-Policy";
    })) << asset.path;
  }
  EXPECT_EQ(page.Handle("/index.html").body, WebAssetResponse("/")->body);
  EXPECT_FALSE(WebAssetResponse("/status").has_value());
}

}  // namespace
}  // namespace pgparity::applier
