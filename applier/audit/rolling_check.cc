#include "pgparity/applier/audit/rolling_check.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "pgparity/applier/verify/column_description.h"

namespace pgparity::applier {

using std::chrono::steady_clock;

namespace {

// The first key column of a listed row, as an integer (nullopt: NULL or
// not an integer; a table without key names rows by digest).
std::optional<int64_t> FirstKeyOf(const DivergentRow& row) {
  if (row.key.empty() || !row.key[0].second) return std::nullopt;
  const std::string& text = *row.key[0].second;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// Whether window `outer` holds all of `inner` (nullopt: the whole table).
bool Covers(const std::optional<KeyWindow>& outer, const std::optional<KeyWindow>& inner) {
  if (!outer) return true;
  if (!inner) return false;
  const bool lo = !outer->lo || (inner->lo && *inner->lo >= *outer->lo);
  const bool hi = !outer->hi || (inner->hi && *inner->hi <= *outer->hi);
  return lo && hi;
}

}  // namespace

RollingCheck::RollingCheck(TargetChecker& checker, const ShadowState& shadow,
                           RollingOptions options)
    : checker_(checker),
      shadow_(shadow),
      options_(options),
      // Tokens earned while no range is read (its bracket, its comparison)
      // are spent on the next, up to half a window's worth: the long-run
      // rate holds the cap as long as those pauses are shorter.
      pacer_(options.scan_rate,
             std::max<std::chrono::milliseconds>(std::chrono::seconds(1), options.window / 2)),
      walks_(shadow.table_count()),
      walk_start_(steady_clock::now()) {
  progress_.scan_rate = options_.scan_rate;
  Resume();
}

void RollingCheck::Resume() {
  if (options_.position_path.empty()) return;
  auto position = ReadWalkPosition(options_.position_path);
  if (!position.ok()) {
    spdlog::warn("rolling check: {}; walking from the first range", position.status().ToString());
    return;
  }
  if (!*position) return;
  for (size_t i = 0; i < shadow_.table_count(); ++i) {
    if (shadow_.table(i).qualified_name() != (*position)->table) continue;
    table_ = i;
    resume_from_ = (*position)->next_from;
    // Not from the very start: the walk this run ends is not a period.
    partial_walk_ = i > 0 || resume_from_.has_value();
    spdlog::info("rolling check: going on where the last run was, {} {}", (*position)->table,
                 resume_from_ ? "from key " + std::to_string(*resume_from_) : "from its start");
    return;
  }
  spdlog::info("rolling check: table {} of the last run's walk is gone; walking from the start",
               (*position)->table);
}

void RollingCheck::SavePosition() {
  if (options_.position_path.empty()) return;
  WalkPosition position{shadow_.table(table_).qualified_name(), std::nullopt};
  const TableWalk& walk = walks_[table_];
  if (walk.split && walk.next > 0 && walk.next < walk.split->ranges()) {
    if (auto window = WindowOf(*walk.split, walk.next); window.ok())
      position.next_from = window->lo;
  }
  // A lost position only costs a walk from the start: warn, go on.
  if (Status s = WriteWalkPosition(options_.position_path, position); !s.ok()) {
    spdlog::warn("rolling check: {}", s.ToString());
  }
}

Status RollingCheck::Plan(size_t table) {
  const double rows_per_range =
      options_.scan_rate * std::chrono::duration<double>(options_.window).count();
  PGPARITY_ASSIGN_OR_RETURN(KeySplit split, checker_.PlanRanges(table, rows_per_range));
  const std::string& name = shadow_.table(table).qualified_name();
  auto& list = split.ranges() > 1 ? progress_.by_range : progress_.whole;
  std::erase_if(progress_.by_range, [&](const auto& e) { return e.first == name; });
  std::erase_if(progress_.whole, [&](const auto& e) { return e.first == name; });
  list.emplace_back(name, split.ranges() > 1
                              ? std::to_string(split.ranges()) + " ranges of " + split.column
                              : split.why);
  walks_[table].split = std::move(split);
  walks_[table].next = 0;
  return Status::OK();
}

Result<TargetChecker::Outcome> RollingCheck::Step(std::string& why, const std::stop_token& stop,
                                                  steady_clock::time_point deadline,
                                                  const RowReadHook& between_rows) {
  if (walks_.empty()) {
    why = "no table to check";
    return TargetChecker::Outcome::kNotYet;
  }
  TableWalk& walk = walks_[table_];
  if (!walk.split) PGPARITY_RETURN_IF_ERROR(Plan(table_));
  const KeySplit& split = *walk.split;
  if (resume_from_ && split.ranges() > 1) {  // the range holding the last run's next key
    for (size_t i = 0; i < split.ranges(); ++i) {
      if (auto window = WindowOf(split, i); window.ok() && window->Contains(resume_from_)) {
        walk.next = i;
        break;
      }
    }
  }
  resume_from_.reset();
  RangeToCheck range;
  if (split.ranges() > 1) {
    range.condition = KeyRangeCondition(split, walk.next);
    PGPARITY_ASSIGN_OR_RETURN(range.window, WindowOf(split, walk.next));
  }
  if (!range_start_) range_start_ = steady_clock::now();
  RangeCheck checked;
  PGPARITY_ASSIGN_OR_RETURN(const auto outcome, checker_.CheckRange(
                                                    table_, range,
                                                    [&]() -> Status {
                                                      if (between_rows)
                                                        PGPARITY_RETURN_IF_ERROR(between_rows());
                                                      return pacer_.Take(stop);
                                                    },
                                                    checked, why, deadline));
  if (outcome == TargetChecker::Outcome::kNotYet) return outcome;
  longest_range_ = std::max(
      longest_range_, std::chrono::duration<double>(steady_clock::now() - *range_start_).count());
  range_start_.reset();
  progress_.table = shadow_.table(table_).qualified_name();
  progress_.range = range.window ? range.window->ToString() : "whole";
  Record(walk, range.window, checked);
  if (++walk.next >= split.ranges()) EndOfTable();
  SavePosition();
  return outcome;
}

void RollingCheck::Record(TableWalk& walk, const std::optional<KeyWindow>& window,
                          RangeCheck& range) {
  walk.extra_columns = range.table.extra_columns;
  if (range.source_lsn.empty()) {
    // Decided without reading rows (missing on the target...): the table
    // is that until it can be read again.
    walk.decided = std::move(range.table);
    walk.next = walk.split->ranges();
    return;
  }
  walk.decided.reset();
  ++progress_.ranges_done;
  progress_.rows_compared += range.rows_compared;
  progress_.rows_left_out += range.rows_left_out;
  source_lsn_ = range.source_lsn;
  target_lsn_ = range.target_lsn;
  // What this range's check found replaces what was found in it before.
  for (Finding& f : walk.findings) {
    const auto before = f.rows.size();
    std::erase_if(
        f.rows, [&](const DivergentRow& r) { return !window || window->Contains(FirstKeyOf(r)); });
    f.count -= std::min<uint64_t>(f.count, before - f.rows.size());
  }
  std::erase_if(walk.findings, [&](const Finding& f) {
    return Covers(window, f.window) || (f.count == 0 && f.rows.empty());
  });
  if (range.table.status == TableStatus::kMismatch) {
    walk.findings.push_back(
        {window, range.table.divergent_row_count, std::move(range.table.divergent_rows)});
    spdlog::warn("rolling check: {} range {}: {}", progress_.table, progress_.range,
                 range.table.reason);
  } else if (range.table.status == TableStatus::kUnverified) {
    walk.unverified = "range " + progress_.range + ": " + range.table.reason;
  }
  walk.left_out_last = range.rows_left_out;
}

// The table's walk is over: the next table, or the next walk of all.
void RollingCheck::EndOfTable() {
  TableWalk& walk = walks_[table_];
  walk.split.reset();  // planned again at its next walk: the keys move
  walk.walked_once = true;
  walk.unverified_last = std::move(walk.unverified);
  walk.unverified.clear();
  if (++table_ < walks_.size()) return;
  table_ = 0;
  const auto now = steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - walk_start_).count();
  const double longest_range = std::exchange(longest_range_, 0);
  walk_start_ = now;
  if (partial_walk_) {  // begun where the last run was: not a whole period
    partial_walk_ = false;
    spdlog::info("rolling check: the walk the last run began is done ({:.1f} s here)", seconds);
    return;
  }
  ++progress_.walks;
  progress_.walk_seconds = seconds;
  progress_.longest_range_seconds = longest_range;
  // A row's range may have been read just before it changed: the next read
  // of it ends up to a walk and that range's own time later.
  progress_.period_seconds = seconds + longest_range;
  progress_.period_measured = true;
  spdlog::info(
      "rolling check: walk {} of every table done in {:.1f} s (longest range {:.1f} s): period "
      "{:.1f} s",
      progress_.walks, seconds, longest_range, progress_.period_seconds);
}

TableReport RollingCheck::TableVerdict(size_t table) const {
  const TableWalk& walk = walks_[table];
  TableReport t = Walked(table);
  DescribeColumns(shadow_.table(table).spec(), t);
  t.extra_columns = walk.extra_columns;
  return t;
}

// The table's verdict from its walks: its rows, or how it stands.
TableReport RollingCheck::Walked(size_t table) const {
  const TableWalk& walk = walks_[table];
  if (walk.decided) return *walk.decided;
  TableReport t;
  t.rows_changed_after = walk.left_out_last;
  uint64_t count = 0;
  for (const Finding& f : walk.findings) {
    count += f.count;
    for (const auto& r : f.rows) {
      if (t.divergent_rows.size() < options_.max_listed_rows) t.divergent_rows.push_back(r);
    }
  }
  const std::string& open = walk.unverified.empty() ? walk.unverified_last : walk.unverified;
  if (count > 0 || !t.divergent_rows.empty()) {
    t.status = TableStatus::kMismatch;
    t.divergent_row_count = std::max<uint64_t>(count, t.divergent_rows.size());
    t.reason = std::to_string(t.divergent_row_count) + " divergent rows (rolling check)";
  } else if (!open.empty()) {
    t.status = TableStatus::kUnverified;
    t.reason = open;
  } else if (!walk.walked_once) {
    t.status = TableStatus::kUnverified;
    t.reason = "the rolling check has not walked it whole yet";
  } else {
    t.status = TableStatus::kMatch;
  }
  return t;
}

void RollingCheck::Fill(VerifyReport& report) const {
  report.tables.clear();
  double rows = 0;
  {
    auto lk = shadow_.Lock();
    for (size_t i = 0; i < walks_.size(); ++i) {
      TableReport t = TableVerdict(i);
      t.table = shadow_.table(i).qualified_name();
      t.source_rows = shadow_.table(i).digest().rows;
      rows += static_cast<double>(t.source_rows);
      report.tables.push_back(std::move(t));
    }
  }
  report.source_lsn = source_lsn_;
  report.target_lsn = target_lsn_;
  RollingProgress p = progress_;
  if (!p.period_measured) {  // a walk at the cap, and one range's read
    p.period_seconds = rows / std::max(options_.scan_rate, 1.0) +
                       std::chrono::duration<double>(options_.window).count();
  }
  report.notes.push_back(
      "rolling check at " + std::to_string(static_cast<int64_t>(options_.scan_rate)) +
      " rows/s: period " + std::to_string(static_cast<int64_t>(p.period_seconds)) + " s" +
      (p.period_measured ? "" : " (estimated)") + ", at " + p.table + " " + p.range + ", " +
      std::to_string(p.ranges_done) + " ranges done, " + std::to_string(p.rows_compared) +
      " rows compared, " + std::to_string(p.rows_left_out) + " left out as in flight");
  report.rolling = std::move(p);
}

}  // namespace pgparity::applier
