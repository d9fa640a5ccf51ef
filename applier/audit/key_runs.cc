#include "pgparity/applier/audit/key_runs.h"

#include <algorithm>
#include <utility>

#include "pgparity/applier/shadow/row_key.h"

namespace pgparity::applier {

namespace {

struct IndexedKey {
  int64_t value;
  size_t index;
};

// [begin, end) of `sorted` as a run when it holds enough keys, else its
// indices as leftovers.
void CloseRun(std::span<const IndexedKey> sorted, size_t begin, size_t end,
              const KeyRunOptions& options, KeyRunSplit& out) {
  const size_t count = end - begin;
  if (count == 0) return;
  if (count >= options.min_run_keys) {
    out.runs.push_back({sorted[begin].value, sorted[end - 1].value, count});
    return;
  }
  for (size_t i = begin; i < end; ++i) out.leftovers.push_back(sorted[i].index);
}

__extension__ using Int128 = __int128;  // GCC's and Clang's; no -Wpedantic warning

// hi - lo + 1 <= max_span_per_key * count, without overflow.
bool Dense(int64_t lo, int64_t hi, size_t count, int64_t max_span_per_key) {
  const Int128 span = static_cast<Int128>(hi) - lo + 1;
  return span <= static_cast<Int128>(max_span_per_key) * static_cast<Int128>(count);
}

}  // namespace

KeyRunSplit SplitIntegerKeyRuns(std::span<const std::string> keys, const KeyRunOptions& options) {
  KeyRunSplit out;
  std::vector<IndexedKey> sorted;
  sorted.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    int64_t v = 0;
    if (ParseIntegerKey(keys[i], v)) {
      sorted.push_back({v, i});
    } else {
      out.leftovers.push_back(i);
    }
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const IndexedKey& a, const IndexedKey& b) { return a.value < b.value; });
  sorted.erase(
      std::unique(sorted.begin(), sorted.end(),
                  [](const IndexedKey& a, const IndexedKey& b) { return a.value == b.value; }),
      sorted.end());
  // Greedy, in key order: a key joins the current run while the run stays
  // dense and under the cap; otherwise it starts the next one.
  size_t begin = 0;
  for (size_t i = 1; i <= sorted.size(); ++i) {
    const bool joins =
        i < sorted.size() && i - begin < options.max_run_keys &&
        Dense(sorted[begin].value, sorted[i].value, i - begin + 1, options.max_span_per_key);
    if (joins) continue;
    CloseRun(sorted, begin, i, options, out);
    begin = i;
  }
  std::sort(out.leftovers.begin(), out.leftovers.end());
  return out;
}

std::vector<KeyRunPart> ShareOutRuns(const KeyRunSplit& split, size_t parts) {
  size_t run_keys = 0;
  for (const IntegerKeyRun& run : split.runs) run_keys += run.keys;
  const size_t per_part = std::max<size_t>(1, run_keys / std::max<size_t>(1, parts));
  std::vector<KeyRunPart> out;
  size_t first = 0, keys = 0;
  for (size_t i = 0; i < split.runs.size(); ++i) {
    keys += split.runs[i].keys;
    const bool last = i + 1 == split.runs.size();
    // The last part takes what is left, however little.
    if (last || (keys >= per_part && out.size() + 1 < parts)) {
      out.push_back({std::span(split.runs).subspan(first, i + 1 - first), {}, keys});
      first = i + 1;
      keys = 0;
    }
  }
  if (!split.leftovers.empty()) out.push_back({{}, split.leftovers, split.leftovers.size()});
  return out;
}

}  // namespace pgparity::applier
