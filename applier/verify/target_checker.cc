#include "pgparity/applier/verify/target_checker.h"

#include <absl/container/flat_hash_map.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "pgparity/applier/provenance/provenance.h"
#include "pgparity/applier/scan/range_digest.h"
#include "pgparity/applier/scan/rewritten_tables.h"
#include "pgparity/applier/scan/row_read.h"
#include "pgparity/applier/scan/table_scan.h"
#include "pgparity/applier/session/session_setup.h"
#include "pgparity/applier/shadow/row_key.h"
#include "pgparity/applier/verify/column_description.h"
#include "pgparity/conn/snapshot_transaction.h"
#include "pgparity/digest/digest_sql.h"
#include "pgparity/digest/row_digest.h"
#include "verify/check_round.h"
#include "verify/row_diff.h"

namespace pgparity::applier {

using digest::ColumnValue;
using digest::Digest128;
using digest::TableDigest;
using std::chrono::steady_clock;

TargetChecker::TargetChecker(ShadowState& shadow, const StreamPosition& stream,
                             conn::ConnParams source, conn::ConnParams target,
                             SubscriptionInfo subscription, CheckOptions options)
    : shadow_(shadow),
      stream_(stream),
      source_params_(std::move(source)),
      target_params_(std::move(target)),
      sub_(std::move(subscription)),
      options_(options) {
  if (options_.parallel == 0) options_.parallel = 1;
}

TargetChecker::~TargetChecker() = default;

Status TargetChecker::Open() {
  if (!source_) {
    PGPARITY_ASSIGN_OR_RETURN(conn::PgSession s, conn::PgSession::Connect(source_params_));
    source_ = std::make_unique<conn::PgSession>(std::move(s));
  }
  while (target_.size() < options_.parallel) {
    PGPARITY_ASSIGN_OR_RETURN(auto s, ConnectCheckReader(target_params_));
    target_.push_back(std::move(s));
  }
  return Status::OK();
}

namespace {

std::optional<TableReport> Decided(TableStatus status, std::string reason) {
  TableReport t;
  t.status = status;
  t.reason = std::move(reason);
  return t;
}

// "a, b" of the names in `a` that are not in `b` (both sorted).
std::string Missing(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::string out;
  for (const auto& x : a) {
    if (!std::binary_search(b.begin(), b.end(), x)) out += (out.empty() ? "" : ", ") + x;
  }
  return out.empty() ? "none" : out;
}

}  // namespace

Result<std::optional<TableReport>> TargetChecker::CheckBeforeScan(const TableSpec& spec,
                                                                  const TargetTable& tt) {
  const std::string refresh = "ALTER SUBSCRIPTION " + sub_.name + " REFRESH PUBLICATION";
  if (auto left = left_publication_.find(spec.QualifiedName()); left != left_publication_.end()) {
    return Decided(TableStatus::kUnverified,
                   "left the publication since pgparity started (" + left->second +
                       "): neither the subscription nor pgparity follows its changes now; run "
                       "pgparity again to check the tables published now");
  }
  if (!tt.exists) {
    return Decided(TableStatus::kMissingOnTarget,
                   "the table does not exist on the target; create it there (same columns) and "
                   "refresh the subscription (" +
                       refresh + ")");
  }
  if (!tt.missing_columns.empty()) {
    std::string reason = "the target lacks column(s)";
    for (const auto& c : tt.missing_columns) reason += " " + c;
    return Decided(TableStatus::kMismatch, reason);
  }
  if (tt.sync_state == 0) {
    return Decided(TableStatus::kUnverified, NotSubscribedReason(tt.subscribed_instead, ""));
  }
  for (size_t c = 0; c < spec.columns.size() && c < spec.target_types.size(); ++c) {
    // Planned when pgparity started; a column (or table) that appeared on
    // the target since was planned as text, right only for the same type.
    const std::string& planned =
        spec.target_types[c].empty() ? spec.types[c] : spec.target_types[c];
    if (tt.types[c] != planned) {
      const std::string what =
          "column " + spec.columns[c] + " of table " + spec.QualifiedName() + " is " + tt.types[c] +
          " on the target, but pgparity planned its comparison for " + planned + " when it started";
      retyped_on_target_.insert(what);
      return Decided(TableStatus::kUnverified, what + "; run pgparity again to compare it");
    }
  }
  for (const size_t k : spec.key_positions) {
    if (!spec.Compared(k)) {
      return Decided(TableStatus::kUnverified,
                     "key column " + spec.columns[k] + " is not compared: " + spec.compare[k].risk);
    }
  }
  if (spec.relkind != 'p') return std::optional<TableReport>();
  PGPARITY_ASSIGN_OR_RETURN(auto now, ReadPartitions(*source_, spec));
  if (now == spec.partitions) return std::optional<TableReport>();
  // ATTACH and DETACH move rows in or out without a change in the stream:
  // neither the shadow nor the target followed the source (docs/partitions.md).
  repartitioned_.insert(spec.QualifiedName());
  return Decided(TableStatus::kUnverified,
                 "the partitions of " + spec.QualifiedName() +
                     " changed on the source since pgparity started (attached: " +
                     Missing(now, spec.partitions) +
                     "; detached: " + Missing(spec.partitions, now) +
                     "): their rows moved without passing through replication; run pgparity "
                     "again to verify the table as it is now");
}

std::string TargetChecker::NotSubscribedReason(const SubscribedInstead& instead,
                                               std::string_view before_fix) const {
  const NotSubscribedExplained e = ExplainNotSubscribed(sub_.name, instead);
  std::string reason = "not subscribed: " + e.listed + " (" + e.cause + "); run " + e.statement +
                       " on the target" + std::string(before_fix);
  if (!e.caveat.empty()) reason += " (" + e.caveat + ")";
  reason += ", then run pgparity again";
  if (!e.then.empty()) reason += ": " + e.then;
  return reason;
}

Status TargetChecker::ReportUntracked(conn::PgSession& target, VerifyReport& report) {
  std::vector<TableSpec> untracked;
  {
    auto lk = shadow_.Lock();
    for (const auto& [schema, name] : shadow_.untracked()) {
      untracked.emplace_back();
      untracked.back().schema = schema;
      untracked.back().name = name;
    }
  }
  if (untracked.empty()) return Status::OK();
  PGPARITY_ASSIGN_OR_RETURN(auto tt, ReadTargetTables(target, untracked, sub_));
  for (size_t i = 0; i < untracked.size(); ++i) {
    TableReport t;
    t.table = untracked[i].QualifiedName();
    t.status = TableStatus::kUnverified;
    t.reason = "joined the publication after pgparity started (its changes were not tracked); ";
    if (tt[i].exists && tt[i].sync_state != 0) {
      t.reason += "run pgparity again to verify it";
    } else {
      t.reason += NotSubscribedReason(tt[i].subscribed_instead,
                                      tt[i].exists ? "" : " (after creating the table there)");
    }
    report.tables.push_back(std::move(t));
  }
  return Status::OK();
}

Result<TargetChecker::Outcome> TargetChecker::FullCheck(VerifyReport& report, std::string& why,
                                                        steady_clock::time_point deadline) {
  PGPARITY_RETURN_IF_ERROR(Open());
  Round round;
  PGPARITY_ASSIGN_OR_RETURN(const bool copied, ReadTables(round, why));
  if (!copied) return Outcome::kNotYet;
  SnapshotGuard guard{target_};
  PGPARITY_RETURN_IF_ERROR(BracketSnapshot(round, why));
  PGPARITY_ASSIGN_OR_RETURN(const bool decoded, AwaitOwnStream(round.hi, deadline, why));
  if (!decoded) return Outcome::kNotYet;
  PGPARITY_RETURN_IF_ERROR(DecideBeforeScan(round));
  PGPARITY_RETURN_IF_ERROR(ScanTargetDigests(round));
  FindCandidateCommit(round);
  if (round.behind && !round.all_match) {
    // Only what no later commit can change is conclusive: tables or
    // columns missing on the target.
    bool structural = false;
    for (const auto& v : round.verdict) structural |= v && v->status != TableStatus::kUnverified;
    if (!structural) return Outcome::kNotYet;
  }
  PGPARITY_RETURN_IF_ERROR(BuildReport(round, why, report));
  return Outcome::kDone;
}

Result<bool> TargetChecker::ReadTables(Round& round, std::string& why) {
  conn::PgSession& main = *target_[0];
  // Refresh the subscription: it may have been disabled or enabled since.
  PGPARITY_ASSIGN_OR_RETURN(sub_, FindSubscription(main, sub_.name, ""));
  for (size_t i = 0; i < shadow_.table_count(); ++i) round.specs.push_back(shadow_.table(i).spec());
  PGPARITY_RETURN_IF_ERROR(ReadLeftPublication(round.specs));
  PGPARITY_ASSIGN_OR_RETURN(round.target, ReadTargetTables(main, round.specs, sub_));
  if (!sub_.enabled) return true;
  for (size_t i = 0; i < round.specs.size(); ++i) {
    const TargetTable& tt = round.target[i];
    // A table not listed at all is not subscribed: waiting cannot help.
    if (tt.exists && tt.missing_columns.empty() && tt.sync_state != 'r' && tt.sync_state != 0) {
      why = "the initial copy of " + round.specs[i].QualifiedName() + " is not finished (state " +
            std::string(1, tt.sync_state) + " in pg_subscription_rel)";
      return false;
    }
  }
  return true;
}

// A table that left the publication is neither replicated nor streamed to
// pgparity any more: the shadow and the target both stop, and a match
// would say nothing (a dropped one would be "missing on the target").
Status TargetChecker::ReadLeftPublication(const std::vector<TableSpec>& specs) {
  if (options_.publication.empty()) return Status::OK();
  PGPARITY_ASSIGN_OR_RETURN(const std::optional<Publication> publication,
                            ReadPublication(*source_, options_.publication));
  // ORDER BY sorts the list in the database's collation: a set, not a
  // binary search.
  const std::set<RelationName> published =
      publication ? std::set<RelationName>(publication->tables.begin(), publication->tables.end())
                  : std::set<RelationName>();
  for (const TableSpec& spec : specs) {
    const RelationName name{spec.schema, spec.name};
    if (published.contains(name)) continue;
    if (left_publication_.contains(spec.QualifiedName())) continue;
    PGPARITY_ASSIGN_OR_RETURN(const std::optional<Relation> now, ReadRelation(*source_, name));
    left_publication_[spec.QualifiedName()] =
        !publication  ? "publication " + options_.publication + " was dropped"
        : !now        ? "dropped (or renamed) on the source"
        : now->parent ? "attached as a partition of " + now->parent->schema + "." +
                            now->parent->name + " on the source"
                      : "no longer published by " + options_.publication +
                            ": ALTER PUBLICATION ... DROP TABLE, or publish_via_partition_root";
  }
  return Status::OK();
}

Status TargetChecker::BracketSnapshot(Round& round, std::string& why) {
  conn::PgSession& main = *target_[0];
  PGPARITY_ASSIGN_OR_RETURN(auto remote_before, ReadRemoteLsn(main, sub_));
  std::optional<wire::Lsn> flush_before;
  if (!sub_.slot_name.empty()) {
    PGPARITY_ASSIGN_OR_RETURN(flush_before, ReadSlotFlush(*source_, sub_.slot_name));
  }
  PGPARITY_ASSIGN_OR_RETURN(const std::string snapshot, conn::BeginExportedSnapshot(main));
  for (size_t i = 1; i < target_.size(); ++i) {
    PGPARITY_RETURN_IF_ERROR(conn::BeginInSnapshot(*target_[i], snapshot));
  }
  PGPARITY_ASSIGN_OR_RETURN(round.remote_after, ReadRemoteLsn(main, sub_));
  if (!sub_.enabled) {
    PGPARITY_ASSIGN_OR_RETURN(round.lo, ReadCurrentWal(*source_));
    round.hi = round.lo;
    return Status::OK();
  }
  if (remote_before && remote_before->value() > 0) round.lo = wire::Lsn(remote_before->value() - 1);
  if (flush_before && *flush_before > round.lo) round.lo = *flush_before;
  round.hi = std::max(round.lo, round.remote_after.value_or(wire::Lsn()));
  const wire::Lsn base = [&] {
    auto lk = shadow_.Lock();
    return shadow_.base_point();
  }();
  if (round.lo < base) {
    // The snapshot may predate what the shadow knows. A match with a
    // state the shadow knows is still a match (equal digests are the
    // source's state at that commit); a difference says nothing yet.
    round.behind = true;
    why = "the target has applied up to " + round.lo.ToString() +
          ", not yet past pgparity's start " + base.ToString();
    round.lo = base;
    round.hi = std::max(round.hi, round.lo);
  }
  return Status::OK();
}

Result<bool> TargetChecker::AwaitOwnStream(wire::Lsn hi, steady_clock::time_point deadline,
                                           std::string& why) {
  auto lk = shadow_.Lock();
  for (;;) {
    if (shadow_.last_commit_end() >= hi ||
        (!shadow_.in_transaction() && stream_.idle && stream_.received >= hi.value())) {
      return true;
    }
    if (stream_.ended) return Status::Unavailable("pgparity's replication stream ended");
    const auto now = steady_clock::now();
    if (now > deadline) {
      why = "pgparity's own slot has not decoded up to " + hi.ToString() + " yet";
      return false;
    }
    // A commit wakes this at once; an idle stream's position (keepalives,
    // not commits) is read again within 50 ms.
    shadow_.WaitForCommit(lk, std::min(deadline, now + std::chrono::milliseconds(50)));
  }
}

Status TargetChecker::DecideBeforeScan(Round& round) {
  round.verdict.resize(round.specs.size());
  for (size_t i = 0; i < round.specs.size(); ++i) {
    PGPARITY_ASSIGN_OR_RETURN(round.verdict[i], CheckBeforeScan(round.specs[i], round.target[i]));
  }
  return Status::OK();
}

Status TargetChecker::ScanTargetDigests(Round& round) {
  const size_t n = round.specs.size();
  round.target_digest.assign(n, std::nullopt);
  round.splits.assign(n, KeySplit());
  std::vector<size_t> to_scan;
  std::vector<TableToPlan> plan;
  {
    auto lk = shadow_.Lock();
    for (size_t i = 0; i < n; ++i) {
      if (round.verdict[i]) continue;
      const TableSpec& spec = round.specs[i];
      const TargetTable& tt = round.target[i];
      // The shadow's count is exact; reltuples may be unknown (-1) on a
      // table the subscription has just copied.
      TableToPlan p{
          &spec, TargetRead(spec, tt.relkind), "", TypeChange(),
          std::max(tt.estimated_rows, static_cast<double>(shadow_.table(i).digest().rows))};
      if (spec.keyed()) {
        const size_t k = spec.key_positions[0];
        p.key_type = k < tt.types.size() && !tt.types[k].empty() ? tt.types[k] : spec.types[k];
        if (k < spec.compare.size()) p.key_rule = spec.compare[k];
      }
      to_scan.push_back(i);
      plan.push_back(std::move(p));
    }
  }
  std::vector<conn::PgSession*> sessions;
  for (auto& s : target_) sessions.push_back(s.get());
  const ScanPlanOptions options{.jobs = options_.parallel,
                                .min_range_rows = options_.min_range_rows};
  PGPARITY_ASSIGN_OR_RETURN(std::vector<DigestedTable> digested,
                            DigestTables(sessions, plan, options, "target check"));
  for (size_t i = 0; i < to_scan.size(); ++i) {
    round.target_digest[to_scan[i]] = digested[i].digest;
    round.splits[to_scan[i]] = std::move(digested[i].split);
  }
  return Status::OK();
}

void TargetChecker::FindCandidateCommit(Round& round) {
  const size_t n = round.specs.size();
  auto lk = shadow_.Lock();
  std::vector<bool> comparable(n, false);
  size_t comparable_count = 0;
  for (size_t i = 0; i < n; ++i) {
    const TableShadow& ts = shadow_.table(i);
    comparable[i] =
        round.target_digest[i].has_value() && ts.unresolved_rows() == 0 && ts.anomalies() == 0;
    comparable_count += comparable[i];
  }
  std::vector<TableDigest> state = shadow_.StateAt(round.lo);
  auto matches_at = [&](size_t t) { return comparable[t] && state[t] == *round.target_digest[t]; };
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) m += matches_at(i);
  size_t best = m;
  round.at_best = state;
  round.best_lsn = round.lo;
  round.all_match = m == comparable_count;
  if (round.all_match) return;
  shadow_.ForEachCommit(
      round.lo, round.hi,
      [&](wire::Lsn, size_t t, const TableDigest& d) {
        m -= matches_at(t);
        state[t] = d;
        m += matches_at(t);
      },
      [&](wire::Lsn end) {
        if (round.all_match) return;
        if (m > best || m == comparable_count) {
          best = m;
          round.at_best = state;
          round.best_lsn = end;
        }
        if (m == comparable_count) round.all_match = true;
      });
}

