// TargetChecker: the full check of the PostgreSQL 16 target against the
// shadow state, while both keep moving.
//
// The native apply worker commits source transactions one at a time in
// commit order and moves its origin's remote_lsn in the same commit, so a
// snapshot of the target equals the source's state after one particular
// commit. The checker brackets which one:
//   lo = max(remote_lsn read before the snapshot, minus one commit — the
//            origin moves just before the commit becomes visible —,
//            the subscription slot's confirmed_flush_lsn read before),
//   hi = max(lo, remote_lsn read inside the snapshot),
// scans every table inside that one REPEATABLE READ snapshot (parallel
// sessions importing it), and compares the table digests with the shadow's
// history at every data commit in (lo, hi] and at lo. One commit at which
// every table matches: consistent. None: the tables that do not match at
// the best commit are compared row by row (a second scan in the same
// snapshot), leaving out rows changed after lo — those may legitimately
// differ and are re-checked by the next check. Only rows that differ
// outside that set are divergence; so under load there is no false
// positive.
//
// FullCheck runs these phases, one function each:
//   1. ReadTables: the subscription refreshed, every table as the target has
//      it; not yet while an initial copy runs;
//   2. BracketSnapshot: lo, hi and the snapshot all target sessions share;
//   3. AwaitOwnStream: pgparity's own stream has decoded up to hi;
//   4. DecideBeforeScan: verdicts that need no row (CheckBeforeScan);
//   5. ScanTargetDigests: the table digests in the snapshot;
//   6. FindCandidateCommit: the commit in [lo, hi] matching the most tables;
//   7. BuildReport: a verdict per table, with the row drill-down
//      (CompareRows) for the tables that match at no commit; each listed
//      row read again by key for its values (DescribeRow), after the
//      verdict, cut or left out per CheckOptions::values.
//
// A disabled subscription does not move: the target is compared with the
// source's current state instead (a lag is then a divergence).
//
// Read-only on both sides; it never pauses or alters the subscription.
// Thread-safety: one FullCheck at a time.
#ifndef PGPARITY_APPLIER_VERIFY_TARGET_CHECKER_H_
#define PGPARITY_APPLIER_VERIFY_TARGET_CHECKER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgparity/applier/catalog/catalog.h"
#include "pgparity/applier/report/verify_report.h"
#include "pgparity/applier/scan/key_ranges.h"
#include "pgparity/applier/scan/key_window.h"
#include "pgparity/applier/session/stream_position.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

// About what one target row takes while a full check compares it (its key
// string and digest in a hash map at its lowest load): the bytes of
// MemoryBudget::row_comparison() to CheckOptions::row_comparison_rows.
inline constexpr size_t kComparedRowBytes = 128;

struct CheckOptions {
  size_t parallel = 2;  // target sessions scanning at once (--jobs)
  // A table is cut into key ranges no smaller than this (key_ranges.h);
  // tests lower it to split small tables.
  double min_range_rows = kMinRangeRows;
  size_t max_listed_rows = 100;  // divergent rows listed per table
  // A table spilled to the row store is compared row by row in key ranges
  // of about this many rows (one integer key column), so that its target
  // rows need not fit in memory; 0: whole, like a table in memory.
  double row_comparison_rows = 0;
  ValueOptions values;  // the listed rows' values: cut, or redacted
  std::chrono::milliseconds pause_timeout{10000};
  // The publication the shadow's tables come from: each check reads which
  // tables it still publishes (left_publication). "": not read.
  std::string publication;
};

// One key range of one table for the rolling check (audit --scan-rate):
// the rows its condition selects on the target (key_ranges.h's
// KeyRangeCondition; "" every row) and, for a table walked by integer
// ranges, the same range of the shadow's keys (nullopt: every row).
struct RangeToCheck {
  std::string condition;
  std::optional<KeyWindow> window;
};

// What a range's check found.
struct RangeCheck {
  // The range's verdict: kMatch, kMismatch (rows listed as the full check
  // lists them), kUnverified (reason), or a verdict reached without rows
  // (the table missing on the target...).
  TableReport table;
  uint64_t rows_compared = 0;  // the target's rows read in the range
  uint64_t rows_left_out = 0;  // of the range, changed after the compared commit (in flight)
  std::string source_lsn;      // the commit compared at (the window's lower bound)
  std::string target_lsn;      // the target's remote_lsn in the snapshot
};

