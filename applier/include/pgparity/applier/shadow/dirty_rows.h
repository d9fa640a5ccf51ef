// DirtyRows: which rows of each table changed since the last full
// checkpoint, so that the next checkpoint can be a delta of those rows
// (shadow_checkpoint.h) instead of the whole shadow: a restarted audit's
// last checkpoint then costs its backlog's rows, not the shadow's.
//
// Per table, the keys that changed — a keyed table's key encodings, a table
// without key's row digests as hex (the names ShadowState's recent changes
// use) — or "whole" once the table was truncated (every row changed).
// Bounded: past `max_keys` keys over all tables it overflows, forgets its
// keys and says so, and the next checkpoint is a full one (Clear).
//
// Thread-safety: none; ShadowState calls it under its mutex.
#ifndef PGPARITY_APPLIER_SHADOW_DIRTY_ROWS_H_
#define PGPARITY_APPLIER_SHADOW_DIRTY_ROWS_H_

#include <absl/container/flat_hash_set.h>

#include <cstddef>
#include <string_view>
#include <vector>

#include "pgparity/applier/shadow/row_key.h"

namespace pgparity::applier {

using DirtyKeySet = absl::flat_hash_set<RowKey, RowKeyHash, RowKeyEq>;

class DirtyRows {
 public:
  // Tracks nothing until Enable (verify never checkpoints).
  explicit DirtyRows(size_t tables) : tables_(tables) {}

  // From now on, for at most `max_keys` keys (at least 1) between full
  // checkpoints.
  void Enable(size_t max_keys);
  bool enabled() const noexcept { return max_keys_ != 0; }

  // A row of `table` changed (no-op when not enabled or overflowed).
  void Mark(size_t table, std::string_view key);
  // Every row of `table` changed (TRUNCATE).
  void MarkWhole(size_t table);
  // A full checkpoint was taken: nothing is dirty, nothing overflowed.
  void Clear();
  // Too many changed for a delta to be worth it: forgets the keys, and
  // only a full checkpoint is right until Clear.
  void Overflow();

  // More keys changed than it could hold: only a full checkpoint is right.
  bool overflowed() const noexcept { return overflowed_; }
  size_t keys() const noexcept { return keys_; }
  bool whole(size_t table) const { return tables_[table].whole; }
  const DirtyKeySet& keys(size_t table) const { return tables_[table].keys; }
  // Bytes its sets use (slots and long keys' heap blocks).
  size_t MemoryBytes() const;

 private:
  struct Table {
    bool whole = false;
    DirtyKeySet keys;
  };

  std::vector<Table> tables_;
  size_t max_keys_ = 0;
  size_t keys_ = 0;
  bool overflowed_ = false;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_DIRTY_ROWS_H_
