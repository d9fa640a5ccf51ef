// The live page of `pgparity audit --metrics-listen` in a real browser
// (Debian's chromium, headless) against a real audit of a PostgreSQL
// 14 -> 16 pair under pgbench load: the page renders the verdict and the
// table grid; a row changed on the target behind the subscription's back
// shows on the page, by key and with its values, within two check
// intervals. The probes /healthz and /readyz are checked on the way.
// Screenshots of each state, at 1280x900 and at a phone's 390x844, are
// kept in the build directory (WEB_PAGE_ARTIFACTS, printed).
//
// A cutover's phases on the same page (WebPageCutoverTest): `pgparity
// cutover --metrics-listen` serving /status and the page while a phase
// runs; applier::RunCutover held before "drain" while the browser reads
// the page: fence ok, drain running, then switched with the canary's
// numbers. Its own 14 -> 16 pair behind a real PgBouncer (the switch
// leaves the source read-only).
//
// Skipped, saying so, when chromium (or, for the cutover, pgbouncer) is
// not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "pgparity/applier/cutover/cutover.h"
#include "pgparity/applier/metrics/status_page.h"
#include "pgparity/conn/connect.h"
#include "pgparity/contains.h"
#include "support/http_get.h"
#include "support/migration_env.h"
#include "support/pgbouncer.h"
#include "verify/verify_test_env.h"

namespace pgparity::applier {
namespace {

using testing::HttpGet;

// 1124 -> "1,124", as the page's fmtInt (en-US grouping) shows a count.
std::string Grouped(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr int kIntervalSeconds = 2;

// Debian names it chromium; other distributions chromium-browser.
std::string FindChromium() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    std::string out;
    if (RunCommand(std::string("command -v ") + name, &out) == 0) {
      return out.substr(0, out.find('\n'));
    }
  }
  return "";
}

constexpr const char* kNoChromium =
    "chromium is not installed (apt-get install chromium): the live page is not tested in a "
    "browser";

// Headless chromium on the page at a URL, with its own profile directory.
struct Chromium {
  std::string binary;
  fs::path profile, artifacts;

  // The page after its script ran (~3 polls of virtual time), as the
  // browser's DOM.
  std::string Dom(const std::string& url) const {
    std::string out;
    const int rc =
        RunCommand("timeout 60 " + Command() + " --virtual-time-budget=6000 --dump-dom " +
                       ShellQuote(url) + " 2>/dev/null",
                   &out);
    EXPECT_EQ(rc, 0) << out;
    return out;
  }
  // A PNG of the page at width x height (CSS pixels); returns its path.
  fs::path Screenshot(const std::string& url, const std::string& name, int width,
                      int height) const {
    const fs::path png = artifacts / (name + ".png");
    std::string out;
    const int rc =
        RunCommand("timeout 60 " + Command() + " --virtual-time-budget=6000 " +
                       "--hide-scrollbars --window-size=" + std::to_string(width) + "," +
                       std::to_string(height) + " --screenshot=" + ShellQuote(png.string()) + " " +
                       ShellQuote(url) + " 2>&1",
                   &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_TRUE(fs::exists(png) && fs::file_size(png) > 10000) << png << ": " << out;
    std::cout << "screenshot: " << png.string() << "\n";
    return png;
  }
  std::string Command() const {
    return ShellQuote(binary) +
           " --headless=new --disable-gpu --no-sandbox --no-first-run --user-data-dir=" +
           ShellQuote(profile.string());
  }
};

class WebPageTest : public VerifyFixture {
 protected:
  // No browser, no servers started.
  static void SetUpTestSuite() {
    if (FindChromium().empty()) GTEST_SKIP() << kNoChromium;
    fs::create_directories(WEB_PAGE_ARTIFACTS);  // each file replaced by its test
    VerifyFixture::SetUpTestSuite();
  }
  void SetUp() override {
    chromium_ = FindChromium();
    if (chromium_.empty()) GTEST_SKIP() << kNoChromium;
    artifacts_ = WEB_PAGE_ARTIFACTS;
    state_ = servers().source.dir() / "web-audit";
    fs::remove_all(state_);
    profile_ = servers().source.dir() / "chromium-profile";
    browser_ = {chromium_, profile_, artifacts_};
  }
  void TearDown() override {
    audit_.reset();
    if (chromium_.empty()) return;
    SqlClient(servers().source.Dsn())
        .Exec(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            "WHERE slot_name = 'pgparity_audit' AND NOT active");
  }