Status TargetChecker::BuildReport(const Round& round, const std::string& why,
                                  VerifyReport& report) {
  report.source_lsn = round.best_lsn.ToString();
  report.target_lsn = round.remote_after ? round.remote_after->ToString() : "";
  report.subscription = sub_.name;
  report.redacted = options_.values.redact;
  report.tables.clear();
  if (!sub_.enabled) {
    report.notes.push_back("subscription " + sub_.name +
                           " is disabled: the target is not replicating, so it was compared with "
                           "the source as of " +
                           round.lo.ToString());
  }
  for (size_t i = 0; i < round.specs.size(); ++i) {
    PGPARITY_ASSIGN_OR_RETURN(TableReport t, ReportTable(round, i, why));
    report.tables.push_back(std::move(t));
  }
  PGPARITY_RETURN_IF_ERROR(Complete(report));
  if (!round.behind && sub_.enabled) last_lo_ = round.lo;
  return Status::OK();
}

Status TargetChecker::Complete(VerifyReport& report) {
  PGPARITY_RETURN_IF_ERROR(Open());
  PGPARITY_RETURN_IF_ERROR(ReportUntracked(*target_[0], report));
  report.Decide();
  auto lk = shadow_.Lock();
  report.shadow_rows = shadow_.TrackedRows();
  report.shadow_bytes = shadow_.MemoryBytes();
  report.memory_limit = shadow_.memory_budget().limit;
  report.spilled_tables = shadow_.spilled_tables();
  report.store_bytes = shadow_.store() ? shadow_.store()->DiskBytes() : 0;
  return Status::OK();
}

