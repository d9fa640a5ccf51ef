#include "pgparity/applier/shadow/shadow_state.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>
#include <tuple>

namespace pgparity::applier {

namespace {
std::string NameKey(std::string_view schema, std::string_view name) {
  std::string k(schema);
  k.push_back('\0');
  k.append(name);
  return k;
}
}  // namespace

ShadowState::ShadowState(std::vector<TableSpec> specs) {
  for (auto& spec : specs) {
    by_name_.emplace(NameKey(spec.schema, spec.name), tables_.size());
    tables_.push_back(std::make_unique<TableShadow>(std::move(spec)));
  }
  base_.resize(tables_.size());
  ops_.resize(tables_.size());
  txn_touched_.assign(tables_.size(), false);
  map_bytes_ = std::vector<std::atomic<size_t>>(tables_.size());
  dirty_ = DirtyRows(tables_.size());
}

std::optional<size_t> ShadowState::FindTable(std::string_view schema, std::string_view name) const {
  auto it = by_name_.find(NameKey(schema, name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

void ShadowState::ClearRows() {
  std::lock_guard lk(mu_);
  for (size_t i = 0; i < tables_.size(); ++i) {
    tables_[i]->Clear();
    map_bytes_[i].store(tables_[i]->MapBytes(), std::memory_order_relaxed);
  }
}

void ShadowState::SetBasePoint(wire::Lsn lsn) {
  std::lock_guard lk(mu_);
  for (const auto& t : tables_) t->FlushStore();
  base_lsn_ = lsn;
  for (size_t i = 0; i < tables_.size(); ++i) base_[i] = tables_[i]->digest();
  last_commit_end_ = std::max(last_commit_end_, lsn);
}

Result<size_t> ShadowState::Resolve(const core::RelationInfo& relation) {
  if (auto it = by_generation_.find(relation.generation()); it != by_generation_.end()) {
    return it->second;
  }
  auto idx = FindTable(relation.schema(), relation.name());
  if (!idx) {
    // Created (or attached, detached, added) after pgparity started: not
    // tracked, its changes skipped, the checks report it.
    untracked_.emplace(std::string(relation.schema()), std::string(relation.name()));
    by_generation_.emplace(relation.generation(), kUntracked);
    return kUntracked;
  }
  PGPARITY_RETURN_IF_ERROR(CheckRelationShape(*idx, relation));
  by_generation_.emplace(relation.generation(), *idx);
  return *idx;
}

// The digests of a table's rows are of its columns as pgparity started:
// another column list, or another type (whose values may print otherwise:
// int to numeric(10,2) rewrites 1 as 1.00 without a change on the stream),
// and they no longer compare.
Status ShadowState::CheckRelationShape(size_t idx, const core::RelationInfo& relation) {
  const TableSpec& spec = tables_[idx]->spec();
  bool same = relation.column_count() == spec.columns.size();
  for (size_t i = 0; same && i < spec.columns.size(); ++i) {
    same = relation.columns()[i].name == spec.columns[i];
  }
  if (!same) {
    return Status::SchemaChanged("the columns of table " + relation.QualifiedName() +
                                 " changed on the source (ALTER TABLE) since pgparity started");
  }
  if (spec.identity_flags.size() == spec.columns.size()) {
    for (size_t i = 0; i < spec.columns.size(); ++i) {
      if (relation.columns()[i].is_key == spec.identity_flags[i]) continue;
      return Status::SchemaChanged(
          "the replica identity of table " + relation.QualifiedName() +
          " changed on the source (a primary key added or dropped, or ALTER TABLE ... REPLICA "
          "IDENTITY: column " +
          spec.columns[i] + (spec.identity_flags[i] ? " left" : " joined") +
          " the key its updates and deletes are sent with) since pgparity started");
    }
  }
  if (spec.type_ids.size() != spec.columns.size()) return Status::OK();  // not known
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    const auto& sent = relation.columns()[i];
    if (TableSpec::TypeId{sent.type_oid, sent.typmod} != spec.type_ids[i]) {
      return Status::SchemaChanged("the type of column " + spec.columns[i] + " of table " +
                                   relation.QualifiedName() +
                                   " changed on the source (ALTER TABLE ... TYPE) since pgparity "
                                   "started");
    }
  }
  return Status::OK();
}

Status ShadowState::OnBegin(const core::TxnInfo& txn) {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return !paused_; });
  in_txn_ = true;
  open_end_ = txn.streamed ? txn.end_lsn : wire::Lsn();
  if (txn.streamed) {
    const auto [reader, handed_out] = prepared_.HandedOut(txn.xid);
    replay_ = StreamedReplay{txn.xid, txn.end_lsn, reader, handed_out};
    replay_passed_ = prepared_.passed();
  }
  // A streamed transaction's key touches sized at once: a million of them
  // would otherwise be moved from one doubling to the next. Not past a few
  // million: its changes may be of untracked tables, and nothing is
  // reserved for those.
  constexpr uint64_t kMaxReserved = uint64_t{4} << 20;
  txn_keys_.reserve(std::min(txn.streamed_entries, kMaxReserved));
  txn_ops_.reserve(std::min(txn.streamed_entries, kMaxReserved));
  return Status::OK();
}

std::optional<size_t> ShadowState::ResolveEarly(const core::RelationInfo& relation) {
  const auto [it, fresh] = early_generation_.try_emplace(relation.generation());
  if (fresh) {
    const auto idx = FindTable(relation.schema(), relation.name());
    if (idx && CheckRelationShape(*idx, relation).ok()) it->second = idx;
  }
  return it->second;
}

Status ShadowState::OnStreamedChange(const core::Change& change) {
  std::lock_guard lk(mu_);
  if (!prepared_.has_room()) return Status::OK();
  const std::optional<size_t> idx = ResolveEarly(change.relation);
  if (!idx) return Status::OK();
  size_t message = 0;
  if (const auto prepared = tables_[*idx]->Prepare(change, prepared_.md5(), message)) {
    // Else prepared at the replay.
    (void)prepared_.Add(change.xid, change.stream_entry, *idx, *prepared, message);
  }
  return Status::OK();
}

void ShadowState::OnStreamTruncated(wire::Xid xid, uint64_t entries) {
  std::lock_guard lk(mu_);
  prepared_.Truncate(xid, entries);
  // The relations of finished streams are never seen again.
  if (prepared_.transactions() == 0) early_generation_.clear();
}

void ShadowState::FollowReplay(bool applied_prepared, size_t touches) {
  if (!in_txn_ || !replay_ || replay_->settled || replay_->end != open_end_) return;
  if (applied_prepared && prepared_.passed() == replay_passed_) {
    replay_->prefix += touches;
  } else {
    replay_->settled = true;
  }
}

size_t ShadowState::HandOutPreparedTouches(wire::Xid xid, uint64_t reader, size_t max,
                                           wire::Lsn below,
                                           std::vector<std::pair<size_t, std::string>>& out) {
  if (replay_ && replay_->xid == xid) return 0;  // its replay began
  return prepared_.HandOut(xid, reader, max, below, out);
}

void ShadowState::SetPreparedLimit(size_t bytes) {
  std::lock_guard lk(mu_);
  prepared_.set_limit_bytes(bytes);
}

Status ShadowState::OnChange(const core::Change& change) {
  std::lock_guard lk(mu_);
  PGPARITY_ASSIGN_OR_RETURN(size_t idx, Resolve(change.relation));
  if (idx == kUntracked) return Status::OK();
  keys_scratch_.clear();
  std::optional<TableShadow::PreparedChange> prepared;
  if (change.stream_entry != core::Change::kNotStreamed) {
    prepared = prepared_.Take(change.xid, change.stream_entry, idx, change.op, change.lsn);
  }
  if (prepared) {
    tables_[idx]->ApplyPrepared(*prepared, keys_scratch_);
    ++changes_applied_prepared_;
  } else {
    PGPARITY_RETURN_IF_ERROR(tables_[idx]->Apply(change, keys_scratch_));
  }
  FollowReplay(prepared.has_value(), keys_scratch_.size());
  if (!txn_touched_[idx]) {
    txn_touched_[idx] = true;
    txn_tables_.push_back(idx);
  }
  for (auto& k : keys_scratch_) {
    txn_keys_.emplace_back(idx, std::move(k));
    txn_ops_.push_back(static_cast<char>(change.op));
  }
  ++changes_;
  OpCounts& ops = ops_[idx];
  switch (change.op) {
    case core::ChangeOp::kInsert:
      ++ops.inserts;
      break;
    case core::ChangeOp::kUpdate:
      ++ops.updates;
      break;
    case core::ChangeOp::kDelete:
      ++ops.deletes;
      break;
  }
  return Status::OK();
}

Status ShadowState::OnTruncate(const core::TruncateEvent& truncate) {
  std::lock_guard lk(mu_);
  for (const core::RelationInfo* r : truncate.relations) {
    PGPARITY_ASSIGN_OR_RETURN(size_t idx, Resolve(*r));
    if (idx == kUntracked) continue;
    tables_[idx]->Truncate();
    ++ops_[idx].truncates;
    if (!txn_touched_[idx]) {
      txn_touched_[idx] = true;
      txn_tables_.push_back(idx);
    }
    txn_truncated_.push_back(idx);
    txn_truncated_at_.push_back(txn_keys_.size());
  }
  return Status::OK();
}

Status ShadowState::OnLogicalMessage(const core::LogicalMessageEvent&) { return Status::OK(); }

Status ShadowState::OnCommit(const core::CommitInfo& commit) {
  {
    std::lock_guard lk(mu_);
    if (!txn_tables_.empty()) {
      commits_.push_back(Commit{commit.end_lsn, entries_base_ + entries_.size(),
                                static_cast<uint32_t>(txn_tables_.size())});
      for (const size_t t : txn_tables_) {
        entries_.push_back(Entry{t, tables_[t]->digest()});
        txn_touched_[t] = false;
      }
      MarkDirty();
      LogTouches(commit);
      if (!txn_keys_.empty() || !txn_truncated_.empty()) {
        recent_.push_back(
            CommitTouches{commit.end_lsn, std::move(txn_keys_), std::move(txn_truncated_)});
      }
    }
    txn_tables_.clear();
    txn_keys_.clear();
    txn_ops_.clear();
    txn_truncated_.clear();
    txn_truncated_at_.clear();
    last_commit_end_ = std::max(last_commit_end_, commit.end_lsn);
    ++transactions_;
    if (replay_ && in_txn_ && replay_->end == open_end_) replay_->settled = true;
    in_txn_ = false;
    if (budget_.limited() && transactions_ % 1024 == 0) SpillLargestIfOver();
  }
  cv_.notify_all();
  // A write the store could not make (a full disk): the shadow is no longer
  // the source's, so the stream stops with the store's error.
  return spill_status();
}

void ShadowState::LogTouches(const core::CommitInfo& commit) {
  // Only the last capacity() touches: a ring that size keeps no others, and
  // a million-row transaction's would be copied in only to be pushed out.
  const size_t touches = txn_keys_.size() + txn_truncated_.size();
  size_t skip = touches > touch_log_.capacity() ? touches - touch_log_.capacity() : 0;
  const auto stage = [&](size_t table, std::string_view key, char op) {
    if (skip > 0) {
      --skip;
    } else {
      touch_log_.Stage(table, std::string(key), op);
    }
  };
  size_t truncate = 0;  // each where it came among the key touches
  for (size_t i = 0; i <= txn_keys_.size(); ++i) {
    for (; truncate < txn_truncated_.size() && txn_truncated_at_[truncate] == i; ++truncate) {
      stage(txn_truncated_[truncate], {}, 'T');
    }
    if (i < txn_keys_.size()) stage(txn_keys_[i].first, txn_keys_[i].second, txn_ops_[i]);
  }
  touch_log_.Commit(commit.xid, commit.commit_lsn, commit.end_lsn, commit.commit_time);
}

void ShadowState::MarkDirty() {
  if (!dirty_.enabled() || dirty_.overflowed()) return;
  // Past a quarter of the rows only a full checkpoint is written
  // (shadow_checkpoint.h): a big transaction's keys are not worth keeping.
  if (dirty_.keys() + txn_keys_.size() > TrackedRows() / 4) {
    dirty_.Overflow();
    return;
  }
  for (const size_t t : txn_truncated_) dirty_.MarkWhole(t);
  for (const auto& [t, k] : txn_keys_) dirty_.Mark(t, k);
}

std::vector<digest::TableDigest> ShadowState::StateAt(wire::Lsn lsn) const {
  std::vector<digest::TableDigest> state = base_;
  for (const Commit& c : commits_) {
    if (c.end > lsn) break;
    for (uint32_t i = 0; i < c.count; ++i) {
      const Entry& e = entries_[c.first - entries_base_ + i];
      state[e.table] = e.digest;
    }
  }
  return state;
}

// The first commit in recent_ ending at or after `lsn`.
std::deque<ShadowState::CommitTouches>::const_iterator ShadowState::RecentFrom(
    wire::Lsn lsn) const {
  return std::lower_bound(recent_.begin(), recent_.end(), lsn,
                          [](const CommitTouches& c, wire::Lsn l) { return c.end < l; });
}

StringSet ShadowState::ChangedAfter(size_t table, wire::Lsn lsn, bool& truncated) const {
  StringSet keys;
  truncated = false;
  for (auto it = RecentFrom(wire::Lsn(lsn.value() + 1)); it != recent_.end(); ++it) {
    for (const size_t t : it->truncated) truncated |= t == table;
    for (const auto& [t, k] : it->keys) {
      if (t == table) keys.insert(k);
    }
  }
  // The open transaction has already moved the table's rows: its keys
  // changed after every committed position.
  for (const auto& [t, k] : txn_keys_) {
    if (t == table) keys.insert(k);
  }
  for (const size_t t : txn_truncated_) truncated |= t == table;
  return keys;
}

std::vector<std::pair<size_t, std::string>> ShadowState::KeysChanged(
    wire::Lsn lo, wire::Lsn hi, size_t cap, wire::Lsn& included_up_to) const {
  // Whole commits, while fewer than `cap` touches were taken before them.
  const auto first = RecentFrom(lo);
  auto last = first;
  size_t touches = 0;
  for (; last != recent_.end() && last->end < hi && touches < cap; ++last) {
    touches += last->keys.size() + last->truncated.size();
  }
  included_up_to = last != recent_.end() && last->end < hi ? last->end : hi;
  // Each key once. Integer keys are sorted out by value (a big commit's
  // million keys in a tenth of the time a hash set takes, its slots far
  // beyond the caches); the others, and truncates, through a set.
  // The key as it was touched: ParseIntegerKey takes only the encoding
  // EncodeIntegerKey gives, so it need not be made again.
  struct IntegerTouch {
    size_t table;
    int64_t value;
    const std::string* key;
    bool operator<(const IntegerTouch& o) const {
      return std::tie(table, value) < std::tie(o.table, o.value);
    }
    bool operator==(const IntegerTouch& o) const { return table == o.table && value == o.value; }
  };
  std::vector<IntegerTouch> integers;
  integers.reserve(touches);
  std::vector<std::pair<size_t, std::string>> out;
  absl::flat_hash_set<std::pair<size_t, std::string_view>> seen;
  for (auto it = first; it != last; ++it) {
    for (const size_t t : it->truncated) {
      if (seen.emplace(t, std::string_view()).second) out.emplace_back(t, std::string());
    }
    for (const auto& [t, k] : it->keys) {
      int64_t v;
      if (tables_[t]->spec().integer_key && ParseIntegerKey(k, v)) {
        integers.push_back({t, v, &k});
      } else if (seen.emplace(t, k).second) {
        out.emplace_back(t, k);
      }
    }
  }
  // A bulk load's keys often come in order already.
  if (!std::is_sorted(integers.begin(), integers.end()))
    std::sort(integers.begin(), integers.end());
  integers.erase(std::unique(integers.begin(), integers.end()), integers.end());
  out.reserve(out.size() + integers.size());
  for (const IntegerTouch& t : integers) out.emplace_back(t.table, *t.key);
  return out;
}

size_t ShadowState::KeyTouchesOf(wire::Lsn end, size_t from, size_t max,
                                 std::vector<std::pair<size_t, std::string>>& out) const {
  // Committed, the open transaction's keys go to recent_ in this order
  // (OnCommit).
  const std::vector<std::pair<size_t, std::string>>* keys = nullptr;
  if (in_txn_ && open_end_.valid() && open_end_ == end) {
    keys = &txn_keys_;
  } else if (const auto it = RecentFrom(end); it != recent_.end() && it->end == end) {
    keys = &it->keys;
  }
  if (keys == nullptr || from >= keys->size()) return 0;
  const size_t n = std::min(max, keys->size() - from);
  out.insert(out.end(), keys->begin() + static_cast<ptrdiff_t>(from),
             keys->begin() + static_cast<ptrdiff_t>(from + n));
  return n;
}

bool ShadowState::TouchedBetween(wire::Lsn lo, wire::Lsn hi) const {
  const auto it = RecentFrom(lo);
  return it != recent_.end() && it->end < hi;
}

void ShadowState::Prune(wire::Lsn lsn) {
  if (lsn <= base_lsn_) return;
  size_t n = 0;
  for (; n < commits_.size() && commits_[n].end <= lsn; ++n) {
    const Commit& c = commits_[n];
    for (uint32_t i = 0; i < c.count; ++i) {
      const Entry& e = entries_[c.first - entries_base_ + i];
      base_[e.table] = e.digest;
    }
  }
  if (n > 0) {
    const uint64_t drop = commits_[n - 1].first + commits_[n - 1].count - entries_base_;
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(drop));
    entries_base_ += drop;
    commits_.erase(commits_.begin(), commits_.begin() + static_cast<ptrdiff_t>(n));
  }
  while (!recent_.empty() && recent_.front().end <= lsn) recent_.pop_front();
  base_lsn_ = lsn;
}

