// Range-parallel scans: the work units of a scan of many tables on `jobs`
// sessions. A unit is a whole table or one key range of a table; a big
// table is cut into ranges of its first key column so that several
// sessions read it at once, and units run biggest first, so that "a few
// huge tables" and "many small ones" both keep every session busy.
//
// A range of column c with bounds b1 < ... < bn (as the type's text) is
//   range 0:  c < b1 OR c IS NULL
//   range i:  c >= bi AND c < b(i+1)
//   range n:  c >= bn
// which partitions the table's rows exactly whatever the bounds are (the
// NULL arm keeps a NULL that a target without NOT NULL might hold). Each
// side plans its own bounds on its own server: a table digest is a sum
// (docs/digest.md), so the sum of a table's range digests is its digest
// whatever partition it was read in.
//
// Bounds: an integer column (smallint, integer, bigint) from min and max
// (two index lookups), evenly spaced; any other type from its
// pg_stats.histogram_bounds (ANALYZE), a subset. A table is read as one
// stream, with the reason (KeySplit::why), when it is small, has no key,
// its first key column is compared by another rule than its text, or no
// bound can be found.
//
// Values from the database reach SQL only through QuoteLiteral, with an
// explicit cast to the column's type (format_type's text).
#ifndef PGPARITY_APPLIER_SCAN_KEY_RANGES_H_
#define PGPARITY_APPLIER_SCAN_KEY_RANGES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/applier/scan/row_read.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

// The smallest range worth a stream of its own, by default.
inline constexpr double kMinRangeRows = 100'000;

struct ScanPlanOptions {
  size_t jobs = 2;  // sessions reading at once
  // No range is planned smaller than this (rows, estimated). Tests lower it.
  double min_range_rows = kMinRangeRows;
  // Units wanted per session: a table is cut so no range is much larger
  // than total_rows / (jobs * units_per_job).
  size_t units_per_job = 4;
  size_t max_ranges = 256;  // per table
};

// How one table is read: its ranges (1: whole) and, when whole, why.
struct KeySplit {
  std::string column;               // the first key column, unquoted ("" if none)
  std::string type;                 // its type on the side read, format_type()'s text
  std::vector<std::string> bounds;  // b1 < ... < bn, the type's output text
  std::string why;                  // ranges() == 1: why not split ("no key")

  size_t ranges() const { return bounds.size() + 1; }
};

// The condition of range `range` (< ranges()) of `split` ("" when the
// split has one range), for row_read.h's KeyRangeRead: WhereSql ANDs it,
// parenthesized, with the read's row filter.
std::string KeyRangeCondition(const KeySplit& split, size_t range);

// Pure planning steps (unit-tested).
// How many ranges a table of about `table_rows` rows gets when the scan
// reads `total_rows` in all; 1 when not worth cutting.
size_t RangesWanted(double table_rows, double total_rows, const ScanPlanOptions& options);
// `ranges` - 1 evenly spaced bounds in (min, max] as decimal text,
// ascending and distinct (fewer when max - min is small).
std::vector<std::string> EvenIntegerBounds(int64_t min, int64_t max, size_t ranges);
// At most `ranges` - 1 of `histogram`'s inner bounds (its first and last
// are the column's min and max), evenly chosen, without repeats.
std::vector<std::string> HistogramSubset(std::span<const std::string> histogram, size_t ranges);
// Why `spec`'s table cannot be cut by its key when read through
// `key_rule` (its first key column's comparison on the target; kText on
// the source): "" when it can.
std::string WhyNotSplit(const TableSpec& spec, const TypeChange& key_rule);

// What a table needs to be planned.
struct TableToPlan {
  const TableSpec* spec = nullptr;
  TableRead read;             // the side's read (relation, partitions)
  std::string key_type;       // the first key column's type on this side ("" none)
  TypeChange key_rule;        // its comparison rule (the target's; default on the source)
  double estimated_rows = 0;  // reltuples on this side (<= 0: unknown)
};

// Every table's split, reading bounds on `session` (any snapshot: the
// bounds only space the ranges; the partition is exact whatever they
// are). Logs one line per split table, prefixed by `what` ("bootstrap").
// Errors: the session's.
Result<std::vector<KeySplit>> PlanKeySplits(conn::PgSession& session,
                                            std::span<const TableToPlan> tables,
                                            const ScanPlanOptions& options, std::string_view what);
// `read` limited to range `range` of `split` (KeyRangeRead), named
// "schema.name (range 2 of 8)" in progress and errors; `read` itself when
// the split has one range.
TableRead RangeRead(TableRead read, const KeySplit& split, size_t range);

// One work unit: range `range` of table `table` (an index into the
// planned tables), about `weight` rows.
struct ScanUnit {
  size_t table = 0;
  size_t range = 0;
  double weight = 0;
};
// Every range of every table, biggest first (a table's rows shared evenly
// among its ranges; ties in table order).
std::vector<ScanUnit> PlanUnits(std::span<const KeySplit> splits,
                                std::span<const double> table_rows);
// Runs `scan(session, unit)` for every unit on `sessions.size()` threads,
// one session each, in `units` order (ScanInParallel: the first error
// stops the others at their next unit).
Status ScanUnits(std::vector<conn::PgSession*> sessions, std::span<const ScanUnit> units,
                 const std::function<Status(conn::PgSession&, const ScanUnit&)>& scan);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SCAN_KEY_RANGES_H_
