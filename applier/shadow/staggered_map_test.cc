#include "pgparity/applier/shadow/staggered_map.h"

#include <absl/container/flat_hash_map.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>

#include "pgparity/applier/shadow/row_key.h"

namespace pgparity::applier {
namespace {

using IntMap = StaggeredMap<absl::flat_hash_map<int64_t, int64_t>>;
using KeyMap = StaggeredMap<absl::flat_hash_map<RowKey, int64_t, RowKeyHash, RowKeyEq>>;

// The map's entries as an ordered map, through its iterator.
template <typename M>
auto Entries(const M& m) {
  std::map<typename M::key_type, int64_t> out;
  for (const auto& [k, v] : m) EXPECT_TRUE(out.emplace(k, v).second) << "a key twice";
  return out;
}

TEST(StaggeredMapTest, RandomOperationsAgreeWithAnOrderedMap) {
  std::mt19937_64 rng(20261202);
  IntMap m;
  std::map<int64_t, int64_t> oracle;
  for (int op = 0; op < 200000; ++op) {
    const int64_t k = static_cast<int64_t>(rng() % 5000) - 2500;
    const int64_t v = static_cast<int64_t>(rng());
    switch (rng() % 5) {
      case 0:
        m.insert_or_assign(k, v);
        oracle[k] = v;
        break;
      case 1: {
        const auto [value, inserted] = m.try_emplace(k, v);
        const auto [it, oracle_inserted] = oracle.emplace(k, v);
        EXPECT_EQ(inserted, oracle_inserted);
        EXPECT_EQ(*value, it->second);
      } break;
      case 2: {
        const auto got = m.Extract(k);
        const auto it = oracle.find(k);
        ASSERT_EQ(got.has_value(), it != oracle.end()) << k;
        if (got) {
          EXPECT_EQ(*got, it->second);
          oracle.erase(it);
        }
        break;
      }
      case 3:
        EXPECT_EQ(m.erase(k), oracle.erase(k) == 1);
        break;
      default: {
        const int64_t* got = std::as_const(m).Find(k);
        const auto it = oracle.find(k);
        ASSERT_EQ(got != nullptr, it != oracle.end()) << k;
        if (got) {
          EXPECT_EQ(*got, it->second);
        }
      }
    }
    if (op % 20000 == 0) {
      ASSERT_EQ(m.size(), oracle.size());
      ASSERT_EQ(Entries(m), oracle);
    }
  }
  EXPECT_EQ(Entries(m), oracle);
  m.clear();
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.begin(), m.end());
}

TEST(StaggeredMapTest, StringKeysFoundByViewAndCountedByBracket) {
  KeyMap m;
  for (int i = 0; i < 1000; ++i) m[RowKey("k" + std::to_string(i))] += i;
  for (int i = 0; i < 1000; i += 2) m[RowKey("k" + std::to_string(i))] += 1;
  ASSERT_EQ(m.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    const int64_t* v = m.Find(std::string_view("k" + std::to_string(i)));
    ASSERT_NE(v, nullptr) << i;
    EXPECT_EQ(*v, i + (i % 2 == 0 ? 1 : 0));
  }
  EXPECT_EQ(m.Find(std::string_view("k1000")), nullptr);
  KeyMap other;
  other.swap(m);
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(other.size(), 1000u);
}

// The shards get the keys in the shares they were given (the top bits of
// absl's and of RowKeyHash's hashes are spread), for keys 1..n as pgbench
// makes them.
TEST(StaggeredMapTest, ConsecutiveKeysFallInTheShardsAtTheirShares) {
  constexpr int kKeys = 400000;
  std::array<int, kStaggeredShards> int_count{}, key_count{};
  absl::Hash<int64_t> int_hash;
  RowKeyHash key_hash;
  std::string key;
  for (int64_t i = 1; i <= kKeys; ++i) {
    ++int_count[StaggeredShardOf(int_hash(i))];
    key.clear();
    EncodeIntegerKey(i, key);
    ++key_count[StaggeredShardOf(key_hash(key))];
  }
  double sum = 0;
  for (size_t s = 0; s < kStaggeredShards; ++s) {
    sum += StaggeredShare(s);
    const double want = StaggeredShare(s) * kKeys;
    EXPECT_NEAR(int_count[s], want, want * 0.02) << "shard " << s;
    EXPECT_NEAR(key_count[s], want, want * 0.02) << "shard " << s;
    if (s > 0) {
      EXPECT_NEAR(StaggeredShare(s) / StaggeredShare(s - 1), std::exp2(1.0 / 8), 0.005);
    }
  }
  EXPECT_NEAR(sum, 1.0, 1e-12);
}

// What the staggering is for: slots per entry stay within 20 % as the map
// grows, where one absl map's swing 2x. Sampled every 5,000 entries from
// 50,000 to 2,000,000.
TEST(StaggeredMapTest, SlotsPerEntryStayWithinTwentyPercentAsItGrows) {
  IntMap staggered;
  absl::flat_hash_map<int64_t, int64_t> single;
  double lo = 1e9, hi = 0, single_lo = 1e9, single_hi = 0;
  for (int64_t i = 1; i <= 2000000; ++i) {
    staggered.insert_or_assign(i, i);
    single.insert_or_assign(i, i);
    if (i >= 50000 && i % 5000 == 0) {
      const double per = static_cast<double>(staggered.capacity()) / static_cast<double>(i);
      lo = std::min(lo, per);
      hi = std::max(hi, per);
      const double single_per = static_cast<double>(single.capacity()) / static_cast<double>(i);
      single_lo = std::min(single_lo, single_per);
      single_hi = std::max(single_hi, single_per);
    }
  }
  EXPECT_LT(hi / lo, 1.2) << "slots per entry " << lo << " to " << hi;
  EXPECT_GT(single_hi / single_lo, 1.8) << "one absl map: " << single_lo << " to " << single_hi;
}

// reserve(n) leaves room for n keys: none of them makes a shard grow.
TEST(StaggeredMapTest, ReservedRoomHoldsThatManyKeys) {
  for (size_t n : {0u, 10u, 1000u, 123457u}) {
    IntMap m;
    m.reserve(n);
    const size_t slots = m.capacity();
    for (size_t i = 0; i < n; ++i) m.try_emplace(static_cast<int64_t>(i * 7919), 0);
    EXPECT_EQ(m.capacity(), slots) << n;
    EXPECT_EQ(m.size(), n);
  }
}

}  // namespace
}  // namespace pgparity::applier
