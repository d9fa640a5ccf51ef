// The SIMD kernels behind Md5Batch (md5_batch.h). Each kernel is compiled
// in its own file with its own -m flags and shares no inline code with the
// rest of the program (only <immintrin.h> and fixed-width integers), so no
// AVX instruction can leak into code that runs on a CPU without it.
#ifndef PGPARITY_DIGEST_MD5_LANES_H_
#define PGPARITY_DIGEST_MD5_LANES_H_

#include <cstddef>
#include <cstdint>

namespace pgparity::digest::internal {

// One message for a kernel: its padded blocks start at base + offset.
struct Md5Job {
  uint32_t offset;
  uint32_t blocks;
};

// Hashes jobs[0..n) whose padded blocks (MD5 padding and length included)
// lie at base + jobs[i].offset; base + 0 .. base + 63 must be readable (the
// block idle lanes read). Writes the four state words (a, b, c, d) of job i
// to out[4 i .. 4 i + 3].
// REQUIRES: every offset + 64 * blocks <= 2^31 (gathers take signed offsets).
void Md5LanesAvx512(const char* base, const Md5Job* jobs, size_t n, uint32_t* out);
void Md5LanesAvx2(const char* base, const Md5Job* jobs, size_t n, uint32_t* out);

}  // namespace pgparity::digest::internal

#endif  // PGPARITY_DIGEST_MD5_LANES_H_
