// RollingCheck: audit --scan-rate's replacement of periodic full checks —
// every table walked range by range at a capped rate, one range per Step,
// each row compared once per period (the walk of every table; the period
// as reported adds the walk's longest range, so that it bounds when a
// divergence made at any moment is reported).
//
// A table keyed by an integer first key column is cut into key ranges of
// about scan_rate x window rows (key_ranges.h's planner, on the target, at
// the start of each of its walks); others (no key, another key type, one
// range's worth of rows) are read whole in one snapshot, paced alike. Each
// range is checked by TargetChecker::CheckRange: its own bracketed
// snapshot, rows changed after its compared commit left out and counted.
// Rows read are paced by a RowPacer at scan_rate per second, bursting at
// most half a window's worth after the pause between two ranges.
//
// What is known: per table the divergent rows found in the ranges checked
// last (a range checked again replaces what was found in it), and whether
// the table has been walked whole yet. Where the walk is goes to
// `position_path` after every range (walk_position.h), and a restart goes
// on from there; the verdicts do not (a restarted walk reports the tables
// it has not reached yet as not walked whole).
//
// Thread-compatible: the audit's checking thread.
#ifndef PGPARITY_APPLIER_AUDIT_ROLLING_CHECK_H_
#define PGPARITY_APPLIER_AUDIT_ROLLING_CHECK_H_

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "pgparity/applier/audit/row_pacer.h"
#include "pgparity/applier/audit/walk_position.h"
#include "pgparity/applier/report/verify_report.h"
#include "pgparity/applier/scan/key_ranges.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/applier/verify/target_checker.h"

namespace pgparity::applier {

struct RollingOptions {
  double scan_rate = 0;             // rows per second read from the target, at most
  std::chrono::seconds window{10};  // a range holds about scan_rate x window rows
  size_t max_listed_rows = 100;     // divergent rows listed per table
  std::string position_path;        // walk_position.h's file; "" for none
};

class RollingCheck {
 public:
  RollingCheck(TargetChecker& checker, const ShadowState& shadow, RollingOptions options);

  // Checks the walk's next range; `between_rows` runs after each row read
  // (before the pace's sleep). kNotYet (`why`): not far enough yet, the
  // same range next time. Errors: CheckRange's and the planner's; a stop
  // requested while reading ends the read (Unavailable).
  Result<TargetChecker::Outcome> Step(std::string& why, const std::stop_token& stop,
                                      std::chrono::steady_clock::time_point deadline,
                                      const RowReadHook& between_rows = {});

  // Every table's verdict so far and the walk's progress, into `report`
  // (tables, rolling, source_lsn/target_lsn of the range checked last).
  // The report's status, its untracked tables and shadow come from
  // TargetChecker::Complete, after.
  void Fill(VerifyReport& report) const;

 private:
  // The divergent rows one range check found, until a check of a range
  // covering theirs replaces them.
  struct Finding {
    std::optional<KeyWindow> window;  // nullopt: the whole table
    uint64_t count = 0;
    std::vector<DivergentRow> rows;
  };
  struct TableWalk {
    std::optional<KeySplit> split;  // this walk's ranges; nullopt: not planned yet
    size_t next = 0;                // the next range of `split`
    bool walked_once = false;
    std::vector<Finding> findings;
    std::optional<TableReport> decided;       // a verdict reached without reading rows
    std::string unverified, unverified_last;  // a range this walk / the last one left open
    uint64_t left_out_last = 0;
    std::vector<std::string> extra_columns;  // the target's, as its last range found them
  };

  // The walk as the last run left it (position_path), if any.
  void Resume();
  // After a range: the table walked and where its next range starts.
  void SavePosition();
  Status Plan(size_t table);
  void Record(TableWalk& walk, const std::optional<KeyWindow>& window, RangeCheck& range);
  void EndOfTable();
  // The table's report entry: Walked's verdict, its columns described
  // as the full check describes them (column_description.h).
  TableReport TableVerdict(size_t table) const;
  TableReport Walked(size_t table) const;

  TargetChecker& checker_;
  const ShadowState& shadow_;
  RollingOptions options_;
  RowPacer pacer_;
  std::vector<TableWalk> walks_;
  size_t table_ = 0;  // the table being walked
  RollingProgress progress_;
  std::string source_lsn_, target_lsn_;
  std::chrono::steady_clock::time_point walk_start_;
  // When the range being checked was first tried (a try may end kNotYet),
  // and the longest range of this walk, first try to comparison.
  std::optional<std::chrono::steady_clock::time_point> range_start_;
  double longest_range_ = 0;
  // From Resume: the first range of table_ to check holds this key.
  std::optional<int64_t> resume_from_;
  // The walk began where a last run left it: its end is not a period.
  bool partial_walk_ = false;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_AUDIT_ROLLING_CHECK_H_
