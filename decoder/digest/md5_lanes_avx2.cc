// Md5LanesAvx2: 8 lanes (md5_lanes.inc). Compiled with -mavx2; called only
// after Md5KernelSupported(kAvx2).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "md5_lanes.h"

namespace pgparity::digest::internal {
namespace {

struct V {
  using T = __m256i;
  static constexpr int kLanes = 8;
  static T Load(const uint32_t* p) { return _mm256_load_si256(reinterpret_cast<const T*>(p)); }
  static void Store(uint32_t* p, T v) { _mm256_store_si256(reinterpret_cast<T*>(p), v); }
  static T Set1(uint32_t v) { return _mm256_set1_epi32(static_cast<int>(v)); }
  static T Add(T a, T b) { return _mm256_add_epi32(a, b); }
  static T AndNot(T mask, T v) { return _mm256_andnot_si256(mask, v); }
  template <int S>
  static T Rotl(T v) {
    return _mm256_or_si256(_mm256_slli_epi32(v, S), _mm256_srli_epi32(v, 32 - S));
  }
  // RFC 1321's functions in their cheapest two-operand forms.
  static T F(T b, T c, T d) {  // (b & c) | (~b & d)
    return _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)));
  }
  static T G(T b, T c, T d) {  // (b & d) | (c & ~d)
    return _mm256_xor_si256(c, _mm256_and_si256(d, _mm256_xor_si256(b, c)));
  }
  static T H(T b, T c, T d) { return _mm256_xor_si256(_mm256_xor_si256(b, c), d); }
  static T I(T b, T c, T d) {  // c ^ (b | ~d)
    return _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, _mm256_set1_epi32(-1))));
  }
  static T Gather(const char* base, T offsets) {
    return _mm256_i32gather_epi32(reinterpret_cast<const int*>(base), offsets, 1);
  }
};

#include "md5_lanes.inc"

}  // namespace

void Md5LanesAvx2(const char* base, const Md5Job* jobs, size_t n, uint32_t* out) {
  RunLanes(base, jobs, n, out);
}

}  // namespace pgparity::digest::internal
