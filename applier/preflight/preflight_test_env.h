// Test-only: the migration pair of tests/support set up as in the quick
// start (schema, sample data, publication, subscription, initial copy done)
// once per test suite, and helpers to run the preflight and look at its
// findings.
#ifndef PGPARITY_APPLIER_PREFLIGHT_TEST_ENV_H_
#define PGPARITY_APPLIER_PREFLIGHT_TEST_ENV_H_

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "pgparity/applier/preflight/preflight.h"
#include "pgparity/applier/preflight/render.h"
#include "pgparity/conn/connect.h"
#include "support/migration_env.h"

namespace pgparity::applier {

using pgparity::testing::ShellQuote;

// Runs `fn` at scope exit, swallowing what it throws (a failed cleanup
// must not hide the test's own failure).
class Cleanup {
 public:
  explicit Cleanup(std::function<void()> fn) : fn_(std::move(fn)) {}
  ~Cleanup() {
    try {
      fn_();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup failed: " << e.what();
    }
  }
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;

 private:
  std::function<void()> fn_;
};

inline std::string Dump(const PreflightReport& r) {
  std::ostringstream out;
  RenderText(r, out);
  return out.str();
}

inline const Finding* FindFinding(const PreflightReport& r, const std::string& check,
                                  const std::string& object) {
  for (const auto& f : r.findings) {
    if (f.check == check && f.object == object) return &f;
  }
  return nullptr;
}

// The finding of `check` about `object`, which must have `severity`;
// throws (failing the test with the whole report) when there is none.
inline const Finding& ExpectFinding(const PreflightReport& r, const std::string& check,
                                    Severity severity, const std::string& object) {
  const Finding* f = FindFinding(r, check, object);
  if (f == nullptr) {
    throw std::runtime_error("no " + check + " finding about " + object + " in:\n" + Dump(r));
  }
  EXPECT_EQ(SeverityName(f->severity), SeverityName(severity))
      << check << " " << object << ": " << f->detail;
  return *f;
}

// Polls `done` every 100 ms; throws after `timeout`.
inline void WaitUntil(const std::function<bool()>& done, const std::string& what,
                      std::chrono::seconds timeout = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("timed out waiting for " + what);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Until the subscription's apply worker runs and streams its slot.
inline void WaitForApplyWorker(testing::SqlClient& source, testing::SqlClient& target) {
  WaitUntil(
      [&] {
        return target.Value(
                   "SELECT count(*) FROM pg_stat_subscription WHERE subname = "
                   "'my_subscription' AND pid IS NOT NULL AND relid IS NULL") == "1" &&
               source.Value(
                   "SELECT coalesce(bool_and(active), false) FROM pg_replication_slots "
                   "WHERE slot_name = 'my_subscription'") == "t";
      },
      "the apply worker of my_subscription to stream");
}

// Restarts a PgServer's postmaster with `settings` instead of pgenv.sh's
// (as the unprivileged user when root, like pgenv.sh).
inline void RestartWithSettings(const testing::PgServer& server, const std::string& settings) {
  const std::string dir = (server.dir() / "server").string();
  std::ifstream bin_file(dir + "/bin");
  std::string bin;
  std::getline(bin_file, bin);
  if (bin.empty()) throw std::runtime_error("no bindir recorded in " + dir + "/bin");
  std::string as_pg;
  if (geteuid() == 0) {
    const char* user = std::getenv("PGPARITY_PG_USER");
    as_pg =
        "runuser -u " + ShellQuote(user != nullptr && *user != '\0' ? user : "pgparity") + " -- ";
  }
  const std::string options = "-p " + std::to_string(server.port()) +
                              " -c listen_addresses=127.0.0.1 -c unix_socket_directories='' " +
                              settings;
  std::string output;
  // -l: the postmaster's output must not hold RunCommand's pipe open.
  const int rc =
      testing::RunCommand("timeout 120 " + as_pg + ShellQuote(bin + "/pg_ctl") + " -D " +
                              ShellQuote(dir + "/data") + " -l " + ShellQuote(dir + "/server.log") +
                              " -m fast -w -t 60 -o " + ShellQuote(options) + " restart",
                          &output);
  if (rc != 0) {
    throw std::runtime_error("cannot restart the server in " + dir + " (exit " +
                             std::to_string(rc) + "): " + output);
  }
}

struct Cli {
  int code;
  std::string output;
};

// Runs the pgparity binary; `output` is stdout and stderr, or stdout alone
// with `stdout_only`.
inline Cli RunCli(const std::string& args, bool stdout_only = false) {
  Cli r{0, {}};
  const std::string cmd = std::string(PGPARITY_BINARY) + " " + args;
  r.code = testing::RunCommand(stdout_only ? "(" + cmd + " 2>/dev/null)" : cmd, &r.output);
  return r;
}

// The quick start's schema and sample data on both sides.
inline void LoadSampleSchema(testing::MigrationServers& s) {
  std::string out;
  for (auto [server, script] :
       {std::pair{&s.source, "init-source.sql"}, std::pair{&s.target, "init-target.sql"}}) {
    if (testing::RunSqlScript(*server, script, {}, &out) != 0) {
      throw std::runtime_error(std::string(script) + " failed: " + out);
    }
  }
}

// The quick start's publication and subscription, and the initial copy.
inline void SetUpReplication(testing::MigrationServers& s) {
  std::string out;
  if (testing::RunSqlScript(s.source, "setup-replication.sql", {}, &out) != 0 ||
      testing::RunSqlScript(s.target, "setup-subscription.sql",
                            {{"source_conninfo", testing::SubscriptionConninfo(s)}}, &out) != 0) {
    throw std::runtime_error("setting up replication failed: " + out);
  }
  testing::SqlClient target(s.target.Dsn());
  testing::WaitForSubscriptionReady(target, "my_subscription", std::chrono::seconds(120));
  // 's' (sync done) becomes 'r' once the apply worker passes the table's
  // sync point; the checks count a table in 's' as still copying.
  WaitUntil(
      [&] {
        return target.Value("SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'") ==
               "0";
      },
      "every table of my_subscription to be ready (r)", std::chrono::seconds(120));
}

class PreflightFixture : public testing::MigrationFixture {
 protected:
  static void SetUpTestSuite() {
    MigrationFixture::SetUpTestSuite();
    auto& s = servers();
    LoadSampleSchema(s);
    SetUpReplication(s);
    testing::SqlClient source(s.source.Dsn());
    testing::SqlClient target(s.target.Dsn());
    WaitForApplyWorker(source, target);
  }

  // Connects as `pgparity preflight` does.
  static Result<conn::PgSession> ConnectDsn(const std::string& dsn, std::string_view side) {
    PGPARITY_ASSIGN_OR_RETURN(conn::ConnParams params,
                              conn::ParseServerDsn(dsn, side, "preflight"));
    return conn::ConnectSession(params, side);
  }

  // Runs the preflight against the fixture's pair, or the DSNs given.
  static Result<PreflightReport> TryPreflight(const PreflightOptions& options = {},
                                              const std::string& target_dsn = "",
                                              const std::string& source_dsn = "") {
    auto source = ConnectDsn(source_dsn.empty() ? servers().source.Dsn() : source_dsn, "source");
    if (!source.ok()) return source.status();
    auto target = ConnectDsn(target_dsn.empty() ? servers().target.Dsn() : target_dsn, "target");
    if (!target.ok()) return target.status();
    Preflight preflight(*source, *target, options);
    return preflight.Run();
  }

  static PreflightReport RunPreflight(const PreflightOptions& options = {},
                                      const std::string& target_dsn = "",
                                      const std::string& source_dsn = "") {
    Result<PreflightReport> r = TryPreflight(options, target_dsn, source_dsn);
    if (!r.ok()) throw std::runtime_error("preflight failed: " + r.status().ToString());
    return std::move(r).value();
  }
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_PREFLIGHT_TEST_ENV_H_
