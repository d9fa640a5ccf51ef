// TableShadow: the source's state of one table as pgparity knows it — per
// row its key and row digest, and the table digest (row count and sum,
// docs/digest.md) — built by the bootstrap scan and moved by every decoded
// change: insert adds, delete subtracts, update subtracts the old row's
// digest and adds the new one.
//
// Keyed tables (TableSpec::key_positions) map key -> row digest. Tables
// without a key are a multiset of row digests (duplicates count).
//
// Unchanged TOAST ('u' in an UPDATE's new tuple): the new row's digest needs
// the value the server did not send. It is taken from the old tuple when the
// table has REPLICA IDENTITY FULL (pgoutput sends the whole old row,
// detoasted), else from what this shadow kept: for rows large enough that
// PostgreSQL may have moved a value out of line (SidecarRowBytes), and for
// rows whose last change carried a 'u' (a value stays out of line when the
// rest of its row shrinks), the toastable columns' parts of the row
// encoding are kept beside the digest (kept_values.h): a wide value as its
// 16-byte MD5, whatever its size. A 'u' whose value is
// not known makes that row *unresolved*: it leaves the table digest and the
// table is reported unverified until the row is rewritten or deleted —
// pgparity never guesses a value.
//
// Spilled (SpillTo): beyond --memory-limit a table's rows and multiset
// members move to the RowStore (stored_table.h lays them out) and every
// operation reads and writes them there; unresolved keys stay in memory.
// The digest arithmetic is the same either way.
//
// A change that contradicts the shadow (delete or update of a key it does
// not hold, insert of a key it holds) is counted as an anomaly: the table
// is then unverified, since the shadow is no longer known to be the source.
//
// Thread-safety: none; ShadowState serializes access.
#ifndef PGPARITY_APPLIER_SHADOW_TABLE_SHADOW_H_
#define PGPARITY_APPLIER_SHADOW_TABLE_SHADOW_H_

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/applier/shadow/kept_values.h"
#include "pgparity/applier/shadow/row_key.h"
#include "pgparity/applier/shadow/staggered_map.h"
#include "pgparity/applier/shadow/stored_table.h"
#include "pgparity/core/change_sink.h"
#include "pgparity/digest/digest128.h"
#include "pgparity/digest/row_digest.h"
#include "pgparity/status.h"

namespace pgparity::applier {

// Rows whose values add up to at least this many bytes of text keep their
// toastable columns' values (see above). PostgreSQL only moves values out of
// line when a row exceeds the table's toast_tuple_target (TOAST_TUPLE_TARGET,
// ~2 kB on disk, unless the table sets it lower: 128 bytes at least), and
// the text of a value is at least a quarter of its on-disk size for the
// built-in types (int8[] of one-digit numbers is the extreme): an eighth of
// the target (256 bytes by default) leaves a 2x margin below which no row
// carries an external value when it is written.
inline constexpr size_t kSidecarRowBytes = 256;
inline constexpr size_t SidecarRowBytes(size_t toast_tuple_target) {
  return toast_tuple_target == 0 ? kSidecarRowBytes : std::max<size_t>(1, toast_tuple_target / 8);
}

struct HashDigest {
  size_t operator()(const digest::Digest128& d) const noexcept {
    return static_cast<size_t>(d.lo ^ (d.hi * 0x9e3779b97f4a7c15ull));
  }
};

class TableShadow {
 public:
  explicit TableShadow(TableSpec spec);
  TableShadow(const TableShadow&) = delete;
  TableShadow& operator=(const TableShadow&) = delete;

  const TableSpec& spec() const noexcept { return spec_; }
  const std::string& qualified_name() const noexcept { return qualified_; }

  // A row of the bootstrap scan (values in spec().columns order, no 'U').
  // Every kGrowthCheckRows rows it calls the growth check (ShadowState's
  // memory limit), which may spill the table.
  void AddScannedRow(std::span<const digest::ColumnValue> values);
  // The end of a scan of the table (or of one of its ranges): the growth
  // check runs whatever the rows since the last, so tables smaller than
  // kGrowthCheckRows count too. REQUIRES: no other scan of it is adding rows.
  void ScanEnded();
  static constexpr uint64_t kGrowthCheckRows = 65536;
  void SetGrowthCheck(std::function<void()> check) { growth_check_ = std::move(check); }

