#include "pgparity/digest/digest128.h"

#include <bit>
#include <cstring>

namespace pgparity::digest {

Digest128 Digest128::FromBigEndian(std::span<const unsigned char, 16> bytes) noexcept {
  Digest128 d;
  if constexpr (std::endian::native == std::endian::little) {
    // Once per row digest: two loads and two byte swaps.
    uint64_t hi, lo;
    std::memcpy(&hi, bytes.data(), 8);
    std::memcpy(&lo, bytes.data() + 8, 8);
    d.hi = __builtin_bswap64(hi);
    d.lo = __builtin_bswap64(lo);
  } else {
    for (int i = 0; i < 8; ++i) d.hi = (d.hi << 8) | bytes[i];
    for (int i = 8; i < 16; ++i) d.lo = (d.lo << 8) | bytes[i];
  }
  return d;
}

Result<Digest128> Digest128::FromHex(std::string_view hex) {
  if (hex.size() != 32) {
    return Status::InvalidArgument("digest must be 32 hex digits, got " +
                                   std::to_string(hex.size()) + " characters");
  }
  Digest128 d;
  for (size_t i = 0; i < 32; ++i) {
    const char c = hex[i];
    uint64_t v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      return Status::InvalidArgument("digest has a non-hex character at position " +
                                     std::to_string(i));
    }
    uint64_t& half = i < 16 ? d.hi : d.lo;
    half = (half << 4) | v;
  }
  return d;
}

std::string Digest128::ToHex() const {
  std::string out(32, '0');
  WriteHex(out.data());
  return out;
}

void Digest128::WriteHex(char* out) const noexcept {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = kDigits[(hi >> (4 * i)) & 0xf];
    out[31 - i] = kDigits[(lo >> (4 * i)) & 0xf];
  }
}

void Digest128::WriteBigEndian(unsigned char* out) const noexcept {
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
    out[8 + i] = static_cast<unsigned char>(lo >> (56 - 8 * i));
  }
}

}  // namespace pgparity::digest
