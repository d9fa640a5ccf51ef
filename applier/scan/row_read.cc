#include "pgparity/applier/scan/row_read.h"

#include <absl/strings/str_join.h>

#include <algorithm>

#include "pgparity/applier/shadow/row_key.h"
#include "pgparity/digest/digest_sql.h"
#include "pgparity/sql_quote.h"

namespace pgparity::applier {

namespace {

TableRead ReadOf(const TableSpec& spec, bool with_partitions) {
  TableRead r;
  r.qualified = spec.QualifiedName();
  r.relation = QuoteQualifiedName(spec.schema, spec.name);
  r.with_partitions = with_partitions;
  r.plain = !with_partitions;
  return r;
}

std::string From(const TableRead& read) { return " FROM " + RelationRef(read); }

}  // namespace

TableRead SourceRead(const TableSpec& spec) {
  TableRead r = ReadOf(spec, spec.relkind == 'p');
  r.row_filter = spec.row_filter;
  r.plain &= r.row_filter.empty() && !spec.publishes_generated;
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    r.select_list.push_back(QuoteIdent(spec.columns[i]));
    r.types.push_back(i < spec.types.size() ? spec.types[i] : "");
  }
  return r;
}

TableRead TargetRead(const TableSpec& spec, char target_relkind) {
  TableRead r = ReadOf(spec, target_relkind == 'p');
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    const TypeChange plain;
    const TypeChange& change = spec.compare.empty() ? plain : spec.compare[i];
    const std::string_view type = i < spec.types.size() ? spec.types[i] : std::string_view();
    r.select_list.push_back(
        TargetReadExpression(spec.columns[i], type, change, spec.source_timezone));
    // Read as is, the value has the target's type; by another rule, the
    // source's (a cast back) or none that matters (not toastable, NULL).
    const bool as_is = change.rule == CompareRule::kText;
    r.types.push_back(as_is && i < spec.target_types.size() && !spec.target_types[i].empty()
                          ? spec.target_types[i]
                          : std::string(type));
    r.plain &= as_is;
  }
  return r;
}

size_t TableRead::fields() const {
  return select_list.size() +
         static_cast<size_t>(std::count(wide_read.begin(), wide_read.end(), true));
}

TableRead ForDigest(TableRead read, const TableSpec& spec, size_t shown_chars) {
  read.wide_read.assign(read.select_list.size(), false);
  for (size_t i = 0; i < read.select_list.size() && i < spec.toastable.size(); ++i) {
    const bool key = std::find(spec.key_positions.begin(), spec.key_positions.end(), i) !=
                     spec.key_positions.end();
    if (!spec.toastable[i] || key || !spec.Compared(i)) continue;
    const std::string_view type = i < read.types.size() ? read.types[i] : std::string_view();
    read.select_list[i] = digest::WideValueReadSql(read.select_list[i], type, shown_chars);
    read.wide_read[i] = true;
    read.plain = false;
  }
  return read;
}

std::string CopySql(const TableRead& read) {
  // No column to read (CREATE TABLE t (), or only generated columns, which
  // are not published): "()" is a syntax error, and no list at all would
  // copy the generated ones. A SELECT of nothing copies an empty line a row.
  if (read.plain && !read.select_list.empty())
    return "COPY " + read.relation + " (" + absl::StrJoin(read.select_list, ", ") + ") TO STDOUT";
  return "COPY (SELECT " + absl::StrJoin(read.select_list, ", ") + From(read) + WhereSql(read, "") +
         ") TO STDOUT";
}

bool SearchableByDigest(const TableSpec& spec, int64_t rows) {
  for (const TypeChange& c : spec.compare) {
    if (c.rule != CompareRule::kText) return false;
  }
  return rows <= kMaxRowsSearchedByDigest;
}