  void StartAudit() {
    port_ = testing::FreePort();
    audit_ = std::make_unique<Subprocess>(
        std::vector<std::string>{PGPARITY_BINARY, "audit", "--source", Dsn(servers().source),
                                 "--target", Dsn(servers().target), "--state-dir", state_.string(),
                                 "--interval", std::to_string(kIntervalSeconds),
                                 "--checkpoint-interval", "1", "--metrics-listen",
                                 "127.0.0.1:" + std::to_string(port_)},
        state_.string() + ".log");
  }
  std::string Log() const { return testing::ReadFile(state_.string() + ".log"); }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

  // Polls `path` until `ok(code, body)`; fails the test with the last
  // answer and the audit's log after `timeout`.
  bool WaitForHttp(const std::string& path, const std::function<bool(int, const json&)>& ok,
                   seconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    std::pair<int, std::string> last;
    while (steady_clock::now() < deadline) {
      last = HttpGet(port_, path);
      if (ok(last.first, json::parse(last.second, nullptr, false))) return true;
      if (!audit_->Running()) break;
      std::this_thread::sleep_for(milliseconds(200));
    }
    ADD_FAILURE() << path << ": last answer " << last.first << " " << last.second
                  << "\nlog: " << Log();
    return false;
  }

  std::string Dom() { return browser_.Dom(Url()); }
  fs::path Screenshot(const std::string& name, int width, int height) {
    return browser_.Screenshot(Url(), name, width, height);
  }
  std::string chromium_;
  fs::path artifacts_, state_, profile_;
  Chromium browser_;
  int port_ = 0;
  std::unique_ptr<Subprocess> audit_;
};

TEST_F(WebPageTest, ShowsTheVerdictTheTablesAndAnInjectedDivergentRow) {
  auto load = StartLoad();
  StartAudit();
  // Alive at once; ready once the bootstrap gave the shadow its base point.
  ASSERT_TRUE(WaitForHttp(
      "/healthz", [](int code, const json&) { return code == 200; }, seconds(30)));
  ASSERT_TRUE(WaitForHttp(
      "/readyz", [](int code, const json&) { return code == 200; }, seconds(120)));
  json report;
  ASSERT_TRUE(WaitForHttp(
      "/status",
      [&](int code, const json& r) {
        report = r;
        return code == 200 && r.is_object() && r["status"] == "consistent";
      },
      seconds(60)));

  // The verdict, large, and one grid row per published table.
  std::string dom = Dom();
  EXPECT_TRUE(Contains(dom, "data-status=\"consistent\">consistent</div>")) << dom;
  ASSERT_TRUE(report["tables"].is_array());
  EXPECT_EQ(report["tables"].size(), 7u);
  for (const auto& t : report["tables"]) {
    const std::string name = t["table"];
    EXPECT_TRUE(Contains(dom, "<tr data-table=\"" + name + "\">")) << name << "\n" << dom;
  }
  EXPECT_TRUE(Contains(dom, ">public.pgbench_accounts</td>"));
  EXPECT_TRUE(Contains(dom, "<span class=\"pill match\">match</span>"));
  EXPECT_TRUE(Contains(dom, "<div id=\"divergent\"><p class=\"empty\">none</p></div>")) << dom;
  // The slots' retained WAL, from /metrics.
  EXPECT_TRUE(Contains(dom, "<td class=\"mono\">pgparity_audit</td>")) << dom;
  EXPECT_TRUE(Contains(dom, "<td class=\"mono\">my_subscription</td>")) << dom;
  Screenshot("consistent-1280", 1280, 900);
  Screenshot("consistent-phone", 390, 844);

  // A row changed on the target as replication never would: the page must
  // show it, by key and with both values, within two check intervals.
  SqlClient target(servers().target.Dsn());
  target.Exec(
      "SET session_replication_role = replica;"
      "UPDATE users SET email = 'changed-on-target@example.invalid' WHERE id = 2");
  const auto injected = steady_clock::now();
  const auto limit = seconds(2 * kIntervalSeconds);
  // Beyond the two intervals: one check's own time and one browser start.
  const auto deadline = injected + limit + seconds(8);
  bool shown = false;
  while (!shown && steady_clock::now() < deadline) {
    dom = Dom();
    shown = Contains(dom, "data-status=\"divergent\">divergent</div>") &&
            Contains(dom, "<span class=\"row-key mono\">id=2</span>") &&
            Contains(dom, ">changed-on-target@example.invalid</td>") &&
            Contains(dom, ">bob@example.com</td>");
  }
  const double took = std::chrono::duration<double>(steady_clock::now() - injected).count();
  std::cout << "divergent row on the page " << took << " s after the UPDATE (interval "
            << kIntervalSeconds << " s)\n";
  ASSERT_TRUE(shown) << "not on the page after " << took << " s:\n" << dom << "\nlog: " << Log();
  EXPECT_TRUE(Contains(dom,
                       "<tr data-table=\"public.users\"><td class=\"mono\">public.users</td>"
                       "<td><span class=\"pill mismatch\">mismatch</span>"))
      << dom;
  EXPECT_TRUE(Contains(dom, "columns: email")) << dom;
  Screenshot("divergent-1280", 1280, 900);
  Screenshot("divergent-phone", 390, 844);

  // For docs/img/audit-page.png: keep the audit and the divergence running
  // while applier/metrics/web/screenshot.mjs photographs the page with
  // real chart history.
  if (const char* hold = std::getenv("WEB_PAGE_HOLD_SECONDS")) {
    std::cout << "holding " << hold << " s at " << Url() << std::endl;
    std::this_thread::sleep_for(seconds(std::atoi(hold)));
  }

  // Still alive and ready: a divergence is a verdict, not a failure.
  EXPECT_EQ(HttpGet(port_, "/healthz").first, 200);
  EXPECT_EQ(HttpGet(port_, "/readyz").first, 200);

  target.Exec(
      "SET session_replication_role = replica;"
      "UPDATE users SET email = 'bob@example.com' WHERE id = 2");
  audit_->Signal(SIGTERM);
  const auto exit = audit_->Wait(milliseconds(20000));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(*exit, 0) << Log();
}

// The probes of a real audit whose target goes away and comes back: alive
// throughout; not ready while its full checks fail (and the page says so),
// ready again after the next one.
TEST_F(WebPageTest, ReadyzFollowsTheFullChecksAndThePageShowsIt) {
  StartAudit();
  ASSERT_TRUE(WaitForHttp(
      "/status",
      [](int code, const json& r) {
        return code == 200 && r.is_object() && r["status"] == "consistent";
      },
      seconds(120)));
  ASSERT_EQ(HttpGet(port_, "/readyz").first, 200);

  // From another database: targetdb's own sessions cannot close it.
  SqlClient admin(servers().target.Dsn("postgres"));
  const auto allow = [&admin](bool on) {
    admin.Exec(std::string("ALTER DATABASE targetdb ALLOW_CONNECTIONS ") + (on ? "true" : "false"));
  };
  struct Reopen {  // whatever happens below, the next test finds targetdb open
    std::function<void(bool)> allow;
    ~Reopen() { allow(true); }
  } reopen{allow};
  allow(false);
  admin.Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE application_name = 'pgparity audit' AND datname = 'targetdb'");
  std::string why;
  const bool unready = WaitForHttp(
      "/readyz",
      [&](int code, const json&) {
        why = HttpGet(port_, "/readyz").second;
        return code == 503 && why.starts_with("the last full check failed: ");
      },
      seconds(30));
  EXPECT_EQ(HttpGet(port_, "/healthz").first, 200) << "a failing check is retried, not fatal";
  if (unready) {
    const std::string dom = Dom();
    EXPECT_TRUE(Contains(dom, "class=\"banner\">not ready: the last full check failed: ")) << dom;
    EXPECT_TRUE(Contains(dom, "data-status=\"consistent\">consistent</div>"))
        << "the last verdict stays on the page";
    Screenshot("not-ready-1280", 1280, 900);
  }
  allow(true);
  EXPECT_TRUE(WaitForHttp(
      "/readyz", [](int code, const json&) { return code == 200; }, seconds(30)));
  audit_->Signal(SIGTERM);
  const auto exit = audit_->Wait(milliseconds(20000));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(*exit, 0) << Log();
}

// ---- A cutover's phases on the page. ----

conn::ConnParams Params(const std::string& dsn) {
  Result<conn::ConnParams> p = conn::ParseServerDsn(dsn, "dsn", "cutover");
  if (!p.ok()) throw std::runtime_error(p.status().ToString());
  return *p;
}

// The pair with the canary's table on both sides, the quick start's
// subscription, and PgBouncer in front of the source with its [databases]
// in a file of its own (as tests/cutover_test.cc sets it up).
class WebPageCutoverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (FindChromium().empty() || !testing::PgBouncer::Available()) return;
    fs::create_directories(WEB_PAGE_ARTIFACTS);
    try {
      env_ = std::make_unique<testing::CutoverPair>();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { env_.reset(); }
  void SetUp() override {
    const std::string chromium = FindChromium();
    if (chromium.empty()) GTEST_SKIP() << kNoChromium;
    if (!testing::PgBouncer::Available()) GTEST_SKIP() << "no pgbouncer on PATH";
    if (!setup_error_.empty()) GTEST_FAIL() << "setting up the pair: " << setup_error_;
    browser_ = {chromium, env_->servers.source.dir() / "chromium-profile", WEB_PAGE_ARTIFACTS};
  }

  static const testing::PgServer& source() { return env_->servers.source; }
  static const testing::PgServer& target() { return env_->servers.target; }
  static const testing::PgBouncer& bouncer() { return *env_->bouncer; }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

  // /status's "cutover" once `ok` holds for it; null after `timeout`.
  json WaitForCutover(const std::function<bool(const json&)>& ok, seconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    json last;
    while (steady_clock::now() < deadline) {
      const auto [code, body] = HttpGet(port_, "/status");
      last = json::parse(body, nullptr, false);
      if (code == 200 && last.is_object() && last["cutover"].is_object() && ok(last["cutover"])) {
        return last["cutover"];
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    ADD_FAILURE() << "/status: last answer " << last.dump();
    return nullptr;
  }

  static inline std::unique_ptr<testing::CutoverPair> env_;
  static inline std::string setup_error_;
  Chromium browser_;
  int port_ = 0;
};

bool PhaseRow(const std::string& dom, const std::string& phase, const std::string& shown,
              const std::string& kind) {
  return Contains(dom, "<tr data-phase=\"" + phase + "\"><td class=\"mono\">" + phase +
                           "</td><td><span class=\"pill " + kind + "\">" + shown + "</span>");
}

// The CLI's --metrics-listen: /status and the page while catch_up waits
// for a subscription held behind a lock on the target, then the abort.
// The pair is left as it was: caught up, PgBouncer on the source.
TEST_F(WebPageCutoverTest, CliServesThePhasesWhileTheCutoverRuns) {
  SqlClient blocker(target().Dsn());
  blocker.Exec("BEGIN; LOCK TABLE orders IN SHARE MODE");
  SqlClient(source().Dsn())
      .Exec(
          "INSERT INTO orders (user_id, product_name, quantity, price) VALUES (1, 'page-lag', 1, "
          "1)");
  port_ = testing::FreePort();
  const fs::path log = source().dir() / "cutover-cli.log";
  Subprocess cli({PGPARITY_BINARY, "cutover", "--source", source().Dsn(), "--target",
                  target().Dsn(), "--pgbouncer", bouncer().AdminDsn(), "--pgbouncer-config",
                  bouncer().databases_file().string(), "--max-lag", "0", "--timeout", "12",
                  "--metrics-listen", "127.0.0.1:" + std::to_string(port_)},
                 log);
  const json c =
      WaitForCutover([](const json& c) { return c["current_phase"] == "catch_up"; }, seconds(30));
  ASSERT_FALSE(c.is_null()) << testing::ReadFile(log);
  EXPECT_EQ(c["status"], "running");
  ASSERT_EQ(c["phases"].size(), 1u) << c.dump();
  EXPECT_EQ(c["phases"][0]["name"], "gates");
  EXPECT_EQ(c["phases"][0]["outcome"], "ok");
  EXPECT_EQ(HttpGet(port_, "/healthz").first, 200);
  EXPECT_EQ(HttpGet(port_, "/app.js").first, 200);
  EXPECT_EQ(HttpGet(port_, "/metrics").first, 404);

  const std::string dom = browser_.Dom(Url());
  EXPECT_TRUE(Contains(dom, "data-status=\"running\">running</div>")) << dom;
  EXPECT_TRUE(PhaseRow(dom, "gates", "ok", "yes")) << dom;
  EXPECT_TRUE(PhaseRow(dom, "catch_up", "running", "running")) << dom;
  EXPECT_TRUE(PhaseRow(dom, "fence", "pending", "pending")) << dom;
  EXPECT_TRUE(Contains(dom, "<body data-mode=\"cutover\">")) << dom;

  const auto exit = cli.Wait(milliseconds(60000));
  blocker.Exec("ROLLBACK");
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(*exit, 4) << "a catch-up timeout: " << testing::ReadFile(log);
  EXPECT_NE(testing::ReadFile(log).find("cutover: aborted in catch_up"), std::string::npos)
      << testing::ReadFile(log);
  SqlClient source_db(source().Dsn());
  testing::WaitForCatchUp(source_db, "my_subscription", seconds(30));
}

// A port already taken: a one-line usage error before anything is touched.
TEST_F(WebPageCutoverTest, CliMetricsListenInUseIsAUsageError) {
  port_ = testing::FreePort();
  StatusPage page("{}");
  auto server = MetricsServer::Start("127.0.0.1:" + std::to_string(port_),
                                     [&](std::string_view path) { return page.Handle(path); });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::string out;
  const int rc =
      RunCommand(ShellQuote(PGPARITY_BINARY) + " cutover --source " + ShellQuote(source().Dsn()) +
                     " --target " + ShellQuote(target().Dsn()) + " --pgbouncer " +
                     ShellQuote(bouncer().AdminDsn()) + " --pgbouncer-config " +
                     ShellQuote(bouncer().databases_file().string()) +
                     " --metrics-listen 127.0.0.1:" + std::to_string(port_) + " 2>&1",
                 &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("--metrics-listen"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

// The library's on_update on the page, held before "drain" while the
// browser reads it: fence ok, drain running, the window open; then the
// switch, with the canary's numbers.
TEST_F(WebPageCutoverTest, ShowsFenceOkDrainRunningThenSwitched) {
  StatusPage page("{\"cutover\": " + CutoverReportJson(CutoverReport{}) + "}\n");
  auto server =
      MetricsServer::Start("127.0.0.1:0", [&](std::string_view path) { return page.Handle(path); });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  port_ = (*server)->port();
  const auto publish = [&page](const CutoverReport& r) {
    page.Publish("{\"cutover\": " + CutoverReportJson(r) + "}\n");
  };

  CutoverOptions o;
  o.source = Params(source().Dsn());
  o.target = Params(target().Dsn());
  o.pgbouncer = Params(bouncer().AdminDsn());
  o.pgbouncer_config = bouncer().databases_file().string();
  o.timeout = seconds(60);
  o.canary = Params(bouncer().Dsn());
  o.on_update = publish;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  o.before_phase = [&](std::string_view phase) {
    if (phase != "drain") return Status::OK();
    std::unique_lock lock(mu);
    cv.wait_for(lock, seconds(60), [&] { return release; });  // the browser reads the page
    return Status::OK();
  };
  const auto let_go = [&] {
    std::lock_guard lock(mu);
    release = true;
    cv.notify_all();
  };
  std::optional<Result<CutoverReport>> result;
  std::thread run([&] { result.emplace(RunCutover(o)); });
  struct Join {  // whatever fails below, the cutover goes on and ends
    std::function<void()> let_go;
    std::thread& run;
    ~Join() {
      let_go();
      if (run.joinable()) run.join();
    }
  } join{let_go, run};

  const json held =
      WaitForCutover([](const json& c) { return c["current_phase"] == "drain"; }, seconds(120));
  ASSERT_FALSE(held.is_null());
  EXPECT_EQ(held["status"], "running");
  EXPECT_FALSE(held["fence_lsn"].get<std::string>().empty());
  std::string dom = browser_.Dom(Url());
  EXPECT_TRUE(Contains(dom, "data-status=\"running\">running</div>")) << dom;
  for (const char* done : {"gates", "catch_up", "pre_check", "fence"}) {
    EXPECT_TRUE(PhaseRow(dom, done, "ok", "yes")) << done << "\n" << dom;
  }
  EXPECT_TRUE(PhaseRow(dom, "drain", "running", "running")) << dom;
  EXPECT_TRUE(PhaseRow(dom, "switch", "pending", "pending")) << dom;
  EXPECT_TRUE(Contains(dom, "<dd class=\"mono\">" + held["fence_lsn"].get<std::string>() + "</dd>"))
      << dom;
  EXPECT_TRUE(Contains(dom, "<dt>window</dt><dd class=\"mono\">open")) << dom;
  EXPECT_TRUE(Contains(dom, "<section id=\"cutover\" class=\"card wide\">")) << "shown: " << dom;
  browser_.Screenshot(Url(), "cutover-drain-1280", 1280, 900);

  let_go();
  run.join();
  ASSERT_TRUE(result && result->ok()) << (result ? result->status().ToString() : "no result");
  const CutoverReport& r = **result;
  ASSERT_EQ(r.status, "switched") << r.failed_phase << ": " << r.reason;
  EXPECT_TRUE(r.current_phase.empty());
  publish(r);  // what the CLI publishes once RunCutover returns
  dom = browser_.Dom(Url());
  EXPECT_TRUE(Contains(dom, "data-status=\"switched\">switched</div>")) << dom;
  for (const char* done : {"drain", "final_check", "sequences", "switch"}) {
    EXPECT_TRUE(PhaseRow(dom, done, "ok", "yes")) << done << "\n" << dom;
  }
  EXPECT_FALSE(Contains(dom, "pill running")) << dom;
  EXPECT_TRUE(Contains(dom, "(PAUSE to RESUME)")) << dom;
  ASSERT_TRUE(r.canary.has_value());
  EXPECT_TRUE(Contains(
      dom, "<dt>acknowledged</dt><dd class=\"mono\">" + Grouped(r.canary->acknowledged) + "</dd>"))
      << dom;
  EXPECT_TRUE(Contains(dom, "<dt>failed</dt><dd class=\"mono\">0</dd>")) << dom;
  browser_.Screenshot(Url(), "cutover-switched-1280", 1280, 900);
  browser_.Screenshot(Url(), "cutover-switched-phone", 390, 844);
}

}  // namespace
}  // namespace pgparity::applier
