// The target's rows of a set of keys, read for the per-change checks
// (ChangeChecker): by key, in batches, their digests over the compared
// columns, read by row_read's rules.
//
// A table keyed by one integer column reads each dense run of the keys
// (key_runs.h) by one range query and keeps only the rows of keys it was
// asked for: a row in the range whose key was not asked for may be in
// flight, and is never in the result. Other keys are read by IN lists.
// Either way the result is the same.
//
// Given several sessions, a batch of at least `parallel_min_keys` keys is
// read on all of them at once, its runs (and IN lists) shared out in
// parts of about equal keys: the keys are read at different moments, which
// the per-change checks allow (each key's row is one the target showed
// between the round's two readings of its applied position).
#ifndef PGPARITY_APPLIER_AUDIT_TARGET_ROWS_H_
#define PGPARITY_APPLIER_AUDIT_TARGET_ROWS_H_

#include <absl/container/flat_hash_map.h>

#include <span>
#include <string>
#include <vector>

#include "pgparity/applier/audit/key_runs.h"
#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/applier/shadow/row_key.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/digest/digest128.h"
#include "pgparity/result.h"

namespace pgparity::applier {

// Key encoding (row_key.h) -> digest of the row's compared columns.
using TargetRowDigests = absl::flat_hash_map<std::string, digest::Digest128, RowKeyHash, RowKeyEq>;

struct TargetRowReadOptions {
  // Keys of one IN-list SELECT.
  size_t keys_per_select = 500;
  // Dense runs read by range; use_ranges false: every key by IN list.
  bool use_ranges = true;
  KeyRunOptions runs;
  // Keys from which a batch is read on every session given (below, none).
  size_t parallel_min_keys = 50'000;
};

// The target's rows of `keys` (key encodings of `spec`), by key; keys
// without a row there are absent. Reads the table as partitioned or not
// by spec.target_relkind.
Result<TargetRowDigests> ReadTargetRowDigests(conn::PgSession& target, const TableSpec& spec,
                                              std::span<const std::string> keys,
                                              const TargetRowReadOptions& options = {});
// The same, on `sessions` (one thread each) when `keys` are at least
// options.parallel_min_keys, else on the first.
Result<TargetRowDigests> ReadTargetRowDigests(std::vector<conn::PgSession*> sessions,
                                              const TableSpec& spec,
                                              std::span<const std::string> keys,
                                              const TargetRowReadOptions& options = {});
// The same, added to `rows` (a key read again keeps its newer row).
[[nodiscard]] Status ReadTargetRowDigestsInto(std::vector<conn::PgSession*> sessions,
                                              const TableSpec& spec,
                                              std::span<const std::string> keys,
                                              TargetRowDigests& rows,
                                              const TargetRowReadOptions& options = {});

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_AUDIT_TARGET_ROWS_H_