bool ShadowState::Pause(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  paused_ = true;
  if (!cv_.wait_for(lk, timeout, [&] { return !in_txn_; })) {
    paused_ = false;
    cv_.notify_all();
    return false;
  }
  return true;
}

bool ShadowState::WaitForCommit(std::unique_lock<std::mutex>& lk,
                                std::chrono::steady_clock::time_point until) {
  return cv_.wait_until(lk, until) == std::cv_status::no_timeout;
}

void ShadowState::Resume() {
  {
    std::lock_guard lk(mu_);
    paused_ = false;
  }
  cv_.notify_all();
}

std::vector<RowTouch> ShadowState::RecentTouches(size_t table, std::string_view key,
                                                 size_t max) const {
  return touch_log_.RecentTouches(table, key, max);
}

void ShadowState::TrackDirtyRows() {
  // About 40 bytes a key (a RowKey and its slot): a sixteenth of the limit,
  // taken from the store cache's quarter, which nothing uses before a table
  // spills — and a spilled shadow's checkpoints are full ones.
  constexpr size_t kBytesPerDirtyKey = 40;
  constexpr size_t kUnlimitedKeys = size_t{1} << 22;
  std::lock_guard lk(mu_);
  dirty_.Enable(budget_.limited() ? budget_.limit / 16 / kBytesPerDirtyKey : kUnlimitedKeys);
}

