// ShadowState: the source's published tables as pgparity knows them — one
// TableShadow per table, bootstrapped at the slot's consistent point, then
// moved by every decoded transaction in commit order (a ChangeSink).
//
// Beside the current state it keeps what a check of a moving target needs:
//   - the history of table digests: after every data-changing commit, the
//     digest of each table it changed, keyed by the commit's end LSN, so the
//     state as of any commit since the base point can be rebuilt
//     (StateAt, ForEachCommit);
//   - the recent changes: which keys each of those commits touched, so a
//     row-level comparison can leave out rows changed after the compared
//     commit (ChangedAfter).
// Both are pruned up to a horizon the checker no longer needs (Prune).
//   - the touch log (touch_log.h): the last N row changes with their
//     commits, independent of Prune, for provenance (RecentTouches).
//
// Under a memory limit (SetMemoryLimit) the largest tables spill to an
// on-disk RowStore: planned from the tables' estimated rows before the
// bootstrap, then whenever the in-memory tables outgrow their share —
// during the bootstrap (checked every 65,536 rows a table scans and when
// a table's or range's scan ends) and while
// streaming (checked every 1,024 commits).
//
// Thread-safety: the ChangeSink callbacks run on the consumer's thread;
// every other member may be called from another thread while holding
// Lock(). Pause() holds the consumer at its next transaction boundary so a
// checker sees a state that does not move. Once the stream runs, only the
// consumer's thread changes the tables' rows (the callbacks; a spill at a
// commit), so between callbacks that thread may read them without Lock()
// while others read them holding it (audit's checkpoint does) — unless a
// table spilled: a spilled table's reads share the store's buffers.
#ifndef PGPARITY_APPLIER_SHADOW_SHADOW_STATE_H_
#define PGPARITY_APPLIER_SHADOW_SHADOW_STATE_H_

#include <absl/container/flat_hash_set.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/applier/shadow/dirty_rows.h"
#include "pgparity/applier/shadow/memory_limit.h"
#include "pgparity/applier/shadow/prepared_changes.h"
#include "pgparity/applier/shadow/row_store.h"
#include "pgparity/applier/shadow/table_shadow.h"
#include "pgparity/applier/shadow/touch_log.h"
#include "pgparity/core/change_sink.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::applier {

// Key encodings (or digest hex), looked up by string_view.
using StringSet = absl::flat_hash_set<std::string, RowKeyHash, RowKeyEq>;

class ShadowState final : public core::ChangeSink {
 public:
  explicit ShadowState(std::vector<TableSpec> specs);

  size_t table_count() const { return tables_.size(); }
  TableShadow& table(size_t i) { return *tables_[i]; }
  const TableShadow& table(size_t i) const { return *tables_[i]; }
  std::optional<size_t> FindTable(std::string_view schema, std::string_view name) const;

  // After the bootstrap scan (or a checkpoint's load, ReadCheckpoint): the
  // state is the source's as of `lsn`, the base of the history.
  void SetBasePoint(wire::Lsn lsn);
  wire::Lsn base_point() const { return base_lsn_; }
  // Before a bootstrap is scanned again (a new slot): no row, no anomaly.
  // REQUIRES: no base point yet.
  void ClearRows();

  // ChangeSink (the consumer's thread).
  Status OnBegin(const core::TxnInfo& txn) override;
  Status OnChange(const core::Change& change) override;
  Status OnTruncate(const core::TruncateEvent& truncate) override;
  Status OnLogicalMessage(const core::LogicalMessageEvent& message) override;
  Status OnCommit(const core::CommitInfo& commit) override;
  // Early delivery (change_sink.h): a keyed change of an open streamed
  // transaction is prepared (TableShadow::Prepare) and waits, invisible,
  // for its replay (prepared_changes.h), which then only applies it.
  Status OnStreamedChange(const core::Change& change) override;
  void OnStreamTruncated(wire::Xid xid, uint64_t entries) override;
  // Bytes the changes prepared early may take, all open transactions
  // together (SetMemoryLimit sets MemoryBudget::prepared_changes, also the
  // default); past them the replay prepares the rest itself.
  void SetPreparedLimit(size_t bytes);
  // Replayed changes applied as prepared early, since the start.
  uint64_t changes_applied_prepared() const { return changes_applied_prepared_; }

