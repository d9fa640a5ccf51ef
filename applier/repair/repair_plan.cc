#include "repair/repair_plan.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "pgparity/applier/scan/row_read.h"
#include "pgparity/conn/row_reader.h"
#include "pgparity/sql_quote.h"

namespace pgparity::applier {

namespace {

constexpr const char* kLeft = ": left to replication";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<size_t> PositionOf(const TableSpec& spec, const std::string& column) {
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    if (spec.columns[i] == column) return i;
  }
  return std::nullopt;
}

// Row `row` of `result` as owned texts (nullopt: NULL), spec column order.
std::vector<std::optional<std::string>> RowTexts(const conn::QueryResult& result, int row,
                                                 size_t columns) {
  std::vector<std::optional<std::string>> out;
  for (size_t c = 0; c < columns; ++c) out.emplace_back(result.Get(row, static_cast<int>(c)));
  return out;
}

// The row's values now and its digest over the compared columns; nullopt
// when the source has no row of that key.
struct SourceRow {
  std::vector<std::optional<std::string>> values;  // spec column order
  std::string digest;
};

Result<std::optional<SourceRow>> ReadSourceRow(conn::PgSession& source, const TableSpec& spec,
                                               const ColumnValues& key) {
  std::vector<std::optional<std::string>> params;
  for (const auto& [column, value] : key) params.push_back(value);
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult r,
                            source.Query(SelectByKeysSql(SourceRead(spec), spec, 1), params));
  if (r.rows() == 0) return std::optional<SourceRow>();
  std::vector<digest::ColumnValue> values(spec.columns.size());
  PGPARITY_RETURN_IF_ERROR(RowValues(r, 0, SourceRead(spec), values));
  ComparedColumns compared(spec);
  SourceRow row;
  row.digest = compared.MakeDigester(spec).Digest(compared.Project(values)).ToHex();
  row.values = RowTexts(r, 0, spec.columns.size());
  return std::optional<SourceRow>(std::move(row));
}

// Which columns of a row a statement writes.
enum class Columns { kAll, kCompared, kComparedNonKey };

// The columns `which` of `values`, or of those only `names` when given.
ColumnValues Pick(const TableSpec& spec, const std::vector<std::optional<std::string>>& values,
                  Columns which, const std::vector<std::string>& names = {}) {
  ColumnValues out;
  for (size_t c = 0; c < spec.columns.size(); ++c) {
    const bool key = std::find(spec.key_positions.begin(), spec.key_positions.end(), c) !=
                     spec.key_positions.end();
    if (which != Columns::kAll && !spec.Compared(c)) continue;
    if (which == Columns::kComparedNonKey && key) continue;
    if (!names.empty() && std::find(names.begin(), names.end(), spec.columns[c]) == names.end())
      continue;
    out.emplace_back(c, values[c]);
  }
  return out;
}

// The statement of a keyed row, or why the source's row now is not the one
// the report compared (then nullopt and `note` says so).
Result<PlannedRow> PlanKeyedRow(conn::PgSession& source, const TableSpec& spec,
                                const ListedRow& listed) {
  PlannedRow p;
  p.spec = &spec;
  p.row = {spec.QualifiedName(), KeyText(listed.key), listed.kind_name, ""};
  for (const auto& [column, value] : listed.key)
    p.key.emplace_back(*PositionOf(spec, column), value);
  PGPARITY_ASSIGN_OR_RETURN(auto now, ReadSourceRow(source, spec, p.key));
  if (listed.kind == RepairKind::kExtraOnTarget) {
    if (now) {
      p.row.note = std::string("the source has this key now (inserted after the report)") + kLeft;
    } else {
      p.statement = DeleteRow(spec, p.key);
      p.row.note = "delete the target's row";
    }
    return p;
  }
  if (!now) {
    p.row.note = std::string("deleted on the source after the report") + kLeft;
  } else if (Lower(now->digest) != Lower(*listed.source_row_digest)) {
    p.row.note = "changed on the source after the report (row digest " + now->digest +
                 ", the report compared " + *listed.source_row_digest + ")" + kLeft;
  } else if (listed.kind == RepairKind::kMissingOnTarget) {
    p.statement = UpsertRow(spec, Pick(spec, now->values, Columns::kAll));
    p.row.note = "insert the source's row";
  } else {
    ColumnValues set = Pick(spec, now->values, Columns::kComparedNonKey, listed.columns);
    if (set.empty()) set = Pick(spec, now->values, Columns::kComparedNonKey);
    p.statement = set.empty() ? UpsertRow(spec, Pick(spec, now->values, Columns::kAll))
                              : UpdateRow(spec, set, p.key);
    std::string names;
    for (const auto& [c, v] : set) names += (names.empty() ? "" : ", ") + spec.columns[c];
    p.row.note = "update " + (names.empty() ? std::string("the row") : names);
  }
  return p;
}

Result<int64_t> CountTargetCopies(conn::PgSession& target, const TableSpec& spec,
                                  const std::string& digest) {
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult r,
                            target.Query("SELECT count(*) AS n FROM " + TargetRelation(spec) +
                                             " WHERE " + ComparedRowDigestSql(spec) + " = $1",
                                         {digest}));
  return conn::RowReader(r, 0, "counting the target's copies of a row").Int64("n");
}

