// A plain (non-replication) libpq session for tests: run SQL, read rows.
// Statements take text parameters ($1..; values are never spliced into
// SQL), rows come as text with NULL kept apart from "". Pins the same
// output settings pgparity pins (docs/cli.md), so text read here compares
// with a report's key text. Errors throw std::runtime_error carrying the
// SQL and the server's message, so a test fails with the reason. Owns its
// PGconn (RAII).
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgparity::testing {

using Row = std::vector<std::optional<std::string>>;

class SqlClient {
 public:
  explicit SqlClient(const std::string& dsn);

  // One or more statements without parameters; throws on error.
  void Exec(const std::string& sql);
  // One statement with $1.. as text parameters (nullopt = NULL).
  void Exec(const std::string& sql, const std::vector<std::optional<std::string>>& params);
  // Rows of a query, NULL as nullopt, values in text form.
  std::vector<Row> Query(const std::string& sql,
                         const std::vector<std::optional<std::string>>& params = {});
  // The single value of a one-row, one-column query ("" for NULL).
  std::string Value(const std::string& sql);
  // The same, NULL as nullopt.
  std::optional<std::string> Scalar(const std::string& sql,
                                    const std::vector<std::optional<std::string>>& params = {});

 private:
  struct ConnDeleter {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  std::unique_ptr<PGconn, ConnDeleter> conn_;
};

// A setting as a new session on `dsn` is told it at connection time
// (server, database and role settings, PGTZ and the like from the
// environment): a connection of its own that pins nothing.
std::string SessionDefault(const std::string& dsn, const std::string& setting);

}  // namespace pgparity::testing
