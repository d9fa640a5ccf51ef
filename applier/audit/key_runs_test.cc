// SplitIntegerKeyRuns: dense runs of integer keys and the leftovers, every
// key in exactly one of them.
#include "pgparity/applier/audit/key_runs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "pgparity/applier/shadow/row_key.h"

namespace pgparity::applier {
namespace {

std::vector<std::string> Keys(const std::vector<int64_t>& values) {
  std::vector<std::string> out;
  for (int64_t v : values) {
    out.emplace_back();
    EncodeIntegerKey(v, out.back());
  }
  return out;
}

std::vector<int64_t> Range(int64_t lo, int64_t hi, int64_t step = 1) {
  std::vector<int64_t> out;
  for (int64_t v = lo; v <= hi; v += step) out.push_back(v);
  return out;
}

// Every key in exactly one run's [lo, hi] or a leftover; each run dense,
// its count the keys in it, at least min_run_keys and at most max_run_keys.
void ExpectPartition(const std::vector<std::string>& keys, const KeyRunSplit& split,
                     const KeyRunOptions& options) {
  std::set<int64_t> distinct;
  for (const auto& k : keys) {
    int64_t v = 0;
    if (ParseIntegerKey(k, v)) distinct.insert(v);
  }
  std::set<size_t> leftovers(split.leftovers.begin(), split.leftovers.end());
  EXPECT_EQ(leftovers.size(), split.leftovers.size()) << "a leftover twice";
  for (size_t r = 0; r < split.runs.size(); ++r) {
    const IntegerKeyRun& run = split.runs[r];
    if (r > 0) {
      EXPECT_LT(split.runs[r - 1].hi, run.lo) << "runs overlap or out of order";
    }
    const size_t in = std::distance(distinct.lower_bound(run.lo), distinct.upper_bound(run.hi));
    EXPECT_EQ(run.keys, in) << "run " << run.lo << ".." << run.hi;
    EXPECT_GE(run.keys, options.min_run_keys);
    EXPECT_LE(run.keys, options.max_run_keys);
    EXPECT_LE(run.hi - run.lo + 1, options.max_span_per_key * static_cast<int64_t>(run.keys));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    int64_t v = 0;
    const bool integer = ParseIntegerKey(keys[i], v);
    const bool in_run =
        integer && std::any_of(split.runs.begin(), split.runs.end(), [&](const IntegerKeyRun& run) {
          return run.lo <= v && v <= run.hi;
        });
    if (in_run) {
      EXPECT_FALSE(leftovers.contains(i)) << "key " << v << " in a run and a leftover";
    } else if (!leftovers.contains(i)) {
      // Only a repeat of an earlier key may be neither.
      const bool repeat = std::find(keys.begin(), keys.begin() + static_cast<long>(i), keys[i]) !=
                          keys.begin() + static_cast<long>(i);
      EXPECT_TRUE(repeat) << "key " << i << " (" << keys[i] << ") neither in a run nor a leftover";
    }
  }
}

TEST(KeyRunsTest, ConsecutiveKeysInAnyOrderAreOneRun) {
  std::vector<int64_t> values = Range(1001, 1500);
  std::shuffle(values.begin(), values.end(), std::mt19937(7));
  const auto keys = Keys(values);
  const KeyRunSplit split = SplitIntegerKeyRuns(keys);
  ASSERT_EQ(split.runs.size(), 1u);
  EXPECT_EQ(split.runs[0].lo, 1001);
  EXPECT_EQ(split.runs[0].hi, 1500);
  EXPECT_EQ(split.runs[0].keys, 500u);
  EXPECT_TRUE(split.leftovers.empty());
  ExpectPartition(keys, split, {});
}

TEST(KeyRunsTest, EveryOtherKeyIsDenseEveryThirdIsNot) {
  const KeyRunOptions options;  // at most 2 values per key
  const auto halves = Keys(Range(1, 999, 2));
  const KeyRunSplit half = SplitIntegerKeyRuns(halves, options);
  ASSERT_EQ(half.runs.size(), 1u);
  EXPECT_EQ(half.runs[0].keys, 500u);
  ExpectPartition(halves, half, options);

  const auto thirds = Keys(Range(1, 1500, 3));
  const KeyRunSplit third = SplitIntegerKeyRuns(thirds, options);
  EXPECT_TRUE(third.runs.empty());
  EXPECT_EQ(third.leftovers.size(), thirds.size());
  ExpectPartition(thirds, third, options);
}

TEST(KeyRunsTest, SparseKeysAndShortRunsAreLeftovers) {
  std::vector<int64_t> values = {-5, 100000, 7'000'000'000};
  const std::vector<int64_t> run = Range(500, 599);
  const std::vector<int64_t> short_run = Range(2000, 2009);  // 10 < min_run_keys
  values.insert(values.end(), run.begin(), run.end());
  values.insert(values.end(), short_run.begin(), short_run.end());
  const auto keys = Keys(values);
  const KeyRunSplit split = SplitIntegerKeyRuns(keys);
  ASSERT_EQ(split.runs.size(), 1u);
  EXPECT_EQ(split.runs[0].lo, 500);
  EXPECT_EQ(split.runs[0].hi, 599);
  EXPECT_EQ(split.leftovers.size(), 3u + short_run.size());
  ExpectPartition(keys, split, {});
}

TEST(KeyRunsTest, NonIntegerKeysAndRepeatsAreHandled) {
  std::vector<std::string> keys = Keys(Range(1, 100));
  keys.push_back("V2:07");  // not canonical: kept as bytes
  keys.push_back("N");      // NULL
  keys.push_back(keys[3]);  // a repeat
  const KeyRunSplit split = SplitIntegerKeyRuns(keys);
  ASSERT_EQ(split.runs.size(), 1u);
  EXPECT_EQ(split.runs[0].keys, 100u);
  EXPECT_EQ(split.leftovers, (std::vector<size_t>{100, 101}));
  ExpectPartition(keys, split, {});
}

TEST(KeyRunsTest, LongRunsAreCutAtTheCap) {
  KeyRunOptions options;
  options.max_run_keys = 300;
  const auto keys = Keys(Range(1, 1000));
  const KeyRunSplit split = SplitIntegerKeyRuns(keys, options);
  ASSERT_EQ(split.runs.size(), 4u);  // 300, 300, 300, 100
  EXPECT_EQ(split.runs[3].keys, 100u);
  EXPECT_EQ(split.runs[3].hi, 1000);
  ExpectPartition(keys, split, options);
}

TEST(KeyRunsTest, ExtremeValuesDoNotOverflow) {
  std::vector<int64_t> values = Range(INT64_MAX - 99, INT64_MAX - 1);  // 99 keys
  values.push_back(INT64_MIN);                                         // index 99
  values.push_back(INT64_MAX);
  const auto keys = Keys(values);
  const KeyRunSplit split = SplitIntegerKeyRuns(keys);
  ASSERT_EQ(split.runs.size(), 1u);
  EXPECT_EQ(split.runs[0].hi, INT64_MAX);
  EXPECT_EQ(split.runs[0].keys, 100u);
  EXPECT_EQ(split.leftovers, (std::vector<size_t>{99}));
  ExpectPartition(keys, split, {});
}

TEST(KeyRunsTest, RandomKeysArePartitioned) {
  std::mt19937_64 rng(15);
  for (int round = 0; round < 50; ++round) {
    std::vector<int64_t> values;
    const int64_t spread = 100 << (round % 8);
    std::uniform_int_distribution<int64_t> pick(0, spread);
    for (int i = 0; i < 500; ++i) values.push_back(pick(rng));
    const auto keys = Keys(values);
    KeyRunOptions options;
    options.min_run_keys = 1 + round % 40;
    options.max_run_keys = 50 + round * 10;
    ExpectPartition(keys, SplitIntegerKeyRuns(keys, options), options);
  }
}

// ShareOutRuns: runs of 100 keys each into 3 parts of 200; the leftovers
// a fourth part.
TEST(KeyRunsTest, RunsAreSharedOutInPartsOfAboutEqualKeys) {
  KeyRunSplit split;
  for (int64_t i = 0; i < 6; ++i) split.runs.push_back({i * 1000, i * 1000 + 99, 100});
  split.leftovers = {4, 9};
  const auto parts = ShareOutRuns(split, 3);
  ASSERT_EQ(parts.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(parts[i].runs.size(), 2u);
    EXPECT_EQ(parts[i].keys, 200u);
    EXPECT_TRUE(parts[i].leftovers.empty());
  }
  EXPECT_TRUE(parts[3].runs.empty());
  EXPECT_EQ(parts[3].keys, 2u);
  EXPECT_EQ(parts[3].leftovers.data(), split.leftovers.data());
  EXPECT_TRUE(ShareOutRuns(KeyRunSplit(), 4).empty());
}

// Random splits and part counts: every run in exactly one part, in order,
// no part empty, at most `parts` parts of runs, each but the last holding
// at least (run keys / parts) keys.
TEST(KeyRunsTest, SharedOutRunsAreEachReadOnce) {
  std::mt19937_64 rng(15);
  for (int round = 0; round < 500; ++round) {
    KeyRunSplit split;
    const size_t runs = rng() % 40;
    size_t run_keys = 0;
    for (size_t i = 0; i < runs; ++i) {
      const size_t keys = 1 + rng() % 500;
      split.runs.push_back(
          {static_cast<int64_t>(i) * 1000, static_cast<int64_t>(i) * 1000 + 999, keys});
      run_keys += keys;
    }
    for (size_t i = rng() % 3; i > 0; --i) split.leftovers.push_back(i);
    const size_t n = 1 + rng() % 8;
    const auto parts = ShareOutRuns(split, n);
    size_t next = 0, run_parts = 0;
    for (size_t p = 0; p < parts.size(); ++p) {
      const KeyRunPart& part = parts[p];
      EXPECT_GT(part.keys, 0u) << "round " << round;
      if (part.runs.empty()) {
        EXPECT_EQ(p + 1, parts.size()) << "the leftovers come last";
        EXPECT_EQ(part.leftovers.size(), split.leftovers.size());
        continue;
      }
      ++run_parts;
      ASSERT_EQ(part.runs.data(), split.runs.data() + next) << "round " << round;
      size_t keys = 0;
      for (const auto& run : part.runs) keys += run.keys;
      EXPECT_EQ(part.keys, keys);
      const bool last = next + part.runs.size() == split.runs.size();
      if (!last) {
        EXPECT_GE(part.keys, run_keys / n) << "round " << round;
      }
      next += part.runs.size();
    }
    EXPECT_EQ(next, split.runs.size()) << "round " << round;
    EXPECT_LE(run_parts, n) << "round " << round;
    EXPECT_EQ(parts.size(), run_parts + (split.leftovers.empty() ? 0 : 1));
  }
}

}  // namespace
}  // namespace pgparity::applier
