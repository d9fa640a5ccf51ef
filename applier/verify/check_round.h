// Internal to verify/: what one check of TargetChecker holds while it runs
// (the tables, the bracketed window of commits, the target's digests) and
// the guard that ends the target sessions' snapshot transactions — shared
// by the full check (target_checker.cc) and the rolling check's ranges
// (range_check.cc).
#ifndef PGPARITY_APPLIER_VERIFY_CHECK_ROUND_H_
#define PGPARITY_APPLIER_VERIFY_CHECK_ROUND_H_

#include <memory>
#include <optional>
#include <vector>

#include "pgparity/applier/verify/target_checker.h"

namespace pgparity::applier {

// Ends the snapshot transactions of the target sessions on every path.
struct SnapshotGuard {
  std::vector<std::unique_ptr<conn::PgSession>>& sessions;
  ~SnapshotGuard() {
    for (auto& s : sessions) {
      if (PQtransactionStatus(s->get()) != PQTRANS_IDLE) s->Exec("ROLLBACK").IgnoreError();
    }
  }
};

struct TargetChecker::Round {
  std::vector<TableSpec> specs;     // as the shadow tracks them
  std::vector<TargetTable> target;  // as the target has them, in specs order
  // The window of commits the snapshot may be: (lo, hi], and lo itself.
  wire::Lsn lo, hi;
  std::optional<wire::Lsn> remote_after;  // remote_lsn read inside the snapshot
  // The target has not applied past pgparity's start: only a match, or a
  // table or column missing, is conclusive.
  bool behind = false;
  std::vector<std::optional<TableReport>> verdict;                // decided before the scan
  std::vector<std::optional<digest::TableDigest>> target_digest;  // scanned in the snapshot
  std::vector<KeySplit> splits;  // how each scanned table was read (key ranges)
  // The commit at which the most tables match, and the shadow's digests there.
  wire::Lsn best_lsn;
  std::vector<digest::TableDigest> at_best;
  bool all_match = false;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_VERIFY_CHECK_ROUND_H_
