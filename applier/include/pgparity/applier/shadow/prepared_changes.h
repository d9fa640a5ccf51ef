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
// itself), as it does a key over 64 KiB; the encodings waiting for their
// MD5 (below) take at most Md5Batch::kComputeBytes besides.
//
// Digests in batches: the new rows' encodings wait in md5() (TableShadow::
// Prepare with a batch) and are hashed together, in Md5Batch's lanes, once
// they fill Md5Batch::kComputeBytes, and before anything takes a change
// (Take) or takes one back (Truncate): a change is never handed to the
// replay without its digest.
//
// Handing out (for ChangeChecker's reads ahead of the commit): a reader
// asks for the keys the replay will touch, change after change, and learns
// at the replay how many of those it was handed stayed the transaction's;
// a Truncate takes back what it drops, so the next keys handed out are
// those of the changes that took their place.
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
#include <vector>

#include "pgparity/applier/shadow/table_shadow.h"
#include "pgparity/digest/md5_batch.h"
#include "pgparity/digest/row_digest.h"
#include "pgparity/wire/messages.h"

namespace pgparity::applier {

class PreparedChanges {
 public:
  explicit PreparedChanges(size_t limit_bytes) : limit_bytes_(limit_bytes) {}

  void set_limit_bytes(size_t limit) { limit_bytes_ = limit; }
  // Room for another change (below the limit).
  bool has_room() const { return bytes_ < limit_bytes_; }
  // The batch new rows are encoded into (TableShadow::Prepare); bounded:
  // Add hashes it once it holds Md5Batch::kComputeBytes.
  digest::Md5Batch& md5() { return md5_; }
  // Appends `change` of `table` as entry `entry` of transaction `xid`;
  // false when declined (no room, or a key longer than 64 KiB). Its digest
  // is md5()'s message `message`, or change.digest when `message` is
  // RowDigester::kHashedNow.
  // REQUIRES: entry above the transaction's last one.
  bool Add(wire::Xid xid, uint64_t entry, size_t table, const TableShadow::PreparedChange& change,
           size_t message = digest::RowDigester::kHashedNow);
  // The transaction's log holds only its first `entries` entries (0: gone).
  void Truncate(wire::Xid xid, uint64_t entries);
  // The change prepared for entry `entry` of `xid` if it is the one given
  // (same table, operation and LSN), dropping the ones before it, which
  // the replay passed without asking (not prepared there). Views valid
  // until the next call.
  std::optional<TableShadow::PreparedChange> Take(wire::Xid xid, uint64_t entry, size_t table,
                                                  core::ChangeOp op, wire::Lsn lsn);

  // Appends the key touches (table, key) the replay will make for the
  // transaction's next changes (TableShadow::ForEachTouchedKey), from where
  // `reader` stopped — from the first for a reader new to the transaction
  // — whole changes, while fewer than `max` touches and at LSNs below
  // `below`; none once the replay began (a Take). Returns the touches.
  size_t HandOut(wire::Xid xid, uint64_t reader, size_t max, wire::Lsn below,
                 std::vector<std::pair<size_t, std::string>>& out);
  // The reader handed out the transaction's keys last, and how many of
  // those touches, from the first, are of changes still prepared ({0, 0}:
  // none, or a transaction not prepared).
  std::pair<uint64_t, size_t> HandedOut(wire::Xid xid) const;
  // Changes not handed out to `reader` yet.
  size_t NotHandedOut(wire::Xid xid, uint64_t reader) const;
  // The transaction with the most prepared changes, if any.
  std::optional<wire::Xid> Largest() const;
  bool Has(wire::Xid xid) const { return txns_.contains(xid); }
  // Prepared changes Take dropped without returning them (the replay
  // applied something else in their place), since the start.
  uint64_t passed() const { return passed_; }

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
  // What was handed out to `reader`: the first `changes`, their bytes and
  // key touches.
  struct HandedOutPart {
    uint64_t reader = 0;
    size_t changes = 0, bytes = 0, touches = 0;
  };
  struct Txn {
    std::deque<Prepared> changes;
    std::string bytes;
    size_t front_at = 0;  // in bytes: where changes.front()'s begin
    size_t popped = 0;    // changes taken off the front (the replay)
    HandedOutPart handed;
    size_t counted = 0;  // in bytes_: its memory when it last grew (kept until it goes)
    size_t Bytes() const { return changes.size() * sizeof(Prepared) + bytes.capacity(); }
  };
  // The change `p` whose bytes are `bytes` (its Span()).
  static TableShadow::PreparedChange Unpack(const Prepared& p, std::string_view bytes);
  static size_t Touches(const Prepared& p) {
    return p.op == core::ChangeOp::kUpdate && p.old_len != 0 ? 2 : 1;
  }
  void Drop(absl::flat_hash_map<wire::Xid, Txn>::iterator it);
  // Add's part: the change appended, its digest waiting when `message` is
  // one of md5()'s.
  bool Append(wire::Xid xid, uint64_t entry, size_t table,
              const TableShadow::PreparedChange& change, size_t message);
  // Hashes md5()'s messages into the changes that wait for them.
  void Hash();

  // A change whose digest is md5()'s message `message`: change `index`
  // of its transaction, counted from the first prepared (Txn::popped
  // included).
  struct WaitingDigest {
    wire::Xid xid;
    size_t index;
    size_t message;
  };

  size_t limit_bytes_;
  size_t bytes_ = 0;  // Txn::counted of all
  uint64_t passed_ = 0;
  absl::flat_hash_map<wire::Xid, Txn> txns_;
  digest::Md5Batch md5_;
  std::vector<WaitingDigest> waiting_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_PREPARED_CHANGES_H_
