// Provenance: where the difference of one divergent row came from
// (docs/provenance.md).
//
//   - On the target: whether the row's last write came from the
//     subscription or from a local session — the replication origin and
//     commit time of the row's xmin (pg_xact_commit_timestamp_origin, which
//     needs track_commit_timestamp = on on the target; without it: unknown).
//   - On the source: the last commits that touched the key as pgparity's
//     own stream saw them (ShadowState::RecentTouches, a bounded log), each
//     with whether the subscription has applied past it (its origin's
//     remote_lsn).
//   - The subscription's health around the check: enabled, apply worker and
//     its latest_end_lsn, apply/sync error counts (PostgreSQL 15+), whether
//     its slot on the source is lost.
//   - A one-line diagnosis, by the rules of Diagnose.
//
// Use, per check: ProvenanceReader::Open once (the subscription's health is
// read once), then Explain per listed divergent row; put the result in the
// report as DivergentRow::provenance (report/row_provenance.h renders it).
//
// Nothing here fails a check: what cannot be read is reported as unknown,
// with the reason.
// Thread-safety: a ProvenanceReader is used by one thread at a time.
#ifndef PGPARITY_APPLIER_PROVENANCE_PROVENANCE_H_
#define PGPARITY_APPLIER_PROVENANCE_PROVENANCE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/catalog/subscription.h"
#include "pgparity/applier/report/row_provenance.h"
#include "pgparity/applier/report/verify_report.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/wire/lsn.h"
#include "pgparity/wire/timestamp.h"

namespace pgparity::applier {

struct ProvenanceOptions {
  size_t max_source_commits = 3;
};

class ProvenanceReader {
 public:
  // Reads the subscription's health, its origin's remote_lsn and (with a
  // `source` session) its slot's wal_status, and whether the target records
  // commit timestamps. Sessions are used only during the call.
  static ProvenanceReader Open(conn::PgSession& target, conn::PgSession* source,
                               const SubscriptionInfo& sub, ProvenanceOptions options = {});

  bool commit_timestamps() const { return commit_timestamps_; }
  const SubscriptionContext& subscription() const { return context_; }

  // The provenance of one divergent row of shadow table `table`: `row` as
  // the checker lists it (kind; key columns, or {"row_digest": hex} for a
  // table without key), `key_bytes` the shadow's key encoding (the row
  // digest hex without key), `target_relkind` the target table's relkind.
  // Reads the target's row by key with $n parameters on `target` (in the
  // check's snapshot if it is in one: a savepoint guards that transaction).
  // Locks `shadow` briefly. REQUIRES: the caller does not hold shadow.Lock().
  RowProvenance Explain(conn::PgSession& target, const ShadowState& shadow, size_t table,
                        char target_relkind, const DivergentRow& row,
                        std::string_view key_bytes) const;

 private:
  ProvenanceReader() = default;
  TargetWrite ReadTargetWrite(conn::PgSession& target, const TableSpec& spec, int64_t table_rows,
                              char relkind, const DivergentRow& row) const;
  std::vector<SourceCommit> SourceCommits(const ShadowState& shadow, size_t table,
                                          std::string_view key_bytes) const;

  SubscriptionInfo sub_;
  ProvenanceOptions options_;
  bool commit_timestamps_ = false;
  std::optional<std::string> commit_timestamps_unknown_;  // why not read
  SubscriptionContext context_;
};

// The one-line diagnosis, by the first rule that holds (most certain
// first; docs/provenance.md):
//   1. the target's row was written by a local session -> "local write on
//      the target at T (xid X), not by replication";
//   2. the subscription is disabled;
//   3. its slot on the source is lost;
//   4. a commit that touched the key is not applied on the target yet;
//   5. apply or sync errors on the subscription (since stats_reset);
//   6. no apply worker runs;
//   7. written by another replication origin;
//   8. otherwise "unknown", saying what is known (last written by the
//      subscription at T; no row on the target; no commit timestamps).
std::string Diagnose(const RowProvenance& p, RowDivergence kind);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_PROVENANCE_PROVENANCE_H_