  // --- For checkers; hold Lock() around these. ---
  std::unique_lock<std::mutex> Lock() const { return std::unique_lock<std::mutex>(mu_); }
  // End LSN of the last transaction applied (0/0 before any).
  wire::Lsn last_commit_end() const { return last_commit_end_; }
  bool in_transaction() const { return in_txn_; }
  uint64_t transactions() const { return transactions_; }
  uint64_t changes() const { return changes_; }
  // Changes applied to one table since the process started, by kind.
  struct OpCounts {
    uint64_t inserts = 0, updates = 0, deletes = 0, truncates = 0;
  };
  const OpCounts& ops(size_t table) const { return ops_[table]; }

  // Table digests as of position `lsn` (>= base_point()): the base plus
  // every data commit ending at or before it. One per table.
  std::vector<digest::TableDigest> StateAt(wire::Lsn lsn) const;
  // Calls f(end_lsn, table, digest after) for every table changed by each
  // data commit with lo < end_lsn <= hi, in commit order; a commit's tables
  // come together and f_commit(end_lsn) follows them.
  template <typename F, typename G>
  void ForEachCommit(wire::Lsn lo, wire::Lsn hi, F&& f, G&& f_commit) const {
    for (const Commit& c : commits_) {
      if (c.end <= lo) continue;
      if (c.end > hi) break;
      for (uint32_t i = 0; i < c.count; ++i) {
        const Entry& e = entries_[c.first - entries_base_ + i];
        f(c.end, e.table, e.digest);
      }
      f_commit(c.end);
    }
  }
  // Keys (TableShadow key encodings; row digest hex for tables without key)
  // of `table` changed by commits ending after `lsn` or by the transaction
  // being applied now (its changes are in the table already); `truncated`
  // is set when the table was truncated after it.
  StringSet ChangedAfter(size_t table, wire::Lsn lsn, bool& truncated) const;
  // The (table, key) pairs touched by commits with lo <= end_lsn < hi,
  // each once, in no set order. Whole commits only: those up to the first
  // commit boundary at or past `cap` touches (a key touched twice counts
  // twice); `included_up_to` is set to the end of the first commit not
  // taken (hi when all were). Truncates are returned with an empty key.
  std::vector<std::pair<size_t, std::string>> KeysChanged(wire::Lsn lo, wire::Lsn hi, size_t cap,
                                                          wire::Lsn& included_up_to) const;
  // The streamed transaction being applied (its changes replayed at its
  // Stream Commit), whose commit end the decoder gave (core::TxnInfo::
  // end_lsn): that end; 0/0 when none is.
  wire::Lsn open_commit_end() const { return in_txn_ ? open_end_ : wire::Lsn(); }
  // Appends to `out` the key touches (table, key as ChangedAfter names them)
  // of the transaction ending at `end` — the open one or a commit still in
  // the recent changes — from its `from`-th on, at most `max`, in the order
  // it made them (truncates not counted); the same touches in the same
  // order before and after its commit. Returns how many it appended.
  size_t KeyTouchesOf(wire::Lsn end, size_t from, size_t max,
                      std::vector<std::pair<size_t, std::string>>& out) const;
  // Whether commits with lo <= end_lsn < hi touched a key or truncated.
  bool TouchedBetween(wire::Lsn lo, wire::Lsn hi) const;