Result<TableReport> TargetChecker::ReportTable(const Round& round, size_t i,
                                               const std::string& why) {
  const TableShadow& ts = shadow_.table(i);
  const std::optional<TableDigest>& scanned = round.target_digest[i];
  TableReport t = round.verdict[i].value_or(TableReport());
  t.table = round.specs[i].QualifiedName();
  t.source_rows = round.at_best[i].rows;
  t.source_digest = round.at_best[i].sum.ToHex();
  t.extra_columns = round.target[i].extra_columns;
  DescribeColumns(round.specs[i], t);
  if (scanned) {
    t.target_rows = scanned->rows;
    t.target_digest = scanned->sum.ToHex();
    t.scan_ranges = round.splits[i].ranges();
    t.scan_why = round.splits[i].why;
  }
  if (round.verdict[i]) {
    // Decided before the scan.
  } else if (ts.anomalies() > 0) {
    t.status = TableStatus::kUnverified;
    t.reason = "pgparity's shadow of this table is not trustworthy: " + ts.first_anomaly();
  } else if (ts.unresolved_rows() > 0) {
    t.status = TableStatus::kUnverified;
    t.reason = std::to_string(ts.unresolved_rows()) +
               " rows have unchanged TOAST values pgparity never saw; they are verified once "
               "rewritten";
  } else if (round.at_best[i] == *scanned) {
    t.status = TableStatus::kMatch;
  } else if (round.behind) {
    t.status = TableStatus::kUnverified;
    t.reason = why + "; re-check";
  } else {
    PGPARITY_RETURN_IF_ERROR(CompareRows(i, round.target[i], round.lo, t));
  }
  return t;
}

