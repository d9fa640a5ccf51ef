#include "support/sql_client.h"

#include <stdexcept>

namespace pgparity::testing {

namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// The statement in an error, cut: the corpus' statements run to megabytes.
std::string Failed(const char* what, const std::string& sql, PGconn* conn) {
  return std::string(what) + ": " + sql.substr(0, 2000) + ": " + PQerrorMessage(conn);
}

// PQexec without parameters (it runs several statements), else PQexecParams.
ResultPtr Run(PGconn* conn, const std::string& sql,
              const std::vector<std::optional<std::string>>& params) {
  if (params.empty()) return ResultPtr(PQexec(conn, sql.c_str()));
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return ResultPtr(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                values.data(), nullptr, nullptr, 0));
}

ResultPtr RunChecked(PGconn* conn, const std::string& sql,
                     const std::vector<std::optional<std::string>>& params) {
  ResultPtr res = Run(conn, sql, params);
  const auto status = PQresultStatus(res.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(Failed("SQL failed", sql, conn));
  }
  return res;
}

PGconn* Connect(const std::string& dsn) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("connect failed (" + dsn + "): " + message);
  }
  return conn;
}

}  // namespace

SqlClient::SqlClient(const std::string& dsn) : conn_(Connect(dsn)) {
  // Server notices (DROP ... IF EXISTS) are not the test's output.
  PQsetNoticeProcessor(
      conn_.get(), [](void*, const char*) {}, nullptr);
  // The same text output on every server version.
  Exec(
      "SET DateStyle = ISO; SET IntervalStyle = postgres; SET TimeZone = 'UTC';"
      "SET extra_float_digits = 3; SET bytea_output = hex; SET client_encoding = 'UTF8'");
}

void SqlClient::Exec(const std::string& sql) { RunChecked(conn_.get(), sql, {}); }

void SqlClient::Exec(const std::string& sql,
                     const std::vector<std::optional<std::string>>& params) {
  RunChecked(conn_.get(), sql, params);
}

std::vector<Row> SqlClient::Query(const std::string& sql,
                                  const std::vector<std::optional<std::string>>& params) {
  ResultPtr res = Run(conn_.get(), sql, params);
  if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
    throw std::runtime_error(Failed("query failed", sql, conn_.get()));
  }
  std::vector<Row> rows;
  const int ntuples = PQntuples(res.get());
  const int nfields = PQnfields(res.get());
  rows.reserve(static_cast<size_t>(ntuples));
  for (int i = 0; i < ntuples; ++i) {
    Row row;
    row.reserve(static_cast<size_t>(nfields));
    for (int j = 0; j < nfields; ++j) {
      if (PQgetisnull(res.get(), i, j)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res.get(), i, j),
                                     static_cast<size_t>(PQgetlength(res.get(), i, j))));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::optional<std::string> SqlClient::Scalar(
    const std::string& sql, const std::vector<std::optional<std::string>>& params) {
  auto rows = Query(sql, params);
  if (rows.size() != 1 || rows[0].size() != 1) {
    throw std::runtime_error("expected one value from: " + sql.substr(0, 2000));
  }
  return rows[0][0];
}

std::string SqlClient::Value(const std::string& sql) { return Scalar(sql).value_or(""); }

std::string SessionDefault(const std::string& dsn, const std::string& setting) {
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(Connect(dsn), PQfinish);
  ResultPtr res = RunChecked(conn.get(), "SELECT current_setting($1)", {setting});
  if (PQntuples(res.get()) != 1) throw std::runtime_error("no setting " + setting);
  return PQgetvalue(res.get(), 0, 0);
}

}  // namespace pgparity::testing
