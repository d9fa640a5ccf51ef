// StaggeredMap: one hash map made of kShards absl flat maps whose shares of
// the keys differ by a factor of 2^(1/kShards) from one to the next, so
// that they grow at different sizes.
//
// Why: an absl flat map doubles its slots when they are 7/8 full, so its
// memory per entry swings by 2x with the entry count (7/16 to 7/8 full):
// the shadow's bytes per row were 52.4 at 1 M rows, 41.9 at 10 M and 55.9
// at 30 M (bench/README.md, issue 15), and each doubling had the old and
// the new slot arrays resident at once (2.4 GiB of peak RSS for a 1.7 GB
// shadow). With eight staggered shards one of them doubles at a time, so
// the memory per entry stays within about 15 % whatever the count
// (staggered_map_test.cc measures it), and a doubling moves one shard's
// entries, at most a sixth of them (170 of 1024).
//
// The shard is picked from the top 10 bits of the map's own hash of the
// key; absl places a key by its low bits (H1 = hash >> 7 masked by the
// capacity, H2 the low 7), so the two do not correlate below 2^47 slots.
// Lookups hash the key once (absl's find(key, hash)), inserts twice.
//
// The iteration order is the shards' in turn, each in its hash order:
// neither sorted nor stable across runs, like a single absl map's.
//
// Thread-safety: that of the absl maps (const calls from several threads;
// no call concurrent with a non-const one).
#ifndef PGPARITY_APPLIER_SHADOW_STAGGERED_MAP_H_
#define PGPARITY_APPLIER_SHADOW_STAGGERED_MAP_H_

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <utility>

namespace pgparity::applier {

inline constexpr size_t kStaggeredShards = 8;

namespace staggered_internal {

// Shard i takes the hashes whose top 10 bits lie in [kBound[i - 1],
// kBound[i]): shares 93, 101, 110, 120, 131, 143, 156, 170 of 1024, each
// 2^(1/8) times the one before within 1/1024 (round(1024 * the cumulative
// sum of 2^(i/8) / sum); staggered_map_test.cc checks them).
inline constexpr int kTopBits = 10;
inline constexpr std::array<uint16_t, kStaggeredShards> kBound = {93,  194, 304, 424,
                                                                  555, 698, 854, 1024};

constexpr std::array<uint8_t, size_t{1} << kTopBits> MakeShardOfTop() {
  std::array<uint8_t, size_t{1} << kTopBits> out{};
  uint8_t shard = 0;
  for (size_t top = 0; top < out.size(); ++top) {
    while (top >= kBound[shard]) ++shard;
    out[top] = shard;
  }
  return out;
}
// One byte per top-bits value: a lookup the compiler keeps short, so that
// finds in a big map still overlap their cache misses.
inline constexpr auto kShardOfTop = MakeShardOfTop();

}  // namespace staggered_internal

// The shard of a 64-bit hash, by its top bits.
inline size_t StaggeredShardOf(uint64_t hash) noexcept {
  return staggered_internal::kShardOfTop[hash >> (64 - staggered_internal::kTopBits)];
}
// Shard i's share of the keys (they sum to 1).
inline double StaggeredShare(size_t shard) noexcept {
  using staggered_internal::kBound;
  const int below = shard == 0 ? 0 : kBound[shard - 1];
  return static_cast<double>(kBound[shard] - below) / (1 << staggered_internal::kTopBits);
}

// `Map`: an absl::flat_hash_map type.
template <typename Map>
class StaggeredMap {
 public:
  using key_type = typename Map::key_type;
  using mapped_type = typename Map::mapped_type;
  using value_type = typename Map::value_type;
  static constexpr size_t kShards = kStaggeredShards;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = typename Map::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = const value_type*;
    using reference = const value_type&;

    reference operator*() const { return *it_; }
    pointer operator->() const { return &*it_; }
    const_iterator& operator++() {
      ++it_;
      SkipEmpty();
      return *this;
    }
    bool operator==(const const_iterator& o) const {
      return shard_ == o.shard_ && (shard_ == kShards || it_ == o.it_);
    }

