// TargetChecker::CheckRange: the rolling check's unit (audit --scan-rate),
// one key range of one table, built from the full check's phases
// (target_checker.h): ReadTables, CheckBeforeScan, BracketSnapshot,
// AwaitOwnStream, then the row drill-down on the range only.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "pgparity/applier/catalog/target_tables.h"
#include "pgparity/applier/scan/key_ranges.h"
#include "pgparity/applier/scan/row_read.h"
#include "pgparity/applier/verify/target_checker.h"
#include "verify/check_round.h"
#include "verify/row_diff.h"

namespace pgparity::applier {

using std::chrono::steady_clock;

Result<TargetChecker::Outcome> TargetChecker::CheckRange(size_t table, const RangeToCheck& range,
                                                         const RowReadHook& after_row,
                                                         RangeCheck& out, std::string& why,
                                                         steady_clock::time_point deadline) {
  PGPARITY_RETURN_IF_ERROR(Open());
  Round round;
  PGPARITY_ASSIGN_OR_RETURN(const bool copied, ReadTables(round, why));
  if (!copied) return Outcome::kNotYet;
  const TableSpec& spec = round.specs[table];
  const TargetTable& tt = round.target[table];
  PGPARITY_ASSIGN_OR_RETURN(auto decided, CheckBeforeScan(spec, tt));
  out.table = decided.value_or(TableReport());
  out.table.table = spec.QualifiedName();
  out.table.extra_columns = tt.extra_columns;
  if (decided) return Outcome::kDone;
  SnapshotGuard guard{target_};
  PGPARITY_RETURN_IF_ERROR(BracketSnapshot(round, why));
  // Before pgparity's start only a match would say something; a range
  // check waits for the target instead.
  if (round.behind) return Outcome::kNotYet;
  PGPARITY_ASSIGN_OR_RETURN(const bool decoded, AwaitOwnStream(round.hi, deadline, why));
  if (!decoded) return Outcome::kNotYet;
  if (!range.condition.empty()) {
    // A range read by a sequential scan reads every tuple of the table:
    // the server would read far more than the rows the pace counts.
    PGPARITY_RETURN_IF_ERROR(target_[0]->Exec("SET LOCAL enable_seqscan = off"));
  }
  const TableRead read =
      KeyRangeRead(ForDigest(TargetRead(spec, tt.relkind), spec), range.condition);
  PGPARITY_ASSIGN_OR_RETURN(const TargetRows rows,
                            ScanTargetRows(*target_[0], spec, read, tt.estimated_rows, after_row));
  out.rows_compared = rows.rows;
  out.source_lsn = round.lo.ToString();
  out.target_lsn = round.remote_after ? round.remote_after->ToString() : "";
  PGPARITY_RETURN_IF_ERROR(CompareRange(table, tt, range, round.lo, rows, out));
  if (sub_.enabled) last_lo_ = round.lo;
  return Outcome::kDone;
}

Result<KeySplit> TargetChecker::PlanRanges(size_t table, double rows_per_range) {
  PGPARITY_RETURN_IF_ERROR(Open());
  const TableSpec& spec = shadow_.table(table).spec();
  PGPARITY_ASSIGN_OR_RETURN(const auto tts, ReadTargetTables(*target_[0], {spec}, sub_));
  return SplitByKeyWindow(table, tts[0], rows_per_range, "rolling check");
}

Result<KeySplit> TargetChecker::SplitByKeyWindow(size_t table, const TargetTable& tt,
                                                 double rows_per_range, std::string_view what) {
  const TableSpec& spec = shadow_.table(table).spec();
  KeySplit split;
  if (!tt.exists || !tt.missing_columns.empty()) {
    split.why = "not as on the source on the target";
    return split;
  }
  const size_t k = spec.keyed() ? spec.key_positions[0] : 0;
  split.why = WhyNotByKeyWindow(spec, k < tt.types.size() ? tt.types[k] : "");
  if (!split.why.empty()) return split;
  TableToPlan plan{&spec, TargetRead(spec, tt.relkind), tt.types[k],
                   k < spec.compare.size() ? spec.compare[k] : TypeChange(), tt.estimated_rows};
  {
    // The shadow knows the row count exactly; reltuples may be unknown (-1).
    auto lk = shadow_.Lock();
    plan.estimated_rows =
        std::max(plan.estimated_rows, static_cast<double>(shadow_.table(table).digest().rows));
  }
  // One range per `rows_per_range` rows, however many that makes.
  ScanPlanOptions options;
  options.jobs = 2;
  options.units_per_job = size_t{1} << 30;
  options.min_range_rows = std::max(1.0, rows_per_range);
  options.max_ranges = size_t{1} << 20;
  PGPARITY_ASSIGN_OR_RETURN(auto splits,
                            PlanKeySplits(*target_[0], std::span(&plan, 1), options, what));
  return std::move(splits[0]);
}

Status TargetChecker::CompareRange(size_t table, const TargetTable& tt, const RangeToCheck& range,
                                   wire::Lsn lo, const TargetRows& rows, RangeCheck& out) {
  Found found;
  out.table.reason = DiffWithShadow(table, lo, range.window, rows, found, out.rows_left_out);
  out.table.rows_changed_after = out.rows_left_out;
  if (!out.table.reason.empty()) {
    out.table.status = TableStatus::kUnverified;
    return Status::OK();
  }
  if (found.empty()) {
    out.table.status = TableStatus::kMatch;
    return Status::OK();
  }
  PGPARITY_ASSIGN_OR_RETURN(const bool rewritten, RewrittenOnTarget(table, out.table));
  if (rewritten) return Status::OK();
  const uint64_t count = found.size();
  ListDivergent(table, tt, std::move(found), count, out.table);
  return Status::OK();
}

}  // namespace pgparity::applier
