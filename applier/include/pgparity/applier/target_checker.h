// TargetChecker: the full check of the PostgreSQL 16 target against the
// shadow state, while both keep moving.
//
// The native apply worker commits source transactions one at a time in
// commit order and moves its origin's remote_lsn in the same commit, so a
// snapshot of the target equals the source's state after one particular
// commit. The checker brackets which one:
//   lo = max(remote_lsn read before the snapshot, minus one commit — the
//            origin moves just before the commit becomes visible —,
//            the subscription slot's confirmed_flush_lsn read before),
//   hi = max(lo, remote_lsn read inside the snapshot),
// scans every table inside that one REPEATABLE READ snapshot (parallel
// sessions importing it), and compares the table digests with the shadow's
// history at every data commit in (lo, hi] and at lo. One commit at which
// every table matches: consistent. None: the tables that do not match at
// the best commit are compared row by row (a second scan in the same
// snapshot), leaving out rows changed after lo — those may legitimately
// differ and are re-checked by the next check. Only rows that differ
// outside that set are divergence; so under load there is no false
// positive.
//
// A disabled subscription does not move: the target is compared with the
// source's current state instead (a lag is then a divergence).
//
// Read-only on both sides; it never pauses or alters the subscription.
// Thread-safety: one FullCheck at a time.
#ifndef PGPARITY_APPLIER_TARGET_CHECKER_H_
#define PGPARITY_APPLIER_TARGET_CHECKER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pgparity/applier/catalog.h"
#include "pgparity/applier/shadow_state.h"
#include "pgparity/applier/verify_report.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

// How far pgparity's own stream has got, published by the consumer thread.
struct StreamPosition {
  std::atomic<uint64_t> received{0};  // highest wal end seen (frames and keepalives)
  std::atomic<bool> idle{true};       // no transaction open or buffered
  std::atomic<bool> ended{false};     // the consumer stopped
};

struct CheckOptions {
  size_t parallel = 2;           // target sessions scanning at once
  size_t max_listed_rows = 100;  // divergent rows listed per table
  std::chrono::milliseconds pause_timeout{10000};
};

class TargetChecker {
 public:
  TargetChecker(ShadowState& shadow, const StreamPosition& stream, conn::ConnParams source,
                conn::ConnParams target, SubscriptionInfo subscription, CheckOptions options);
  ~TargetChecker();

  enum class Outcome {
    kDone,    // `report` holds a verdict
    kNotYet,  // the target (or pgparity's stream) is not far enough yet: `why`
  };
  // One full check. Errors: the sessions' (Unavailable, PermissionDenied...).
  Result<Outcome> FullCheck(VerifyReport& report, std::string& why,
                            std::chrono::steady_clock::time_point deadline);
  // The lower bound of the last conclusive check's window: no later check
  // compares below it, so the shadow's history up to it can go.
  wire::Lsn last_lower_bound() const { return last_lo_; }

 private:
  struct Scanned;
  Status Open();
  Status CompareRows(size_t table, const TargetTable& tt, wire::Lsn lo, TableReport& out);
  void DescribeDiffers(size_t table, const TargetTable& tt, DivergentRow& row,
                       std::string_view key_bytes);
  // A verdict reached without reading rows: the table or columns missing on
  // the target, not subscribed, a column type changed since the plan, a key
  // column not compared, partitions attached or detached on the source.
  // Tables whose changes the shadow skipped (ShadowState::untracked), as
  // unverified entries of `report`.
  Status ReportUntracked(conn::PgSession& target, VerifyReport& report);
  Result<std::optional<TableReport>> CheckBeforeScan(const TableSpec& spec, const TargetTable& tt);

  ShadowState& shadow_;
  const StreamPosition& stream_;
  conn::ConnParams source_params_;
  conn::ConnParams target_params_;
  SubscriptionInfo sub_;
  CheckOptions options_;
  wire::Lsn last_lo_;
  std::unique_ptr<conn::PgSession> source_;
  std::vector<std::unique_ptr<conn::PgSession>> target_;  // [0] exports the snapshot
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_TARGET_CHECKER_H_