struct TargetRows;  // a table's (or range's) rows read on the target (verify/row_diff.h)

// Called after each row a check reads (the rolling check's pace); an
// error ends the read.
using RowReadHook = std::function<Status()>;

class TargetChecker {
 public:
  TargetChecker(ShadowState& shadow, const StreamPosition& stream, conn::ConnParams source,
                conn::ConnParams target, SubscriptionInfo subscription, CheckOptions options);
  ~TargetChecker();

  enum class Outcome {
    kDone,    // `report` holds a verdict
    kNotYet,  // the target (or pgparity's stream) is not far enough yet: `why`
  };
  // One full check. Errors: the sessions' (Unavailable, PermissionDenied...).
  // The report's parts that do not depend on how the tables were read:
  // the published tables pgparity does not track (unverified, with what
  // to do), the verdict over every table (VerifyReport::Decide), the
  // shadow's memory (rows, bytes, limit, spilled tables). A full check
  // ends with it; the rolling check's report (RollingCheck::Fill) needs
  // it too.
  [[nodiscard]] Status Complete(VerifyReport& report);
  Result<Outcome> FullCheck(VerifyReport& report, std::string& why,
                            std::chrono::steady_clock::time_point deadline);
  // The rolling check: the rows of `range` of table `table` (an index of
  // the shadow's tables) compared with the shadow's as CompareRows does,
  // in a REPEATABLE READ snapshot of their own bracketed as the full
  // check's, after pgparity's stream has decoded past it; rows changed
  // after the window's lower bound are left out (counted). `after_row`
  // runs after each row read. kNotYet (`why`): the target or the stream
  // is not far enough yet; try the range again.
  Result<Outcome> CheckRange(size_t table, const RangeToCheck& range, const RowReadHook& after_row,
                             RangeCheck& out, std::string& why,
                             std::chrono::steady_clock::time_point deadline);
  // Closes the sessions (after a failure); the next check opens new ones.
  void Disconnect() {
    target_.clear();
    source_.reset();
  }
  // How the rolling check walks table `table`: key ranges of its first key
  // column of about `rows_per_range` rows each (key_ranges.h's planner,
  // bounds read on the target), or whole with the reason (no key, not an
  // integer key, smaller than one range, missing on the target).
  Result<KeySplit> PlanRanges(size_t table, double rows_per_range);
  // The lower bound of the last conclusive check's window: no later check
  // compares below it, so the shadow's history up to it can go.
  wire::Lsn last_lower_bound() const { return last_lo_; }
  // Partitioned tables ("schema.name") a check found with partitions
  // attached or detached on the source since pgparity started (reported
  // unverified): rows moved in or out without a change on the stream.
  const std::set<std::string>& repartitioned() const { return repartitioned_; }
  // Tables ("schema.name") a check found the publication no longer
  // publishes (dropped, ALTER PUBLICATION ... DROP TABLE, renamed, or
  // published otherwise), each with how it left; reported unverified.
  const std::map<std::string, std::string>& left_publication() const { return left_publication_; }
  // Columns a check found of another type on the target than the one the
  // comparison was planned for ("column c of table t is bigint on the
  // target, but ..."; reported unverified): a new plan compares them, the
  // shadow's digests (of the source's values) still hold.
  const std::set<std::string>& retyped_on_target() const { return retyped_on_target_; }

