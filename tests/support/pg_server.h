// Real PostgreSQL servers for integration tests.
//
// PgServer starts a server of one major version (12 to 18) on a free port
// under its own temporary directory through env/pgenv.sh (the same code as
// the environment's local mode) and always removes it again. Not
// thread-safe; one instance per test suite.
#pragma once

#include <filesystem>
#include <string>

namespace pgparity::testing {

class PgServer {
 public:
  // Starts the server; throws std::runtime_error (with the server log's
  // path) when it cannot.
  PgServer(int major, std::string database);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  int major() const { return major_; }
  int port() const { return port_; }
  const std::string& database() const { return database_; }
  const std::filesystem::path& dir() const { return dir_; }
  // libpq connection string for the superuser, over loopback TCP.
  std::string Dsn() const;
  std::string Dsn(const std::string& database) const;

  // Restarts the server in place (pg_ctl -m fast restart, same port and
  // settings, log appended); throws std::runtime_error when it fails.
  // Connections are cut; a replication client sees its stream end.
  void Restart();

 private:
  int major_;
  std::string database_;
  std::filesystem::path dir_;
  int port_ = 0;
};

// The majors of the migration pair under test: $PGPARITY_SOURCE_MAJOR and
// $PGPARITY_TARGET_MAJOR (tests/matrix.sh sets them per pair), 14 and 16
// when unset. Throws std::runtime_error for a major outside 12..18 or a
// target older than the source.
int SourceMajor();
int TargetMajor();

// Path of a file in the source tree (env/, sql/, ...).
std::filesystem::path SourcePath(const std::string& relative);

// Runs a shell command line; returns its exit status and captures
// stdout+stderr into *output when given.
int RunCommand(const std::string& command_line, std::string* output = nullptr);

// `s` as one shell word, single-quoted.
std::string ShellQuote(const std::string& s);

// A port nobody listens on right now (bound to 127.0.0.1:0 and released).
int FreePort();

}  // namespace pgparity::testing
