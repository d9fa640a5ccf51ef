// StoredTable: one spilled table's rows in the RowStore (row_store.h), the
// on-disk twin of TableShadow's hash maps. Every key of the table starts
// with its index in the ShadowState (4 bytes, big-endian) and a kind byte:
//
//   'I' Int64   a row of an integer key (ParseIntegerKey): the integer
//               big-endian with its sign bit flipped, so byte order is
//               numeric order and a key range is one seek;
//   'K' bytes   a row of any other key: its key encoding (row_key.h);
//               value of both: Digest (hi, lo big-endian, 16 bytes), then
//               the kept values (kept_values.h), none for most rows;
//   'M' Digest  a member of a table without key; value: Int64 count >= 1.
//
// The counts of rows, rows with kept values and multiset members are kept
// here (RocksDB has none that are exact).
//
// Thread-safety: none; TableShadow's rules apply.
#ifndef PGPARITY_APPLIER_SHADOW_STORED_TABLE_H_
#define PGPARITY_APPLIER_SHADOW_STORED_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pgparity/applier/shadow/row_key.h"
#include "pgparity/applier/shadow/row_store.h"
#include "pgparity/digest/digest128.h"

namespace pgparity::applier {

class StoredTable {
 public:
  StoredTable(RowStore& store, uint32_t table, bool integer_key);

  RowStore& store() const { return store_; }

  // Keyed rows, by key encoding. Find fills `kept` (when given) with the
  // row's kept values, "" when none.
  std::optional<digest::Digest128> Find(std::string_view key, std::string* kept = nullptr) const;
  std::optional<digest::Digest128> Take(std::string_view key);
  // REQUIRES: the key is absent.
  void Put(std::string_view key, const digest::Digest128& d, std::string_view kept);
  // Put for a bulk load (the bootstrap scan): collected, written a batch at
  // a time. Every other call writes what is pending first, and so does
  // Flush.
  void PutNew(std::string_view key, const digest::Digest128& d, std::string_view kept);
  void Flush() const;
  // f(key encoding, digest, kept values) for every row: integer keys in
  // numeric order, then the others in byte order.
  template <typename F>
  void ForEachRow(F&& f) const {
    Flush();
    std::string key;
    store_.ForEach(Prefix('I'), Prefix('J'), [&](std::string_view k, std::string_view v) {
      EncodeIntegerKey(IntegerOf(k), key);
      f(std::string_view(key), DigestOf(v), v.substr(16));
    });
    store_.ForEach(Prefix('K'), Prefix('L'), [&](std::string_view k, std::string_view v) {
      f(k.substr(5), DigestOf(v), v.substr(16));
    });
  }
  // f(key encoding, digest, kept) for the rows of an integer key in
  // [lo, hi), in order: one seek.
  template <typename F>
  void ForEachIntegerRowIn(int64_t lo, int64_t hi, F&& f) const {
    if (lo >= hi) return;
    Flush();
    std::string key;
    store_.ForEach(IntegerKey(lo), IntegerKey(hi), [&](std::string_view k, std::string_view v) {
      EncodeIntegerKey(IntegerOf(k), key);
      f(std::string_view(key), DigestOf(v), v.substr(16));
    });
  }
  uint64_t rows() const { return rows_; }
  uint64_t kept_rows() const { return kept_rows_; }

  // Tables without key: a row digest's count, changed by `delta` (the
  // member goes at 0). False when it would go below 0 (nothing changes).
  int64_t Count(const digest::Digest128& d) const;
  bool AddCount(const digest::Digest128& d, int64_t delta);
  template <typename F>
  void ForEachMember(F&& f) const {
    Flush();
    store_.ForEach(Prefix('M'), Prefix('N'), [&](std::string_view k, std::string_view v) {
      f(DigestOf(k.substr(5)), CountOf(v));
    });
  }
  uint64_t members() const { return members_; }

  // Every row and member goes.
  void Clear();
  // After a restore from a checkpoint: the counts from the rows themselves.
  void Recount();

 private:
  std::string Prefix(char kind) const;
  // A row's value (digest, kept values) in value_, counted as a new row.
  const std::string& RowValue(const digest::Digest128& d, std::string_view kept);
  std::string IntegerKey(int64_t v) const;
  // The store key of a key encoding, in key_.
  const std::string& StoreKey(std::string_view key) const;
  static int64_t IntegerOf(std::string_view store_key);
  static digest::Digest128 DigestOf(std::string_view bytes);
  static int64_t CountOf(std::string_view value);

  RowStore& store_;
  uint32_t table_;
  bool integer_key_;
  uint64_t rows_ = 0, kept_rows_ = 0, members_ = 0;
  mutable std::string key_, value_;
  mutable RowStore::Batch pending_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_STORED_TABLE_H_
