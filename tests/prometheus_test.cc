// A real Prometheus (Debian's package) scraping a real `pgparity audit` on a
// real PostgreSQL 14 -> 16 pair (issue 14, items 3 and 4): pgparity's series
// queried through Prometheus's HTTP API (changes after DML on the source,
// slot and apply lag, wal_status, per-table status, divergent rows before
// and after a divergence injected on the target), the alert rules of
// deploy/prometheus/ loaded and evaluated (the divergent-rows alert pending
// then firing, audit-down once the audit stops), and every PromQL
// expression of deploy/grafana/pgparity-dashboard.json evaluated against the
// same Prometheus: each must parse and return data.
//
// One pair, one audit and one Prometheus per process (ctest runs the
// binary once). Skipped, saying so, when prometheus is not installed.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/http_get.h"
#include "support/migration_env.h"
#include "support/subprocess.h"

namespace pgparity {
namespace {

using testing::HttpGet;

using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::FreePort;
using testing::MigrationServers;
using testing::ReadFile;
using testing::SourcePath;
using testing::SqlClient;
using testing::Subprocess;

bool OnPath(const std::string& command) {
  return testing::RunCommand("command -v " + command + " >/dev/null 2>&1") == 0;
}

// Polls `done` every 250 ms until it holds or `timeout` passed; false then.
bool Eventually(std::chrono::seconds timeout, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(250ms);
  }
  return done();
}

// The pair, `pgparity audit --interval 2 --metrics-listen` and Prometheus
// (scrape and rule evaluation every second, the rules of deploy/prometheus).
struct Stack {
  MigrationServers servers;
  std::filesystem::path dir;
  int audit_port = 0;
  int prometheus_port = 0;
  std::unique_ptr<Subprocess> audit;
  std::unique_ptr<Subprocess> prometheus;

  std::string instance() const { return "127.0.0.1:" + std::to_string(audit_port); }

  void StartAudit() {
    audit = std::make_unique<Subprocess>(
        std::vector<std::string>{PGPARITY_CLI, "audit", "--source", servers.source.Dsn(),
                                 "--target", servers.target.Dsn(), "--state-dir",
                                 (dir / "state").string(), "--interval", "2",
                                 "--checkpoint-interval", "1", "--metrics-listen", instance()},
        dir / "audit.log");
  }

  void StartPrometheus() {
    const std::filesystem::path config = dir / "prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          << "rule_files:\n  - "
                          << SourcePath("deploy/prometheus/pgparity-rules.yml").string() << "\n"
                          << "scrape_configs:\n  - job_name: pgparity\n    static_configs:\n"
                          << "      - targets: ['" << instance() << "']\n";
    prometheus = std::make_unique<Subprocess>(
        std::vector<std::string>{
            "prometheus", "--config.file=" + config.string(),
            "--storage.tsdb.path=" + (dir / "tsdb").string(),
            "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
        dir / "prometheus.log");
  }

  // SIGTERM (the audit checkpoints), then SIGKILL after 20 s.
  void StopAudit() {
    if (!audit) return;
    audit->Signal(SIGTERM);
    audit->WaitOrKill(20s);
  }
};

class PrometheusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!OnPath("prometheus")) return;  // every test skips, saying why
    stack_ = std::make_unique<Stack>();
    Stack& s = *stack_;
    testing::SetUpQuickStartPair(s.servers);
    s.dir = s.servers.source.dir() / "prometheus-test";
    std::filesystem::create_directories(s.dir);
    s.audit_port = FreePort();
    s.prometheus_port = FreePort();
    s.StartAudit();
    s.StartPrometheus();
    const bool ready = Eventually(60s, [&] {
      return HttpGet(s.prometheus_port, "/-/ready").first == 200 || !s.prometheus->Running();
    });
    if (!ready || !s.prometheus->Running()) {
      setup_error_ = "prometheus did not become ready: " + ReadFile(s.dir / "prometheus.log");
    }
  }
  static void TearDownTestSuite() {
    if (!stack_) return;
    stack_->prometheus.reset();  // SIGKILL: its temporary TSDB goes with the servers' dir
    stack_->StopAudit();
    stack_.reset();
  }
  void SetUp() override {
    if (!stack_) {
      GTEST_SKIP() << "prometheus not found: apt-get install prometheus (env/install-deps.sh "
                      "all installs it); the Prometheus scrape and dashboard tests did not run";
    }
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "audit log:\n" << ReadFile(stack_->dir / "audit.log") << "\n";
    }
  }

  static Stack& stack() { return *stack_; }

  // GET /api/v1/<path>; the parsed body, after checking status "success".
  static json Api(const std::string& path) {
    auto [code, body] = HttpGet(stack().prometheus_port, "/api/v1/" + path);
    json j = json::parse(body, nullptr, false);
    EXPECT_EQ(code, 200) << path << ": " << body;
    EXPECT_TRUE(j.is_object() && j.value("status", "") == "success") << path << ": " << body;
    return j;
  }

  // An instant query's vector: the result array (empty when no data).
  static json Query(const std::string& promql) {
    json j = Api("query?query=" + testing::PercentEncode(promql));
    if (!j.contains("data")) return json::array();
    EXPECT_EQ(j["data"].value("resultType", ""), "vector") << promql;
    return j["data"]["result"];
  }

  // The value of a query that returns one sample; nullopt when none.
  static std::optional<double> Value(const std::string& promql) {
    json r = Query(promql);
    if (r.size() != 1) return std::nullopt;
    return std::stod(r[0]["value"][1].get<std::string>());
  }

  // Waits until the query returns one sample with `ok(value)`; the last
  // value seen (nullopt: none).
  static std::optional<double> WaitValue(const std::string& promql,
                                         const std::function<bool(double)>& ok,
                                         std::chrono::seconds timeout = 60s) {
    std::optional<double> v;
    Eventually(timeout, [&] {
      v = Value(promql);
      return v && ok(*v);
    });
    return v;
  }

  // The alerts of `name` (Prometheus's /api/v1/alerts) with their state.
  static std::vector<json> Alerts(const std::string& name) {
    std::vector<json> out;
    const json body = Api("alerts");  // kept: the loop below reads into it
    for (const json& a : body["data"]["alerts"]) {
      if (a["labels"].value("alertname", "") == name) out.push_back(a);
    }
    return out;
  }

 private:
  static std::unique_ptr<Stack> stack_;
  static std::string setup_error_;
};