 private:
  struct Round;  // one FullCheck's tables, window, digests and best commit
  Status Open();
  Result<bool> ReadTables(Round& round, std::string& why);
  Status BracketSnapshot(Round& round, std::string& why);
  Result<bool> AwaitOwnStream(wire::Lsn hi, std::chrono::steady_clock::time_point deadline,
                              std::string& why);
  Status DecideBeforeScan(Round& round);
  Status ScanTargetDigests(Round& round);
  void FindCandidateCommit(Round& round);
  Status BuildReport(const Round& round, const std::string& why, VerifyReport& report);
  Result<TableReport> ReportTable(const Round& round, size_t table, const std::string& why);
  // The row drill-down of one table that matches at no commit: rows
  // compared by key (or as multisets), leaving out rows changed after `lo`.
  Status CompareRows(size_t table, const TargetTable& tt, wire::Lsn lo, TableReport& out);
  // How CompareRows reads table `table`: a table spilled to the row store
  // (its rows do not fit in memory, nor would its target rows) with one
  // integer key column in ranges of about options_.row_comparison_rows;
  // any other whole (one range).
  Result<KeySplit> RowComparisonSplit(size_t table, const TargetTable& tt);
  // Key ranges of `table`'s first key column of about `rows_per_range`
  // rows (bounds read on target_[0]), or one range and why; a split is
  // logged as `what`'s ("rolling check: public.t read in 5 ranges of id").
  Result<KeySplit> SplitByKeyWindow(size_t table, const TargetTable& tt, double rows_per_range,
                                    std::string_view what);
  // CheckRange's comparison, once the range's rows are read.
  Status CompareRange(size_t table, const TargetTable& tt, const RangeToCheck& range, wire::Lsn lo,
                      const TargetRows& rows, RangeCheck& out);
  // The shadow's rows of `window` (nullopt: all) against the target's
  // `rows` read there, leaving out rows changed after `lo` (counted into
  // `left_out`), the stream paused at a transaction boundary meanwhile.
  // "" when compared, else why not (an unverified reason).
  std::string DiffWithShadow(size_t table, wire::Lsn lo, const std::optional<KeyWindow>& window,
                             const TargetRows& rows,
                             std::vector<std::pair<RowDivergence, std::string>>& found,
                             uint64_t& left_out);
  // Before rows read on target_[0] are called divergent: whether the table
  // was truncated or rewritten on the target after the check's snapshot
  // (a TRUNCATE the subscriber applied meanwhile: the read found the new,
  // empty file, not the snapshot's rows; rewritten_tables.h). Then `out`
  // is unverified, to re-check, and the result is true.
  Result<bool> RewrittenOnTarget(size_t table, TableReport& out);
  // `count` divergent rows, of which `found` (the first in key order, at
  // most max_listed_rows of them) are listed.
  void ListDivergent(size_t table, const TargetTable& tt,
                     std::vector<std::pair<RowDivergence, std::string>> found, uint64_t count,
                     TableReport& out);
  // One listed row: its key, its source digest, its columns and values.
  DivergentRow DescribeRow(size_t table, const TargetTable& tt, RowDivergence kind,
                           const std::string& key);
  void DescribeDiffers(size_t table, const TargetTable& tt, DivergentRow& row,
                       std::string_view key_bytes);
  // The whole row of a missing_on_target (the source's) or extra_on_target
  // (the target's, in the snapshot) keyed row, into row.values.
  void ShowRowByDigest(size_t table, const TargetTable& tt, DivergentRow& row,
                       const std::string& digest_hex);
  void ShowWholeRow(size_t table, const TargetTable& tt, DivergentRow& row,
                    std::string_view key_bytes);
  // Whether `source_row` (the source's current row of `key_bytes`) still
  // has the digest the shadow holds for it: unchanged since the compared
  // commit. Takes the shadow's lock.
  bool SourceRowUnchanged(size_t table, std::string_view key_bytes,
                          std::span<const digest::ColumnValue> source_row);
  // A verdict reached without reading rows: the table or columns missing on
  // the target, not subscribed, a column type changed since the plan, a key
  // column not compared, partitions attached or detached on the source.
  Result<std::optional<TableReport>> CheckBeforeScan(const TableSpec& spec, const TargetTable& tt);
  std::set<std::string> repartitioned_;  // CheckBeforeScan found their partitions changed
  // Which of `specs` the publication no longer lists (left_publication_).
  Status ReadLeftPublication(const std::vector<TableSpec>& specs);
  std::map<std::string, std::string> left_publication_;
  std::set<std::string> retyped_on_target_;
  // Tables whose changes the shadow skipped (ShadowState::untracked), as
  // unverified entries of `report`.
  Status ReportUntracked(conn::PgSession& target, VerifyReport& report);
  // "not subscribed: ..." for a table the subscription does not list
  // (not_subscribed.h); `before_fix` goes right after the fix's statement.
  std::string NotSubscribedReason(const SubscribedInstead& instead,
                                  std::string_view before_fix) const;

  ShadowState& shadow_;
  const StreamPosition& stream_;
  conn::ConnParams source_params_;
  conn::ConnParams target_params_;
  SubscriptionInfo sub_;
  CheckOptions options_;
  wire::Lsn last_lo_;
  std::unique_ptr<conn::PgSession> source_;
  std::vector<std::unique_ptr<conn::PgSession>> target_;  // [0] exports the snapshot
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_VERIFY_TARGET_CHECKER_H_
