#include "pgparity/digest/md5_batch.h"

// OpenSSL's MD5 for one message at a time. OpenSSL 3 deprecates MD5() and
// MD5_Init/Update/Final in favour of EVP, whose per-call context setup
// costs more than hashing a short row.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/md5.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "md5_lanes.h"

namespace pgparity::digest {
namespace {

// Offsets are 32-bit and the kernels' gathers signed: a batch stays below
// 1 GiB (callers flush far earlier, at a few hundred kB).
constexpr size_t kMaxArenaBytes = size_t{1} << 30;

// Block 0 of the arena is the zero block idle lanes read.
constexpr size_t kIdleBlock = 64;

uint32_t Bswap(uint32_t v) { return __builtin_bswap32(v); }

// MD5's output is a, b, c, d little-endian; Digest128 reads it big-endian.
Digest128 FromState(const uint32_t* s) {
  Digest128 d;
  d.hi = (uint64_t{Bswap(s[0])} << 32) | Bswap(s[1]);
  d.lo = (uint64_t{Bswap(s[2])} << 32) | Bswap(s[3]);
  return d;
}

}  // namespace

Digest128 Md5(std::string_view message) noexcept {
  // Init/Update/Final on a local context: the one-shot MD5() also wipes the
  // context (OPENSSL_cleanse), needless for a checksum of public data.
  MD5_CTX ctx;
  MD5_Init(&ctx);
  MD5_Update(&ctx, message.data(), message.size());
  unsigned char md[MD5_DIGEST_LENGTH];
  MD5_Final(md, &ctx);
  return Digest128::FromBigEndian(std::span<const unsigned char, 16>(md, 16));
}

bool Md5KernelSupported(Md5Kernel kernel) noexcept {
  switch (kernel) {
    case Md5Kernel::kAuto:
    case Md5Kernel::kScalar:
      return true;
    case Md5Kernel::kAvx2:
#if defined(__x86_64__)
      return __builtin_cpu_supports("avx2");
#else
      return false;
#endif
    case Md5Kernel::kAvx512:
#if defined(__x86_64__)
      return __builtin_cpu_supports("avx512f");
#else
      return false;
#endif
  }
  return false;
}

Md5Kernel Md5AutoKernel() noexcept {
  static const Md5Kernel kernel = [] {
    if (const char* forced = std::getenv("PGPARITY_MD5_KERNEL"); forced != nullptr) {
      // For benchmarks and tests on one machine: never picks an unsupported one.
      for (Md5Kernel k : {Md5Kernel::kScalar, Md5Kernel::kAvx2, Md5Kernel::kAvx512}) {
        if (std::strcmp(forced, Md5KernelName(k)) == 0 && Md5KernelSupported(k)) return k;
      }
    }
    if (Md5KernelSupported(Md5Kernel::kAvx512)) return Md5Kernel::kAvx512;
    if (Md5KernelSupported(Md5Kernel::kAvx2)) return Md5Kernel::kAvx2;
    return Md5Kernel::kScalar;
  }();
  return kernel;
}

const char* Md5KernelName(Md5Kernel kernel) noexcept {
  switch (kernel) {
    case Md5Kernel::kAuto:
      return "auto";
    case Md5Kernel::kScalar:
      return "scalar";
    case Md5Kernel::kAvx2:
      return "avx2";
    case Md5Kernel::kAvx512:
      return "avx512";
  }
  return "?";
}

Md5Batch::Md5Batch() = default;
Md5Batch::~Md5Batch() = default;

void Md5Batch::Grow(size_t need) {
  if (need > kMaxArenaBytes) {
    // A caller bug (batches are bounded by bytes()), not bad input.
    std::fprintf(stderr, "pgparity: Md5Batch: batch of %zu bytes exceeds 1 GiB\n", need);
    std::abort();
  }
  if (arena_.size() < need) arena_.resize(std::max(need, arena_.size() * 2));
}

char* Md5Batch::Reserve(size_t max_bytes) {
  if (used_ == 0) {
    Grow(kIdleBlock);
    std::memset(arena_.data(), 0, kIdleBlock);
    used_ = kIdleBlock;
  }
  // The message, 0x80, zeros and the 8-byte length: at most 72 more bytes;
  // Finish zeroes a fixed 72 bytes past the message (one inline store run).
  Grow(used_ + max_bytes + 1 + 72);
  reserved_at_ = used_;
  return arena_.data() + used_;
}

size_t Md5Batch::Finish(size_t bytes) {
  const size_t blocks = (bytes + 8) / 64 + 1;
  char* m = arena_.data() + reserved_at_;
  char* end = m + blocks * 64;
  m[bytes] = static_cast<char>(0x80);
  std::memset(m + bytes + 1, 0, 72);  // past `end` too: the next message overwrites it
  const uint64_t bits = static_cast<uint64_t>(bytes) * 8;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(end - 8, &bits, 8);
  } else {
    for (int i = 0; i < 8; ++i) end[-8 + i] = static_cast<char>(bits >> (8 * i));
  }
  messages_.push_back(Entry{static_cast<uint32_t>(reserved_at_), static_cast<uint32_t>(bytes),
                            static_cast<uint32_t>(blocks)});
  used_ = reserved_at_ + blocks * 64;
  return messages_.size() - 1;
}

