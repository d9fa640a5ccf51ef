// A plain (non-replication) libpq session for tests: run SQL, read rows.
// Errors throw std::runtime_error carrying the server's message, so a test
// fails with the reason. Owns its PGconn (RAII).
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

  // Runs one or more statements; throws on error.
  void Exec(const std::string& sql);
  // Rows of a query, NULL as nullopt, values in text form.
  std::vector<Row> Query(const std::string& sql);
  // The single value of a one-row, one-column query ("" for NULL).
  std::string Value(const std::string& sql);

 private:
  struct ConnDeleter {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  std::unique_ptr<PGconn, ConnDeleter> conn_;
};

}  // namespace pgparity::testing
