// CompactBytes<N>: an immutable byte string in N bytes: up to N - 1 bytes
// live inline, longer ones in one heap block of exactly their size. The
// shadow state holds millions of them (a row's key, a row's kept values),
// so their size is most of its memory per row (applier/README.md, Memory).
//
// Thread-compatible value type.
#ifndef PGPARITY_APPLIER_SHADOW_COMPACT_BYTES_H_
#define PGPARITY_APPLIER_SHADOW_COMPACT_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace pgparity::applier {

template <size_t kSize>
class CompactBytes {
  static_assert(kSize >= 16 && kSize <= 255);

 public:
  static constexpr size_t kInlineBytes = kSize - 1;

  CompactBytes() noexcept { inline_.size = 0; }
  explicit CompactBytes(std::string_view bytes) {
    if (bytes.size() <= kInlineBytes) {
      if (!bytes.empty()) std::memcpy(inline_.bytes, bytes.data(), bytes.size());
      inline_.size = static_cast<unsigned char>(bytes.size());
      return;
    }
    heap_.data = new char[bytes.size()];
    std::memcpy(heap_.data, bytes.data(), bytes.size());
    heap_.size = static_cast<uint32_t>(bytes.size());
    heap_.tag = kHeapTag;
  }
  CompactBytes(const CompactBytes& other) : CompactBytes(other.view()) {}
  CompactBytes(CompactBytes&& other) noexcept {
    std::memcpy(static_cast<void*>(this), &other, sizeof *this);
    other.inline_.size = 0;
  }
  CompactBytes& operator=(CompactBytes other) noexcept {
    Swap(other);
    return *this;
  }
  ~CompactBytes() {
    if (is_heap()) delete[] heap_.data;
  }

  std::string_view view() const noexcept {
    return is_heap() ? std::string_view(heap_.data, heap_.size)
                     : std::string_view(inline_.bytes, inline_.size);
  }
  size_t size() const noexcept { return view().size(); }
  // Bytes allocated outside the N (for memory accounting).
  size_t heap_bytes() const noexcept { return is_heap() ? heap_.size : 0; }

  friend bool operator==(const CompactBytes& a, const CompactBytes& b) noexcept {
    return a.view() == b.view();
  }

  void Swap(CompactBytes& other) noexcept {
    unsigned char tmp[sizeof(CompactBytes)];
    std::memcpy(tmp, static_cast<void*>(this), sizeof tmp);
    std::memcpy(static_cast<void*>(this), &other, sizeof tmp);
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
    unsigned char pad[kSize - sizeof(char*) - sizeof(uint32_t) - 1];
    unsigned char tag;  // overlays Inline::size
  };
  union {
    Inline inline_;
    Heap heap_;
  };
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_COMPACT_BYTES_H_