Status TargetChecker::CompareRows(size_t table, const TargetTable& tt, wire::Lsn lo,
                                  TableReport& out) {
  const TableSpec& spec = shadow_.table(table).spec();
  PGPARITY_ASSIGN_OR_RETURN(const KeySplit split, RowComparisonSplit(table, tt));
  const bool by_range = split.ranges() > 1;
  // The target's rows, in the same snapshot (main session's transaction).
  const TableRead whole = ForDigest(TargetRead(spec, tt.relkind), spec);
  Found listed;  // the first max_listed_rows in key order
  uint64_t count = 0;
  for (size_t i = 0; i < split.ranges(); ++i) {
    std::optional<KeyWindow> window;
    if (by_range) {
      PGPARITY_ASSIGN_OR_RETURN(window, WindowOf(split, i));
    }
    PGPARITY_ASSIGN_OR_RETURN(
        const TargetRows rows,
        ScanTargetRows(*target_[0], spec,
                       KeyRangeRead(whole, by_range ? KeyRangeCondition(split, i) : ""),
                       tt.estimated_rows / static_cast<double>(split.ranges())));
    Found found;
    out.reason = DiffWithShadow(table, lo, window, rows, found, out.rows_changed_after);
    if (!out.reason.empty()) {
      out.status = TableStatus::kUnverified;
      return Status::OK();
    }
    count += found.size();
    KeepFirstInKeyOrder(std::move(found), options_.max_listed_rows, listed);
  }
  if (count == 0) {
    // Every difference is in rows changed after the compared commit: not
    // a divergence (yet).
    out.status = TableStatus::kUnverified;
    out.reason = "differs only in " + std::to_string(out.rows_changed_after) +
                 " rows changed after the compared commit; re-check";
    return Status::OK();
  }
  PGPARITY_ASSIGN_OR_RETURN(const bool rewritten, RewrittenOnTarget(table, out));
  if (!rewritten) ListDivergent(table, tt, std::move(listed), count, out);
  return Status::OK();
}