size_t Md5Batch::Add(std::string_view message) {
  char* out = Reserve(message.size());
  if (!message.empty()) std::memcpy(out, message.data(), message.size());
  return Finish(message.size());
}

void Md5Batch::Compute(Md5Kernel kernel) {
  const size_t n = messages_.size() - computed_;
  if (n == 0) return;
  digests_.resize(messages_.size());
  if (kernel == Md5Kernel::kAuto) kernel = Md5AutoKernel();
  // A lone message gains nothing from lanes. (Off x86-64 only the scalar
  // kernel is supported.)
  if (n == 1 || !Md5KernelSupported(kernel)) kernel = Md5Kernel::kScalar;
  if (kernel != Md5Kernel::kScalar) {
    static_assert(sizeof(internal::Md5Job) == 8);
    // Jobs grouped by block count (a counting sort): lanes that start
    // together then finish together, and the kernel refills all of them at
    // once instead of a few lanes after every block.
    constexpr size_t kBuckets = 8;  // 1..7 blocks, then everything longer
    size_t start[kBuckets + 1] = {};
    for (size_t i = 0; i < n; ++i) {
      ++start[std::min<size_t>(messages_[computed_ + i].blocks, kBuckets - 1) + 1];
    }
    for (size_t b = 1; b <= kBuckets; ++b) start[b] += start[b - 1];
    jobs_.resize(n);
    order_.resize(n);
    words_.resize(4 * n);
    for (size_t i = 0; i < n; ++i) {
      const Entry& e = messages_[computed_ + i];
      const size_t k = start[std::min<size_t>(e.blocks, kBuckets - 1)]++;
      jobs_[k] = internal::Md5Job{e.offset, e.blocks};
      order_[k] = static_cast<uint32_t>(computed_ + i);
    }
#if defined(__x86_64__)
    if (kernel == Md5Kernel::kAvx512) {
      internal::Md5LanesAvx512(arena_.data(), jobs_.data(), n, words_.data());
    } else {
      internal::Md5LanesAvx2(arena_.data(), jobs_.data(), n, words_.data());
    }
#endif
    for (size_t k = 0; k < n; ++k) digests_[order_[k]] = FromState(&words_[4 * k]);
  } else {
    for (size_t i = computed_; i < messages_.size(); ++i) digests_[i] = Md5(message(i));
  }
  computed_ = messages_.size();
}

void Md5Batch::Clear() noexcept {
  used_ = 0;
  messages_.clear();
  computed_ = 0;
}

}  // namespace pgparity::digest
