// The corpus' only source of randomness: std::mt19937_64 seeded once per
// seed. The helpers below use the raw engine output (not the standard
// distributions, whose results differ between standard libraries), so a
// seed replays the same schema, workload and divergences everywhere.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace pgparity::corpus {

using Rng = std::mt19937_64;

// Uniform in [lo, hi] (the modulo bias is irrelevant here).
inline int64_t Uniform(Rng& rng, int64_t lo, int64_t hi) {
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  return lo + static_cast<int64_t>(span == 0 ? rng() : rng() % span);
}

// True with probability p.
inline bool Chance(Rng& rng, double p) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0) < p;
}

// REQUIRES: !items.empty().
template <typename T>
const T& Pick(Rng& rng, const std::vector<T>& items) {
  return items[static_cast<size_t>(Uniform(rng, 0, static_cast<int64_t>(items.size()) - 1))];
}
template <typename T>
T& Pick(Rng& rng, std::vector<T>& items) {
  return items[static_cast<size_t>(Uniform(rng, 0, static_cast<int64_t>(items.size()) - 1))];
}

template <typename T>
void Shuffle(Rng& rng, std::vector<T>& items) {
  for (size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1],
              items[static_cast<size_t>(Uniform(rng, 0, static_cast<int64_t>(i) - 1))]);
  }
}

}  // namespace pgparity::corpus