Result<bool> TargetChecker::RewrittenOnTarget(size_t table, TableReport& out) {
  PGPARITY_ASSIGN_OR_RETURN(const std::string rewritten,
                            RewrittenSinceSnapshot(*target_[0], shadow_.table(table).spec()));
  if (rewritten.empty()) return false;
  out.status = TableStatus::kUnverified;
  out.reason = "truncated or rewritten on the target after the check's snapshot (" + rewritten +
               "); re-check";
  return true;
}

Result<KeySplit> TargetChecker::RowComparisonSplit(size_t table, const TargetTable& tt) {
  bool spilled = false;
  {
    auto lk = shadow_.Lock();
    spilled = shadow_.table(table).spilled();
  }
  // A table held in memory has room for its target rows too (the limit's
  // half for the maps against the eighth of row_comparison_rows); a single
  // integer key is what picks a range of the shadow's rows by one seek.
  if (!spilled || options_.row_comparison_rows <= 0 || !shadow_.table(table).spec().integer_key) {
    return KeySplit();
  }
  // Logged "rows compared: public.t read in 12 ranges of id (...)".
  return SplitByKeyWindow(table, tt, options_.row_comparison_rows, "rows compared");
}

std::string TargetChecker::DiffWithShadow(size_t table, wire::Lsn lo,
                                          const std::optional<KeyWindow>& window,
                                          const TargetRows& rows, Found& found,
                                          uint64_t& left_out) {
  if (!shadow_.Pause(options_.pause_timeout)) {
    return "pgparity's stream did not reach a transaction boundary to compare rows; re-check";
  }
  bool truncated = false;
  {
    auto lk = shadow_.Lock();
    const TableShadow& ts = shadow_.table(table);
    const StringSet changed = shadow_.ChangedAfter(table, lo, truncated);
    left_out += InWindow(changed, ts.spec(), window);
    if (!truncated && ts.spec().keyed()) DiffKeyed(ts, rows.keyed, changed, found, window);
    if (!truncated && !ts.spec().keyed()) DiffMultiset(ts, rows.multiset, changed, found);
  }
  shadow_.Resume();
  return truncated ? "truncated on the source after the compared commit; re-check" : "";
}

