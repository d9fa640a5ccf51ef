// The steady-state non-streamed path must not allocate per change: decoding
// Begin / Insert / Update / Delete / Commit into a ChainedDigest, once the
// relation is known and the buffers have grown. This binary replaces the
// global operator new to count allocations, so it is its own executable.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "core/testing/stream_builder.h"
#include "pgparity/core/chained_digest.h"
#include "pgparity/core/stream_decoder.h"

namespace {
thread_local long g_allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
// std::stable_sort's temporary buffer uses the nothrow form: replace it too,
// so every allocation and deallocation goes through malloc and free.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace pgparity::core {
namespace {

using namespace pgparity::core::testing;  // NOLINT: test helpers

const RelationSpec kRel{16384,
                        "public",
                        "orders",
                        {{"id", 23, true}, {"customer"}, {"note"}, {"total", 1700}, {"at", 1184}}};

// One transaction of 3 changes; LSNs from `base`.
std::vector<TestFrame> Transaction(uint64_t base, wire::Xid xid) {
  return {BeginFrame(base, base + 0x100, xid),
          InsertFrame(base + 0x10, 16384, {"1", "alice", "<null>", "12.50", "2024-05-06 07:08:09"}),
          UpdateFrame(base + 0x20, 16384, wire::OldTupleKind::kKey,
                      {"1", "<null>", "<null>", "<null>", "<null>"},
                      {"1", "alice", "<u>", "13.00", "2024-05-06 07:08:10"}),
          DeleteFrame(base + 0x30, 16384, wire::OldTupleKind::kKey,
                      {"1", "<null>", "<null>", "<null>", "<null>"}),
          CommitFrame(base + 0x100, base + 0x130)};
}

TEST(CoreNoAllocationTest, SteadyStateTransactionsDoNotAllocate) {
  ChainedDigest chain;
  DecoderOptions options;
  options.protocol_version = 2;
  StreamDecoder decoder(chain, options);

  // Warm-up: the Relation, and every buffer grown once -- ChainedDigest's
  // batches through several full cycles (a batch folds at 256 rows).
  std::vector<TestFrame> warmup = Transaction(0x1000, 700);
  warmup.insert(warmup.begin() + 1, RelationFrame(0, kRel));
  ASSERT_TRUE(FeedAll(decoder, warmup).ok());
  constexpr int kTxns = 400;
  for (int i = 1; i < kTxns; ++i) {
    ASSERT_TRUE(FeedAll(decoder, Transaction(0x1000 + 0x1000 * i, 700 + i)).ok());
  }

  std::vector<TestFrame> frames;
  for (int i = kTxns; i < 2 * kTxns; ++i) {
    for (TestFrame& f : Transaction(0x1000 + 0x1000 * i, 700 + i)) frames.push_back(std::move(f));
  }
  // A long run of empty transactions (no rows to fill a batch) as well.
  constexpr int kEmpty = 2000;
  for (int i = 0; i < kEmpty; ++i) {
    const uint64_t base = 0x1000 + 0x1000 * (2 * kTxns + i);
    frames.push_back(BeginFrame(base, base + 0x100, 700 + 2 * kTxns + i));
    frames.push_back(CommitFrame(base + 0x100, base + 0x130));
  }
  const long before = g_allocations;
  for (const TestFrame& f : frames) {
    const Status s = decoder.Feed(f.start, f.end, f.body);
    if (!s.ok()) {
      ADD_FAILURE() << s.ToString();
      break;
    }
  }
  const long allocations = g_allocations - before;
  EXPECT_EQ(allocations, 0);
  EXPECT_EQ(chain.state().transactions, 2u * kTxns + kEmpty);
  EXPECT_EQ(decoder.stats().changes, 6u * kTxns);
}

}  // namespace
}  // namespace pgparity::core
