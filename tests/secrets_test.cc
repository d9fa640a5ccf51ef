// Passwords never appear in pgparity's output (issue 18, "Secrets"): every
// command of the binary runs against a real 14 -> 16 pair as a role whose
// password is distinctive, given in a conninfo DSN, in a URI
// (percent-encoded), through PGPASSWORD and through a PGPASSFILE; stdout,
// stderr, every file written (report, state directory, recording, repair
// script) and audit's /status and /metrics are searched for the password.
// The error paths too: a wrong password, an unreachable server and DSNs
// libpq rejects while they hold the password.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/scratch_dir.h"
#include "support/http_get.h"
#include "support/migration_env.h"
#include "support/subprocess.h"

namespace pgparity {
namespace {

using namespace std::chrono_literals;
using testing::FreePort;
using testing::MigrationServers;
using testing::PgServer;
using testing::ReadFile;
using testing::RunCommand;
using testing::ShellQuote;
using testing::SqlClient;
using testing::Subprocess;

// Quote, backslash, dollar, dash: each needs a different escape in SQL,
// conninfo, URIs, .pgpass, JSON and the shell.
constexpr const char* kPassword = "S3cr3t-Pa55'word\\with$odd";
// A piece of it no escaping changes: found whatever encoding a leak used.
constexpr const char* kTell = "S3cr3t-Pa55";
constexpr const char* kRole = "auditor";

// A conninfo value in single quotes, ' and \ escaped (libpq's rules).
std::string ConninfoQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// How a test passes the password to the binary.
enum class Way { kConninfo, kUri, kPgpassword, kPgpassfile };

const char* WayName(Way way) {
  switch (way) {
    case Way::kConninfo:
      return "conninfo";
    case Way::kUri:
      return "uri";
    case Way::kPgpassword:
      return "pgpassword";
    case Way::kPgpassfile:
      return "pgpassfile";
  }
  return "?";
}

std::string DsnFor(const PgServer& s, Way way) {
  const std::string port = std::to_string(s.port());
  if (way == Way::kUri) {
    return std::string("postgresql://") + kRole + ":" + testing::PercentEncode(kPassword) +
           "@127.0.0.1:" + port + "/" + s.database();
  }
  std::string dsn = "host=127.0.0.1 port=" + port + " dbname=" + s.database() + " user=" + kRole;
  if (way == Way::kConninfo) dsn += " password=" + ConninfoQuoted(kPassword);
  return dsn;
}

// Every file under `dir` (or `dir` itself when it is a file), path: content.
std::string ReadTree(const std::filesystem::path& dir) {
  std::string out;
  if (std::filesystem::is_regular_file(dir)) return dir.string() + ": " + ReadFile(dir) + "\n";
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out += e.path().string() + ": " + ReadFile(e.path()) + "\n";
  }
  return out;
}

void ExpectNoPassword(const std::string& what, const std::string& text) {
  EXPECT_EQ(text.find(kPassword), std::string::npos) << what << ":\n" << text;
  EXPECT_EQ(text.find(testing::PercentEncode(kPassword)), std::string::npos) << what << ":\n"
                                                                             << text;
  EXPECT_EQ(text.find(kTell), std::string::npos) << what << ":\n" << text;
}

// The quick start's pair with `auditor` (password kPassword) on both sides
// and a second role whose password is another.
class SecretsTest : public testing::MigrationFixture {
 protected:
  static void SetUpTestSuite() {
    MigrationFixture::SetUpTestSuite();
    MigrationServers& s = servers();
    testing::SetUpQuickStartPair(s);
    std::string quoted;  // standard_conforming_strings: only ' doubles
    for (char c : std::string(kPassword))
      quoted += c == '\'' ? std::string("''") : std::string(1, c);
    for (const PgServer* server : {&s.source, &s.target}) {
      SqlClient db(server->Dsn());
      // Privileges are another test's subject: superuser keeps this one
      // about secrets alone.
      db.Exec(std::string("CREATE ROLE ") + kRole + " LOGIN SUPERUSER REPLICATION PASSWORD '" +
              quoted + "'");
      db.Exec("CREATE ROLE other LOGIN SUPERUSER PASSWORD 'something else'");
    }
    SqlClient source(s.source.Dsn());
    testing::WaitForCatchUp(source, "my_subscription");
  }

