#include "verify/row_diff.h"

#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <iterator>
#include <limits>

#include "pgparity/applier/scan/row_read.h"
#include "pgparity/applier/scan/table_scan.h"
#include "pgparity/applier/shadow/row_key.h"

namespace pgparity::applier {

using digest::ColumnValue;
using digest::Digest128;

Result<TargetRows> ScanTargetRows(conn::PgSession& session, const TableSpec& spec,
                                  const TableRead& read, double estimated_rows,
                                  const RowReadHook& after_row) {
  ComparedColumns compared(spec);
  digest::RowDigester digester = compared.MakeDigester(spec);
  TargetRows rows;
  std::string key;
  PGPARITY_RETURN_IF_ERROR(ScanTable(session, read, estimated_rows, "target row check",
                                     [&](std::span<const ColumnValue> v) -> Status {
                                       const Digest128 d = digester.Digest(compared.Project(v));
                                       if (spec.keyed()) {
                                         key.clear();
                                         EncodeKey(v, spec.key_positions, key);
                                         rows.keyed[key] = d;
                                       } else {
                                         ++rows.multiset[d];
                                       }
                                       ++rows.rows;
                                       return after_row ? after_row() : Status::OK();
                                     }));
  return rows;
}

void ForEachShadowRowIn(const TableShadow& ts, const std::optional<KeyWindow>& window,
                        const std::function<void(std::string_view, const Digest128&)>& f) {
  if (!window) {
    ts.ForEachRow(f);
    return;
  }
  if (ts.spec().integer_key) {
    // [lo, hi) by the shadow's own range walk; an open end is the type's
    // limit, and INT64_MAX itself, above every half-open range, is looked up.
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    ts.ForEachIntegerRowIn(window->lo.value_or(std::numeric_limits<int64_t>::min()),
                           window->hi.value_or(kMax), f);
    if (window->hi) return;
    std::string key;
    EncodeIntegerKey(kMax, key);
    if (const auto d = ts.Find(key)) f(key, *d);
    return;
  }
  const size_t key_columns = ts.spec().key_positions.size();
  ts.ForEachRow([&](std::string_view k, const Digest128& d) {
    if (window->Contains(FirstKeyAsInteger(k, key_columns))) f(k, d);
  });
}

void DiffKeyed(const TableShadow& ts, const RowDigests& keyed, const StringSet& changed,
               Found& found, const std::optional<KeyWindow>& window) {
  // A spilled table: the target's keys met while the shadow's rows are
  // walked need no lookup of their own (a store read each) to be known
  // held; only the others are looked up.
  const bool spilled = ts.spilled();
  absl::flat_hash_set<std::string_view> held;
  if (spilled) held.reserve(keyed.size());
  ForEachShadowRowIn(ts, window, [&](std::string_view k, const Digest128& d) {
    auto it = keyed.find(k);
    if (spilled && it != keyed.end()) held.insert(it->first);
    if (changed.contains(k)) return;
    if (it == keyed.end()) {
      found.emplace_back(RowDivergence::kMissingOnTarget, std::string(k));
    } else if (!(it->second == d)) {
      found.emplace_back(RowDivergence::kDiffers, std::string(k));
    }
  });
  for (const auto& [k, d] : keyed) {
    if (changed.contains(k) || ts.IsUnresolved(k) || held.contains(k)) continue;
    if (!ts.Find(k)) found.emplace_back(RowDivergence::kExtraOnTarget, k);
  }
}

uint64_t InWindow(const StringSet& changed, const TableSpec& spec,
                  const std::optional<KeyWindow>& window) {
  if (!window || !spec.keyed()) return changed.size();
  uint64_t n = 0;
  for (const auto& k : changed) {
    n += window->Contains(FirstKeyAsInteger(k, spec.key_positions.size()));
  }
  return n;
}

void KeepFirstInKeyOrder(Found found, size_t n, Found& listed) {
  listed.insert(listed.end(), std::make_move_iterator(found.begin()),
                std::make_move_iterator(found.end()));
  const auto by_key = [](const auto& a, const auto& b) { return a.second < b.second; };
  if (listed.size() <= n) return;
  std::nth_element(listed.begin(), listed.begin() + static_cast<ptrdiff_t>(n), listed.end(),
                   by_key);
  listed.resize(n);
}

namespace {

// Each copy `counts` has beyond `other`'s, as one divergence of `kind`.
void Surplus(const DigestCounts& counts, const DigestCounts& other, const StringSet& changed,
             RowDivergence kind, Found& found) {
  for (const auto& [d, n] : counts) {
    if (changed.contains(d.ToHex())) continue;
    auto it = other.find(d);
    const int64_t there = it == other.end() ? 0 : it->second;
    for (int64_t i = there; i < n; ++i) found.emplace_back(kind, d.ToHex());
  }
}

}  // namespace

void DiffMultiset(const TableShadow& ts, const DigestCounts& multiset, const StringSet& changed,
                  Found& found) {
  DigestCounts shadow_counts;
  ts.ForEachRow([&](std::string_view, const Digest128& d) { ++shadow_counts[d]; });
  Surplus(shadow_counts, multiset, changed, RowDivergence::kMissingOnTarget, found);
  Surplus(multiset, shadow_counts, changed, RowDivergence::kExtraOnTarget, found);
}

}  // namespace pgparity::applier