void TargetChecker::ListDivergent(size_t table, const TargetTable& tt, Found found, uint64_t count,
                                  TableReport& out) {
  out.status = TableStatus::kMismatch;
  out.divergent_row_count = count;
  out.reason = std::to_string(count) + " divergent rows";
  // Keys in a stable order for the report.
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  // Read once per table with divergent rows: the subscription's health.
  std::optional<ProvenanceReader> provenance;
  for (const auto& [kind, k] : found) {
    if (out.divergent_rows.size() == options_.max_listed_rows) break;
    DivergentRow& row = out.divergent_rows.emplace_back(DescribeRow(table, tt, kind, k));
    if (!provenance) provenance.emplace(ProvenanceReader::Open(*target_[0], source_.get(), sub_));
    row.provenance = provenance->Explain(*target_[0], shadow_, table, tt.relkind, row, k);
  }
}

DivergentRow TargetChecker::DescribeRow(size_t table, const TargetTable& tt, RowDivergence kind,
                                        const std::string& k) {
  const TableSpec& spec = shadow_.table(table).spec();
  DivergentRow row;
  row.kind = kind;
  if (kind != RowDivergence::kExtraOnTarget && !spec.keyed()) {
    row.source_row_digest = k;  // a multiset member is named by its digest
  } else if (kind != RowDivergence::kExtraOnTarget) {
    auto lk = shadow_.Lock();
    if (auto held = shadow_.table(table).Find(k)) row.source_row_digest = held->ToHex();
  }
  if (!spec.keyed()) {
    row.key.emplace_back("row_digest", k);
    // Only digests of a keyless table's rows were kept: a small table is
    // searched for the row by its digest (docs/report.md).
    int64_t rows = 0;
    {
      auto lk = shadow_.Lock();
      rows = shadow_.table(table).digest().rows;
    }
    if (!options_.values.redact && SearchableByDigest(spec, rows)) {
      ShowRowByDigest(table, tt, row, k);
    }
    return row;
  }
  row.key = KeyColumns(spec, k);
  if (kind == RowDivergence::kDiffers) {
    DescribeDiffers(table, tt, row, k);
  } else if (!options_.values.redact) {
    ShowWholeRow(table, tt, row, k);
  }
  return row;
}

