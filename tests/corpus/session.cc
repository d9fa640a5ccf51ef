#include "corpus/session.h"

#include <stdexcept>

namespace pgparity::corpus {

namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

ResultPtr Run(PGconn* conn, const std::string& sql, const std::vector<Value>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  ResultPtr res(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0));
  const auto status = PQresultStatus(res.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("SQL failed: " + sql.substr(0, 2000) + ": " + PQerrorMessage(conn));
  }
  return res;
}

}  // namespace

Session::Session(const std::string& dsn) : conn_(PQconnectdb(dsn.c_str())) {
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    throw std::runtime_error("connect failed (" + dsn + "): " + PQerrorMessage(conn_.get()));
  }
  // Server notices (DROP ... IF EXISTS) are not the test's output.
  PQsetNoticeProcessor(
      conn_.get(), [](void*, const char*) {}, nullptr);
  Exec(
      "SET DateStyle = ISO; SET IntervalStyle = postgres; SET TimeZone = 'UTC';"
      "SET extra_float_digits = 3; SET bytea_output = hex; SET client_encoding = 'UTF8'");
}

void Session::Exec(const std::string& sql) {
  ResultPtr res(PQexec(conn_.get(), sql.c_str()));
  const auto status = PQresultStatus(res.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("SQL failed: " + sql.substr(0, 2000) + ": " +
                             PQerrorMessage(conn_.get()));
  }
}

void Session::Exec(const std::string& sql, const std::vector<Value>& params) {
  Run(conn_.get(), sql, params);
}

std::vector<Row> Session::Query(const std::string& sql, const std::vector<Value>& params) {
  ResultPtr res = Run(conn_.get(), sql, params);
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

Value Session::Scalar(const std::string& sql, const std::vector<Value>& params) {
  auto rows = Query(sql, params);
  if (rows.size() != 1 || rows[0].size() != 1) {
    throw std::runtime_error("expected one value from: " + sql);
  }
  return rows[0][0];
}

std::string SessionDefault(const std::string& dsn, const std::string& setting) {
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(dsn.c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("connect failed (" + dsn + "): " + PQerrorMessage(conn.get()));
  }
  ResultPtr res = Run(conn.get(), "SELECT current_setting($1)", {setting});
  if (PQntuples(res.get()) != 1) throw std::runtime_error("no setting " + setting);
  return PQgetvalue(res.get(), 0, 0);
}

}  // namespace pgparity::corpus
