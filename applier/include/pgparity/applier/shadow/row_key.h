// RowKey: a row's replica-identity key as the shadow state stores it, in 16
// bytes: keys up to 15 bytes (every int/bigint key, short text keys) live
// inline, longer ones in one heap block. The shadow state holds one per
// tracked row, so its size is most of the memory per row (docs/verify.md).
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

#include "pgparity/digest/row_digest.h"

namespace pgparity::applier {

class RowKey {
 public:
  static constexpr size_t kInlineBytes = 15;

  RowKey() noexcept { inline_.size = 0; }
  explicit RowKey(std::string_view bytes);
  RowKey(const RowKey& other) : RowKey(other.view()) {}
  RowKey(RowKey&& other) noexcept {
    std::memcpy(static_cast<void*>(this), &other, sizeof *this);
    other.inline_.size = 0;
  }
  RowKey& operator=(RowKey other) noexcept {
    Swap(other);
    return *this;
  }
  ~RowKey() {
    if (is_heap()) delete[] heap_.data;
  }

  std::string_view view() const noexcept {
    return is_heap() ? std::string_view(heap_.data, heap_.size)
                     : std::string_view(inline_.bytes, inline_.size);
  }
  size_t size() const noexcept { return view().size(); }
  // Bytes allocated outside the 16 (for memory accounting).
  size_t heap_bytes() const noexcept { return is_heap() ? heap_.size : 0; }

  friend bool operator==(const RowKey& a, const RowKey& b) noexcept { return a.view() == b.view(); }

  void Swap(RowKey& other) noexcept {
    RowKey* a = this;
    unsigned char tmp[sizeof(RowKey)];
    std::memcpy(tmp, static_cast<void*>(a), sizeof tmp);
    std::memcpy(static_cast<void*>(a), &other, sizeof tmp);
    std::memcpy(static_cast<void*>(&other), tmp, sizeof tmp);
  }

 private:
  static constexpr unsigned char kHeapTag = 0xff;
  bool is_heap() const noexcept { return inline_.size == kHeapTag; }

  struct Inline {
    char bytes[kInlineBytes];
    unsigned char size;  // <= kInlineBytes, or kHeapTag
  };
  struct Heap {
    char* data;
    uint32_t size;
    unsigned char pad[3];
    unsigned char tag;  // overlays Inline::size
  };
  union {
    Inline inline_;
    Heap heap_;
  };
};
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

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_ROW_KEY_H_
