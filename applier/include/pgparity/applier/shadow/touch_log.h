// TouchLog: the last N row changes pgparity's own stream applied to the
// shadow, each with the commit it came in (xid, commit LSN, end LSN, commit
// time) and its operation — what provenance (docs/provenance.md) shows as
// "the commits that touched this key on the source".
//
// Bounded: a ring of `capacity` touches over all tables (default 100 000).
// When it is full the oldest touch falls out, so a key changed long ago (or
// before pgparity started, or before a restart: the log is not part of the
// checkpoint) has no touch left; a lookup then returns fewer, or none.
// Memory: capacity * sizeof(RowTouch) plus each key longer than the string's
// inline buffer (MemoryBytes).
//
// The changes of the open transaction are logged as they arrive (Stage) and
// get their commit at Commit; a transaction larger than the ring keeps only
// its last `capacity` touches.
//
// Thread-safety: none; ShadowState calls it under its mutex.
#ifndef PGPARITY_APPLIER_SHADOW_TOUCH_LOG_H_
#define PGPARITY_APPLIER_SHADOW_TOUCH_LOG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/wire/lsn.h"
#include "pgparity/wire/messages.h"
#include "pgparity/wire/timestamp.h"

namespace pgparity::applier {

struct RowTouch {
  size_t table = 0;
  // The key encoding (row_key.h) of a keyed table's row, the row digest hex
  // of a table without key; "" for a TRUNCATE (it touched every key).
  std::string key;
  char op = 'I';  // 'I' insert, 'U' update, 'D' delete, 'T' truncate
  wire::Xid xid = 0;
  wire::Lsn commit_lsn;  // 0/0 while the transaction is open
  wire::Lsn end_lsn;
  wire::Timestamp commit_time;
  bool committed = false;
};

class TouchLog {
 public:
  static constexpr size_t kDefaultCapacity = 100'000;

  // REQUIRES: capacity > 0.
  explicit TouchLog(size_t capacity = kDefaultCapacity);

  size_t capacity() const { return capacity_; }
  // Forgets every touch and keeps at most `capacity` from now on.
  // REQUIRES: capacity > 0.
  void Reset(size_t capacity);

  // A change of the open transaction.
  void Stage(size_t table, std::string key, char op);
  // The open transaction committed: its staged touches get the commit.
  void Commit(wire::Xid xid, wire::Lsn commit_lsn, wire::Lsn end_lsn, wire::Timestamp commit_time);

  // The newest committed touches of `key` in `table` (a TRUNCATE of the
  // table counts), newest first, at most `max`. O(size()).
  std::vector<RowTouch> RecentTouches(size_t table, std::string_view key, size_t max) const;

  // Touches held now (<= capacity()).
  size_t size() const { return slots_.size(); }
  // Touches ever logged, including those that fell out.
  uint64_t logged() const { return next_; }
  size_t MemoryBytes() const;

 private:
  RowTouch& At(uint64_t seq) { return slots_[seq % capacity_]; }
  const RowTouch& At(uint64_t seq) const { return slots_[seq % capacity_]; }
  uint64_t oldest() const { return next_ - slots_.size(); }

  size_t capacity_;
  std::vector<RowTouch> slots_;  // grows to capacity_, then a ring
  uint64_t next_ = 0;            // sequence number of the next touch
  uint64_t open_first_ = 0;      // first touch of the open transaction
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_TOUCH_LOG_H_
