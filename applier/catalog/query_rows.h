// Internal to pgparity_catalog: one catalog query read into typed structs,
// every value through conn::RowReader (so a column missing from the query
// or a value of the wrong form is an error naming it, never a default).
#ifndef PGPARITY_APPLIER_CATALOG_QUERY_ROWS_H_
#define PGPARITY_APPLIER_CATALOG_QUERY_ROWS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/conn/row_reader.h"
#include "pgparity/result.h"

namespace pgparity::applier::catalog_internal {

using Params = std::vector<std::optional<std::string>>;

// Runs `sql` with `params` and returns read(row) of each row, in the
// query's order. `read`: Result<T>(const conn::RowReader&). `context` names
// what is read in errors ("reading pg_replication_slots").
template <typename T, typename ReadRow>
Result<std::vector<T>> QueryRows(conn::PgSession& session, std::string_view context,
                                 std::string_view sql, const Params& params, ReadRow read) {
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult result, session.Query(sql, params));
  std::vector<T> rows;
  rows.reserve(static_cast<size_t>(result.rows()));
  for (int i = 0; i < result.rows(); ++i) {
    PGPARITY_ASSIGN_OR_RETURN(T row, read(conn::RowReader(result, i, context)));
    rows.push_back(std::move(row));
  }
  return rows;
}

// The one row of a query that always returns one (SELECT count(*) ...).
template <typename T, typename ReadRow>
Result<T> QueryOneRow(conn::PgSession& session, std::string_view context, std::string_view sql,
                      const Params& params, ReadRow read) {
  PGPARITY_ASSIGN_OR_RETURN(std::vector<T> rows, QueryRows<T>(session, context, sql, params, read));
  if (rows.size() != 1) {
    return Status::Internal(std::string(context) + ": " + std::to_string(rows.size()) +
                            " rows where one was expected");
  }
  return T(std::move(rows[0]));  // T(...): vector<bool> yields a proxy
}

// A reader of one text column, for QueryRows<std::string>.
inline auto TextColumn(std::string_view column) {
  return [column](const conn::RowReader& row) -> Result<std::string> {
    PGPARITY_ASSIGN_OR_RETURN(std::string_view text, row.Text(column));
    return std::string(text);
  };
}

}  // namespace pgparity::applier::catalog_internal

#endif  // PGPARITY_APPLIER_CATALOG_QUERY_ROWS_H_