namespace {

using KeyParams = std::vector<std::optional<std::string>>;

KeyParams ParamsOf(const DivergentRow& row) {
  KeyParams params;
  for (const auto& [column, value] : row.key) params.push_back(value);
  return params;
}

// The row of one key read through `read` (row_read.h); nullopt when there
// is none, or when the read failed (logged: values are shown when they can
// be, they never change a verdict).
std::optional<conn::QueryResult> ReadByKey(conn::PgSession& session, const TableRead& read,
                                           const TableSpec& spec, const KeyParams& params) {
  auto result = session.Query(SelectByKeysSql(read, spec, 1), params);
  if (!result.ok()) {
    spdlog::warn("reading a divergent row of {} again: {}", read.qualified,
                 result.status().ToString());
    return std::nullopt;
  }
  if (result->rows() != 1) return std::nullopt;
  return std::move(*result);
}

// Row 0 of `result` as values; false (logged) when it cannot be read.
bool RowValuesOrLog(const conn::QueryResult& result, const TableRead& read,
                    std::vector<ColumnValue>& out) {
  const Status st = RowValues(result, 0, read, out);
  if (!st.ok())
    spdlog::warn("reading a divergent row of {} again: {}", read.qualified, st.ToString());
  return st.ok();
}

ShownValue Show(const ColumnValue& v, const ValueOptions& options) {
  if (v.kind == ColumnValue::Kind::kHashed) {
    return ShowWideValue(v.wide_length(), v.md5_hex(), v.wide_prefix(), options.max_bytes);
  }
  if (v.kind != ColumnValue::Kind::kValue) return ShowValue(std::nullopt, options.max_bytes);
  return ShowValue(v.text, options.max_bytes);
}

}  // namespace

bool TargetChecker::SourceRowUnchanged(size_t table, std::string_view key_bytes,
                                       std::span<const ColumnValue> source_row) {
  const TableSpec& spec = shadow_.table(table).spec();
  std::optional<Digest128> held;
  {
    auto lk = shadow_.Lock();
    held = shadow_.table(table).Find(key_bytes);
  }
  ComparedColumns compared(spec);
  digest::RowDigester digester = compared.MakeDigester(spec);
  return held && digester.Digest(compared.Project(source_row)) == *held;
}

