#include "repair/repair_sql.h"

#include "pgparity/applier/scan/row_read.h"
#include "pgparity/sql_quote.h"

namespace pgparity::applier {

RepairStatement& RepairStatement::Text(std::string_view sql) {
  text_.back() += sql;
  return *this;
}

RepairStatement& RepairStatement::Value(std::optional<std::string> value) {
  params_.push_back(std::move(value));
  text_.emplace_back();
  return *this;
}

std::string RepairStatement::WithParameters() const {
  std::string out = text_[0];
  for (size_t i = 0; i < params_.size(); ++i) out += "$" + std::to_string(i + 1) + text_[i + 1];
  return out;
}

std::string RepairStatement::WithLiterals() const {
  std::string out = text_[0];
  for (size_t i = 0; i < params_.size(); ++i) {
    out += (params_[i] ? QuoteLiteral(*params_[i]) : std::string("NULL")) + text_[i + 1];
  }
  return out;
}

namespace {

// The value of column `column` as the target is to store it: the source's
// text, which the target's type reads as the subscriber does; a timestamp
// whose zone-ness changed is the source's value read at the source's
// TimeZone, the inverse of its comparison rule (type_change.h), so that
// the session's own TimeZone never matters.
void AppendValue(RepairStatement& s, const TableSpec& spec, size_t column,
                 std::optional<std::string> value) {
  const bool at_zone =
      !spec.compare.empty() && spec.compare[column].rule == CompareRule::kAtTimeZone;
  if (!at_zone || !value) {
    s.Value(std::move(value));
    return;
  }
  s.Text("(CAST(").Value(std::move(value)).Text(" AS " + spec.types[column] + ")");
  s.Text(" AT TIME ZONE " + QuoteLiteral(spec.source_timezone) + ")");
}

void AppendKeyMatch(RepairStatement& s, const TableSpec& spec, const ColumnValues& key) {
  s.Text(" WHERE ");
  for (size_t i = 0; i < key.size(); ++i) {
    s.Text((i ? " AND " : "") + QuoteIdent(spec.columns[key[i].first]) + " = ");
    AppendValue(s, spec, key[i].first, key[i].second);
  }
}

bool IsKey(const TableSpec& spec, size_t column) {
  for (size_t k : spec.key_positions) {
    if (k == column) return true;
  }
  return false;
}

// "count(*) of the target's rows with row digest $n", the digest as a value.
void AppendCopies(RepairStatement& s, const TableSpec& spec, const std::string& digest) {
  s.Text("(SELECT count(*) FROM " + TargetRelation(spec) + " WHERE " + ComparedRowDigestSql(spec) +
         " = ")
      .Value(digest)
      .Text(")");
}

}  // namespace

std::string TargetRelation(const TableSpec& spec) {
  return RelationRef(TargetRead(spec, spec.target_relkind));
}

RepairStatement UpsertRow(const TableSpec& spec, const ColumnValues& values) {
  RepairStatement s;
  std::string names;
  std::string update;
  for (const auto& [column, value] : values) {
    const std::string ident = QuoteIdent(spec.columns[column]);
    names += (names.empty() ? "" : ", ") + ident;
    if (!IsKey(spec, column))
      update += (update.empty() ? "" : ", ") + ident + " = EXCLUDED." + ident;
  }
  s.Text("INSERT INTO " + QuoteQualifiedName(spec.schema, spec.name) + " (" + names + ") VALUES (");
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) s.Text(", ");
    AppendValue(s, spec, values[i].first, values[i].second);
  }
  std::string key;
  for (size_t k : spec.key_positions)
    key += (key.empty() ? "" : ", ") + QuoteIdent(spec.columns[k]);
  s.Text(") ON CONFLICT (" + key + ") DO " + (update.empty() ? "NOTHING" : "UPDATE SET " + update));
  return s;
}

RepairStatement UpdateRow(const TableSpec& spec, const ColumnValues& set, const ColumnValues& key) {
  RepairStatement s;
  s.Text("UPDATE " + TargetRelation(spec) + " SET ");
  for (size_t i = 0; i < set.size(); ++i) {
    s.Text((i ? ", " : "") + QuoteIdent(spec.columns[set[i].first]) + " = ");
    AppendValue(s, spec, set[i].first, set[i].second);
  }
  AppendKeyMatch(s, spec, key);
  return s;
}

RepairStatement DeleteRow(const TableSpec& spec, const ColumnValues& key) {
  RepairStatement s;
  s.Text("DELETE FROM " + TargetRelation(spec));
  AppendKeyMatch(s, spec, key);
  return s;
}

RepairStatement InsertCopiesUpTo(const TableSpec& spec, const ColumnValues& values,
                                 const std::string& digest, int64_t count) {
  RepairStatement s;
  std::string names;
  for (const auto& [column, value] : values) {
    names += (names.empty() ? "" : ", ") + QuoteIdent(spec.columns[column]);
  }
  // No compared column (CREATE TABLE t (), or only generated ones): no
  // column list, whose "()" is a syntax error, and a SELECT of nothing.
  s.Text("INSERT INTO " + QuoteQualifiedName(spec.schema, spec.name) +
         (names.empty() ? "" : " (" + names + ")") + " SELECT ");
  for (size_t i = 0; i < values.size(); ++i) {
    // A typed value: INSERT ... SELECT resolves an untyped one as text.
    s.Text(i ? ", CAST(" : "CAST(").Value(values[i].second);
    s.Text(" AS " + spec.types[values[i].first] + ")");
  }
  s.Text(" FROM generate_series(1, " + std::to_string(count) + " - ");
  AppendCopies(s, spec, digest);
  return s.Text(")");
}

RepairStatement DeleteCopiesDownTo(const TableSpec& spec, const std::string& digest,
                                   int64_t count) {
  RepairStatement s;
  // ctid is unique within one table only: a partitioned target's rows are
  // named by (tableoid, ctid).
  s.Text("DELETE FROM " + TargetRelation(spec) +
         " WHERE (tableoid, ctid) IN (SELECT tableoid, ctid FROM " + TargetRelation(spec) +
         " WHERE " + ComparedRowDigestSql(spec) + " = ")
      .Value(digest)
      .Text(" LIMIT greatest(0, ");
  AppendCopies(s, spec, digest);
  return s.Text(" - " + std::to_string(count) + "))");
}

}  // namespace pgparity::applier
