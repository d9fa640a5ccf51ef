// Big-endian (network order) loads and stores of fixed-width integers. The
// wire format of PostgreSQL's replication protocol uses nothing else.
//
// These do no bounds checking: the caller passes exactly enough bytes
// (ByteReader and ByteWriter do the checking).
#ifndef PGPARITY_WIRE_BIG_ENDIAN_H_
#define PGPARITY_WIRE_BIG_ENDIAN_H_

#include <cstddef>
#include <cstdint>

namespace pgparity::wire {

// REQUIRES: p points to at least 2 / 4 / 8 readable bytes.
inline uint16_t LoadBE16(const std::byte* p) noexcept {
  return static_cast<uint16_t>((std::to_integer<uint16_t>(p[0]) << 8) |
                               std::to_integer<uint16_t>(p[1]));
}

inline uint32_t LoadBE32(const std::byte* p) noexcept {
  return (std::to_integer<uint32_t>(p[0]) << 24) | (std::to_integer<uint32_t>(p[1]) << 16) |
         (std::to_integer<uint32_t>(p[2]) << 8) | std::to_integer<uint32_t>(p[3]);
}

inline uint64_t LoadBE64(const std::byte* p) noexcept {
  return (static_cast<uint64_t>(LoadBE32(p)) << 32) | LoadBE32(p + 4);
}

// REQUIRES: p points to at least 2 / 4 / 8 writable bytes.
inline void StoreBE16(std::byte* p, uint16_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}

inline void StoreBE32(std::byte* p, uint32_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 24);
  p[1] = static_cast<std::byte>(v >> 16);
  p[2] = static_cast<std::byte>(v >> 8);
  p[3] = static_cast<std::byte>(v);
}

inline void StoreBE64(std::byte* p, uint64_t v) noexcept {
  StoreBE32(p, static_cast<uint32_t>(v >> 32));
  StoreBE32(p + 4, static_cast<uint32_t>(v));
}

}  // namespace pgparity::wire

#endif  // PGPARITY_WIRE_BIG_ENDIAN_H_
