// A libpq session for the corpus: statements with text parameters (values
// are never spliced into SQL), rows as text with NULL kept apart from "".
// Pins the same output settings pgparity pins (docs/cli.md), so text read
// here compares with the report's key text. Errors throw with the SQL.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgparity::corpus {

using Value = std::optional<std::string>;
using Row = std::vector<Value>;

class Session {
 public:
  explicit Session(const std::string& dsn);

  // One or more statements without parameters.
  void Exec(const std::string& sql);
  // One statement with $1.. as text parameters (nullopt = NULL).
  void Exec(const std::string& sql, const std::vector<Value>& params);
  std::vector<Row> Query(const std::string& sql, const std::vector<Value>& params = {});
  // The single value of a one-row, one-column query (nullopt for NULL).
  Value Scalar(const std::string& sql, const std::vector<Value>& params = {});

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

}  // namespace pgparity::corpus