  // One decoded change of this table. `change.relation` must have the
  // spec's columns (ShadowState checks). The key of the changed row(s) is
  // appended to `touched` (for the recent-changes log).
  [[nodiscard]] Status Apply(const core::Change& change, std::vector<std::string>& touched);
  // A keyed table's change made ready before its transaction commits
  // (ShadowState::OnStreamedChange): what depends on the change alone —
  // its keys, its new row's digest and kept values. ApplyPrepared does
  // later what Apply does with the rest, the rows the shadow holds, and
  // Apply is the two in a row. Views valid until the next Prepare or Apply.
  struct PreparedChange {
    core::ChangeOp op;
    wire::Lsn lsn;
    std::string_view old_key;  // the row's key before (== new_key unless the key changed)
    std::string_view new_key;  // insert, update
    digest::Digest128 digest;  // insert, update: the new row's
    std::string_view kept;     // insert, update: its kept values (kept_values.h) or empty
  };
  // nullopt: a table without key, or a change with an unchanged TOAST value
  // ('u'), which only the old row or the values kept for it resolve.
  std::optional<PreparedChange> Prepare(const core::Change& change);
  // The same, but an insert's or update's new row is encoded into `batch`
  // (RowDigester::EncodeInto): its digest is batch's message `*message`
  // once computed, unless `*message` is RowDigester::kHashedNow (the
  // digest is in the result, as for a delete, which leaves it alone).
  std::optional<PreparedChange> Prepare(const core::Change& change, digest::Md5Batch& batch,
                                        size_t& message);
  void ApplyPrepared(const PreparedChange& change, std::vector<std::string>& touched);
  // The keys ApplyPrepared appends to `touched`, in its order: the old key
  // unless an insert, then the new key of an insert or of a key change.
  template <typename F>
  static void ForEachTouchedKey(const PreparedChange& change, F&& touch) {
    if (change.op != core::ChangeOp::kInsert) touch(change.old_key);
    if (change.op == core::ChangeOp::kInsert ||
        (change.op == core::ChangeOp::kUpdate && change.new_key != change.old_key)) {
      touch(change.new_key);
    }
  }
  // TRUNCATE: every row goes.
  void Truncate();
  // Every row and every anomaly: as before the bootstrap.
  void Clear();

  const digest::TableDigest& digest() const noexcept { return digest_; }
  uint64_t unresolved_rows() const noexcept { return unresolved_.size(); }
  uint64_t anomalies() const noexcept { return anomalies_; }
  const std::string& first_anomaly() const noexcept { return first_anomaly_; }

  // The row digest the shadow holds for a key encoding (keyed tables);
  // nullopt when absent or unresolved.
  std::optional<digest::Digest128> Find(std::string_view key) const;
  bool IsUnresolved(std::string_view key) const {
    return !unresolved_.empty() && unresolved_.contains(key);
  }
  // A hint before Find(key) in a loop over many keys: the row map's slot
  // for the key is fetched into the cache (nothing when spilled).
  void Prefetch(std::string_view key) const;
  // Calls f(key bytes, row digest) for every resolved row (keyed) or
  // f(digest hex as key, digest) per multiset member, `count` times.
  template <typename F>
  void ForEachRow(F&& f) const {
    if (spec_.keyed()) {
      ForEachKeyedRow(f);
    } else {
      ForEachMultisetEntry([&](const digest::Digest128& d, int64_t n) {
        for (int64_t i = 0; i < n; ++i) f(std::string_view(), d);
      });
    }
  }
  // Multiset tables: how often `d` is in the shadow.
  int64_t Count(const digest::Digest128& d) const;

  // The digest of values in spec order (bootstrap scans and target scans):
  // of the compared columns (TableSpec::compare).
  digest::Digest128 DigestValues(std::span<const digest::ColumnValue> values);
  // The key encoding of values in spec order (keyed tables).
  void KeyOf(std::span<const digest::ColumnValue> values, std::string& out) const;

  // ---- The whole state in parts, for the checkpoint (shadow_checkpoint.cc
  // holds the format). Each visitor goes through one part in its hash
  // table's order, which is neither sorted nor the same from run to run.

