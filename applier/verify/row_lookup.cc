#include "verify/row_lookup.h"

#include "pgparity/applier/row_key.h"
#include "pgparity/digest/digest_sql.h"

namespace pgparity::applier {

std::string SelectRowTextSql(const TableSpec& spec) {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    if (i) sql += ", ";
    // format('%s') is the output function: the same text COPY gives.
    sql += "format('%s', " + digest::QuoteIdent(spec.columns[i]) + ")";
  }
  return sql + " FROM " + digest::QuoteIdent(spec.schema) + "." + digest::QuoteIdent(spec.name);
}

void RowValues(const conn::QueryResult& result, int row, std::vector<digest::ColumnValue>& out) {
  for (size_t c = 0; c < out.size(); ++c) {
    const int ci = static_cast<int>(c);
    out[c] = result.IsNull(row, ci) ? digest::ColumnValue::Null()
                                    : digest::ColumnValue::Value(result.Value(row, ci));
  }
}

std::vector<std::pair<std::string, std::optional<std::string>>> KeyColumns(
    const TableSpec& spec, std::string_view key_bytes) {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  auto values = DecodeKey(key_bytes, spec.key_positions.size());
  for (size_t i = 0; i < values.size(); ++i) {
    out.emplace_back(spec.columns[spec.key_positions[i]], std::move(values[i]));
  }
  return out;
}

}  // namespace pgparity::applier
