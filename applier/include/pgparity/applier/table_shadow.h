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
// detoasted), else from the values this shadow kept: for rows large enough
// that PostgreSQL may have moved a value out of line (SidecarRowBytes), and
// for rows whose last change carried a 'u' (a value stays out of line when
// the rest of its row shrinks), the toastable columns' values are kept
// beside the digest. A 'u' whose value is
// not known makes that row *unresolved*: it leaves the table digest and the
// table is reported unverified until the row is rewritten or deleted —
// pgparity never guesses a value.
//
// A change that contradicts the shadow (delete or update of a key it does
// not hold, insert of a key it holds) is counted as an anomaly: the table
// is then unverified, since the shadow is no longer known to be the source.
//
// Thread-safety: none; ShadowState serializes access.
#ifndef PGPARITY_APPLIER_TABLE_SHADOW_H_
#define PGPARITY_APPLIER_TABLE_SHADOW_H_

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/row_key.h"
#include "pgparity/applier/table_spec.h"
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
  void AddScannedRow(std::span<const digest::ColumnValue> values);

  // One decoded change of this table. `change.relation` must have the
  // spec's columns (ShadowState checks). The key of the changed row(s) is
  // appended to `touched` (for the recent-changes log).
  Status Apply(const core::Change& change, std::vector<std::string>& touched);
  // TRUNCATE: every row goes.
  void Truncate();

  const digest::TableDigest& digest() const noexcept { return digest_; }
  uint64_t unresolved_rows() const noexcept { return unresolved_.size(); }
  uint64_t anomalies() const noexcept { return anomalies_; }
  const std::string& first_anomaly() const noexcept { return first_anomaly_; }

  // The row digest the shadow holds for a key encoding (keyed tables);
  // nullopt when absent or unresolved.
  std::optional<digest::Digest128> Find(std::string_view key) const;
  bool IsUnresolved(std::string_view key) const { return unresolved_.contains(key); }
  // Calls f(key bytes, row digest) for every resolved row (keyed) or
  // f(digest hex as key, digest) per multiset member, `count` times.
  template <typename F>
  void ForEachRow(F&& f) const {
    if (spec_.keyed()) {
      for (const auto& [k, d] : rows_) f(k.view(), d);
      std::string key;
      for (const auto& [i, d] : int_rows_) {
        EncodeIntKey(i, key);
        f(std::string_view(key), d);
      }
    } else {
      for (const auto& [d, n] : multiset_) {
        for (int64_t i = 0; i < n; ++i) f(std::string_view(), d);
      }
    }
  }
  // Multiset tables: how often `d` is in the shadow.
  int64_t Count(const digest::Digest128& d) const;

  // The digest of values in spec order (bootstrap scans and target scans):
  // of the compared columns (TableSpec::compare).
  digest::Digest128 DigestValues(std::span<const digest::ColumnValue> values);
  // The key encoding of values in spec order (keyed tables).
  void KeyOf(std::span<const digest::ColumnValue> values, std::string& out) const;

  // The whole state, for a checkpoint (shadow_checkpoint.h): appends to
  // `out` / reads back what SaveTo wrote. Load replaces the state;
  // Corruption when the bytes are not a SaveTo of this table.
  // The checkpoint also holds the compared columns (a resume with other
  // ones is refused: the digests would not compare) and the partitions
  // (taken over: TableSpec::partitions stays those the rows came from).
  void SaveTo(std::string& out) const;
  Status LoadFrom(std::string_view& in);

  // Bytes of memory the shadow uses for this table (tables, keys, kept
  // TOAST values), for the bytes-per-row figure.
  size_t MemoryBytes() const;

 private:
  using Values = std::vector<std::optional<std::string>>;  // toastable columns, in order

  // Integer keys: the key encoding "V<n>:<digits>" <-> the integer; false
  // when `key` is not the canonical encoding of one.
  static bool ParseIntKey(std::string_view key, int64_t& out);
  static void EncodeIntKey(int64_t v, std::string& out);
  // The row maps (int_rows_ for integer keys, rows_ for the others).
  std::optional<digest::Digest128> FindRow(std::string_view key) const;
  // Inserts or replaces; returns the replaced digest.
  std::optional<digest::Digest128> PutRow(std::string_view key, const digest::Digest128& d);
  std::optional<digest::Digest128> TakeRow(std::string_view key);
  size_t RowCount() const { return rows_.size() + int_rows_.size(); }

  Status LoadPlan(std::string_view& in);
  void Anomaly(std::string what);
  // `carried_unchanged`: the change that made this row had a 'u' (a value
  // out of line whatever the row's size now): its values are kept.
  void AddRow(std::string_view key, const digest::Digest128& d,
              std::span<const digest::ColumnValue> values, bool carried_unchanged = false);
  // Removes a keyed row; false when it was not there (neither resolved nor
  // unresolved).
  bool RemoveRow(std::string_view key);
  // scratch_ = the tuple's columns ('u' as kUnchangedToast).
  void Fill(const wire::TupleView& tuple);
  bool HasUnchanged() const;
  // Replaces the 'u' columns of scratch_ by the values of `old_full` (a FULL
  // old tuple) or those kept for `key`. False when one stays unknown.
  bool ResolveUnchanged(const wire::TupleView* old_full, std::string_view key);
  bool Big(std::span<const digest::ColumnValue> values) const;

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
  absl::flat_hash_map<RowKey, digest::Digest128, RowKeyHash, RowKeyEq> rows_;
  absl::flat_hash_map<int64_t, digest::Digest128> int_rows_;
  absl::flat_hash_map<digest::Digest128, int64_t, HashDigest> multiset_;
  absl::flat_hash_map<RowKey, Values, RowKeyHash, RowKeyEq> kept_;
  absl::flat_hash_set<RowKey, RowKeyHash, RowKeyEq> unresolved_;
  uint64_t anomalies_ = 0;
  std::string first_anomaly_;
  std::vector<digest::ColumnValue> scratch_;
  std::vector<std::string> scratch_text_;  // 'u' values copied out of kept_
  std::string key_buf_;
  std::string old_key_;
  std::string new_key_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_TABLE_SHADOW_H_