   private:
    friend class StaggeredMap;
    const_iterator(const StaggeredMap* m, size_t shard) : m_(m), shard_(shard) {
      if (shard_ < kShards) {
        it_ = m_->shards_[shard_].begin();
        SkipEmpty();
      }
    }
    void SkipEmpty() {
      while (shard_ < kShards && it_ == m_->shards_[shard_].end()) {
        if (++shard_ < kShards) it_ = m_->shards_[shard_].begin();
      }
    }
    const StaggeredMap* m_;
    size_t shard_;
    typename Map::const_iterator it_{};
  };

  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, kShards); }

  // The entry's value, or null; valid until the next non-const call.
  template <typename K>
  const mapped_type* Find(const K& k) const {
    const size_t hash = Hash(k);
    const Map& m = shards_[StaggeredShardOf(hash)];
    auto it = m.find(k, hash);
    return it == m.end() ? nullptr : &it->second;
  }
  template <typename K>
  mapped_type* Find(const K& k) {
    const size_t hash = Hash(k);
    Map& m = shards_[StaggeredShardOf(hash)];
    auto it = m.find(k, hash);
    return it == m.end() ? nullptr : &it->second;
  }
  // Fetches the cache lines a find of `k` reads (absl's prefetch), for a
  // loop over many keys of a map beyond the caches.
  template <typename K>
  void Prefetch(const K& k) const {
    shards_[StaggeredShardOf(Hash(k))].prefetch(k);
  }
  // The entry's value, inserted value-initialized when absent.
  mapped_type& operator[](const key_type& k) { return ShardFor(k)[k]; }
  // True when the key was there.
  template <typename K>
  bool erase(const K& k) {
    return ShardFor(k).erase(k) > 0;
  }
  // Removes the entry and returns its value; nullopt when absent.
  template <typename K>
  std::optional<mapped_type> Extract(const K& k) {
    const size_t hash = Hash(k);
    Map& m = shards_[StaggeredShardOf(hash)];
    auto it = m.find(k, hash);
    if (it == m.end()) return std::nullopt;
    std::optional<mapped_type> v(std::move(it->second));
    m.erase(it);
    return v;
  }
  template <typename K, typename V>
  void insert_or_assign(K&& k, V&& v) {
    ShardFor(k).insert_or_assign(std::forward<K>(k), std::forward<V>(v));
  }
  // The key's value, and true when it was inserted (the key was absent);
  // the value is valid until the next non-const call.
  template <typename K, typename... Args>
  std::pair<mapped_type*, bool> try_emplace(K&& k, Args&&... args) {
    auto [it, inserted] = ShardFor(k).try_emplace(std::forward<K>(k), std::forward<Args>(args)...);
    return {&it->second, inserted};
  }

  size_t size() const {
    size_t n = 0;
    for (const Map& m : shards_) n += m.size();
    return n;
  }
  bool empty() const { return size() == 0; }
  // Slots, all shards together (each slot costs sizeof(value_type) + 1).
  size_t capacity() const {
    size_t n = 0;
    for (const Map& m : shards_) n += m.capacity();
    return n;
  }
  // Room for `n` entries in all: each shard sized for its share, with four
  // standard deviations of margin (the keys fall in shards at random).
  void reserve(size_t n) {
    for (size_t i = 0; i < kShards; ++i) {
      const double share = static_cast<double>(n) * StaggeredShare(i);
      shards_[i].reserve(static_cast<size_t>(share + 4 * std::sqrt(share)) + 16);
    }
  }
  // Keeps the slots, as absl's clear() does for big maps.
  void clear() {
    for (Map& m : shards_) m.clear();
  }
  void swap(StaggeredMap& o) noexcept { shards_.swap(o.shards_); }

 private:
  template <typename K>
  size_t Hash(const K& k) const {
    return shards_[0].hash_function()(k);
  }
  // The lookups hand the hash to absl's find(key, hash); absl's inserts
  // take none, so they hash twice.
  template <typename K>
  Map& ShardFor(const K& k) {
    return shards_[StaggeredShardOf(Hash(k))];
  }

  std::array<Map, kShards> shards_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_STAGGERED_MAP_H_