void ShadowState::SetTouchLogCapacity(size_t capacity) {
  std::lock_guard lk(mu_);
  touch_log_.Reset(capacity);
}

size_t ShadowState::MemoryBytes() const {
  size_t bytes = 0;
  for (const auto& t : tables_) bytes += t->MemoryBytes();
  if (store_) bytes += store_->MemoryBytes();
  return bytes;
}

uint64_t ShadowState::TrackedRows() const {
  uint64_t rows = 0;
  for (const auto& t : tables_)
    rows += static_cast<uint64_t>(std::max<int64_t>(0, t->digest().rows));
  return rows;
}

// ---- The memory limit.

void ShadowState::SetMemoryLimit(MemoryBudget budget, std::filesystem::path store_dir) {
  budget_ = budget;
  store_dir_ = std::move(store_dir);
  prepared_.set_limit_bytes(budget_.prepared_changes());
  for (size_t i = 0; i < tables_.size(); ++i) {
    if (budget_.limited()) {
      tables_[i]->SetGrowthCheck([this, i] { OnTableGrew(i); });
    } else {
      tables_[i]->SetGrowthCheck(nullptr);
    }
  }
}

Status ShadowState::EnsureStoreLocked() {
  if (store_ || !spill_error_.ok()) return spill_error_;
  Result<std::unique_ptr<RowStore>> store = RowStore::Create(store_dir_, budget_.store_cache());
  if (!store.ok()) {
    spill_error_ = store.status().WithPrefix("--memory-limit");
    return spill_error_;
  }
  store_ = std::move(*store);
  spdlog::info("memory limit {} bytes: rows beyond {} bytes of tables go to the row store in {}",
               budget_.limit, budget_.maps(), store_dir_.string());
  return Status::OK();
}

