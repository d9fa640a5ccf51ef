#include "pgparity/applier/verify/column_description.h"

#include <absl/strings/str_join.h>

namespace pgparity::applier {

namespace {

std::string ComparedAs(const TableSpec& spec, const TypeChange& change) {
  switch (change.rule) {
    case CompareRule::kText:
      return "text";
    case CompareRule::kCastToSource:
      return "cast back to the source type";
    case CompareRule::kAtTimeZone:
      return "at time zone " + spec.source_timezone;
    case CompareRule::kNotCompared:
      return "not compared";
  }
  return "text";
}

// The columns of `spec` whose type differs on the target, into `t`.
void DescribeComparison(const TableSpec& spec, TableReport& t) {
  t.type_changes.clear();
  t.unverified_columns.clear();
  for (size_t c = 0; c < spec.compare.size(); ++c) {
    const TypeChange& change = spec.compare[c];
    if (change.change_class == TypeChangeClass::kSame) continue;
    t.type_changes.push_back({spec.columns[c], spec.types[c], spec.target_types[c],
                              std::string(TypeChangeClassName(change.change_class)),
                              ComparedAs(spec, change), change.risk});
    if (change.rule == CompareRule::kNotCompared) {
      t.unverified_columns.emplace_back(spec.columns[c], change.risk);
    }
  }
}

// What the publication publishes of `spec`'s table when it narrows it
// (row filter, column list), into `t`: the report says how it compared.
void DescribePublishedSubset(const TableSpec& spec, TableReport& t) {
  t.row_filter = spec.row_filter.empty() ? "" : "(" + spec.row_filter + ")";
  t.published_columns.clear();
  if (spec.table_columns == 0) return;
  t.published_columns = "published: " + absl::StrJoin(spec.columns, ", ") + " (of " +
                        std::to_string(spec.table_columns) + ")";
}

}  // namespace

void DescribeColumns(const TableSpec& spec, TableReport& t) {
  DescribeComparison(spec, t);
  DescribePublishedSubset(spec, t);
}

}  // namespace pgparity::applier