std::unique_ptr<Stack> PrometheusTest::stack_;
std::string PrometheusTest::setup_error_;

// The scrape works and every family pgparity documents reaches Prometheus.
TEST_F(PrometheusTest, ScrapesTheAuditsSeries) {
  const std::string job = "{job=\"pgparity\"}";
  ASSERT_EQ(WaitValue("up" + job, [](double v) { return v == 1; }), 1.0)
      << ReadFile(stack().dir / "prometheus.log");
  // A first full check published per-table figures: one status per table.
  SqlClient source(stack().servers.source.Dsn());
  const std::vector<std::string> tables = testing::PublishedTables(source, "my_publication");
  ASSERT_EQ(tables.size(), 2u);
  ASSERT_EQ(WaitValue("count(pgparity_table_status == 1)", [&](double v) { return v == 2; }), 2.0);
  for (const std::string& t : tables) {
    EXPECT_EQ(WaitValue("pgparity_table_status{table=\"" + t + "\",status=\"match\"}",
                        [](double v) { return v == 1; }),
              1.0)
        << t;
    EXPECT_EQ(Value("count(pgparity_table_status{table=\"" + t + "\"})"), 4.0)
        << t << ": one-hot over 4 statuses";
  }
  EXPECT_EQ(
      WaitValue("pgparity_report_status{status=\"consistent\"}", [](double v) { return v == 1; }),
      1.0);
  EXPECT_GE(Value("pgparity_full_checks_total").value_or(0), 1);
  EXPECT_GT(Value("pgparity_last_full_check_timestamp_seconds").value_or(0), 1.7e9);
  // Slots: both present, WAL retained, wal_status reserved.
  for (const std::string slot : {"pgparity_audit", "my_subscription"}) {
    EXPECT_GT(Value("pgparity_slot_retained_wal_bytes{slot=\"" + slot + "\"}").value_or(-1), 0)
        << slot;
    EXPECT_TRUE(Value("pgparity_slot_lag_bytes{slot=\"" + slot + "\"}")) << slot;
    EXPECT_EQ(WaitValue("pgparity_slot_wal_status{slot=\"" + slot + "\",status=\"reserved\"}",
                        [](double v) { return v == 1; }),
              1.0)
        << slot;
    EXPECT_EQ(Value("sum(pgparity_slot_wal_status{slot=\"" + slot + "\"})"), 1.0) << slot;
  }
  EXPECT_EQ(Value("pgparity_scrape_errors"), 0.0);
  EXPECT_TRUE(Value("pgparity_decode_rate_changes_per_second"));
}

