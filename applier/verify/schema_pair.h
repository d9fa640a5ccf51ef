// Test-only: a source/target database pair of its own on the suite's
// PostgreSQL 14 -> 16 servers — a schema, a publication (FOR ALL TABLES
// unless asked otherwise; publish_via_partition_root as asked) and a
// subscription — so that each real-world-schema test starts from a clean
// pair; and `pgparity verify` / `audit` run against it. The pair's subscription (and so its slot)
// is dropped at the end.
#ifndef PGPARITY_APPLIER_VERIFY_SCHEMA_PAIR_H_
#define PGPARITY_APPLIER_VERIFY_SCHEMA_PAIR_H_

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "verify/verify_test_env.h"

namespace pgparity::applier {

// Why a test that publishes partitions via their root cannot run on this
// pair: publish_via_partition_root is 13+. "" when it can.
inline std::string WithoutViaRoot() {
  if (testing::SourceMajor() >= 13) return "";
  return "publish_via_partition_root needs a PostgreSQL 13+ source (this pair's is " +
         std::to_string(testing::SourceMajor()) + ")";
}

class SchemaPair {
 public:
  // Creates database `name` on both servers with `source_sql` / `target_sql`
  // and subscribes the target to the source. `publishes`: what publication
  // pub publishes ("FOR TABLE t (a, b) WHERE (...)" on 15+).
  SchemaPair(testing::MigrationServers& servers, const std::string& name,
             const std::string& source_sql, const std::string& target_sql, bool via_root = false,
             const std::string& publishes = "FOR ALL TABLES")
      : servers_(servers), name_(name) {
    for (PgServer* s : {&servers.source, &servers.target}) {
      SqlClient admin(s->Dsn());
      testing::DropDatabaseIfExists(admin, name);
      SqlClient(s->Dsn()).Exec("CREATE DATABASE " + name);
    }
    source().Exec(source_sql);
    target().Exec(target_sql);
    // publish_via_partition_root is 13+; a test that needs it true skips
    // on older sources (SkipWithoutViaRoot).
    source().Exec("CREATE PUBLICATION pub " + publishes +
                  (via_root ? " WITH (publish_via_partition_root = true)" : ""));
    target().Exec("CREATE SUBSCRIPTION sub_" + name + " CONNECTION '" + SourceDsn() +
                  "' PUBLICATION pub");
    SqlClient t = target();
    testing::WaitForSubscriptionReady(t, "sub_" + name);
  }
  ~SchemaPair() {
    try {
      audit_.reset();
      target().Exec("DROP SUBSCRIPTION IF EXISTS sub_" + name_);
      SqlClient(servers_.source.Dsn())
          .Exec(
              "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
              "WHERE database = '" +
              name_ + "' AND NOT active");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleaning up " << name_ << ": " << e.what();
    }
  }

  std::string SourceDsn() const { return Dsn(servers_.source); }
  std::string TargetDsn() const { return Dsn(servers_.target); }
  SqlClient source() const { return SqlClient(servers_.source.Dsn(name_)); }
  SqlClient target() const { return SqlClient(servers_.target.Dsn(name_)); }
  std::string subscription() const { return "sub_" + name_; }

  // Until the target applied everything the source committed so far.
  void CatchUp() {
    SqlClient s = source();
    testing::WaitForCatchUp(s, subscription());
  }

  Verdict Verify(const std::string& extra = "--timeout 60") {
    const std::string report = (servers_.source.dir() / (name_ + "-report.json")).string();
    std::filesystem::remove(report);
    Cli c = RunCli("verify --source " + ShellQuote(SourceDsn()) + " --target " +
                   ShellQuote(TargetDsn()) + " --publication pub --max-rows 1000 " + "--report " +
                   ShellQuote(report) + " " + extra);
    Verdict v{c.code, c.output, {}};
    std::ifstream in(report);
    if (in) v.report = json::parse(in, nullptr, false);
    return v;
  }

  // A first run: the state directory removed first.
  void StartAudit(const std::string& interval = "1", const std::vector<std::string>& extra = {}) {
    state_ = servers_.source.dir() / ("audit-" + name_);
    std::filesystem::remove_all(state_);
    ResumeAudit(interval, extra);
  }
  // A run from the state directory the last one left.
  void ResumeAudit(const std::string& interval = "1", const std::vector<std::string>& extra = {}) {
    state_ = servers_.source.dir() / ("audit-" + name_);
    std::vector<std::string> argv{PGPARITY_BINARY,
                                  "audit",
                                  "--source",
                                  SourceDsn(),
                                  "--target",
                                  TargetDsn(),
                                  "--publication",
                                  "pub",
                                  "--slot",
                                  "pgparity_" + name_,
                                  "--state-dir",
                                  state_.string(),
                                  "--interval",
                                  interval,
                                  "--checkpoint-interval",
                                  "1",
                                  "--max-rows",
                                  "1000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    audit_ = std::make_unique<testing::Subprocess>(argv, state_.string() + ".log");
  }
  // A first run at --interval 1, and its first consistent report.
  void StartAuditUntilConsistent() {
    StartAudit("1");
    WaitForAuditReport([](const json& r) { return r["status"] == "consistent"; });
  }
  std::string AuditLog() const { return testing::ReadFile(state_.string() + ".log"); }
  json AuditReport() const {
    std::ifstream in(state_ / "report.json");
    return in ? json::parse(in, nullptr, false) : json();
  }
  // The first audit report satisfying `ok` within `timeout`.
  json WaitForAuditReport(const std::function<bool(const json&)>& ok,
                          std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json r;
    while (std::chrono::steady_clock::now() < deadline) {
      r = AuditReport();
      if (r.is_object() && ok(r)) return r;
      if (!audit_->Running()) {
        ADD_FAILURE() << "audit exited: " << AuditLog();
        return r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no such audit report in time; last: " << r.dump(2) << "\nlog: " << AuditLog();
    return r;
  }
  // SIGTERM, exit 0 expected.
  void StopAudit() {
    audit_->Signal(SIGTERM);
    auto code = audit_->Wait(std::chrono::milliseconds(20000));
    EXPECT_TRUE(code.has_value() && *code == 0) << AuditLog();
    audit_.reset();
  }

 private:
  std::string Dsn(const PgServer& s) const {
    return "host=127.0.0.1 port=" + std::to_string(s.port()) + " dbname=" + name_ +
           " user=postgres password=postgres";
  }

  testing::MigrationServers& servers_;
  std::string name_;
  std::filesystem::path state_;
  std::unique_ptr<testing::Subprocess> audit_;
};

// The table entry `name` of a report (nullptr when absent).
inline const json* ReportTable(const json& report, const std::string& name) {
  if (!report.is_object()) return nullptr;
  for (const auto& t : report["tables"]) {
    if (t["table"] == name) return &t;
  }
  return nullptr;
}

// The divergent row of a table entry whose key column `column` is `value`.
inline const json* ReportRow(const json* table, const std::string& column,
                             const std::string& value) {
  if (table == nullptr) return nullptr;
  for (const auto& r : (*table)["divergent_rows"]) {
    if (r["key"].contains(column) && r["key"][column] == value) return &r;
  }
  return nullptr;
}

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_VERIFY_SCHEMA_PAIR_H_
