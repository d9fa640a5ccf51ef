// RowKey: a row's replica-identity key as the shadow state stores it, in 16
// bytes (CompactBytes): keys up to 15 bytes (every int/bigint key, short
// text keys) live inline, longer ones in one heap block.
//
// The bytes are the key encoding of EncodeKey below; two keys are equal iff
// their bytes are.
//
// Thread-compatible value type.
#ifndef PGPARITY_APPLIER_SHADOW_ROW_KEY_H_
#define PGPARITY_APPLIER_SHADOW_ROW_KEY_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgparity/applier/shadow/compact_bytes.h"
#include "pgparity/digest/row_digest.h"

namespace pgparity::applier {

using RowKey = CompactBytes<16>;
static_assert(sizeof(RowKey) == 16);

// Hash and equality for absl containers, with lookups by string_view (no
// RowKey built to look one up).
struct RowKeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view bytes) const noexcept;
  size_t operator()(const RowKey& key) const noexcept { return (*this)(key.view()); }
};
struct RowKeyEq {
  using is_transparent = void;
  static std::string_view V(std::string_view s) noexcept { return s; }
  static std::string_view V(const RowKey& k) noexcept { return k.view(); }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const noexcept {
    return V(a) == V(b);
  }
};

// The key encoding: for each key column in table order, "N" for NULL or
// "V" counted(value text) (docs/digest.md's counted()). Appends to `out`.
void EncodeKey(std::span<const digest::ColumnValue> values, std::span<const size_t> key_positions,
               std::string& out);

// The key's column values back from its encoding (nullopt = NULL); empty
// when `bytes` is not a key encoding of `columns` values.
std::vector<std::optional<std::string>> DecodeKey(std::string_view bytes, size_t columns);

// Keys of one integer column: the encoding "V<n>:<digits>" <-> the integer.
// False when `key` is not the canonical encoding of one (an optional '-',
// no leading zero, no '+'): such a key is kept as bytes, so the two forms
// never hold the same key.
bool ParseIntegerKey(std::string_view key, int64_t& out);
void EncodeIntegerKey(int64_t v, std::string& out);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_ROW_KEY_H_
