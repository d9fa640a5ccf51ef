// ByteWriter: appends big-endian integers, NUL-terminated or length-prefixed
// strings and byte runs to a std::vector<std::byte>. The encoding twin of ByteReader.
//
// Thread-safety: none.
#ifndef PGPARITY_WIRE_BYTE_WRITER_H_
#define PGPARITY_WIRE_BYTE_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "pgparity/wire/big_endian.h"

namespace pgparity::wire {

class ByteWriter {
 public:
  // Appends to `out`; existing contents are kept. `out` must outlive this.
  explicit ByteWriter(std::vector<std::byte>& out) noexcept : out_(out) {}

  void PutU8(uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
  void PutBE16(uint16_t v) { StoreBE16(Grow(2), v); }
  void PutBE32(uint32_t v) { StoreBE32(Grow(4), v); }
  void PutBE64(uint64_t v) { StoreBE64(Grow(8), v); }
  // Writes `s` and a NUL. REQUIRES: `s` contains no NUL (it would end the
  // string early on the reading side).
  void PutCString(std::string_view s) {
    PutBytes(std::as_bytes(std::span(s.data(), s.size())));
    PutU8(0);
  }
  // Writes `s` after its BE64 length (ByteReader::ReadBE64Prefixed); any
  // bytes, NULs included.
  void PutBE64Prefixed(std::string_view s) {
    PutBE64(s.size());
    PutBytes(std::as_bytes(std::span(s.data(), s.size())));
  }
  void PutBytes(std::span<const std::byte> bytes) {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
  }

  size_t size() const noexcept { return out_.size(); }

 private:
  std::byte* Grow(size_t n) {
    out_.resize(out_.size() + n);
    return out_.data() + out_.size() - n;
  }

  std::vector<std::byte>& out_;
};

}  // namespace pgparity::wire

#endif  // PGPARITY_WIRE_BYTE_WRITER_H_
