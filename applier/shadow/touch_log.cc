#include "pgparity/applier/shadow/touch_log.h"

#include <algorithm>

namespace pgparity::applier {

TouchLog::TouchLog(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void TouchLog::Reset(size_t capacity) {
  capacity_ = std::max<size_t>(capacity, 1);
  slots_.clear();
  slots_.shrink_to_fit();
  next_ = 0;
  open_first_ = 0;
}

void TouchLog::Stage(size_t table, std::string key, char op) {
  RowTouch t;
  t.table = table;
  t.key = std::move(key);
  t.op = op;
  if (slots_.size() < capacity_) {
    slots_.push_back(std::move(t));
  } else {
    At(next_) = std::move(t);  // the oldest falls out
  }
  ++next_;
}

void TouchLog::Commit(wire::Xid xid, wire::Lsn commit_lsn, wire::Lsn end_lsn,
                      wire::Timestamp commit_time) {
  // Touches of this transaction that fell out already need nothing.
  for (uint64_t seq = std::max(open_first_, oldest()); seq < next_; ++seq) {
    RowTouch& t = At(seq);
    t.xid = xid;
    t.commit_lsn = commit_lsn;
    t.end_lsn = end_lsn;
    t.commit_time = commit_time;
    t.committed = true;
  }
  open_first_ = next_;
}

std::vector<RowTouch> TouchLog::RecentTouches(size_t table, std::string_view key,
                                              size_t max) const {
  std::vector<RowTouch> out;
  for (uint64_t seq = next_; seq > oldest() && out.size() < max; --seq) {
    const RowTouch& t = At(seq - 1);
    if (!t.committed || t.table != table) continue;
    if (t.op == 'T' || t.key == key) out.push_back(t);
  }
  return out;
}

size_t TouchLog::MemoryBytes() const {
  size_t bytes = slots_.capacity() * sizeof(RowTouch);
  const std::string inline_probe;
  for (const RowTouch& t : slots_) {
    if (t.key.capacity() > inline_probe.capacity()) bytes += t.key.capacity() + 1;
  }
  return bytes;
}

}  // namespace pgparity::applier