void ShadowState::Spill(size_t table) {
  std::lock_guard lk(store_mu_);
  if (tables_[table]->spilled() || !EnsureStoreLocked().ok()) return;
  TableShadow& t = *tables_[table];
  const auto start = std::chrono::steady_clock::now();
  const size_t rows = t.keyed_rows() + t.multiset_entries();
  t.SpillTo(*store_, static_cast<uint32_t>(table));
  map_bytes_[table].store(t.MapBytes(), std::memory_order_relaxed);
  spdlog::info("memory limit: table {} ({} rows) moved to the row store in {:.1f} s",
               t.qualified_name(), rows,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

Status ShadowState::SpillPlanned() {
  if (!budget_.limited()) return Status::OK();
  // About 48 bytes a row in the maps (38-44 with an integer key, 50-58
  // with another: applier/README.md, "Memory").
  constexpr double kRowBytes = 48;
  std::vector<size_t> order(tables_.size());
  std::iota(order.begin(), order.end(), 0);
  auto rows = [&](size_t i) { return std::max(0.0, tables_[i]->spec().estimated_rows); };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rows(a) > rows(b); });
  double total = 0;
  for (size_t i : order) total += rows(i) * kRowBytes;
  // Largest first, whatever their size: many tables smaller than one
  // growth check (TableShadow::kGrowthCheckRows) may not fit together.
  for (size_t i : order) {
    if (total <= static_cast<double>(budget_.maps()) || rows(i) <= 0) break;
    Spill(i);
    total -= rows(i) * kRowBytes;
  }
  return spill_status();
}