  // Reading ahead of a streamed transaction's commit (ChangeChecker): the
  // keys its prepared changes will touch are handed out while it streams
  // (PreparedChanges::HandOut, for `reader`); at its Stream Commit the
  // replay says how many of them it touched first, in the same order.
  size_t HandOutPreparedTouches(wire::Xid xid, uint64_t reader, size_t max, wire::Lsn below,
                                std::vector<std::pair<size_t, std::string>>& out);
  size_t PreparedNotHandedOut(wire::Xid xid, uint64_t reader) const {
    return prepared_.NotHandedOut(xid, reader);
  }
  std::optional<wire::Xid> LargestPrepared() const { return prepared_.Largest(); }
  bool HasPrepared(wire::Xid xid) const { return prepared_.Has(xid); }
  // The streamed transaction being replayed, or the last one replayed (until
  // the next one's Stream Commit).
  struct StreamedReplay {
    wire::Xid xid = 0;
    wire::Lsn end;          // its commit's end
    uint64_t reader = 0;    // who was handed out its keys last
    size_t handed_out = 0;  // ... that many touches, of changes prepared at its Stream Commit
    size_t prefix = 0;      // its first key touches, all of changes applied as prepared
    bool settled = false;   // prefix final: the replay ended, or applied a change otherwise
  };
  std::optional<StreamedReplay> ReplayOf(wire::Xid xid) const {
    if (replay_ && replay_->xid == xid) return replay_;
    return std::nullopt;
  }
  // Forgets history and recent changes up to `lsn` (folded into the base).
  // The touch log is not pruned: it keeps its last N touches.
  void Prune(wire::Lsn lsn);
  // The newest committed changes of `key` (as ChangedAfter names keys) in
  // `table`, a TRUNCATE of it included, newest first, at most `max`; fewer
  // when older ones fell out of the bounded touch log (touch_log.h).
  std::vector<RowTouch> RecentTouches(size_t table, std::string_view key, size_t max) const;
  // Bytes the touch log uses (not part of MemoryBytes()).
  size_t TouchLogBytes() const { return touch_log_.MemoryBytes(); }

  // The rows changed since the last full checkpoint (dirty_rows.h), for
  // delta checkpoints: tracked from TrackDirtyRows on (audit; after
  // SetMemoryLimit, which bounds them), at most a sixteenth of the memory
  // limit's worth of keys (4 M keys without a limit), and not past a
  // quarter of the rows (a commit that would take them there overflows
  // them: a full checkpoint comes next). The checkpoint clears them (on the
  // consumer's thread, or holding Lock()).
  void TrackDirtyRows();
  DirtyRows& dirty_rows() { return dirty_; }
  const DirtyRows& dirty_rows() const { return dirty_; }

  // Keeps the last `capacity` touches from now on (default
  // TouchLog::kDefaultCapacity), forgetting those logged so far. Locks.
  void SetTouchLogCapacity(size_t capacity);

  // Holds the consumer at its next transaction boundary (or returns false
  // after `timeout` when a transaction does not end). Resume() lets it go.
  bool Pause(std::chrono::milliseconds timeout);
  void Resume();
  // Waits, holding `lk` (from Lock()), until a transaction commits or
  // `until` passes: what a checker waiting for the stream to reach an LSN
  // sleeps on instead of polling. May also return early (Pause/Resume or a
  // spurious wakeup): re-check the condition. False on timeout.
  bool WaitForCommit(std::unique_lock<std::mutex>& lk, std::chrono::steady_clock::time_point until);

  // Published tables pgparity has seen changes of but does not track (they
  // joined the publication after it started): schema, name.
  const std::set<std::pair<std::string, std::string>>& untracked() const { return untracked_; }

  // Shadow memory in bytes and tracked rows, over all tables.
  size_t MemoryBytes() const;
  uint64_t TrackedRows() const;

  // ---- The memory limit (memory_limit.h). Set before the bootstrap or the
  // checkpoint's load; the store goes in `store_dir` (created when a table
  // first spills, whatever it held removed).
  void SetMemoryLimit(MemoryBudget budget, std::filesystem::path store_dir);
  const MemoryBudget& memory_budget() const { return budget_; }
  // Before the bootstrap: spills the (still empty) tables whose estimated
  // rows would not fit in budget.maps(), largest first, however small
  // (many small tables add up). IOError when the
  // store cannot be created.
  [[nodiscard]] Status SpillPlanned();
  // OK, or why a spill or the store failed (the first error).
  Status spill_status() const;
  // The store once a table spilled, else nullptr (the checkpoint's).
  RowStore* store() const { return store_.get(); }
  size_t spilled_tables() const;
  // The live store as a copy of a checkpoint's (shadow_checkpoint.cc).
  [[nodiscard]] Status OpenStoreFromCheckpoint(const std::filesystem::path& checkpoint);