  // What the digests cover (a resume with other columns is refused: the
  // digests would not compare).
  std::span<const std::string> compared_columns() const { return compared_.names(); }
  // Their format_type()s on the source; empty when the spec has none.
  std::span<const std::string> compared_types() const { return compared_.types(); }
  // Resolved rows of a keyed table, and f(key encoding, row digest) for each.
  size_t keyed_rows() const noexcept { return RowCount(); }
  template <typename F>
  void ForEachKeyedRow(F&& f) const {
    if (stored_) {
      stored_->ForEachRow(
          [&](std::string_view k, const digest::Digest128& d, std::string_view) { f(k, d); });
      return;
    }
    for (const auto& [k, d] : rows_) f(k.view(), d);
    for (const auto& [k, r] : kept_) f(k.view(), r.digest);
    std::string key;
    for (const auto& [i, d] : int_rows_) {
      EncodeIntegerKey(i, key);
      f(std::string_view(key), d);
    }
    for (const auto& [i, r] : int_kept_) {
      EncodeIntegerKey(i, key);
      f(std::string_view(key), r.digest);
    }
  }
  // Distinct rows of a table without key, and f(row digest, count) for each.
  size_t multiset_entries() const noexcept {
    return stored_ ? stored_->members() : multiset_.size();
  }
  template <typename F>
  void ForEachMultisetEntry(F&& f) const {
    if (stored_) {
      stored_->ForEachMember(f);
      return;
    }
    for (const auto& [d, n] : multiset_) f(d, n);
  }
  // Rows whose toastable values are kept, and f(key encoding, kept values
  // in kept_values.h's layout) for each.
  size_t kept_rows() const noexcept {
    return stored_ ? stored_->kept_rows() : kept_.size() + int_kept_.size();
  }
  template <typename F>
  void ForEachKeptRow(F&& f) const {
    if (stored_) {
      stored_->ForEachRow([&](std::string_view k, const digest::Digest128&, std::string_view kept) {
        if (!kept.empty()) f(k, kept);
      });
      return;
    }
    for (const auto& [k, r] : kept_) f(k.view(), r.values.view());
    std::string key;
    for (const auto& [i, r] : int_kept_) {
      EncodeIntegerKey(i, key);
      f(std::string_view(key), r.values.view());
    }
  }
  // f(key encoding, row digest) for the resolved rows of a table keyed by
  // one integer column (spec().integer_key) whose key is in [lo, hi): one
  // seek when spilled, a walk of the table's map in memory.
  template <typename F>
  void ForEachIntegerRowIn(int64_t lo, int64_t hi, F&& f) const {
    if (stored_) {
      stored_->ForEachIntegerRowIn(
          lo, hi,
          [&](std::string_view k, const digest::Digest128& d, std::string_view) { f(k, d); });
      return;
    }
    std::string key;
    auto in = [&](int64_t i) { return i >= lo && i < hi; };
    for (const auto& [i, d] : int_rows_) {
      if (!in(i)) continue;
      EncodeIntegerKey(i, key);
      f(std::string_view(key), d);
    }
    for (const auto& [i, r] : int_kept_) {
      if (!in(i)) continue;
      EncodeIntegerKey(i, key);
      f(std::string_view(key), r.digest);
    }
  }
  // f(key encoding) per unresolved row (unresolved_rows() of them).
  template <typename F>
  void ForEachUnresolved(F&& f) const {
    for (const auto& k : unresolved_) f(k.view());
  }

  // Refilling the table from a checkpoint, in the file's order:
  // RestorePlan empties it, the others add the saved parts, FinishRestore
  // checks that the rows add up to the restored digest. A table left by a
  // failed restore is to be discarded.
  //
  // RestorePlan: SchemaChanged "the columns compared in table <t> changed
  // since the checkpoint ..." when `compared` differs from
  // compared_columns(), or "column <c> of table <t> is now <type> on the
  // source ..." when `types` (empty: not known) differs from
  // compared_types(). The partitions are taken over: TableSpec::partitions
  // stays those the rows came from, so an ATTACH or DETACH since is found
  // across restarts too.
  [[nodiscard]] Status RestorePlan(std::span<const std::string> compared,
                                   std::span<const std::string> types,
                                   std::vector<std::string> partitions);
  void RestoreTotals(const digest::TableDigest& digest, uint64_t anomalies,
                     std::string first_anomaly);
  // `n` keyed rows follow: their map is sized once.
  void ReserveKeyedRows(size_t n);
  // Corruption when the key is there already.
  [[nodiscard]] Status RestoreKeyedRow(std::string_view key, const digest::Digest128& d);
  // Corruption when the row is there already or `count` is not positive.
  [[nodiscard]] Status RestoreMultisetEntry(const digest::Digest128& d, int64_t count);
  // The number of values a kept row has (its toastable columns outside
  // the key, when the table keeps values at all).
  size_t kept_values_per_row() const noexcept { return toastable_positions_.size(); }
  // Corruption when `values` are not kept_values_per_row() well-formed
  // entries (kept_values.h), the key's row was not restored before
  // (RestoreKeyedRow) or it has kept values already.
  [[nodiscard]] Status RestoreKeptRow(std::string_view key, std::string_view values);
  // Corruption when the key is there already.
  [[nodiscard]] Status RestoreUnresolved(std::string_view key);
  // Corruption when the rows do not add up to the restored digest.
  [[nodiscard]] Status FinishRestore() const;

