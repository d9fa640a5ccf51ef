#include "pgparity/applier/shadow/dirty_rows.h"

#include <algorithm>

namespace pgparity::applier {

void DirtyRows::Enable(size_t max_keys) { max_keys_ = std::max<size_t>(max_keys, 1); }

void DirtyRows::Mark(size_t table, std::string_view key) {
  if (!enabled() || overflowed_) return;
  Table& t = tables_[table];
  if (t.whole) return;
  if (!t.keys.insert(RowKey(key)).second) return;
  if (++keys_ > max_keys_) Overflow();
}

void DirtyRows::MarkWhole(size_t table) {
  if (!enabled() || overflowed_) return;
  Table& t = tables_[table];
  t.whole = true;
  keys_ -= t.keys.size();
  DirtyKeySet().swap(t.keys);  // the memory back, not only the entries
}

void DirtyRows::Clear() {
  for (Table& t : tables_) {
    t.whole = false;
    DirtyKeySet().swap(t.keys);
  }
  keys_ = 0;
  overflowed_ = false;
}

void DirtyRows::Overflow() {
  Clear();
  overflowed_ = true;
}

size_t DirtyRows::MemoryBytes() const {
  size_t bytes = tables_.capacity() * sizeof(Table);
  for (const Table& t : tables_) {
    bytes += t.keys.capacity() * (sizeof(RowKey) + 1);
    for (const RowKey& k : t.keys) bytes += k.heap_bytes();
  }
  return bytes;
}

}  // namespace pgparity::applier
