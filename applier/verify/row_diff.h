// Internal to verify/: the row drill-down's two halves — the target's rows
// of a table (or of one key window of it) read by digest, and their
// comparison with the shadow's, leaving out rows changed after the
// compared commit. TargetChecker::CompareRows (the full check) and
// TargetChecker::CheckRange (the rolling check) share them.
#ifndef PGPARITY_APPLIER_VERIFY_ROW_DIFF_H_
#define PGPARITY_APPLIER_VERIFY_ROW_DIFF_H_

#include <absl/container/flat_hash_map.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "pgparity/applier/catalog/catalog.h"
#include "pgparity/applier/report/verify_report.h"
#include "pgparity/applier/scan/key_window.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/applier/verify/target_checker.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

using RowDigests = absl::flat_hash_map<std::string, digest::Digest128, RowKeyHash, RowKeyEq>;
using DigestCounts = absl::flat_hash_map<digest::Digest128, int64_t, HashDigest>;
using Found = std::vector<std::pair<RowDivergence, std::string>>;  // kind, key bytes or digest hex

// A table's rows on the target: by key, or as a multiset of row digests
// for a table without key.
struct TargetRows {
  RowDigests keyed;
  DigestCounts multiset;
  uint64_t rows = 0;
};

// The rows of `read` (a ForDigest(TargetRead) of `spec`, narrowed to a
// key range or not) on `session`, inside its snapshot.
Result<TargetRows> ScanTargetRows(conn::PgSession& session, const TableSpec& spec,
                                  const TableRead& read, double estimated_rows,
                                  const RowReadHook& after_row = {});

// The shadow's rows of `window` (every row: nullopt), f(key, digest) for
// each: TableShadow::ForEachIntegerRowIn for a table keyed by one integer
// column (one seek when spilled), else every row filtered by its first key
// column. The one place a window is picked from the shadow. REQUIRES: the
// shadow's lock held.
void ForEachShadowRowIn(const TableShadow& ts, const std::optional<KeyWindow>& window,
                        const std::function<void(std::string_view, const digest::Digest128&)>& f);

// Keyed rows that differ between the shadow's rows of `window` and the
// target's `keyed` (read in that window), leaving out `changed`.
// REQUIRES: the shadow's lock held.
void DiffKeyed(const TableShadow& ts, const RowDigests& keyed, const StringSet& changed,
               Found& found, const std::optional<KeyWindow>& window = std::nullopt);

// How many of `changed` (ShadowState::ChangedAfter's keys) are in `window`:
// the rows of a range left out as in flight. A table without key, or read
// whole, counts them all.
uint64_t InWindow(const StringSet& changed, const TableSpec& spec,
                  const std::optional<KeyWindow>& window);

// Adds `found` to `listed`, which keeps the first `n` divergences in key
// order (what ListDivergent lists of them all), whatever order they come in.
void KeepFirstInKeyOrder(Found found, size_t n, Found& listed);

// Rows of a table without key that differ, as multisets of row digests.
// REQUIRES: the shadow's lock held.
void DiffMultiset(const TableShadow& ts, const DigestCounts& multiset, const StringSet& changed,
                  Found& found);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_VERIFY_ROW_DIFF_H_
