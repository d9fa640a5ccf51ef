// ByteReader: a bounds-checked cursor that consumes big-endian integers,
// NUL-terminated or length-prefixed strings and byte runs from the front of
// a byte span.
//
// Every checked read returns a Result that must be looked at; on failure the
// cursor does not move and the Status says what was missing at which offset
// ("need 4 bytes at offset 12, 2 left"). Callers add the field name.
// The ...Unchecked reads exist for re-walking bytes a checked pass already
// validated (TupleView's iterator); they do no checking at all.
//
// Strings and byte runs are views into the underlying buffer: they stay valid
// as long as that buffer does. No read allocates.
//
// Thread-safety: none; a ByteReader is a short-lived local cursor.
#ifndef PGPARITY_WIRE_BYTE_READER_H_
#define PGPARITY_WIRE_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "pgparity/result.h"
#include "pgparity/status.h"
#include "pgparity/wire/big_endian.h"

namespace pgparity::wire {

class ByteReader {
 public:
  // `base_offset` is added to every offset reported (offset() and error
  // messages), so a reader over the tail of a frame reports frame offsets.
  explicit ByteReader(std::span<const std::byte> data, size_t base_offset = 0) noexcept
      : data_(data), base_(base_offset) {}

  // Offset of the next unread byte, counting from the start of the frame.
  size_t offset() const noexcept { return base_ + pos_; }
  size_t remaining() const noexcept { return data_.size() - pos_; }
  bool empty() const noexcept { return pos_ == data_.size(); }
  // The unread bytes.
  std::span<const std::byte> rest() const noexcept { return data_.subspan(pos_); }

  [[nodiscard]] Result<uint8_t> ReadU8() {
    if (remaining() < 1) return Truncated(1);
    return ReadU8Unchecked();
  }
  [[nodiscard]] Result<uint16_t> ReadBE16() {
    if (remaining() < 2) return Truncated(2);
    return ReadBE16Unchecked();
  }
  [[nodiscard]] Result<uint32_t> ReadBE32() {
    if (remaining() < 4) return Truncated(4);
    return ReadBE32Unchecked();
  }
  [[nodiscard]] Result<uint64_t> ReadBE64() {
    if (remaining() < 8) return Truncated(8);
    return ReadBE64Unchecked();
  }

  // A NUL-terminated string; the NUL is consumed, not returned. Fails when no
  // NUL occurs before the end of the data.
  [[nodiscard]] Result<std::string_view> ReadCString() {
    if (empty()) return MissingNul();
    const std::byte* start = data_.data() + pos_;
    const void* nul = std::memchr(start, 0, remaining());
    if (nul == nullptr) return MissingNul();
    const size_t len = static_cast<const std::byte*>(nul) - start;
    pos_ += len + 1;
    return std::string_view(reinterpret_cast<const char*>(start), len);
  }

  // The next `n` bytes, as a view.
  [[nodiscard]] Result<std::span<const std::byte>> ReadBytes(size_t n) {
    if (remaining() < n) return Truncated(n);
    return ReadBytesUnchecked(n);
  }

  // A byte string after its BE64 length (how the shadow checkpoint writes
  // names and values; ByteWriter::PutBE64Prefixed), as a view. Fails without
  // moving when the length or the bytes it announces are missing; the error
  // names the bytes' offset ("need 14 bytes at offset 24, 2 left").
  [[nodiscard]] Result<std::string_view> ReadBE64Prefixed() {
    if (remaining() < 8) return Truncated(8);
    const uint64_t n = LoadBE64(data_.data() + pos_);
    if (n > remaining() - 8) return TruncatedError(n, offset() + 8, remaining() - 8);
    pos_ += 8;
    const std::span<const std::byte> bytes = ReadBytesUnchecked(static_cast<size_t>(n));
    return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

  // OK when every byte was consumed; else "N unexpected bytes at offset X".
  [[nodiscard]] Status ExpectEnd() const;

  // The errors above, worded once for every reader of the wire layer:
  // "need 4 bytes at offset 12, 2 left", "missing NUL at offset 57",
  // "3 unexpected bytes at offset 40".
  static Status TruncatedError(size_t need, size_t offset, size_t left);
  static Status MissingNulError(size_t offset);
  static Status LeftoverError(size_t left, size_t offset);

  // Unchecked reads. REQUIRES: remaining() >= the width read. Reading past the
  // end is undefined behaviour: use only on bytes validated before.
  uint8_t ReadU8Unchecked() noexcept { return std::to_integer<uint8_t>(data_[pos_++]); }
  uint16_t ReadBE16Unchecked() noexcept {
    const uint16_t v = LoadBE16(data_.data() + pos_);
    pos_ += 2;
    return v;
  }
  uint32_t ReadBE32Unchecked() noexcept {
    const uint32_t v = LoadBE32(data_.data() + pos_);
    pos_ += 4;
    return v;
  }
  uint64_t ReadBE64Unchecked() noexcept {
    const uint64_t v = LoadBE64(data_.data() + pos_);
    pos_ += 8;
    return v;
  }
  std::span<const std::byte> ReadBytesUnchecked(size_t n) noexcept {
    const auto v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }

 private:
  // Cold paths, out of line: they build the error message.
  Status Truncated(size_t need) const;
  Status MissingNul() const;

  std::span<const std::byte> data_;
  size_t pos_ = 0;
  size_t base_ = 0;
};

}  // namespace pgparity::wire

#endif  // PGPARITY_WIRE_BYTE_READER_H_
