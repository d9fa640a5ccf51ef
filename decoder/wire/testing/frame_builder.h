// Test helper: builds wire frames byte by byte, big-endian, independently of
// the encoder under test.
//
//   Frame f;
//   f.Char('I').BE32(16384).Char('N').BE16(1).Char('t').BE32(1).Raw("7");
//   auto m = Parse(f.span(), {});
#ifndef PGPARITY_DECODER_WIRE_TESTING_FRAME_BUILDER_H_
#define PGPARITY_DECODER_WIRE_TESTING_FRAME_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace pgparity::wire::testing {

class Frame {
 public:
  Frame& U8(uint8_t v) {
    bytes_.push_back(static_cast<std::byte>(v));
    return *this;
  }
  Frame& Char(char c) { return U8(static_cast<uint8_t>(c)); }
  Frame& BE16(uint16_t v) { return U8(v >> 8).U8(v & 0xFF); }
  Frame& BE32(uint32_t v) { return BE16(v >> 16).BE16(v & 0xFFFF); }
  Frame& BE64(uint64_t v) { return BE32(static_cast<uint32_t>(v >> 32)).BE32(v & 0xFFFFFFFFu); }
  // The characters and a terminating NUL.
  Frame& Str(std::string_view s) { return Raw(s).U8(0); }
  // The characters only.
  Frame& Raw(std::string_view s) {
    for (const char c : s) Char(c);
    return *this;
  }

  std::span<const std::byte> span() const { return bytes_; }
  const std::vector<std::byte>& bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }
  // The first n bytes.
  std::span<const std::byte> prefix(size_t n) const { return span().first(n); }

 private:
  std::vector<std::byte> bytes_;
};

}  // namespace pgparity::wire::testing

#endif  // PGPARITY_DECODER_WIRE_TESTING_FRAME_BUILDER_H_
