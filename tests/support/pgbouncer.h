// A PgBouncer for tests: pool_mode = transaction in front of one server,
// the database `appdb`, on a free port, config under its own temporary
// directory; started as the unprivileged user the servers run as when the
// test runs as root (PgBouncer refuses root), always stopped and removed.
// Client auth is trust (the user must still be in its userlist) or, with
// PgBouncerOptions::scram, scram-sha-256 with postgres/postgres; it logs into
// the server as postgres/postgres, the test servers' superuser. The admin
// console (admin_users = postgres) is AdminDsn().
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "support/migration_env.h"
#include "support/pg_server.h"
#include "support/subprocess.h"

namespace pgparity::testing {

struct PgBouncerOptions {
  // The [databases] section alone in databases.ini, which pgbouncer.ini
  // %includes (as env/local.sh sets it up): a test can rewrite it and RELOAD.
  bool databases_include = false;
  // auth_type = scram-sha-256 (plain passwords in the userlist, as env/'s
  // settings.ini) instead of trust: clients must give password=postgres.
  bool scram = false;
};

class PgBouncer {
 public:
  // Whether a `pgbouncer` binary is on PATH (tests GTEST_SKIP without it).
  static bool Available();

  // Starts it in front of `server`'s database; throws std::runtime_error
  // (with its log) when it does not answer within 10 s.
  explicit PgBouncer(const PgServer& server, PgBouncerOptions options = {});
  ~PgBouncer();
  PgBouncer(const PgBouncer&) = delete;
  PgBouncer& operator=(const PgBouncer&) = delete;

  int port() const { return port_; }
  // The application's DSN: `appdb` through PgBouncer.
  std::string Dsn() const;
  // The admin console's DSN (dbname=pgbouncer, user postgres, its password).
  std::string AdminDsn() const;
  // The file holding the [databases] section: databases.ini with
  // databases_include, else pgbouncer.ini.
  std::filesystem::path databases_file() const;
  // Runs one admin console command ("PAUSE appdb", "RESUME appdb", "SHOW
  // POOLS"); throws with its error. PAUSE returns once the transactions in
  // flight have ended.
  void Admin(const std::string& command) const;

 private:
  std::filesystem::path dir_;
  PgBouncerOptions options_;
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

// A PostgreSQL 14 -> 16 pair ready for a cutover: the canary's table on
// both sides (sql/canary.sql), the quick start's publication and
// subscription, and a PgBouncer in front of the source whose [databases]
// entry is in its own %include'd file. With `prepared_transactions` the
// source allows them (max_prepared_transactions = 4; one restart). Throws
// std::runtime_error when a step fails.
struct CutoverPair {
  explicit CutoverPair(bool prepared_transactions = false);
  MigrationServers servers;
  std::unique_ptr<PgBouncer> bouncer;
};

}  // namespace pgparity::testing