// A keyless row listed `listed` times as `kind`: the target's copies made
// as many as the source's now, when the difference is still the report's.
Result<PlannedRow> PlanKeylessRow(conn::PgSession& source, conn::PgSession& target,
                                  const TableSpec& spec, const ListedRow& row, int64_t listed) {
  PlannedRow p;
  p.spec = &spec;
  p.digest = Lower(*row.key[0].second);
  p.row = {spec.QualifiedName(), "row_digest = " + p.digest, row.kind_name, ""};
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult src,
                            source.Query(SelectByDigestSql(SourceRead(spec), spec), {p.digest}));
  PGPARITY_ASSIGN_OR_RETURN(const int64_t on_target, CountTargetCopies(target, spec, p.digest));
  const int64_t on_source = src.rows();
  const bool missing = row.kind == RepairKind::kMissingOnTarget;
  const std::string counts =
      std::to_string(on_source) + " on the source, " + std::to_string(on_target) + " on the target";
  if ((missing ? on_source - on_target : on_target - on_source) != listed) {
    p.row.note = "copies changed after the report (" + counts + ", the report listed " +
                 std::to_string(listed) + " " + row.kind_name + ")" + kLeft;
    return p;
  }
  if (missing) {
    const auto texts = RowTexts(src, 0, spec.columns.size());
    p.statement =
        InsertCopiesUpTo(spec, Pick(spec, texts, Columns::kCompared), p.digest, on_source);
  } else {
    p.statement = DeleteCopiesDownTo(spec, p.digest, on_source);
  }
  p.row.note = (missing ? "insert " : "delete ") + std::to_string(listed) + " cop" +
               (listed == 1 ? "y" : "ies") + " (" + counts + ")";
  return p;
}

}  // namespace

Status CheckListedTable(const TableSpec& spec, const ListedTable& listed) {
  const std::string where = "--report: table " + listed.table + ": ";
  const std::string fix = " — run pgparity verify again and repair from its new report";
  for (const ListedRow& row : listed.rows) {
    if (!spec.keyed()) {
      if (row.key.size() != 1 || row.key[0].first != "row_digest" || !row.key[0].second)
        return Status::InvalidArgument(
            where + "the table has no key now, the report names rows by key" + fix);
      continue;
    }
    bool same = row.key.size() == spec.key_positions.size();
    for (size_t i = 0; same && i < row.key.size(); ++i) {
      same = row.key[i].first == spec.columns[spec.key_positions[i]];
    }
    if (!same)
      return Status::InvalidArgument(where +
                                     "the report's key columns are not the table's key now" + fix);
    for (const auto& column : row.columns) {
      auto pos = PositionOf(spec, column);
      if (!pos || !spec.Compared(*pos))
        return Status::InvalidArgument(where + "unknown or not compared column '" + column + "'" +
                                       fix);
    }
  }
  for (size_t c = 0; !spec.keyed() && c < spec.compare.size(); ++c) {
    if (spec.Compared(c) && spec.compare[c].rule != CompareRule::kText)
      return Status::FailedPrecondition(
          where + "a table without key whose column " + spec.columns[c] +
          " changed type cannot be repaired by row digest — repair it by hand");
  }
  return Status::OK();
}

Result<std::vector<PlannedRow>> PlanTable(conn::PgSession& source, conn::PgSession& target,
                                          const TableSpec& spec, const ListedTable& listed) {
  std::vector<PlannedRow> out;
  if (spec.keyed()) {
    for (const ListedRow& row : listed.rows) {
      PGPARITY_ASSIGN_OR_RETURN(PlannedRow p, PlanKeyedRow(source, spec, row));
      out.push_back(std::move(p));
    }
    return out;
  }
  // A keyless row is listed once per surplus copy: one statement per digest.
  std::map<std::pair<std::string, RepairKind>, std::pair<const ListedRow*, int64_t>> groups;
  for (const ListedRow& row : listed.rows) {
    auto& g = groups[{Lower(*row.key[0].second), row.kind}];
    g.first = &row;
    ++g.second;
  }
  for (const auto& [id, g] : groups) {
    PGPARITY_ASSIGN_OR_RETURN(PlannedRow p,
                              PlanKeylessRow(source, target, spec, *g.first, g.second));
    out.push_back(std::move(p));
  }
  return out;
}

Result<bool> RowMatchesNow(conn::PgSession& source, conn::PgSession& target,
                           const PlannedRow& planned) {
  const TableSpec& spec = *planned.spec;
  if (!spec.keyed()) {
    const TableRead read = SourceRead(spec);
    PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult s,
                              source.Query("SELECT count(*) AS n FROM " + RelationRef(read) +
                                               WhereSql(read, ComparedRowDigestSql(spec) + " = $1"),
                                           {planned.digest}));
    PGPARITY_ASSIGN_OR_RETURN(const int64_t on_source,
                              conn::RowReader(s, 0, "re-checking a row").Int64("n"));
    PGPARITY_ASSIGN_OR_RETURN(const int64_t on_target,
                              CountTargetCopies(target, spec, planned.digest));
    return on_source == on_target;
  }
  std::vector<std::optional<std::string>> params;
  for (const auto& [column, value] : planned.key) params.push_back(value);
  // Only their digests are compared: wide values are hashed on the servers.
  const TableRead source_read = ForDigest(SourceRead(spec), spec);
  const TableRead target_read = ForDigest(TargetRead(spec, spec.target_relkind), spec);
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult s,
                            source.Query(SelectByKeysSql(source_read, spec, 1), params));
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult t,
                            target.Query(SelectByKeysSql(target_read, spec, 1), params));
  if (s.rows() != t.rows()) return false;
  if (s.rows() == 0) return true;
  ComparedColumns compared(spec);
  digest::RowDigester digester = compared.MakeDigester(spec);
  std::vector<digest::ColumnValue> values(spec.columns.size());
  PGPARITY_RETURN_IF_ERROR(RowValues(s, 0, source_read, values));
  const auto source_digest = digester.Digest(compared.Project(values));
  PGPARITY_RETURN_IF_ERROR(RowValues(t, 0, target_read, values));
  return digester.Digest(compared.Project(values)) == source_digest;
}

}  // namespace pgparity::applier
