#include "support/pg_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace pgparity::testing {

namespace {

int MajorFromEnvironment(const char* variable, int fallback) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value == '\0') return fallback;
  const std::string text(value);
  if (text.size() != 2 || text < "12" || text > "18") {
    throw std::runtime_error(std::string(variable) + "=" + text +
                             " is not a PostgreSQL major of 12 to 18");
  }
  return std::stoi(text);
}

struct PairMajors {
  int source, target;
};

const PairMajors& Majors() {
  static const PairMajors majors = [] {
    PairMajors m{MajorFromEnvironment("PGPARITY_SOURCE_MAJOR", 14),
                 MajorFromEnvironment("PGPARITY_TARGET_MAJOR", 16)};
    if (m.target < m.source) {
      throw std::runtime_error("target major " + std::to_string(m.target) +
                               " is older than source major " + std::to_string(m.source));
    }
    return m;
  }();
  return majors;
}

// A test suite whose SetUpTestSuite failed (the servers did not start, a
// major is not supported) has googletest mark its tests skipped, and ctest
// counts "[  SKIPPED ]" as a skip, not a failure (the process's exit status
// is ignored then): a broken pair would look like tests that do not apply.
// This listener ends the process with status 1 before the first such test
// prints anything, so ctest reports it failed. Registered once, for every
// test binary that links tests/support.
class SuiteSetUpFailureFails : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo& test) override {
    const ::testing::TestSuite* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    if (suite == nullptr || !suite->ad_hoc_test_result().Failed()) return;
    std::fprintf(stderr, "%s.%s: its test suite's set-up failed (above); failing, not skipping\n",
                 test.test_suite_name(), test.name());
    std::fflush(nullptr);
    std::_Exit(1);
  }
};

[[maybe_unused]] const bool kSuiteSetUpFailureFails = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new SuiteSetUpFailureFails);
  return true;
}();

}  // namespace

int SourceMajor() { return Majors().source; }
int TargetMajor() { return Majors().target; }

std::filesystem::path SourcePath(const std::string& relative) {
  return std::filesystem::path(PGPARITY_SOURCE_DIR) / relative;
}

int RunCommand(const std::string& command_line, std::string* output) {
  std::string full = command_line + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command_line);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    if (output != nullptr) output->append(buf.data(), n);
  }
  int status = pclose(pipe);
  if (status == -1) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

PgServer::PgServer(int major, std::string database)
    : major_(major), database_(std::move(database)) {
  // Under /tmp and opened up: as root, the server runs as an unprivileged
  // user that must reach its data directory.
  std::string tmpl = (std::filesystem::temp_directory_path() / "pgparity-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  chmod(dir_.c_str(), 0755);
  // Who owns the server: env/cleanup-test-servers.sh leaves a server alone
  // while this process lives (another test run on the same machine).
  if (FILE* owner = std::fopen((dir_ / "owner.pid").c_str(), "w")) {
    std::fprintf(owner, "%d\n", static_cast<int>(getpid()));
    std::fclose(owner);
  }

  const std::string pgenv = SourcePath("env/pgenv.sh").string();
  std::string output;
  // A port picked free can be taken before the server binds it (parallel
  // tests): pgenv.sh says so with exit code 2 and we try another.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreePort();
    output.clear();
    // A copy of a cluster initdb'd once (pgenv.sh copy_template): a test
    // run starts hundreds of servers.
    int rc = RunCommand("PGPARITY_INITDB_TEMPLATE=1 " + pgenv + " start " + std::to_string(major_) +
                            " " + ShellQuote((dir_ / "server").string()) + " " +
                            std::to_string(port_) + " " + ShellQuote(database_),
                        &output);
    if (rc == 0) return;
    if (rc != 2 || output.find("in use") == std::string::npos) break;
  }
  RunCommand(pgenv + " destroy " + ShellQuote((dir_ / "server").string()));
  std::filesystem::remove_all(dir_);
  throw std::runtime_error("cannot start PostgreSQL " + std::to_string(major_) + ": " + output);
}

PgServer::~PgServer() {
  RunCommand(SourcePath("env/pgenv.sh").string() + " destroy " +
             ShellQuote((dir_ / "server").string()));
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void PgServer::Restart() {
  // pgenv.sh start wrote the bindir into <dir>/bin; pg_ctl restart reuses
  // the start's options (postmaster.opts). -l keeps the postmaster's output
  // away from our pipe (else RunCommand would wait for the new postmaster).
  const std::filesystem::path server = dir_ / "server";
  std::string bin;
  if (std::FILE* f = std::fopen((server / "bin").c_str(), "r")) {
    std::array<char, 4096> buf{};
    if (std::fgets(buf.data(), buf.size(), f) != nullptr) bin = buf.data();
    std::fclose(f);
  }
  while (!bin.empty() && (bin.back() == '\n' || bin.back() == '\r')) bin.pop_back();
  if (bin.empty()) throw std::runtime_error("no bindir recorded in " + (server / "bin").string());
  std::string as_pg;
  if (geteuid() == 0) {
    const char* user = std::getenv("PGPARITY_PG_USER");
    as_pg =
        "runuser -u " + ShellQuote(user != nullptr && *user != '\0' ? user : "pgparity") + " -- ";
  }
  std::string output;
  const int rc =
      RunCommand("timeout 120 " + as_pg + ShellQuote(bin + "/pg_ctl") + " -D " +
                     ShellQuote((server / "data").string()) + " -l " +
                     ShellQuote((server / "server.log").string()) + " -m fast -w -t 60 restart",
                 &output);
  if (rc != 0) {
    throw std::runtime_error("cannot restart PostgreSQL " + std::to_string(major_) + " (exit " +
                             std::to_string(rc) + "): " + output + "; read " +
                             (server / "server.log").string());
  }
}

std::string PgServer::Dsn() const { return Dsn(database_); }

std::string PgServer::Dsn(const std::string& database) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + database +
         " user=postgres password=postgres connect_timeout=10";
}

}  // namespace pgparity::testing
