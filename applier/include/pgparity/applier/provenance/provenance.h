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
// report with ProvenanceJson (provenance_json.h) and ProvenanceLine.
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
#include "pgparity/applier/catalog/subscription_stats.h"
#include "pgparity/applier/report/verify_report.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/wire/lsn.h"
#include "pgparity/wire/timestamp.h"

namespace pgparity::applier {

// Who wrote the target's row last.
enum class TargetOrigin {
  kLocal,         // origin 0: a local session on the target
  kSubscription,  // the subscription's origin (pg_<suboid>)
  kOtherOrigin,   // another replication origin (another subscription...)
  kUnknown,       // no commit timestamps, or not recorded for this xmin
  kNoRow,         // the target has no such row (missing_on_target)
};
// "local", "subscription", "other_origin", "unknown", "no_row".
std::string_view TargetOriginName(TargetOrigin origin);

struct TargetWrite {
  TargetOrigin origin = TargetOrigin::kUnknown;
  std::optional<std::string> xmin;         // the row version's xmin
  std::optional<std::string> commit_time;  // of xmin, ISO 8601 UTC
  std::optional<std::string> origin_name;  // pg_replication_origin.roname
  std::string note;                        // why unknown; what no row means
};

// A commit of the source that touched the row's key, as pgparity's stream
// saw it.
struct SourceCommit {
  wire::Lsn commit_lsn;
  wire::Lsn end_lsn;
  uint32_t xid = 0;
  wire::Timestamp commit_time;
  char op = 'I';  // 'I', 'U', 'D', 'T' (truncate)
  // remote_lsn >= end_lsn; nullopt when remote_lsn could not be read.
  std::optional<bool> applied_on_target;
};
// "insert", "update", "delete", "truncate".
std::string_view OperationName(char op);

// The subscription around the check.
struct SubscriptionContext {
  std::string name;
  std::optional<SubscriptionHealth> health;  // nullopt: could not be read (see unknown)
  std::optional<wire::Lsn> remote_lsn;       // its origin's applied position
  // The slot's wal_status on the source ("reserved", ..., "lost"); "missing"
  // when the source has no such slot; nullopt when not read.
  std::optional<std::string> slot_wal_status;
  std::vector<std::string> unknown;  // what could not be read, and why
};

struct RowProvenance {
  TargetWrite target;
  std::vector<SourceCommit> source_commits;  // newest first
  SubscriptionContext subscription;
  std::string diagnosis;  // one line (Diagnose)
};

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
  TargetWrite ReadTargetWrite(conn::PgSession& target, const TableSpec& spec, char relkind,
                              const DivergentRow& row) const;
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

// "provenance: <diagnosis>" — the one line the text output prints under
// the row.
std::string ProvenanceLine(const RowProvenance& p);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_PROVENANCE_PROVENANCE_H_
