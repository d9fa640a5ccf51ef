// Md5Batch: the MD5 of many short messages at once. MD5 is one long chain
// of dependent 32-bit operations per message, so a single message cannot go
// faster than ~4.5 cycles per byte; independent messages can share SIMD
// lanes instead (16 with AVX-512, 8 with AVX2), the multi-buffer technique
// of Intel's ISA-L md5_mb (not packaged for Debian, hence written here).
// Row digests (docs/digest.md) are MD5 so that SQL can recompute them; this
// is how pgparity computes them at the decoder's rate.
//
//   Md5Batch batch;
//   char* out = batch.Reserve(max_len);   // write the message at out
//   size_t i = batch.Finish(len);         // ... and say how long it was
//   batch.Compute();
//   Digest128 d = batch.digest(i);        // == MD5 of the message, big-endian
//   batch.Clear();                        // keeps the memory
//
// Messages are laid out in one arena with their MD5 padding, so every lane
// reads its blocks with one gather from a common base.
// Not thread-safe; one batch per thread.
#ifndef PGPARITY_DIGEST_MD5_BATCH_H_
#define PGPARITY_DIGEST_MD5_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "pgparity/digest/digest128.h"

namespace pgparity::digest {

namespace internal {
struct Md5Job;
}  // namespace internal

enum class Md5Kernel {
  kAuto,    // the widest this CPU supports
  kScalar,  // OpenSSL's MD5, one message at a time
  kAvx2,    // 8 lanes
  kAvx512,  // 16 lanes
};

// MD5 of one message (OpenSSL), read big-endian as Digest128: what
// Md5Batch computes for each of its messages.
Digest128 Md5(std::string_view message) noexcept;

// Whether `kernel` can run on this CPU (kAuto and kScalar always can).
bool Md5KernelSupported(Md5Kernel kernel) noexcept;
// The kernel kAuto picks here.
Md5Kernel Md5AutoKernel() noexcept;
const char* Md5KernelName(Md5Kernel kernel) noexcept;

class Md5Batch {
 public:
  Md5Batch();
  ~Md5Batch();
  Md5Batch(const Md5Batch&) = delete;
  Md5Batch& operator=(const Md5Batch&) = delete;

  // Room for a message of up to `max_bytes`; valid until the next Reserve,
  // Add or Clear. Each Reserve must be followed by Finish.
  char* Reserve(size_t max_bytes);
  // Ends the reserved message at `bytes` (<= max_bytes); returns its index.
  size_t Finish(size_t bytes);
  size_t Add(std::string_view message);

  size_t size() const noexcept { return messages_.size(); }
  bool empty() const noexcept { return messages_.empty(); }
  // Arena bytes in use: a caller bounds a batch by this.
  size_t bytes() const noexcept { return used_; }
  // Where a caller that keeps adding rows computes and clears: every lane
  // full many times over, the arena still small.
  static constexpr size_t kComputeBytes = size_t{256} << 10;
  std::string_view message(size_t i) const noexcept {
    return {arena_.data() + messages_[i].offset, messages_[i].length};
  }

  // Hashes every message added since the last Clear (or the last Compute:
  // only the new ones are hashed). A kernel this CPU lacks, or a single
  // message, runs the scalar one; the digests are the same either way.
  void Compute(Md5Kernel kernel = Md5Kernel::kAuto);
  // REQUIRES: Compute ran after message i was added.
  const Digest128& digest(size_t i) const noexcept { return digests_[i]; }

  void Clear() noexcept;

 private:
  struct Entry {
    uint32_t offset;  // in arena_; the padded blocks follow the message
    uint32_t length;  // message bytes
    uint32_t blocks;  // padded 64-byte blocks
  };
  void Grow(size_t need);

  std::vector<char> arena_;
  size_t used_ = 0;
  size_t reserved_at_ = 0;
  std::vector<Entry> messages_;
  std::vector<Digest128> digests_;
  std::vector<internal::Md5Job> jobs_;  // one per message to hash
  std::vector<uint32_t> order_;         // message index of each job
  std::vector<uint32_t> words_;         // the kernels' output state words
  size_t computed_ = 0;                 // messages [0, computed_) have digests
};

}  // namespace pgparity::digest

#endif  // PGPARITY_DIGEST_MD5_BATCH_H_
