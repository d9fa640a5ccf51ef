// VerifyReport: the verdict of a full check of the target against the
// shadow state, as docs/report.md defines it — JSON for machines, a short
// summary for people.
#ifndef PGPARITY_APPLIER_REPORT_VERIFY_REPORT_H_
#define PGPARITY_APPLIER_REPORT_VERIFY_REPORT_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "pgparity/applier/report/row_provenance.h"
#include "pgparity/applier/report/shown_value.h"
#include "pgparity/status.h"

namespace pgparity::applier {

enum class TableStatus { kMatch, kMismatch, kMissingOnTarget, kUnverified };
enum class ReportStatus { kConsistent, kDivergent, kIncomplete };
enum class RowDivergence { kMissingOnTarget, kExtraOnTarget, kDiffers };

std::string_view TableStatusName(TableStatus s);
std::string_view ReportStatusName(ReportStatus s);
std::string_view RowDivergenceName(RowDivergence k);

// A column of a divergent row on the sides that have the row: nullopt for
// the side without one (the target for missing_on_target, the source for
// extra_on_target).
struct ColumnValues {
  std::string column;
  std::optional<ShownValue> source;
  std::optional<ShownValue> target;
};

struct DivergentRow {
  // Key column -> value text (nullopt: NULL). Tables without a key:
  // {"row_digest": hex}.
  std::vector<std::pair<std::string, std::optional<std::string>>> key;
  RowDivergence kind = RowDivergence::kDiffers;
  std::vector<std::string> columns;  // kDiffers: the columns whose values differ, when known
  // The row digest (docs/digest.md, compared columns) of the source's row
  // at the compared commit, as 32 hex digits; nullopt when the source had
  // no such row then (kExtraOnTarget). What `pgparity repair` tells a row
  // the source changed since from one it may copy.
  std::optional<std::string> source_row_digest;

  // ---- Values (issue 12, item 1; docs/report.md "Values") ----
  // differs: the differing columns, both sides; missing_on_target: every
  // compared column of the source's row; extra_on_target: every compared
  // column of the target's row. values_shown is false when they were not
  // read: --redact, a table without key, the source's row changed since
  // the compared commit, or the row could not be read again.
  bool values_shown = false;
  std::vector<ColumnValues> values;
  // ---- end of values ----

  // Where the difference came from (docs/provenance.md); nullopt when it
  // was not read.
  std::optional<RowProvenance> provenance;
};

// A column whose type differs on the target, and how it was compared
// (docs/types.md).
struct ColumnComparison {
  std::string column;
  std::string source_type;
  std::string target_type;
  std::string change_class;  // "exact", "conversion", "incompatible"
  std::string compared_as;   // "text", "cast to real", "at time zone X", "not compared"
  std::string note;          // the risk of a conversion, why a column is not compared
};

struct TableReport {
  std::string table;  // schema.name
  TableStatus status = TableStatus::kUnverified;
  int64_t source_rows = 0;
  int64_t target_rows = -1;  // -1: not scanned
  std::string source_digest;
  std::string target_digest;                   // "" when not scanned
  std::vector<DivergentRow> divergent_rows;    // at most the cap
  uint64_t divergent_row_count = 0;            // all found, beyond the cap too
  uint64_t rows_changed_after = 0;             // left out: changed after the compared commit
  std::vector<std::string> extra_columns;      // on the target, ignored
  std::vector<ColumnComparison> type_changes;  // columns whose type differs
  // Columns left out of the comparison (a change of type whose values
  // cannot be compared): column -> why. The status says nothing of them.
  std::vector<std::pair<std::string, std::string>> unverified_columns;
  std::string reason;  // why unverified / what mismatches
  // What the publication publishes of the table, when it narrows it
  // (PostgreSQL 15+): its row filter as the server prints it — the
  // source's rows compared are those that pass it — and its column list as
  // "published: a, b (of 4)" — only those columns compared. "" when none.
  std::string row_filter;
  std::string published_columns;
  // How the full check read the table on the target (key_ranges.h): in
  // `scan_ranges` key ranges at once, or 1 with `scan_why` (no key,
  // small...). 0: not scanned.
  size_t scan_ranges = 0;
  std::string scan_why;
};

// The rolling check's state (audit --scan-rate, docs/report.md): every
// table walked range by range at a capped rate, each row once per period.
struct RollingProgress {
  double scan_rate = 0;  // rows per second, the cap
  // The span in which every row is read and compared, from whatever moment
  // it starts, so a divergence made at any moment is reported within it:
  // one walk of every table plus its longest range (a row's range may have
  // been read just before it changed). Measured: the last walk's; else
  // estimated: rows / rate + one --scan-window.
  double period_seconds = 0;
  bool period_measured = false;
  double walk_seconds = 0;           // the last walk of every table (0: none yet)
  double longest_range_seconds = 0;  // its longest range, read to compared
  uint64_t walks = 0;                // complete walks since the audit started
  std::string table;                 // the position: the range checked last, of that table
  std::string range;                 // "[lo, hi)" of the first key column, or "whole"
  uint64_t ranges_done = 0;          // ranges checked since the audit started
  uint64_t rows_compared = 0;        // target rows compared since the audit started
  uint64_t rows_left_out = 0;        // rows changed after their range's compared commit (in flight)
  // Tables walked by key range (table, "N ranges of <column>") and read
  // whole (table, why).
  std::vector<std::pair<std::string, std::string>> by_range;
  std::vector<std::pair<std::string, std::string>> whole;
};

struct VerifyReport {
  ReportStatus status = ReportStatus::kIncomplete;
  std::string source;  // host:port/db
  std::string target;
  std::string publication;
  std::string subscription;
  std::string source_lsn;  // the source position the target was compared at
  std::string target_lsn;  // the target's applied position (remote_lsn) then
  std::string checked_at;  // UTC, ISO 8601
  std::vector<TableReport> tables;
  std::vector<std::string> notes;
  bool redacted = false;  // --redact: no values in the report (docs/report.md)
  // audit --scan-rate only.
  std::optional<RollingProgress> rolling;
  // Shadow state figures.
  uint64_t shadow_rows = 0;
  uint64_t shadow_bytes = 0;
  // --memory-limit (0: none), the tables whose rows are in the on-disk row
  // store, and its bytes on disk.
  uint64_t memory_limit = 0;
  uint64_t spilled_tables = 0;
  uint64_t store_bytes = 0;
  double seconds = 0;

  // divergent if a table mismatches or is missing; else incomplete if one
  // is unverified; else consistent.
  void Decide();
};

std::string RenderReportJson(const VerifyReport& report);
void RenderReportText(const VerifyReport& report, std::ostream& out);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_REPORT_VERIFY_REPORT_H_
