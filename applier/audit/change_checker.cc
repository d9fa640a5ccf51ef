#include "pgparity/applier/audit/change_checker.h"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <system_error>
#include <thread>

#include "pgparity/applier/audit/target_rows.h"
#include "pgparity/applier/scan/row_read.h"
#include "pgparity/applier/session/session_setup.h"
#include "pgparity/applier/shadow/row_key.h"
#include "pgparity/digest/row_digest.h"

namespace pgparity::applier {
namespace {

// Each early read its own reader of the prepared keys (EarlyRead::reader).
uint64_t NextReader() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

}  // namespace

ChangeChecker::ChangeChecker(ShadowState& shadow, conn::ConnParams source, conn::ConnParams target,
                             SubscriptionInfo subscription, ChangeCheckOptions options)
    : shadow_(shadow),
      source_params_(std::move(source)),
      target_params_(std::move(target)),
      sub_(std::move(subscription)),
      options_(options) {}

ChangeChecker::~ChangeChecker() = default;

Status ChangeChecker::Connect() {
  if (!target_) {
    PGPARITY_ASSIGN_OR_RETURN(target_, ConnectCheckReader(target_params_));
  }
  if (!source_) {
    PGPARITY_ASSIGN_OR_RETURN(conn::PgSession s, conn::PgSession::Connect(source_params_));
    source_ = std::make_unique<conn::PgSession>(std::move(s));
  }
  return Status::OK();
}

Result<std::vector<conn::PgSession*>> ChangeChecker::ReadSessions(size_t keys) {
  std::vector<conn::PgSession*> sessions{target_.get()};
  if (keys < TargetRowReadOptions().parallel_min_keys) return sessions;
  while (more_targets_.size() + 1 < options_.read_sessions) {
    PGPARITY_ASSIGN_OR_RETURN(auto s, ConnectCheckReader(target_params_));
    more_targets_.push_back(std::move(s));
  }
  for (const auto& s : more_targets_) sessions.push_back(s.get());
  return sessions;
}

Result<wire::Lsn> ChangeChecker::AppliedBound() {
  PGPARITY_ASSIGN_OR_RETURN(auto applied, ReadRemoteLsn(*target_, sub_));
  remote_applied_ = applied.value_or(wire::Lsn());
  std::optional<wire::Lsn> flush;
  if (!sub_.slot_name.empty()) {
    PGPARITY_ASSIGN_OR_RETURN(flush, ReadSlotFlush(*source_, sub_.slot_name));
  }
  // Commits ending before r are applied and visible.
  wire::Lsn r = applied.value_or(wire::Lsn());
  if (flush && flush->value() + 1 > r.value()) r = wire::Lsn(flush->value() + 1);
  return r;
}

std::map<size_t, ChangeChecker::TableRows> ChangeChecker::GroupByTable(
    std::vector<std::pair<size_t, std::string>> keys,
    std::set<std::string>& left_to_full_check) const {
  std::map<size_t, TableRows> by_table;
  const auto compared_by_key = [&](size_t t, const std::string& k) {
    return !k.empty() && shadow_.table(t).spec().keyed();  // not a truncate, not keyless
  };
  // Each table's keys sized first: a big commit's million would otherwise
  // be moved from one doubling to the next. By table index, not a map
  // lookup per key.
  std::vector<size_t> per_table(shadow_.table_count());
  for (const auto& [t, k] : keys) {
    if (compared_by_key(t, k)) ++per_table[t];
  }
  std::vector<std::vector<std::string>*> table_keys(per_table.size());
  for (size_t t = 0; t < per_table.size(); ++t) {
    if (per_table[t] == 0) continue;
    table_keys[t] = &by_table[t].keys;
    table_keys[t]->reserve(per_table[t]);
  }
  for (auto& [t, k] : keys) {
    if (!compared_by_key(t, k)) {
      left_to_full_check.insert(shadow_.table(t).qualified_name());
      continue;
    }
    table_keys[t]->push_back(std::move(k));
  }
  return by_table;
}

Result<std::map<size_t, ChangeChecker::TableRows>> ChangeChecker::ReadChangedRows(
    std::vector<std::pair<size_t, std::string>> keys, std::set<std::string>& left_to_full_check) {
  std::map<size_t, TableRows> by_table = GroupByTable(std::move(keys), left_to_full_check);
  for (auto& [t, rows] : by_table)
    PGPARITY_RETURN_IF_ERROR(ReadTable(t, rows.keys, rows.on_target));
  return by_table;
}

Status ChangeChecker::ReadTable(size_t table, std::span<const std::string> keys,
                                TargetRowDigests& rows) {
  PGPARITY_ASSIGN_OR_RETURN(auto sessions, ReadSessions(keys.size()));
  return ReadTargetRowDigestsInto(sessions, shadow_.table(table).spec(), keys, rows);
}

void ChangeChecker::CompareTable(size_t table, const TableRows& rows, wire::Lsn to,
                                 ChangeRound& round) const {
  const TableShadow& ts = shadow_.table(table);
  bool truncated = false;
  // Changed at or after `to` (r, or where the key cap cut the round):
  // possibly in flight, or not yet taken by this round.
  const auto again = shadow_.ChangedAfter(table, wire::Lsn(to.value() - 1), truncated);
  if (truncated) return;
  const size_t n = rows.keys.size();
  const size_t by_size = n / std::max<size_t>(1, options_.compare_part_keys);
  const size_t parts =
      ts.spilled() ? 1
                   : std::clamp<size_t>(by_size, 1, std::max<size_t>(1, options_.compare_threads));
  // Parts in key order, each counted apart and added in that order: the
  // same counts and the same divergent rows in the same order as on one.
  std::vector<ChangeRound> tail(parts - 1);
  // Joined however this returns (std::jthread), and reserved so that no
  // allocation throws once one runs.
  std::vector<std::jthread> threads;
  threads.reserve(parts - 1);
  const auto bound = [&](size_t p) { return n * p / parts; };
  for (size_t p = 1; p < parts; ++p) {
    try {
      threads.emplace_back(
          [&, p] { CompareKeys(ts, rows, bound(p), bound(p + 1), again, tail[p - 1]); });
    } catch (const std::system_error&) {  // no thread to be had: this one
      CompareKeys(ts, rows, bound(p), bound(p + 1), again, tail[p - 1]);
    }
  }
  CompareKeys(ts, rows, 0, bound(1), again, round);
  for (auto& t : threads) t.join();
  for (ChangeRound& part : tail) {
    round.rows_compared += part.rows_compared;
    round.rows_in_flight += part.rows_in_flight;
    round.left_to_full_check.merge(part.left_to_full_check);
    std::move(part.divergent.begin(), part.divergent.end(), std::back_inserter(round.divergent));
  }
}

void ChangeChecker::CompareKeys(const TableShadow& ts, const TableRows& rows, size_t begin,
                                size_t end, const StringSet& again, ChangeRound& round) {
  // In blocks whose slots in both maps are fetched first: a big commit's
  // round looks up a million keys in maps far beyond the caches, and one
  // miss after the other took most of its time.
  constexpr size_t kBlock = 16;
  for (size_t block = begin; block < end; block += kBlock) {
    const size_t block_end = std::min(end, block + kBlock);
    for (size_t i = block; i < block_end; ++i) {
      ts.Prefetch(rows.keys[i]);
      rows.on_target.prefetch(rows.keys[i]);
    }
    for (size_t i = block; i < block_end; ++i) CompareRow(ts, rows.keys[i], rows, again, round);
  }
}

// One key of a round: in flight, left to the full check, or compared.
void ChangeChecker::CompareRow(const TableShadow& ts, const std::string& k, const TableRows& rows,
                               const StringSet& again, ChangeRound& round) {
  if (!again.empty() && again.contains(k)) {
    ++round.rows_in_flight;
    return;
  }
  if (ts.IsUnresolved(k)) {  // the shadow lacks a value (unchanged TOAST)
    round.left_to_full_check.insert(ts.qualified_name());
    return;
  }
  ++round.rows_compared;
  const auto held = ts.Find(k);
  auto it = rows.on_target.find(k);
  const bool there = it != rows.on_target.end();
  if (!held && !there) return;  // deleted on both
  if (held && there && *held == it->second) return;
  DivergentRow row;
  row.kind = !there  ? RowDivergence::kMissingOnTarget
             : !held ? RowDivergence::kExtraOnTarget
                     : RowDivergence::kDiffers;
  row.key = KeyColumns(ts.spec(), k);
  round.divergent.emplace_back(ts.qualified_name(), std::move(row));
}

Result<ChangeRound> ChangeChecker::RunOnce() {
  ChangeRound round;
  round.from = round.to = cursor_;
  PGPARITY_RETURN_IF_ERROR(Connect());
  CompareCaughtUp(round);
  if (waiting_keys_ >= options_.max_waiting_keys) {
    round.shadow_behind = true;  // the reads wait for the stream
    return round;
  }
  PGPARITY_RETURN_IF_ERROR(ReadNext(round));
  CompareCaughtUp(round);  // read with the shadow already there
  return round;
}

Status ChangeChecker::ReadNext(ChangeRound& round) {
  PGPARITY_ASSIGN_OR_RETURN(wire::Lsn r, AppliedBound());
  if (r <= read_cursor_) return Status::OK();
  const wire::Lsn applied = r;
  ReadRound read;
  read.from = read_cursor_;
  std::vector<std::pair<size_t, std::string>> keys;
  {
    auto lk = shadow_.Lock();
    AdoptEarlyRead();
    // Only commits the shadow knows: those ending at or before its last.
    const wire::Lsn known(std::max(shadow_.last_commit_end().value() + 1, decoded_before_.value()));
    // A commit the target applied that the shadow lacks (not only the
    // subscriber's keepalive-moved flush position ahead of pgparity's).
    round.shadow_behind = known <= remote_applied_;
    round.stream_short = !round.shadow_behind && known < r;
    if (known < r) r = known;
    if (open_txn_ && r > open_txn_->end) {
      // Its commit is in the shadow: its round comes next, the only commit
      // in it unless the reads missed one before it (then read as usual).
      if (shadow_.TouchedBetween(read_cursor_, open_txn_->end)) {
        TakeOpenTxn();
      } else {
        r = wire::Lsn(open_txn_->end.value() + 1);
      }
    }
    if (r <= read_cursor_) {
      PGPARITY_ASSIGN_OR_RETURN(round.capped, ReadOpenTxn(lk, applied));
      if (!round.capped && lk.owns_lock()) {
        PGPARITY_ASSIGN_OR_RETURN(round.capped, ReadStreamedTxn(lk, applied, round.shadow_behind));
      }
      return Status::OK();
    }
    keys = shadow_.KeysChanged(read_cursor_, r, options_.max_keys_per_round, read.to);
    round.capped = read.to < r;
  }
  read.keys = keys.size();
  if (open_txn_ && read.to > open_txn_->end) {
    PGPARITY_RETURN_IF_ERROR(FinishOpenTxn(std::move(keys), read));
  } else {
    PGPARITY_ASSIGN_OR_RETURN(read.by_table,
                              ReadChangedRows(std::move(keys), read.left_to_full_check));
  }
  // What the target may have shown: everything up to R2.
  PGPARITY_ASSIGN_OR_RETURN(auto applied_after, ReadRemoteLsn(*target_, sub_));
  read.shown = std::max(read.shown, applied_after.value_or(r));
  read_cursor_ = read.to;
  waiting_keys_ += read.keys;
  waiting_.push_back(std::move(read));
  return Status::OK();
}

Result<bool> ChangeChecker::ReadOpenTxn(std::unique_lock<std::mutex>& lk, wire::Lsn applied) {
  const wire::Lsn end = shadow_.open_commit_end();
  // Its commit applied on the target (it ends before `applied`), every
  // commit before it read, room among the waiting keys.
  if (!end.valid() || applied <= end || read_cursor_ <= shadow_.last_commit_end()) return false;
  if (waiting_keys_ + options_.ahead_chunk_keys > options_.max_waiting_keys) return false;
  if (open_txn_ && open_txn_->end != end) return false;  // finished first (ReadNext)
  if (open_txn_ && !SettleOpenTxn()) return false;
  const size_t taken = open_txn_ ? open_txn_->taken : 0;
  std::vector<std::pair<size_t, std::string>> keys;
  if (shadow_.KeyTouchesOf(end, taken, options_.ahead_chunk_keys, keys) <
      options_.ahead_chunk_keys) {
    return false;  // the rest when it commits
  }
  lk.unlock();
  if (!open_txn_) {
    open_txn_.emplace();
    open_txn_->end = end;
  }
  const size_t n = keys.size();
  Result<wire::Lsn> shown = ReadAhead(std::move(keys), open_txn_->on_target, applied);
  if (!shown.ok()) {
    // Rows read but not counted, or without what the target showed: the
    // commit's round reads them all again.
    TakeOpenTxn();
    return shown.status();
  }
  open_txn_->taken += n;
  open_txn_->counted += n;
  open_txn_->shown = std::max(open_txn_->shown, *shown);
  waiting_keys_ += n;
  keys_read_while_applied_ += n;
  return true;
}

Result<wire::Lsn> ChangeChecker::ReadAhead(std::vector<std::pair<size_t, std::string>> keys,
                                           std::map<size_t, TargetRowDigests>& on_target,
                                           wire::Lsn applied) {
  PGPARITY_RETURN_IF_ERROR(ReadInto(std::move(keys), on_target));
  PGPARITY_ASSIGN_OR_RETURN(auto applied_after, ReadRemoteLsn(*target_, sub_));
  return applied_after.value_or(applied);
}

Status ChangeChecker::ReadInto(std::vector<std::pair<size_t, std::string>> keys,
                               std::map<size_t, TargetRowDigests>& on_target) {
  std::set<std::string> left_out;  // named by the commit's round
  for (auto& [t, rows] : GroupByTable(std::move(keys), left_out)) {
    PGPARITY_RETURN_IF_ERROR(ReadTable(t, rows.keys, on_target[t]));
  }
  return Status::OK();
}

ChangeChecker::OpenTxnRead ChangeChecker::TakeOpenTxn() {
  OpenTxnRead open = std::move(*open_txn_);
  open_txn_.reset();
  waiting_keys_ -= open.counted;
  return open;
}

Result<bool> ChangeChecker::ReadStreamedTxn(std::unique_lock<std::mutex>& lk, wire::Lsn applied,
                                            bool behind) {
  const size_t chunk = options_.ahead_chunk_keys;
  if (open_txn_ || !behind || waiting_keys_ + chunk > options_.max_waiting_keys) return false;
  // Its commit lies past what the stream received: the target cannot have
  // applied it unless its commits lead that — by far, in a backlog; a
  // live target's lead, if any, is the walsenders' difference, and reads
  // then would all be read again. (Its origin, not the subscription
  // slot's flush, which an idle subscriber moves to the WAL's end.)
  if (remote_applied_.value() <= stream_received_.value() + options_.stream_lead_bytes) {
    return false;
  }
  if (!early_) {
    const auto xid = shadow_.LargestPrepared();
    if (!xid || shadow_.ReplayOf(*xid)) return false;
    early_.emplace();
    early_->xid = *xid;
    early_->reader = NextReader();
    early_->applied = applied;
  }
  // A quarter of a chunk at least (as many touches as changes, or more):
  // rounds come every 100 ms while the stream decodes, and what is left
  // when it ends is read after its commit.
  if (shadow_.PreparedNotHandedOut(early_->xid, early_->reader) < std::max<size_t>(1, chunk / 4)) {
    return false;
  }
  std::vector<std::pair<size_t, std::string>> keys;
  const size_t n =
      shadow_.HandOutPreparedTouches(early_->xid, early_->reader, chunk, applied, keys);
  if (n == 0) return false;
  lk.unlock();
  early_->applied = std::min(early_->applied, applied);
  Result<wire::Lsn> shown = ReadAhead(std::move(keys), early_->on_target, applied);
  if (!shown.ok()) {
    DropEarlyRead();  // handed out, not all read: the next early read starts over
    return shown.status();
  }
  early_->shown = std::max(early_->shown, *shown);
  early_->keys += n;
  waiting_keys_ += n;
  keys_read_while_streamed_ += n;
  return true;
}

void ChangeChecker::AdoptEarlyRead() {
  if (!early_) return;
  const auto replay = shadow_.ReplayOf(early_->xid);
  if (!replay) {
    // Still streaming; or aborted, or replayed with another since: gone.
    if (!shadow_.HasPrepared(early_->xid)) DropEarlyRead();
    return;
  }
  EarlyRead early = std::move(*early_);
  early_.reset();
  if (open_txn_ || early.keys == 0 || replay->reader != early.reader ||
      early.applied <= replay->end) {
    waiting_keys_ -= early.keys;  // its commit was not applied before every read
    return;
  }
  open_txn_ = OpenTxnRead{.end = replay->end,
                          .shown = early.shown,
                          .taken = replay->handed_out,
                          .on_target = std::move(early.on_target),
                          .xid = early.xid,
                          .counted = early.keys,
                          .settled = false};
}

void ChangeChecker::DropEarlyRead() {
  if (!early_) return;
  waiting_keys_ -= early_->keys;
  early_.reset();
}

bool ChangeChecker::SettleOpenTxn() {
  OpenTxnRead& open = *open_txn_;
  if (open.settled) return true;
  const auto replay = shadow_.ReplayOf(open.xid);
  if (!replay || replay->end != open.end) {
    open.taken = 0;  // no account of its replay: all read again
  } else if (replay->prefix < open.taken && !replay->settled) {
    return false;  // the replay has not touched as many yet
  } else {
    open.taken = std::min(open.taken, replay->prefix);
  }
  open.settled = true;
  keys_read_while_streamed_used_ += open.taken;
  return true;
}

Status ChangeChecker::FinishOpenTxn(std::vector<std::pair<size_t, std::string>> keys,
                                    ReadRound& read) {
  OpenTxnRead open;
  std::vector<std::pair<size_t, std::string>> rest;
  {
    auto lk = shadow_.Lock();
    if (!SettleOpenTxn()) open_txn_->taken = 0;  // (committed: the replay is over)
    open = TakeOpenTxn();
    shadow_.KeyTouchesOf(open.end, open.taken, ~size_t{0}, rest);
  }
  PGPARITY_RETURN_IF_ERROR(ReadInto(std::move(rest), open.on_target));
  read.by_table = GroupByTable(std::move(keys), read.left_to_full_check);
  for (auto& [t, rows] : read.by_table) rows.on_target = std::move(open.on_target[t]);
  read.shown = open.shown;
  return Status::OK();
}

void ChangeChecker::CompareCaughtUp(ChangeRound& round) {
  std::vector<ReadRound> compared;  // freed after the lock: a big commit's million keys and rows
  auto lk = shadow_.Lock();
  while (!waiting_.empty() && shadow_.last_commit_end() >= waiting_.front().shown) {
    ReadRound& read = waiting_.front();
    for (const auto& [t, rows] : read.by_table) CompareTable(t, rows, read.to, round);
    round.left_to_full_check.merge(read.left_to_full_check);
    round.to = cursor_ = read.to;
    waiting_keys_ -= read.keys;
    compared.push_back(std::move(read));
    waiting_.pop_front();
  }
  lk.unlock();
}

bool ChangeChecker::WaitForShadow(std::chrono::steady_clock::time_point until) const {
  if (!waiting_for_shadow()) return false;
  auto lk = shadow_.Lock();
  const auto there = [this] {
    if (!waiting_.empty()) return shadow_.last_commit_end() >= waiting_.front().shown;
    const auto replay = shadow_.ReplayOf(early_->xid);  // its replay began
    return replay && shadow_.last_commit_end() >= replay->end;
  };
  while (!there()) {
    if (!shadow_.WaitForCommit(lk, until) && std::chrono::steady_clock::now() >= until) {
      return there();
    }
  }
  return true;
}

}  // namespace pgparity::applier
