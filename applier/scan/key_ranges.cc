#include "pgparity/applier/scan/key_ranges.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "pgparity/applier/scan/table_scan.h"
#include "pgparity/sql_quote.h"

namespace pgparity::applier {

namespace {

// Wide enough for max - min + 1 of any two bigints (GCC and Clang).
__extension__ using Int128 = __int128;

// The bound as a value of the split's column: quoted, cast to its type.
std::string BoundSql(const KeySplit& split, size_t i) {
  return QuoteLiteral(split.bounds[i]) + "::" + split.type;
}

bool IntegerType(std::string_view type) {
  return type == "smallint" || type == "integer" || type == "bigint";
}

std::optional<int64_t> ParseInt64(std::string_view text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// Evenly spaced bounds from the column's min and max (index lookups);
// none for an empty table.
Result<std::vector<std::string>> IntegerBounds(conn::PgSession& session, const TableRead& read,
                                               const std::string& column, size_t ranges) {
  const std::string c = QuoteIdent(column);
  PGPARITY_ASSIGN_OR_RETURN(
      conn::QueryResult r,
      session.Query("SELECT min(" + c + ")::text, max(" + c + ")::text FROM " + RelationRef(read)));
  if (r.rows() != 1 || r.IsNull(0, 0) || r.IsNull(0, 1)) return std::vector<std::string>();
  const std::optional<int64_t> lo = ParseInt64(r.Value(0, 0));
  const std::optional<int64_t> hi = ParseInt64(r.Value(0, 1));
  if (!lo || !hi) {
    return Status::Internal("min/max of " + read.qualified + "." + column + " are not integers");
  }
  return EvenIntegerBounds(*lo, *hi, ranges);
}

// A subset of the column's histogram (pg_stats, ANALYZE): the bounds in
// the column's own sort order, as its type's text. The root's inherited
// statistics for a read with partitions, the table's own otherwise.
Result<std::vector<std::string>> HistogramBounds(conn::PgSession& session, const TableSpec& spec,
                                                 const TableRead& read, size_t ranges) {
  PGPARITY_ASSIGN_OR_RETURN(
      conn::QueryResult r,
      session.Query("SELECT u.v FROM (SELECT histogram_bounds::text::text[] AS b FROM pg_stats "
                    "WHERE schemaname = $1 AND tablename = $2 AND attname = $3 "
                    "AND histogram_bounds IS NOT NULL ORDER BY inherited = $4::bool DESC "
                    "LIMIT 1) s, unnest(s.b) WITH ORDINALITY AS u(v, n) ORDER BY u.n",
                    {spec.schema, spec.name, spec.columns[spec.key_positions[0]],
                     std::string(read.with_partitions ? "true" : "false")}));
  std::vector<std::string> histogram;
  for (int i = 0; i < r.rows(); ++i) histogram.emplace_back(r.Value(i, 0));
  return HistogramSubset(histogram, ranges);
}

// Why a table wanted `ranges` but is read whole: a short reason.
std::string WhyWhole(const TableToPlan& t, const ScanPlanOptions& options) {
  if (options.jobs <= 1) return "one session (--jobs 1)";
  if (t.estimated_rows <= 0) return "row count unknown (never analyzed)";
  return "small (about " + std::to_string(static_cast<int64_t>(t.estimated_rows)) + " rows)";
}

// One table's split: its key's bounds on `session`, or why it is whole.
Result<KeySplit> PlanOne(conn::PgSession& session, const TableToPlan& t, double total_rows,
                         const ScanPlanOptions& options) {
  const TableSpec& spec = *t.spec;
  KeySplit split;
  split.why = WhyNotSplit(spec, t.key_rule);
  if (!split.why.empty()) return split;
  split.column = spec.columns[spec.key_positions[0]];
  split.type = t.key_type;
  const size_t ranges = RangesWanted(t.estimated_rows, total_rows, options);
  if (ranges <= 1) {
    split.why = WhyWhole(t, options);
    return split;
  }
  if (IntegerType(split.type)) {
    PGPARITY_ASSIGN_OR_RETURN(split.bounds, IntegerBounds(session, t.read, split.column, ranges));
    if (split.bounds.empty()) split.why = "no two key values to split between";
  } else {
    PGPARITY_ASSIGN_OR_RETURN(split.bounds, HistogramBounds(session, spec, t.read, ranges));
    if (split.bounds.empty()) {
      split.why = "no histogram of its first key column " + split.column + " (run ANALYZE)";
    }
  }
  return split;
}

}  // namespace

std::string KeyRangeCondition(const KeySplit& split, size_t range) {
  const size_t n = split.bounds.size();
  if (n == 0) return "";
  const std::string c = QuoteIdent(split.column);
  // A NULL is in no comparison's range: it joins the first.
  if (range == 0) return c + " < " + BoundSql(split, 0) + " OR " + c + " IS NULL";
  if (range >= n) return c + " >= " + BoundSql(split, n - 1);
  return c + " >= " + BoundSql(split, range - 1) + " AND " + c + " < " + BoundSql(split, range);
}

size_t RangesWanted(double table_rows, double total_rows, const ScanPlanOptions& options) {
  if (options.jobs <= 1 || table_rows <= 0) return 1;
  const double per_unit = std::max(
      {options.min_range_rows,
       total_rows / static_cast<double>(options.jobs * std::max<size_t>(1, options.units_per_job)),
       1.0});
  const double wanted = std::ceil(table_rows / per_unit);
  return static_cast<size_t>(std::clamp(wanted, 1.0, static_cast<double>(options.max_ranges)));
}

std::vector<std::string> EvenIntegerBounds(int64_t min, int64_t max, size_t ranges) {
  std::vector<std::string> out;
  if (ranges <= 1 || max <= min) return out;
  const Int128 span = static_cast<Int128>(max) - min + 1;
  for (size_t i = 1; i < ranges; ++i) {
    const Int128 b = min + span * static_cast<Int128>(i) / static_cast<Int128>(ranges);
    if (b <= min || b > max) continue;
    std::string text = std::to_string(static_cast<int64_t>(b));
    if (!out.empty() && out.back() == text) continue;
    out.push_back(std::move(text));
  }
  return out;
}

std::vector<std::string> HistogramSubset(std::span<const std::string> histogram, size_t ranges) {
  std::vector<std::string> out;
  if (ranges <= 1 || histogram.size() < 3) return out;
  const size_t last = histogram.size() - 1;
  for (size_t i = 1; i < ranges; ++i) {
    const size_t at = std::clamp<size_t>((i * last + ranges / 2) / ranges, 1, last - 1);
    if (!out.empty() && out.back() == histogram[at]) continue;
    out.push_back(histogram[at]);
  }
  return out;
}

std::string WhyNotSplit(const TableSpec& spec, const TypeChange& key_rule) {
  if (!spec.keyed()) return "no key";
  const std::string& column = spec.columns[spec.key_positions[0]];
  const bool as_text =
      key_rule.rule == CompareRule::kText && (key_rule.change_class == TypeChangeClass::kSame ||
                                              key_rule.change_class == TypeChangeClass::kExact);
  if (!as_text) {
    return "its first key column " + column + " changes type on the target (" +
           std::string(TypeChangeClassName(key_rule.change_class)) + ")";
  }
  return "";
}

Result<std::vector<KeySplit>> PlanKeySplits(conn::PgSession& session,
                                            std::span<const TableToPlan> tables,
                                            const ScanPlanOptions& options, std::string_view what) {
  double total = 0;
  for (const TableToPlan& t : tables) total += std::max(0.0, t.estimated_rows);
  std::vector<KeySplit> splits;
  for (const TableToPlan& t : tables) {
    PGPARITY_ASSIGN_OR_RETURN(KeySplit split, PlanOne(session, t, total, options));
    if (split.ranges() > 1) {
      spdlog::info("{}: {} read in {} ranges of {} (about {:.0f} rows)", what,
                   t.spec->QualifiedName(), split.ranges(), split.column, t.estimated_rows);
    }
    splits.push_back(std::move(split));
  }
  return splits;
}

TableRead RangeRead(TableRead read, const KeySplit& split, size_t range) {
  if (split.ranges() <= 1) return read;
  read.qualified +=
      " (range " + std::to_string(range + 1) + " of " + std::to_string(split.ranges()) + ")";
  return KeyRangeRead(std::move(read), KeyRangeCondition(split, range));
}

std::vector<ScanUnit> PlanUnits(std::span<const KeySplit> splits,
                                std::span<const double> table_rows) {
  std::vector<ScanUnit> units;
  for (size_t t = 0; t < splits.size(); ++t) {
    const size_t n = splits[t].ranges();
    const double rows = t < table_rows.size() ? std::max(0.0, table_rows[t]) : 0.0;
    for (size_t r = 0; r < n; ++r) units.push_back({t, r, rows / static_cast<double>(n)});
  }
  std::stable_sort(units.begin(), units.end(),
                   [](const ScanUnit& a, const ScanUnit& b) { return a.weight > b.weight; });
  return units;
}

Status ScanUnits(std::vector<conn::PgSession*> sessions, std::span<const ScanUnit> units,
                 const std::function<Status(conn::PgSession&, const ScanUnit&)>& scan) {
  std::vector<size_t> order(units.size());
  std::vector<double> weight(units.size());
  for (size_t i = 0; i < units.size(); ++i) {
    order[i] = i;
    weight[i] = units[i].weight;
  }
  return ScanInParallel(std::move(sessions), order, weight,
                        [&](conn::PgSession& s, size_t i) { return scan(s, units[i]); });
}

}  // namespace pgparity::applier
