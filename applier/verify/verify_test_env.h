// Test-only: the migration pair of tests/support set up as in the quick
// start plus pgbench's tables (filled on the source, copied by the
// subscription), and helpers to run `pgparity verify`/`audit` and read
// their JSON reports.
#ifndef PGPARITY_APPLIER_VERIFY_TEST_ENV_H_
#define PGPARITY_APPLIER_VERIFY_TEST_ENV_H_

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "preflight/preflight_test_env.h"
#include "support/subprocess.h"

namespace pgparity::applier {

using nlohmann::json;
using testing::PgServer;
using testing::RunCommand;
using testing::SourcePath;
using testing::SqlClient;
using testing::Subprocess;

inline std::string Dsn(const PgServer& s, const std::string& password = "postgres") {
  return "host=127.0.0.1 port=" + std::to_string(s.port()) + " dbname=" + s.database() +
         " user=postgres password=" + password;
}

inline void Psql(const PgServer& s, const std::string& args) {
  std::string out;
  const int rc = RunCommand(
      "timeout 120 psql -X -q -v ON_ERROR_STOP=1 -d " + ShellQuote(Dsn(s)) + " " + args, &out);
  if (rc != 0) throw std::runtime_error("psql " + args + " failed: " + out);
}

struct Verdict {
  int code;
  std::string output;
  json report;
};

class VerifyFixture : public testing::MigrationFixture {
 protected:
  static void SetUpTestSuite() {
    MigrationFixture::SetUpTestSuite();
    auto& s = servers();
    LoadSampleSchema(s);
    std::string out;
    // pgbench's tables: filled on the source, empty on the target (the
    // initial copy fills them).
    if (RunCommand("pgbench -q -i -s 1 " + ShellQuote(Dsn(s.source)), &out) != 0 ||
        RunCommand("pgbench -q -i -I dtp -s 1 " + ShellQuote(Dsn(s.target)), &out) != 0) {
      throw std::runtime_error("pgbench -i failed: " + out);
    }
    // A table whose columns the target orders differently, with one more.
    SqlClient(s.source.Dsn())
        .Exec(
            "CREATE TABLE reordered (a int PRIMARY KEY, b text, c numeric);"
            "INSERT INTO reordered SELECT g, 'row ' || g, g / 3.0 FROM generate_series(1, 50) g");
    SqlClient(s.target.Dsn())
        .Exec(
            "CREATE TABLE reordered (note text DEFAULT 'target only', c numeric, b text, "
            "a int PRIMARY KEY)");
    SetUpReplication(s);
  }

  static Verdict Verify(const std::string& extra = "", const std::string& source_dsn = "",
                        const std::string& target_dsn = "") {
    const std::string report = (servers().source.dir() / "report.json").string();
    std::remove(report.c_str());
    Verdict v;
    Cli c = RunCli(
        "verify --source " + ShellQuote(source_dsn.empty() ? Dsn(servers().source) : source_dsn) +
        " --target " + ShellQuote(target_dsn.empty() ? Dsn(servers().target) : target_dsn) +
        " --timeout 60 --report " + ShellQuote(report) + " " + extra);
    v.code = c.code;
    v.output = c.output;
    std::ifstream in(report);
    if (in) v.report = json::parse(in, nullptr, false);
    return v;
  }

  static const json* Table(const Verdict& v, const std::string& name) {
    if (!v.report.is_object()) return nullptr;
    for (const auto& t : v.report["tables"]) {
      if (t["table"] == name) return &t;
    }
    return nullptr;
  }

  // The divergent row of `table` with key column `column` = `value`.
  static const json* Row(const Verdict& v, const std::string& table, const std::string& column,
                         const std::string& value) {
    const json* t = Table(v, table);
    if (t == nullptr) return nullptr;
    for (const auto& r : (*t)["divergent_rows"]) {
      if (r["key"].contains(column) && r["key"][column] == value) return &r;
    }
    return nullptr;
  }

  // Temporary slots left by verify runs. The walsender drops its temporary
  // slot when it exits, a moment after pgparity disconnected: waits up to
  // 10 s for that before counting.
  static int VerifySlotsLeft() {
    SqlClient source(servers().source.Dsn());
    const auto count = [&] {
      return std::stoi(source.Value(
          "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'pgparity_verify%'"));
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int n = count();
    while (n != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      n = count();
    }
    return n;
  }

  // `pgparity audit` on the pair with its state in `state_dir`, a
  // checkpoint every second, and `options` after those.
  static std::vector<std::string> AuditArgv(const std::filesystem::path& state_dir,
                                            const std::vector<std::string>& options) {
    std::vector<std::string> argv{PGPARITY_BINARY,
                                  "audit",
                                  "--source",
                                  Dsn(servers().source),
                                  "--target",
                                  Dsn(servers().target),
                                  "--state-dir",
                                  state_dir.string(),
                                  "--checkpoint-interval",
                                  "1"};
    argv.insert(argv.end(), options.begin(), options.end());
    return argv;
  }

  // pgbench -N on the source until the returned process is destroyed; at
  // most `rate` transactions a second when not 0.
  static std::unique_ptr<Subprocess> StartLoad(int rate = 0) {
    std::vector<std::string> args{"pgbench", "-n", "-N", "-c", "2", "-T", "120"};
    if (rate > 0) args.insert(args.end(), {"-R", std::to_string(rate)});
    args.push_back(Dsn(servers().source));
    return std::make_unique<Subprocess>(std::move(args), servers().source.dir() / "pgbench.log");
  }
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_VERIFY_TEST_ENV_H_