  // ---- One row's whole state, for a delta checkpoint (shadow_checkpoint.h):
  // what a keyed table holds for a key, and setting it back.
  struct KeyState {
    enum class Kind : uint8_t { kAbsent = 0, kRow = 1, kUnresolved = 2 };
    Kind kind = Kind::kAbsent;
    digest::Digest128 digest;  // kRow
    // kRow: its kept values in kept_values.h's layout, "" when none; valid
    // until the next call.
    std::string_view kept;
  };
  KeyState StateOf(std::string_view key) const;
  // The key holds `state` from now on, whatever it held; the totals are
  // RestoreTotals'. Corruption when the kept values are not
  // kept_values_per_row() well-formed entries.
  [[nodiscard]] Status RestoreKeyState(std::string_view key, const KeyState& state);
  // Tables without key: `d` is there `count` times from now on (0: not at
  // all). Corruption when `count` is negative.
  [[nodiscard]] Status RestoreMultisetCount(const digest::Digest128& d, int64_t count);

  // Bytes of memory the shadow uses for this table (tables, keys, kept
  // TOAST values), for the bytes-per-row figure. 0 rows' worth once
  // spilled: the store's memory is RowStore::MemoryBytes().
  size_t MemoryBytes() const;
  // MemoryBytes() without the walk over keys and kept values (their heap
  // blocks): what the memory limit's checks read, often.
  size_t MapBytes() const;

  // ---- Spilling (ShadowState decides when).
  bool spilled() const noexcept { return stored_ != nullptr; }
  // Moves every row and member into `store` under table index `index`
  // (stored_table.h) and frees the maps. REQUIRES: not spilled.
  void SpillTo(RowStore& store, uint32_t index);
  // The rows are in `store` already (a checkpoint's): the table reads and
  // writes them there. Before RestorePlan.
  void AttachStore(RowStore& store, uint32_t index);
  // Writes the rows a bootstrap scan left pending in the store (before a
  // checkpoint of it). No-op in memory.
  void FlushStore() const {
    if (stored_) stored_->Flush();
  }

 private:
  // The row maps: int_* for integer keys, the others for the rest; *kept_
  // for rows with kept values (the digest beside them), *rows_ for the
  // others. A row is in one of them, or unresolved, or absent.
  std::optional<digest::Digest128> FindRow(std::string_view key) const;
  // The kept values of a row (kept_values.h's layout), valid until the next
  // call; nullopt when the row keeps none.
  std::optional<std::string_view> FindKept(std::string_view key) const;
  // REQUIRES: the key is in no map. `kept` empty: none kept.
  void PutRow(std::string_view key, const digest::Digest128& d, std::string_view kept);
  std::optional<digest::Digest128> TakeRow(std::string_view key);
  size_t RowCount() const {
    if (stored_) return stored_->rows();
    return rows_.size() + int_rows_.size() + kept_.size() + int_kept_.size();
  }
  // Tables without key: `d` counted once more (delta 1) or less (-1);
  // false when it is not there to remove.
  bool AddToMultiset(const digest::Digest128& d, int64_t delta);