 private:
  struct Entry {
    size_t table;
    digest::TableDigest digest;
  };
  struct Commit {
    wire::Lsn end;
    uint64_t first;  // index of its first Entry (absolute, see entries_base_)
    uint32_t count;
  };
  // One data commit's recent changes: the keys it touched in the order it
  // touched them (a key changed twice is there twice), the tables it
  // truncated. A big commit's keys move in as one vector (OnCommit).
  struct CommitTouches {
    wire::Lsn end;
    std::vector<std::pair<size_t, std::string>> keys;
    std::vector<size_t> truncated;
  };

  // The first commit in recent_ ending at or after `lsn` (mu_ held).
  std::deque<CommitTouches>::const_iterator RecentFrom(wire::Lsn lsn) const;
  // The table of a relation, or kUntracked; FailedPrecondition when its
  // columns changed since pgparity started.
  static constexpr size_t kUntracked = ~size_t{0};
  Result<size_t> Resolve(const core::RelationInfo& relation);
  // Resolve for a change that may still be aborted: without its side
  // effects (untracked_), nullopt for an untracked or changed table.
  std::optional<size_t> ResolveEarly(const core::RelationInfo& relation);
  Status CheckRelationShape(size_t idx, const core::RelationInfo& relation);

  // A scanning thread's check of its table (every 65,536 rows, and at the end of
  // a scan): spills it when the in-memory tables passed their share.
  void OnTableGrew(size_t table);
  // Moves `table` to the store (created on first use). REQUIRES: the caller
  // owns the table (its scan, or mu_ while streaming).
  void Spill(size_t table);
  // At a commit (mu_ held): its keys and truncated tables are changed rows
  // (dirty_), unless they take the changed rows past a quarter of the rows.
  void MarkDirty();
  // At a commit (mu_ held): its key touches and truncates into the touch
  // log, in their order, with the commit.
  void LogTouches(const core::CommitInfo& commit);
  // After a change of the streamed transaction being replayed (mu_ held):
  // its `touches` key touches extend replay_'s prefix if it was applied as
  // prepared with no prepared change passed over; else the prefix ends.
  void FollowReplay(bool applied_prepared, size_t touches);
  // While streaming (mu_ held): the largest in-memory table spills when the
  // maps passed their share.
  void SpillLargestIfOver();
  Status EnsureStoreLocked();

  std::vector<std::unique_ptr<TableShadow>> tables_;
  std::unordered_map<std::string, size_t> by_name_;  // "schema\0name"
  std::unordered_map<uint64_t, size_t> by_generation_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool paused_ = false;
  bool in_txn_ = false;

  wire::Lsn base_lsn_;
  std::vector<digest::TableDigest> base_;
  std::vector<Commit> commits_;
  std::vector<Entry> entries_;
  uint64_t entries_base_ = 0;         // absolute index of entries_[0]
  std::deque<CommitTouches> recent_;  // by end, increasing; commits that touched something
  TouchLog touch_log_;
  DirtyRows dirty_{0};

  // The open transaction.
  wire::Lsn open_end_;  // its commit end when streamed (TxnInfo::end_lsn)
  std::vector<bool> txn_touched_;
  std::vector<size_t> txn_tables_;
  std::vector<std::pair<size_t, std::string>> txn_keys_;
  std::vector<char> txn_ops_;  // each key touch's operation (RowTouch::op)
  std::vector<size_t> txn_truncated_;
  std::vector<size_t> txn_truncated_at_;  // each truncate's place: txn_keys_.size() then
  std::vector<std::string> keys_scratch_;
  PreparedChanges prepared_{MemoryBudget().prepared_changes()};
  std::unordered_map<uint64_t, std::optional<size_t>> early_generation_;  // ResolveEarly's
  uint64_t changes_applied_prepared_ = 0;
  std::optional<StreamedReplay> replay_;
  uint64_t replay_passed_ = 0;  // prepared_.passed() at its start

  wire::Lsn last_commit_end_;
  std::vector<OpCounts> ops_;
  uint64_t transactions_ = 0;
  uint64_t changes_ = 0;
  std::set<std::pair<std::string, std::string>> untracked_;

  MemoryBudget budget_;
  std::filesystem::path store_dir_;
  mutable std::mutex store_mu_;  // store_'s creation, spill_error_
  std::unique_ptr<RowStore> store_;
  Status spill_error_;
  std::vector<std::atomic<size_t>> map_bytes_;  // per table, as last reported
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_SHADOW_STATE_H_