// DML on the source shows in pgparity_changes_total, exactly; the apply lag
// is a real, small figure once the target caught up.
TEST_F(PrometheusTest, ChangesAndLagFollowTheSource) {
  const std::string inserts = "pgparity_changes_total{table=\"public.users\",op=\"insert\"}";
  const std::string updates = "pgparity_changes_total{table=\"public.users\",op=\"update\"}";
  const auto before = WaitValue(inserts, [](double) { return true; });
  ASSERT_TRUE(before) << "no pgparity_changes_total for public.users";
  const double updates_before = Value(updates).value_or(-1);
  const double tx_before = Value("pgparity_transactions_total").value_or(-1);
  SqlClient source(stack().servers.source.Dsn());
  source.Exec(
      "INSERT INTO users (username, email) SELECT 'prom' || g || '_' || "
      "extract(epoch FROM clock_timestamp())::bigint, 'p' || g || '@example.com' "
      "FROM generate_series(1, 7) g");
  source.Exec("UPDATE users SET email = email || '.x' WHERE id IN (1, 2)");
  const auto after = WaitValue(inserts, [&](double v) { return v >= *before + 7; });
  EXPECT_EQ(after, *before + 7);
  EXPECT_EQ(WaitValue(updates, [&](double v) { return v >= updates_before + 2; }),
            updates_before + 2);
  EXPECT_GE(Value("pgparity_transactions_total").value_or(0), tx_before + 2);
  EXPECT_GT(WaitValue("sum(increase(pgparity_changes_total[1m]))", [](double v) { return v > 0; })
                .value_or(0),
            0);

  testing::WaitForCatchUp(source, "my_subscription");
  const auto lag = WaitValue("pgparity_subscription_apply_lag_bytes",
                             [](double v) { return v < 16 * 1024 * 1024; });
  ASSERT_TRUE(lag) << "no pgparity_subscription_apply_lag_bytes";
  EXPECT_GE(*lag, 0);
  EXPECT_LT(*lag, 16 * 1024 * 1024) << "the target caught up, yet the lag is large";
  EXPECT_GT(Value("pgparity_subscription_remote_lsn_bytes").value_or(0), 0);
}

// Every PromQL expression of the Grafana dashboard parses and returns data
// from this Prometheus. Grafana's variables are replaced as Grafana would:
// $instance by the audit's instance (the variable's only value),
// $__rate_interval by 30s (four scrape intervals or more).
TEST_F(PrometheusTest, EveryDashboardQueryReturnsData) {
  std::ifstream in(SourcePath("deploy/grafana/pgparity-dashboard.json"));
  const json dashboard = json::parse(in, nullptr, false);
  ASSERT_TRUE(dashboard.is_object()) << "deploy/grafana/pgparity-dashboard.json is not JSON";
  std::vector<std::pair<std::string, std::string>> exprs;  // {panel title, expr}
  std::set<std::string> titles;
  const std::function<void(const json&)> walk = [&](const json& panels) {
    for (const json& p : panels) {
      if (p.contains("panels")) walk(p["panels"]);  // a row's panels
      if (p.value("type", "") == "row") continue;
      titles.insert(p.value("title", ""));
      EXPECT_FALSE(p.value("targets", json::array()).empty())
          << p.value("title", "") << ": no query";
      for (const json& t : p.value("targets", json::array())) {
        exprs.emplace_back(p.value("title", ""), t.value("expr", ""));
      }
    }
  };
  walk(dashboard["panels"]);
  for (const char* needed :
       {"Verdict", "Per-table status", "Divergent rows", "Subscription apply lag",
        "Retained WAL per slot", "Decode rate", "Time since the last conclusive check"}) {
    EXPECT_TRUE(titles.count(needed)) << "no panel " << needed;
  }
  ASSERT_GE(exprs.size(), 7u);

  // The instance variable's query: label_values(<metric>, instance).
  const std::string definition = dashboard["templating"]["list"][1].value("definition", "");
  ASSERT_EQ(definition.rfind("label_values(", 0), 0u) << definition;
  const std::string metric = definition.substr(13, definition.find(',') - 13);
  json instances;
  Eventually(60s, [&] { return (instances = Query(metric)).size() == 1; });
  ASSERT_EQ(instances.size(), 1u) << metric;
  EXPECT_EQ(instances[0]["metric"].value("instance", ""), stack().instance());

  for (auto [title, expr] : exprs) {
    ASSERT_FALSE(expr.empty()) << title << ": a target without expr";
    for (auto [var, value] : {std::pair<std::string, std::string>{"$__rate_interval", "30s"},
                              {"$instance", stack().instance()}}) {
      for (size_t at; (at = expr.find(var)) != std::string::npos;)
        expr.replace(at, var.size(), value);
    }
    ASSERT_EQ(expr.find('$'), std::string::npos) << title << ": unknown variable in " << expr;
    json result;
    const bool data = Eventually(60s, [&] {
      auto [code, body] =
          HttpGet(stack().prometheus_port, "/api/v1/query?query=" + testing::PercentEncode(expr));
      const json j = json::parse(body, nullptr, false);
      // A parse error is final: 400 bad_data.
      if (code != 200 || !j.is_object() || j.value("status", "") != "success") {
        result = j.is_object() ? j : json(body);
        return true;
      }
      result = j["data"]["result"];
      return !result.empty();
    });
    ASSERT_TRUE(result.is_array()) << title << ": " << expr << " failed: " << result.dump();
    EXPECT_TRUE(data && !result.empty()) << title << ": " << expr << " returned no data";
  }
}

