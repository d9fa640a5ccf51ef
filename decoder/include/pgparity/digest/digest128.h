// Digest128: a 128-bit unsigned integer used as a row digest and as an
// additive table digest (sum of row digests mod 2^128). Addition and
// subtraction wrap mod 2^128, so inserting adds a row's digest, deleting
// subtracts it, and the result does not depend on row order. Duplicates do
// not cancel (unlike XOR). docs/digest.md is the definition.
//
// A value type; thread-compatible.
#ifndef PGPARITY_DIGEST_DIGEST128_H_
#define PGPARITY_DIGEST_DIGEST128_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "pgparity/result.h"

namespace pgparity::digest {

struct Digest128 {
  uint64_t hi = 0;  // the most significant 64 bits
  uint64_t lo = 0;

  // The 16 bytes of an MD5 (or any 128-bit hash) read as a big-endian
  // integer, so ToHex() prints the same 32 digits as md5() in SQL.
  static Digest128 FromBigEndian(std::span<const unsigned char, 16> bytes) noexcept;
  // 32 hex digits (either case), as printed by ToHex or by SQL's md5().
  static Result<Digest128> FromHex(std::string_view hex);

  // 32 lower-case hex digits, most significant first.
  std::string ToHex() const;
  // The same digits written at `out` (32 chars), allocating nothing.
  void WriteHex(char* out) const noexcept;
  // The 16 big-endian bytes FromBigEndian reads, written at `out`.
  void WriteBigEndian(unsigned char* out) const noexcept;

  Digest128& operator+=(const Digest128& o) noexcept {
    const uint64_t lo_sum = lo + o.lo;
    hi += o.hi + (lo_sum < lo ? 1 : 0);
    lo = lo_sum;
    return *this;
  }
  Digest128& operator-=(const Digest128& o) noexcept {
    const uint64_t borrow = lo < o.lo ? 1 : 0;
    lo -= o.lo;
    hi -= o.hi + borrow;
    return *this;
  }
  friend Digest128 operator+(Digest128 a, const Digest128& b) noexcept { return a += b; }
  friend Digest128 operator-(Digest128 a, const Digest128& b) noexcept { return a -= b; }
  friend bool operator==(const Digest128&, const Digest128&) = default;
};

// A table's digest: how many rows and the sum of their row digests.
// count is signed so that a shadow state can pass through negative counts
// transiently (a delete seen before the insert it undoes never happens in
// commit order, but a bug must show as a mismatch, not as wraparound).
struct TableDigest {
  int64_t rows = 0;
  Digest128 sum;

  void Add(const Digest128& row) noexcept {
    ++rows;
    sum += row;
  }
  void Remove(const Digest128& row) noexcept {
    --rows;
    sum -= row;
  }
  friend bool operator==(const TableDigest&, const TableDigest&) = default;
};

}  // namespace pgparity::digest

#endif  // PGPARITY_DIGEST_DIGEST128_H_
