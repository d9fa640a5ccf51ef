#include "support/sql_client.h"

#include <stdexcept>

namespace pgparity::testing {

namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

}  // namespace

SqlClient::SqlClient(const std::string& dsn) : conn_(PQconnectdb(dsn.c_str())) {
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    throw std::runtime_error("connect failed (" + dsn + "): " + PQerrorMessage(conn_.get()));
  }
  // The same text output on PostgreSQL 14 and 16.
  Exec(
      "SET DateStyle = ISO; SET IntervalStyle = postgres; SET TimeZone = 'UTC';"
      "SET extra_float_digits = 3; SET bytea_output = hex");
}

void SqlClient::Exec(const std::string& sql) {
  ResultPtr res(PQexec(conn_.get(), sql.c_str()));
  auto status = PQresultStatus(res.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("SQL failed: " + sql + ": " + PQerrorMessage(conn_.get()));
  }
}

std::vector<Row> SqlClient::Query(const std::string& sql) {
  ResultPtr res(PQexec(conn_.get(), sql.c_str()));
  if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
    throw std::runtime_error("query failed: " + sql + ": " + PQerrorMessage(conn_.get()));
  }
  std::vector<Row> rows;
  const int ntuples = PQntuples(res.get());
  const int nfields = PQnfields(res.get());
  rows.reserve(ntuples);
  for (int i = 0; i < ntuples; ++i) {
    Row row;
    row.reserve(nfields);
    for (int j = 0; j < nfields; ++j) {
      if (PQgetisnull(res.get(), i, j)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res.get(), i, j), PQgetlength(res.get(), i, j)));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string SqlClient::Value(const std::string& sql) {
  auto rows = Query(sql);
  if (rows.size() != 1 || rows[0].size() != 1) {
    throw std::runtime_error("expected one value from: " + sql);
  }
  return rows[0][0].value_or("");
}

}  // namespace pgparity::testing
