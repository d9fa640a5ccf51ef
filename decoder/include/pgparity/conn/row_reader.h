// RowReader: checked, by-name access to one row of a QueryResult — the SQL
// twin of wire's FieldReader. Every accessor returns a Result whose error
// names the column, the row and the query, so that a catalog query whose
// shape or values are not what the code expects fails loudly instead of
// yielding 0 or "" (the silent default shared/notes/style.md forbids).
//
//   PGPARITY_ASSIGN_OR_RETURN(QueryResult r, session.Query(sql));
//   for (int i = 0; i < r.rows(); ++i) {
//     RowReader row(r, i, "reading slots");
//     PGPARITY_ASSIGN_OR_RETURN(int64_t lag, row.Int64("lag_bytes"));
//     PGPARITY_ASSIGN_OR_RETURN(std::optional<wire::Lsn> at, row.OptionalLsn("confirmed"));
//   }
//
// Errors are Status::Internal: the query is ours, so an unknown column or a
// value of the wrong form is a broken invariant of pgparity, not user input.
// Views returned stay valid while the QueryResult lives.
#ifndef PGPARITY_CONN_ROW_READER_H_
#define PGPARITY_CONN_ROW_READER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::conn {

class RowReader {
 public:
  // REQUIRES: 0 <= row < result.rows(); `result` outlives the reader.
  RowReader(const QueryResult& result, int row, std::string_view context)
      : result_(result), row_(row), context_(context) {}

  // NULL is an error in the non-Optional forms.
  [[nodiscard]] Result<std::string_view> Text(std::string_view column) const;
  [[nodiscard]] Result<std::optional<std::string_view>> OptionalText(std::string_view column) const;
  // A decimal integer in int64's range ("-12"); anything else is an error.
  [[nodiscard]] Result<int64_t> Int64(std::string_view column) const;
  [[nodiscard]] Result<std::optional<int64_t>> OptionalInt64(std::string_view column) const;
  // PostgreSQL's text form of bool: "t" or "f".
  [[nodiscard]] Result<bool> Bool(std::string_view column) const;
  // A float8 as PostgreSQL prints it (also "NaN", "Infinity").
  [[nodiscard]] Result<double> Double(std::string_view column) const;
  // pg_lsn ("16/B374D848").
  [[nodiscard]] Result<std::optional<wire::Lsn>> OptionalLsn(std::string_view column) const;
  // One character ("char" columns: relkind, srsubstate).
  [[nodiscard]] Result<char> Char(std::string_view column) const;

 private:
  Result<int> Index(std::string_view column) const;
  Status Bad(std::string_view column, std::string_view what) const;

  const QueryResult& result_;
  int row_;
  std::string_view context_;
};

}  // namespace pgparity::conn

#endif  // PGPARITY_CONN_ROW_READER_H_
