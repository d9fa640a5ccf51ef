// What TargetChecker (describing a differing row) and ChangeChecker (the
// rows of applied commits) both do to look rows up by key on a server: the
// SELECT of a table's columns as their output-function text, a result row
// as digest values, and a key encoding as the report's key columns.
#ifndef PGPARITY_APPLIER_VERIFY_ROW_LOOKUP_H_
#define PGPARITY_APPLIER_VERIFY_ROW_LOOKUP_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgparity/applier/table_spec.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/digest/row_digest.h"

namespace pgparity::applier {

// "SELECT format('%s', c1), ... FROM "schema"."name"": every column as its
// type's output function prints it (the text COPY and pgoutput send), in
// spec order; the caller appends the WHERE clause.
std::string SelectRowTextSql(const TableSpec& spec);

// Row `row` of a SelectRowTextSql result as digest values (views into
// `result`). REQUIRES: out.size() == the spec's column count.
void RowValues(const conn::QueryResult& result, int row, std::vector<digest::ColumnValue>& out);

// A key encoding (row_key.h) as key column name -> value text (nullopt for
// NULL); empty when `key_bytes` is not a key of `spec`.
std::vector<std::pair<std::string, std::optional<std::string>>> KeyColumns(
    const TableSpec& spec, std::string_view key_bytes);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_VERIFY_ROW_LOOKUP_H_