std::string ComparedRowDigestSql(const TableSpec& spec, std::string_view alias) {
  ComparedColumns compared(spec);
  const std::vector<std::string> names(compared.names().begin(), compared.names().end());
  return digest::RowDigestSql(spec.schema, spec.name, names, alias);
}

std::string SelectByDigestSql(const TableRead& read, const TableSpec& spec) {
  return "SELECT " + absl::StrJoin(read.select_list, ", ") + From(read) +
         WhereSql(read, ComparedRowDigestSql(spec) + " = $1");
}

std::string WhereSql(const TableRead& read, std::string_view condition) {
  // The filter is the server's own text of an expression (pg_get_expr),
  // not a value: parenthesized, it combines with any condition.
  std::vector<std::string> terms;
  if (!condition.empty()) terms.emplace_back(condition);
  if (!read.row_range.empty()) terms.push_back("(" + read.row_range + ")");
  if (!read.row_filter.empty()) terms.push_back("(" + read.row_filter + ")");
  return terms.empty() ? "" : " WHERE " + absl::StrJoin(terms, " AND ");
}

TableRead KeyRangeRead(TableRead read, std::string condition) {
  read.row_range = std::move(condition);
  read.plain &= read.row_range.empty();
  return read;
}

std::string RelationRef(const TableRead& read) {
  return (read.with_partitions ? "" : "ONLY ") + read.relation;
}

std::string SelectByKeysSql(const TableRead& read, const TableSpec& spec, size_t keys) {
  // The key as the read expressions give it: on the target a key column
  // whose type changed is matched by its comparison rule.
  std::string key = "(";
  for (size_t i = 0; i < spec.key_positions.size(); ++i) {
    key += (i ? ", " : "") + read.select_list[spec.key_positions[i]];
  }
  key += ") IN (";
  size_t param = 0;
  for (size_t k = 0; k < keys; ++k) {
    key += k ? ", (" : "(";
    for (size_t i = 0; i < spec.key_positions.size(); ++i) {
      key += (i ? ", $" : "$") + std::to_string(++param);
    }
    key += ")";
  }
  return "SELECT " + absl::StrJoin(read.select_list, ", ") + From(read) + WhereSql(read, key + ")");
}

bool ReadsIntegerKey(const TableRead& read, const TableSpec& spec) {
  if (!spec.integer_key || spec.key_positions.size() != 1) return false;
  const size_t k = spec.key_positions[0];
  if (k >= read.types.size() || k >= read.select_list.size()) return false;
  const std::string_view type = read.types[k];
  return type == "smallint" || type == "integer" || type == "bigint";
}

std::string SelectByKeyRangeSql(const TableRead& read, const TableSpec& spec) {
  const std::string& key = read.select_list[spec.key_positions[0]];
  return "SELECT " + absl::StrJoin(read.select_list, ", ") + From(read) +
         WhereSql(read, key + " >= $1 AND " + key + " <= $2");
}

Status RowValues(const conn::QueryResult& result, int row, const TableRead& read,
                 std::vector<digest::ColumnValue>& out) {
  int field = 0;
  for (size_t c = 0; c < out.size(); ++c) {
    const bool wide_read = c < read.wide_read.size() && read.wide_read[c];
    if (wide_read && !result.IsNull(row, field + 1)) {
      PGPARITY_ASSIGN_OR_RETURN(out[c], digest::ParseWideValue(result.Value(row, field + 1)));
    } else {
      out[c] = result.IsNull(row, field) ? digest::ColumnValue::Null()
                                         : digest::ColumnValue::Value(result.Value(row, field));
    }
    field += wide_read ? 2 : 1;
  }
  return Status::OK();
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

std::string KeyText(const std::vector<std::pair<std::string, std::optional<std::string>>>& key) {
  std::string out;
  for (const auto& [column, value] : key) {
    out += (out.empty() ? "" : ", ") + IdentForDisplay(column) + " = " +
           (value ? QuoteLiteral(*value) : std::string("NULL"));
  }
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace pgparity::applier
