// PreparedChanges: the changes of open streamed transactions made ready
// before their commit (TableShadow::Prepare, from the decoder's early
// delivery: change_sink.h), waiting for the replay at their Stream Commit,
// where ShadowState applies each with TableShadow::ApplyPrepared instead of
// parsing and digesting it again. Nothing here is visible in the shadow:
// a transaction's prepared changes are only its own, and an abort takes
// them back (Truncate) as it takes back the decoder's log.
//
// By top-level xid, in entry order (Change::stream_entry): each with its
// table, its LSN and the parts of TableShadow::PreparedChange in a 48-byte
// record; the keys and kept values in one byte buffer per transaction, in
// the same order (a key that did not change once). About 60 bytes for an
// insert of a bigint key, so the default 64 MiB hold a million. Bounded:
// past `limit_bytes` in all, Add declines (the replay prepares those
// itself), as it does a key over 64 KiB.
//
// Thread-safety: none (ShadowState holds its lock).
#ifndef PGPARITY_APPLIER_SHADOW_PREPARED_CHANGES_H_
#define PGPARITY_APPLIER_SHADOW_PREPARED_CHANGES_H_

#include <absl/container/flat_hash_map.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "pgparity/applier/shadow/table_shadow.h"
#include "pgparity/wire/messages.h"

namespace pgparity::applier {

class PreparedChanges {
 public:
  explicit PreparedChanges(size_t limit_bytes) : limit_bytes_(limit_bytes) {}

  void set_limit_bytes(size_t limit) { limit_bytes_ = limit; }
  // Room for another change (below the limit).
  bool has_room() const { return bytes_ < limit_bytes_; }
  // Appends `change` of `table` as entry `entry` of transaction `xid`;
  // false when declined (no room, or a key longer than 64 KiB).
  // REQUIRES: entry above the transaction's last one.
  bool Add(wire::Xid xid, uint64_t entry, size_t table, const TableShadow::PreparedChange& change);
  // The transaction's log holds only its first `entries` entries (0: gone).
  void Truncate(wire::Xid xid, uint64_t entries);
  // The change prepared for entry `entry` of `xid` if it is the one given
  // (same table, operation and LSN), dropping the ones before it, which
  // the replay passed without asking (not prepared there). Views valid
  // until the next call.
  std::optional<TableShadow::PreparedChange> Take(wire::Xid xid, uint64_t entry, size_t table,
                                                  core::ChangeOp op, wire::Lsn lsn);

  size_t bytes() const { return bytes_; }
  size_t transactions() const { return txns_.size(); }

 private:
  // Its bytes, where the one before it ends in the transaction's: the old
  // key (none when it is the new one: old_len 0 and not a delete; a key
  // encoding is never empty), the new key, the kept values.
  struct Prepared {
    uint64_t entry;
    wire::Lsn lsn;
    digest::Digest128 digest;
    uint32_t table;
    uint32_t kept_len;
    uint16_t old_len, new_len;
    core::ChangeOp op;
    size_t Span() const { return size_t{old_len} + new_len + kept_len; }
  };
  static_assert(sizeof(Prepared) == 48);
  struct Txn {
    std::deque<Prepared> changes;
    std::string bytes;
    size_t front_at = 0;  // in bytes: where changes.front()'s begin
    size_t counted = 0;   // in bytes_: its memory when it last grew (kept until it goes)
    size_t Bytes() const { return changes.size() * sizeof(Prepared) + bytes.capacity(); }
  };
  void Drop(absl::flat_hash_map<wire::Xid, Txn>::iterator it);

  size_t limit_bytes_;
  size_t bytes_ = 0;  // Txn::counted of all
  absl::flat_hash_map<wire::Xid, Txn> txns_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_PREPARED_CHANGES_H_