void ShadowState::OnTableGrew(size_t table) {
  TableShadow& t = *tables_[table];
  if (t.spilled()) return;
  map_bytes_[table].store(t.MapBytes(), std::memory_order_relaxed);
  size_t total = 0;
  for (const auto& b : map_bytes_) total += b.load(std::memory_order_relaxed);
  if (total > budget_.maps()) Spill(table);
}

void ShadowState::SpillLargestIfOver() {
  size_t total = 0, largest = 0;
  std::optional<size_t> pick;
  for (size_t i = 0; i < tables_.size(); ++i) {
    const size_t bytes = tables_[i]->spilled() ? 0 : tables_[i]->MapBytes();
    total += bytes;
    if (bytes > largest) largest = bytes, pick = i;
  }
  if (total > budget_.maps() && pick) Spill(*pick);
}

Status ShadowState::spill_status() const {
  std::lock_guard lk(store_mu_);
  if (!spill_error_.ok()) return spill_error_;
  return store_ ? store_->status() : Status::OK();
}

size_t ShadowState::spilled_tables() const {
  size_t n = 0;
  for (const auto& t : tables_) n += t->spilled() ? 1 : 0;
  return n;
}

Status ShadowState::OpenStoreFromCheckpoint(const std::filesystem::path& checkpoint) {
  std::lock_guard lk(store_mu_);
  if (store_dir_.empty()) {
    return Status::FailedPrecondition(
        "the checkpoint's rows are in a row store, but no place "
        "for the live store was set (ShadowState::SetMemoryLimit)");
  }
  PGPARITY_ASSIGN_OR_RETURN(
      store_, RowStore::OpenFromCheckpoint(checkpoint, store_dir_, budget_.store_cache()));
  return Status::OK();
}

}  // namespace pgparity::applier