  // Apply's two halves: rows identified by their digest, or by their key.
  Status ApplyToMultiset(const core::Change& change, std::vector<std::string>& touched);
  Status ApplyToKeyed(const core::Change& change, std::vector<std::string>& touched);
  void Anomaly(std::string what);
  // The kept values of a row (kept_values.h's layout) in `out`, or empty:
  // kept when the row is big, and when `carried_unchanged` — the change
  // that made it had a 'u' (a value out of line whatever the row's size now).
  std::string_view KeptOf(std::span<const digest::ColumnValue> values, bool carried_unchanged,
                          std::string& out) const;
  // AddRow for an in-memory row of an integer key without kept values,
  // when no key is unresolved and the key has no kept row; false (nothing
  // done) otherwise.
  bool AddIntegerRowInPlace(std::string_view key, const digest::Digest128& d,
                            std::string_view kept);
  // `known_new`: the key cannot be in the table (a bootstrap scan's, whose
  // keys are unique), so a spilled table skips the read that finds it.
  void AddRow(std::string_view key, const digest::Digest128& d, std::string_view kept,
              bool known_new = false);
  // Removes a keyed row; false when it was not there (neither resolved nor
  // unresolved).
  bool RemoveRow(std::string_view key);
  // Forgets `key` as unresolved; false when it was not.
  bool DropUnresolved(std::string_view key);
  // scratch_ = the tuple's columns ('u' as kUnchangedToast), wide values
  // of non-key columns hashed (the digest and the kept values need only
  // that: hashed once).
  void Fill(const wire::TupleView& tuple);
  bool HasUnchanged() const;
  // The key columns of scratch_ left unchanged ('u') from `old` (the old
  // key or FULL row, which pgoutput sends detoasted): the key is the row's
  // identity and is never kept among the values.
  void KeyFromOld(const wire::TupleView& old);
  // Replaces the 'u' columns of scratch_ by the values of `old_full` (a FULL
  // old tuple) or those kept for `key`. False when one stays unknown.
  bool ResolveUnchanged(const wire::TupleView* old_full, std::string_view key);
  bool Big(std::span<const digest::ColumnValue> values) const;

  // Prepare's body: the digest hashed now, or encoded into *batch.
  std::optional<PreparedChange> PrepareInto(const core::Change& change, digest::Md5Batch* batch,
                                            size_t* message);
  // The digest of a row's compared columns (values in spec order).
  digest::Digest128 DigestRow(std::span<const digest::ColumnValue> values) {
    return digester_.Digest(compared_.Project(values));
  }

  TableSpec spec_;
  std::string qualified_;
  ComparedColumns compared_;
  digest::RowDigester digester_;
  std::vector<size_t> toastable_positions_;
  digest::TableDigest digest_;
  // Staggered (staggered_map.h): these hold nearly every row of a big
  // table, and their memory per row should not swing 2x with its size.
  StaggeredMap<absl::flat_hash_map<RowKey, digest::Digest128, RowKeyHash, RowKeyEq>> rows_;
  StaggeredMap<absl::flat_hash_map<int64_t, digest::Digest128>> int_rows_;
  StaggeredMap<absl::flat_hash_map<digest::Digest128, int64_t, HashDigest>> multiset_;
  // One slot per row with kept values, digest and all: a wide row costs one
  // map entry, not two (applier/README.md, Memory).
  struct KeptRow {
    digest::Digest128 digest;
    KeptValues values;
  };
  absl::flat_hash_map<RowKey, KeptRow, RowKeyHash, RowKeyEq> kept_;
  absl::flat_hash_map<int64_t, KeptRow> int_kept_;
  absl::flat_hash_set<RowKey, RowKeyHash, RowKeyEq> unresolved_;
  std::unique_ptr<StoredTable> stored_;  // set once spilled: the maps above are empty
  mutable std::string stored_kept_;      // FindKept's bytes of a spilled row
  std::function<void()> growth_check_;
  uint64_t scanned_since_check_ = 0;
  uint64_t anomalies_ = 0;
  std::string first_anomaly_;
  std::vector<digest::ColumnValue> scratch_;
  std::vector<bool> hash_in_place_;               // per column: toastable, not in the key
  std::vector<digest::WideHashHex> scratch_hex_;  // per column: behind a kHashed
  std::vector<std::string> scratch_text_;         // 'u' values copied out of kept_
  std::string kept_buf_;
  std::string prepared_kept_;  // Prepare's kept values
  std::string key_buf_;
  std::string old_key_;
  std::string new_key_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_TABLE_SHADOW_H_
