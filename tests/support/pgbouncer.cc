#include "support/pgbouncer.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/sql_client.h"

namespace pgparity::testing {

namespace {

// The user PgServer's servers run as when we are root (env/pgenv.sh).
std::string UnprivilegedUser() {
  const char* user = std::getenv("PGPARITY_PG_USER");
  return user != nullptr && *user != '\0' ? user : "pgparity";
}

void WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string DatabasesSection(const PgServer& server) {
  return "[databases]\nappdb = host=127.0.0.1 port=" + std::to_string(server.port()) +
         " dbname=" + server.database() + " user=postgres password=postgres\n";
}

std::string Config(const PgServer& server, int port, const std::filesystem::path& dir,
                   const PgBouncerOptions& options) {
  const std::string databases = options.databases_include
                                    ? "%include " + (dir / "databases.ini").string() + "\n"
                                    : DatabasesSection(server);
  return databases +
         "\n"
         "[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " +
         std::to_string(port) +
         "\nunix_socket_dir =\n"
         "auth_type = " +
         (options.scram ? "scram-sha-256" : "trust") +
         "\nauth_file = " + (dir / "userlist.txt").string() +
         "\nadmin_users = postgres\npool_mode = transaction\n"
         "max_client_conn = 100\ndefault_pool_size = 5\n"
         "ignore_startup_parameters = extra_float_digits\n";
}

// Whether the admin console answers.
bool Answers(int port) {
  const std::string dsn = "host=127.0.0.1 port=" + std::to_string(port) +
                          " dbname=pgbouncer user=postgres password=postgres connect_timeout=2";
  PGconn* c = PQconnectdb(dsn.c_str());
  const bool ok = PQstatus(c) == CONNECTION_OK;
  PQfinish(c);
  return ok;
}

}  // namespace

bool PgBouncer::Available() { return RunCommand("command -v pgbouncer >/dev/null") == 0; }

PgBouncer::PgBouncer(const PgServer& server, PgBouncerOptions options) : options_(options) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "pgparity-bouncer-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  chmod(dir_.c_str(), 0755);
  WriteText(dir_ / "userlist.txt", "\"postgres\" \"postgres\"\n");
  if (options_.databases_include) WriteText(dir_ / "databases.ini", DatabasesSection(server));
  std::vector<std::string> argv = {"pgbouncer", (dir_ / "pgbouncer.ini").string()};
  if (geteuid() == 0) {
    // setpriv execs in place (no intermediate process like runuser's), so
    // the child we signal is PgBouncer itself.
    const std::string user = UnprivilegedUser();
    const passwd* pw = getpwnam(user.c_str());
    if (pw == nullptr || chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      throw std::runtime_error("cannot hand " + dir_.string() + " to the user " + user);
    }
    argv.insert(argv.begin(), {"setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups"});
  }
  // A port picked free may be taken before PgBouncer binds it: try again.
  for (int attempt = 0; attempt < 5 && process_ == nullptr; ++attempt) {
    port_ = FreePort();
    WriteText(dir_ / "pgbouncer.ini", Config(server, port_, dir_, options_));
    auto p = std::make_unique<Subprocess>(argv, dir_ / "pgbouncer.log");
    for (int i = 0; i < 100 && p->Running(); ++i) {
      if (Answers(port_)) {
        process_ = std::move(p);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (process_ == nullptr) {
    const std::string log = ReadFile(dir_ / "pgbouncer.log");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw std::runtime_error("PgBouncer did not start: " + log);
  }
}

PgBouncer::~PgBouncer() {
  if (process_ != nullptr) {
    process_->Signal(SIGTERM);  // immediate shutdown
    process_->WaitOrKill(std::chrono::seconds(10));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PgBouncer::Dsn() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) +
         " dbname=appdb user=postgres password=postgres connect_timeout=10";
}

std::string PgBouncer::AdminDsn() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) +
         " dbname=pgbouncer user=postgres password=postgres connect_timeout=10";
}

std::filesystem::path PgBouncer::databases_file() const {
  return dir_ / (options_.databases_include ? "databases.ini" : "pgbouncer.ini");
}

void PgBouncer::Admin(const std::string& command) const {
  const std::string dsn = AdminDsn();
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(dsn.c_str()), &PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) {
    throw std::runtime_error("PgBouncer admin console: " + std::string(PQerrorMessage(c.get())));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), command.c_str()), &PQclear);
  const ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    throw std::runtime_error("PgBouncer " + command + ": " + PQerrorMessage(c.get()));
  }
}

CutoverPair::CutoverPair(bool prepared_transactions) {
  if (prepared_transactions) {
    SqlClient(servers.source.Dsn()).Exec("ALTER SYSTEM SET max_prepared_transactions = 4");
    servers.source.Restart();
  }
  std::string out;
  if (RunSqlScript(servers.source, "canary.sql", {}, &out) != 0 ||
      RunSqlScript(servers.target, "canary.sql", {}, &out) != 0) {
    throw std::runtime_error("sql/canary.sql failed: " + out);
  }
  SetUpQuickStartPair(servers);
  PgBouncerOptions o;
  o.databases_include = true;
  bouncer = std::make_unique<PgBouncer>(servers.source, o);
}

}  // namespace pgparity::testing