// A divergence injected on the target shows as divergent rows in the next
// check, the table's status turns mismatch, and the divergent-rows alert of
// the real rules file goes pending, then firing after its `for:` (60s).
TEST_F(PrometheusTest, DivergenceShowsAndAlerts) {
  const std::string rows = "pgparity_table_divergent_rows{table=\"public.orders\"}";
  ASSERT_EQ(WaitValue(rows, [](double v) { return v == 0; }), 0.0);
  ASSERT_EQ(WaitValue("sum(pgparity_table_divergent_rows)", [](double v) { return v == 0; }), 0.0);
  EXPECT_TRUE(Alerts("PgparityDivergentRows").empty());
  // Every rule of the file evaluates without error on the real series.
  ASSERT_TRUE(Eventually(30s, [] {
    const json rules = Api("rules");
    for (const json& g : rules["data"]["groups"]) {
      for (const json& r : g["rules"]) {
        if (r.value("health", "") != "ok") return false;
      }
    }
    return true;
  })) << Api("rules").dump(2);
  const json groups = Api("rules")["data"]["groups"];
  ASSERT_EQ(groups.size(), 1u) << "the rules file was not loaded: " << groups.dump();
  EXPECT_EQ(groups[0]["rules"].size(), 9u);

  SqlClient target(stack().servers.target.Dsn());
  target.Exec(
      "SET session_replication_role = replica; "
      "UPDATE orders SET quantity = quantity + 1000 WHERE id = (SELECT min(id) FROM orders)");
  EXPECT_EQ(WaitValue(
                rows, [](double v) { return v > 0; }, 30s),
            1.0);
  EXPECT_EQ(Value("pgparity_table_status{table=\"public.orders\",status=\"mismatch\"}"), 1.0);
  EXPECT_EQ(Value("pgparity_table_divergent_rows{table=\"public.users\"}"), 0.0);
  EXPECT_EQ(
      WaitValue("pgparity_report_status{status=\"divergent\"}", [](double v) { return v == 1; }),
      1.0);

  std::string state;
  EXPECT_TRUE(Eventually(20s,
                         [&] {
                           auto a = Alerts("PgparityDivergentRows");
                           state = a.size() == 1 ? a[0].value("state", "")
                                                 : std::to_string(a.size()) + " alerts";
                           return state == "pending";
                         }))
      << state << "\n"
      << Api("alerts").dump(1);
  EXPECT_TRUE(Eventually(90s, [&] {
    auto a = Alerts("PgparityDivergentRows");
    state = a.size() == 1 ? a[0].value("state", "") : std::to_string(a.size()) + " alerts";
    return state == "firing";
  })) << state;
  const auto firing = Alerts("PgparityDivergentRows");
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0]["labels"].value("table", ""), "public.orders");
  EXPECT_EQ(firing[0]["labels"].value("severity", ""), "critical");
  EXPECT_NE(firing[0]["annotations"].value("runbook", "").find("pgparity repair"),
            std::string::npos);
  // Divergent is a conclusive verdict; the audit is up.
  EXPECT_TRUE(Alerts("PgparityNoConclusiveCheck").empty());
  EXPECT_TRUE(Alerts("PgparityAuditDown").empty());
  EXPECT_TRUE(Alerts("PgparityAuditAbsent").empty());
}

// Last (it stops the audit): up goes 0 and the audit-down alert goes pending.
TEST_F(PrometheusTest, AuditDownIsSeen) {
  ASSERT_EQ(WaitValue("up{job=\"pgparity\"}", [](double v) { return v == 1; }), 1.0);
  stack().StopAudit();
  EXPECT_EQ(WaitValue(
                "up{job=\"pgparity\"}", [](double v) { return v == 0; }, 30s),
            0.0);
  std::string state;
  EXPECT_TRUE(Eventually(20s, [&] {
    auto a = Alerts("PgparityAuditDown");
    state = a.size() == 1 ? a[0].value("state", "") : std::to_string(a.size()) + " alerts";
    return state == "pending";
  })) << state;
}

}  // namespace
}  // namespace pgparity
