// Md5LanesAvx512: 16 lanes (md5_lanes.inc). Compiled with -mavx512f; called
// only after Md5KernelSupported(kAvx512).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "md5_lanes.h"

namespace pgparity::digest::internal {
namespace {

struct V {
  using T = __m512i;
  static constexpr int kLanes = 16;
  static T Load(const uint32_t* p) { return _mm512_load_si512(p); }
  static void Store(uint32_t* p, T v) { _mm512_store_si512(p, v); }
  static T Set1(uint32_t v) { return _mm512_set1_epi32(static_cast<int>(v)); }
  static T Add(T a, T b) { return _mm512_add_epi32(a, b); }
  static T AndNot(T mask, T v) { return _mm512_andnot_si512(mask, v); }
  template <int S>
  static T Rotl(T v) {
    return _mm512_rol_epi32(v, S);
  }
  // vpternlogd truth tables over (b, c, d) = (0xf0, 0xcc, 0xaa).
  static T F(T b, T c, T d) { return _mm512_ternarylogic_epi32(b, c, d, 0xca); }
  static T G(T b, T c, T d) { return _mm512_ternarylogic_epi32(b, c, d, 0xe4); }
  static T H(T b, T c, T d) { return _mm512_ternarylogic_epi32(b, c, d, 0x96); }
  static T I(T b, T c, T d) { return _mm512_ternarylogic_epi32(b, c, d, 0x39); }
  static T Gather(const char* base, T offsets) {
    return _mm512_i32gather_epi32(offsets, static_cast<const void*>(base), 1);
  }
};

#include "md5_lanes.inc"

}  // namespace

void Md5LanesAvx512(const char* base, const Md5Job* jobs, size_t n, uint32_t* out) {
  RunLanes(base, jobs, n, out);
}

}  // namespace pgparity::digest::internal