// The columns in which the target's row differs from the source's current
// row, and their values. Reported only when the source row still has the
// digest the shadow holds (else it changed since and the columns say
// nothing).
void TargetChecker::DescribeDiffers(size_t table, const TargetTable& tt, DivergentRow& row,
                                    std::string_view key_bytes) {
  const TableSpec& spec = shadow_.table(table).spec();
  const KeyParams params = ParamsOf(row);
  // Read for their digests: a wide value comes as its length, MD5 and the
  // characters shown, never whole.
  const size_t shown = options_.values.max_bytes;
  const TableRead source_read = ForDigest(SourceRead(spec), spec, shown);
  const TableRead target_read = ForDigest(TargetRead(spec, tt.relkind), spec, shown);
  auto src = ReadByKey(*source_, source_read, spec, params);
  auto tgt = ReadByKey(*target_[0], target_read, spec, params);
  if (!src || !tgt) return;
  std::vector<ColumnValue> source_row(spec.columns.size()), target_row(spec.columns.size());
  if (!RowValuesOrLog(*src, source_read, source_row) ||
      !RowValuesOrLog(*tgt, target_read, target_row)) {
    return;
  }
  if (!SourceRowUnchanged(table, key_bytes, source_row)) return;
  row.values_shown = !options_.values.redact;
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    const ColumnValue& a = source_row[i];
    const ColumnValue& b = target_row[i];
    if (!spec.Compared(i) || (a.kind == b.kind && a.text == b.text)) continue;
    row.columns.push_back(spec.columns[i]);
    if (row.values_shown) {
      row.values.push_back({spec.columns[i], Show(a, options_.values), Show(b, options_.values)});
    }
  }
}

// The whole row of a table without key whose row digest is `digest_hex`,
// from the side that has it (missing: the source; extra: the target).
void TargetChecker::ShowRowByDigest(size_t table, const TargetTable& tt, DivergentRow& row,
                                    const std::string& digest_hex) {
  const TableSpec& spec = shadow_.table(table).spec();
  const bool on_source = row.kind == RowDivergence::kMissingOnTarget;
  const TableRead read = ForDigest(on_source ? SourceRead(spec) : TargetRead(spec, tt.relkind),
                                   spec, options_.values.max_bytes);
  conn::PgSession& session = on_source ? *source_ : *target_[0];
  auto found = session.Query(SelectByDigestSql(read, spec), {digest_hex});
  if (!found.ok()) {
    spdlog::warn("reading a divergent row of {} by its digest: {}", read.qualified,
                 found.status().ToString());
    return;
  }
  if (found->rows() == 0) return;  // gone from the source since (copies are alike)
  std::vector<ColumnValue> values(spec.columns.size());
  if (!RowValuesOrLog(*found, read, values)) return;
  row.values_shown = true;
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    ColumnValues column{spec.columns[i], std::nullopt, std::nullopt};
    (on_source ? column.source : column.target) = Show(values[i], options_.values);
    row.values.push_back(std::move(column));
  }
}

void TargetChecker::ShowWholeRow(size_t table, const TargetTable& tt, DivergentRow& row,
                                 std::string_view key_bytes) {
  const TableSpec& spec = shadow_.table(table).spec();
  const bool on_source = row.kind == RowDivergence::kMissingOnTarget;
  const KeyParams params = ParamsOf(row);
  const TableRead read = ForDigest(on_source ? SourceRead(spec) : TargetRead(spec, tt.relkind),
                                   spec, options_.values.max_bytes);
  auto found = ReadByKey(on_source ? *source_ : *target_[0], read, spec, params);
  if (!found) return;
  std::vector<ColumnValue> values(spec.columns.size());
  if (!RowValuesOrLog(*found, read, values)) return;
  // The source's row now is the one the shadow holds only if unchanged.
  if (on_source && !SourceRowUnchanged(table, key_bytes, values)) return;
  row.values_shown = true;
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    if (!spec.Compared(i)) continue;  // read as NULL on the target: not its value
    ColumnValues column{spec.columns[i], std::nullopt, std::nullopt};
    (on_source ? column.source : column.target) = Show(values[i], options_.values);
    row.values.push_back(std::move(column));
  }
}

}  // namespace pgparity::applier
