// --memory-limit: how much memory the shadow state may take before its rows
// go to the on-disk RowStore (row_store.h), and how that limit is shared.
//
// Of the limit, half is for the in-memory tables' hash maps (beyond it the
// largest tables spill), a quarter for the store's cache (its memtables
// included), an eighth for the target rows the per-change checks read
// ahead of a lagging stream (change_checker.h) — and before them, for what
// a restarted audit receives while its checkpoint loads (check_session.h)
// —, an eighth for the target
// rows of one key range of a spilled table a full check compares row by
// row (target_checker.h); a sixteenth more for the changes of streamed
// transactions prepared before their commit; the rest and a fixed
// overhead (the process, libpq's buffers, the history between checks, the
// touch log) are measured in bench/README.md ("Scale") and documented in
// docs/cli.md.
#ifndef PGPARITY_APPLIER_SHADOW_MEMORY_LIMIT_H_
#define PGPARITY_APPLIER_SHADOW_MEMORY_LIMIT_H_

#include <cstddef>
#include <string_view>

#include "pgparity/result.h"

namespace pgparity::applier {

struct MemoryBudget {
  size_t limit = 0;  // bytes; 0: no limit, nothing ever spills

  bool limited() const { return limit != 0; }
  size_t maps() const { return limit / 2; }
  size_t store_cache() const;  // limit / 4, at least 8 MiB
  // limit / 8 (128 MiB without a limit), at least 4 MiB.
  size_t read_ahead() const;
  // limit / 8, at least 4 MiB; 0 without a limit (nothing spills).
  size_t row_comparison() const;
  // limit / 16 (64 MiB without a limit), at least 4 MiB: the changes of
  // open streamed transactions prepared before their commit
  // (prepared_changes.h), beyond the shares above.
  size_t prepared_changes() const;

 private:
  size_t eighth() const;  // limit / 8, at least 4 MiB
};

// The default limit: 1 GiB or a quarter of the memory this process may use
// (the machine's RAM, or its cgroup's memory.max when lower), whichever is
// smaller.
size_t DefaultMemoryLimit();

// "256MiB", "1GiB", "512MB" (10^6), "100k", "1073741824" (bytes), "0" (no
// limit). InvalidArgument naming the text and the accepted forms.
Result<size_t> ParseByteSize(std::string_view text);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_MEMORY_LIMIT_H_