  void SetUp() override {
    // .pgpass escapes \ and : with a backslash.
    std::ofstream pgpass(dir_ / "pgpass");
    pgpass << "127.0.0.1:*:*:" << kRole << ":";
    for (char c : std::string(kPassword)) pgpass << (c == '\\' || c == ':' ? "\\" : "") << c;
    pgpass << "\n";
    pgpass.close();
    std::filesystem::permissions(
        dir_ / "pgpass", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }

  void TearDown() override {
    unsetenv("PGPASSWORD");
    unsetenv("PGPASSFILE");
  }

  // The environment the binary inherits for `way`.
  void UseWay(Way way) {
    unsetenv("PGPASSWORD");
    // No ~/.pgpass of whoever runs the tests.
    setenv("PGPASSFILE", (dir_ / "none").c_str(), 1);
    if (way == Way::kPgpassword) setenv("PGPASSWORD", kPassword, 1);
    if (way == Way::kPgpassfile) setenv("PGPASSFILE", (dir_ / "pgpass").c_str(), 1);
  }

  // Runs pgparity with `args` to its end; its exit code, output in *log.
  int Run(const std::vector<std::string>& args, const std::string& name, std::string* log) {
    std::vector<std::string> argv{PGPARITY_CLI};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::filesystem::path file = dir_ / (name + ".log");
    Subprocess p(argv, file);
    const std::optional<int> code = p.WaitOrKill(180s);
    *log = ReadFile(file);
    return code.value_or(-1);
  }

  // Every command as `way` gives the password; all of it searched.
  void RunEveryCommand(Way way);
  std::string RunAudit(const std::string& source, const std::string& target, Way way);
  std::string RunStreaming(const std::string& command, const std::string& source, Way way);

  testing::ScratchDir scratch_{"secrets"};
  const std::filesystem::path& dir_ = scratch_.path();
};

std::string Curl(int port, const std::string& path) {
  std::string out;
  RunCommand("curl -s -m 10 http://127.0.0.1:" + std::to_string(port) + path, &out);
  return out;
}

// audit with --metrics-listen until its first report, then SIGTERM: its
// output, /status, /metrics and its state directory.
std::string SecretsTest::RunAudit(const std::string& source, const std::string& target, Way way) {
  const int port = FreePort();
  const std::filesystem::path state = dir_ / (std::string("audit-") + WayName(way));
  const std::filesystem::path log = dir_ / (std::string("audit-") + WayName(way) + ".log");
  std::string seen;
  {
    Subprocess audit({PGPARITY_CLI, "audit", "--source", source, "--target", target, "--state-dir",
                      state.string(), "--slot", std::string("secrets_audit_") + WayName(way),
                      "--interval", "1", "--metrics-listen", "127.0.0.1:" + std::to_string(port)},
                     log);
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (!std::filesystem::exists(state / "report.json") && audit.Running() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(std::filesystem::exists(state / "report.json")) << ReadFile(log);
    const std::string status = Curl(port, "/status");
    EXPECT_NE(status.find("\"status\""), std::string::npos) << status;
    seen += "/status: " + status + "\n/metrics: " + Curl(port, "/metrics") + "\n";
    audit.Signal(SIGTERM);
    EXPECT_EQ(audit.WaitOrKill(60s), 0) << ReadFile(log);
  }
  SqlClient source_db(servers().source.Dsn());
  testing::DropSlotOnceReleased(source_db, std::string("secrets_audit_") + WayName(way));
  return seen + ReadFile(log) + ReadTree(state);
}

// record --until-lsn (the source's LSN now) or tail for a moment.
std::string SecretsTest::RunStreaming(const std::string& command, const std::string& source,
                                      Way way) {
  SqlClient db(servers().source.Dsn());
  const std::string lsn = db.Value("SELECT pg_current_wal_lsn()");
  const std::string name = command + "-" + WayName(way);
  const std::string slot = std::string("secrets_") + command + "_" + WayName(way);
  std::vector<std::string> argv{PGPARITY_CLI, command, "--source",    source,
                                "--slot",     slot,    "--until-lsn", lsn};
  if (command == "record") {
    argv.insert(argv.end(), {"--out", (dir_ / (name + ".rec")).string()});
  }
  const std::filesystem::path log = dir_ / (name + ".log");
  {
    Subprocess p(argv, log);
    db.Exec("INSERT INTO users (username, email) VALUES ('" + name + "', 'x@example.com')");
    if (!p.Wait(60s)) p.Signal(SIGTERM);
    EXPECT_EQ(p.WaitOrKill(30s), 0) << ReadFile(log);
  }
  if (command == "record") testing::DropSlotOnceReleased(db, slot);
  return ReadFile(log) + ReadTree(dir_ / (name + ".rec"));
}

void SecretsTest::RunEveryCommand(Way way) {
  UseWay(way);
  const std::string source = DsnFor(servers().source, way);
  const std::string target = DsnFor(servers().target, way);
  const std::string report = (dir_ / (std::string("verify-") + WayName(way) + ".json")).string();
  const std::string repair = (dir_ / (std::string("repair-") + WayName(way) + ".sql")).string();
  std::string log;
  EXPECT_EQ(Run({"preflight", "--source", source, "--target", target}, "preflight", &log), 0)
      << log;
  ExpectNoPassword("preflight", log);
  EXPECT_EQ(Run({"preflight", "--json", "--source", source, "--target", target}, "pj", &log), 0)
      << log;
  ExpectNoPassword("preflight --json", log);
  EXPECT_EQ(
      Run({"verify", "--source", source, "--target", target, "--timeout", "60", "--report", report},
          "verify", &log),
      0)
      << log;
  ExpectNoPassword("verify", log);
  ExpectNoPassword("verify's report", ReadTree(report));
  EXPECT_EQ(Run({"digest", "--dsn", source, "--table", "public.users"}, "digest", &log), 0) << log;
  ExpectNoPassword("digest", log);
  EXPECT_EQ(
      Run({"repair", "--source", source, "--target", target, "--report", report, "--out", repair},
          "repair", &log),
      0)
      << log;
  ExpectNoPassword("repair", log);
  ExpectNoPassword("repair's script", ReadTree(repair));
  ExpectNoPassword("audit", RunAudit(source, target, way));
  ExpectNoPassword("record", RunStreaming("record", source, way));
  ExpectNoPassword("tail", RunStreaming("tail", source, way));
}

TEST_F(SecretsTest, PasswordInConninfoAppearsNowhere) { RunEveryCommand(Way::kConninfo); }
TEST_F(SecretsTest, PasswordInUriAppearsNowhere) { RunEveryCommand(Way::kUri); }
TEST_F(SecretsTest, PasswordFromPgpasswordAppearsNowhere) { RunEveryCommand(Way::kPgpassword); }
TEST_F(SecretsTest, PasswordFromPgpassfileAppearsNowhere) { RunEveryCommand(Way::kPgpassfile); }

// One-line errors of DSNs that hold the password: exit code as documented,
// the password absent.
TEST_F(SecretsTest, ErrorsDoNotRepeatThePassword) {
  UseWay(Way::kConninfo);
  const PgServer& source = servers().source;
  const std::string port = std::to_string(source.port());
  const std::string secret = ConninfoQuoted(kPassword);
  const std::string uri_secret = testing::PercentEncode(kPassword);
  const struct {
    std::string dsn;
    int code;
  } cases[] = {
      // The password of another role: authentication fails.
      {"host=127.0.0.1 port=" + port + " dbname=sourcedb user=other password=" + secret, 3},
      {"postgresql://other:" + uri_secret + "@127.0.0.1:" + port + "/sourcedb", 3},
      // Nobody listens.
      {"host=127.0.0.1 port=" + std::to_string(FreePort()) + " user=x password=" + secret, 3},
      // libpq rejects the DSN itself.
      {"host=127.0.0.1 password=" + secret + " nosuchkeyword=1", 2},
      {"host=127.0.0.1 password=" + secret + " user", 2},
      {"host=127.0.0.1 password='" + std::string(kTell), 2},
      {"postgresql://x:" + uri_secret + "%zz@127.0.0.1/db", 2},
      {"postgresql://x:" + uri_secret + "@[::1/db", 2},
      {"postgresql://x@127.0.0.1/db?password=" + uri_secret + "%zz", 2},
      {"postgresql://x@127.0.0.1/db?password=" + uri_secret + "&nosuch=1", 2},
  };
  int n = 0;
  for (const auto& c : cases) {
    std::string log;
    const std::string name = "error-" + std::to_string(n++);
    EXPECT_EQ(Run({"digest", "--dsn", c.dsn, "--table", "public.users"}, name, &log), c.code)
        << c.dsn << ": " << log;
    ExpectNoPassword("digest --dsn " + c.dsn, log);
    EXPECT_EQ(Run({"verify", "--source", c.dsn, "--target", c.dsn}, name + "v", &log), c.code)
        << c.dsn << ": " << log;
    ExpectNoPassword("verify --source " + c.dsn, log);
  }
}

}  // namespace
}  // namespace pgparity
