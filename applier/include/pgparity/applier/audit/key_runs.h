// Dense runs of integer keys: which of a batch of keys of a table keyed by
// one integer column (TableSpec::integer_key) are read from the target by
// one range query (`key >= lo AND key <= hi`) instead of an IN list. An
// index range scan of a dense run reads the same index pages once, in
// order; an IN list of the same keys probes the index once per key (about
// 4x-7x slower for a bulk load's consecutive keys, bench/README.md).
//
// Pure; thread-compatible.
#ifndef PGPARITY_APPLIER_AUDIT_KEY_RUNS_H_
#define PGPARITY_APPLIER_AUDIT_KEY_RUNS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace pgparity::applier {

// Keys lo..hi, both included; `keys` of the batch's keys lie in it.
struct IntegerKeyRun {
  int64_t lo = 0;
  int64_t hi = 0;
  size_t keys = 0;
};

struct KeyRunSplit {
  std::vector<IntegerKeyRun> runs;  // in key order, disjoint
  std::vector<size_t> leftovers;    // indices into the keys, read by IN list
};

struct KeyRunOptions {
  // A run spans at most `max_span_per_key` values per key it holds:
  // (hi - lo + 1) <= max_span_per_key * keys, so a range query reads at
  // most that many rows per row wanted.
  int64_t max_span_per_key = 2;
  // Fewer keys than this in a run: not worth a query of its own.
  size_t min_run_keys = 32;
  // More keys than this: the run is cut (one query's rows stay bounded).
  size_t max_run_keys = 10'000;
};

// Splits key encodings (row_key.h) into dense runs of their integers and
// the leftovers: keys that are not the canonical encoding of an integer
// (ParseIntegerKey), and those in no run of at least min_run_keys keys.
// A key given twice counts once (its first index is the leftover). Every
// key is either in exactly one run's [lo, hi] or a leftover, never both.
KeyRunSplit SplitIntegerKeyRuns(std::span<const std::string> keys,
                                const KeyRunOptions& options = {});

// One share of a split's reads, for one of several sessions: consecutive
// runs, or the leftovers (read by IN lists), and how many keys they hold.
struct KeyRunPart {
  std::span<const IntegerKeyRun> runs;
  std::span<const size_t> leftovers;
  size_t keys = 0;
};

// `split`'s runs, in key order, cut into at most `parts` (>= 1) parts of
// about equal keys — each at least (run keys / parts), but the last — and
// the leftovers a part of their own. Every run and every leftover is in
// exactly one part; no part is empty. The parts view `split`.
std::vector<KeyRunPart> ShareOutRuns(const KeyRunSplit& split, size_t parts);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_AUDIT_KEY_RUNS_H_
