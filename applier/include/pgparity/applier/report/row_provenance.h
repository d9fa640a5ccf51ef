// RowProvenance: where the difference of one divergent row came from, as
// the report holds and prints it (docs/provenance.md). The data only and
// its two printed forms; applier/provenance/ reads it from the servers and
// the shadow (ProvenanceReader) and decides its one-line diagnosis.
#ifndef PGPARITY_APPLIER_REPORT_ROW_PROVENANCE_H_
#define PGPARITY_APPLIER_REPORT_ROW_PROVENANCE_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/catalog/subscription_stats.h"
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
  // when the source has no such slot; nullopt when not read, or on a source
  // before PostgreSQL 13 (no wal_status).
  std::optional<std::string> slot_wal_status;
  std::vector<std::string> unknown;  // what could not be read, and why
};

struct RowProvenance {
  TargetWrite target;
  std::vector<SourceCommit> source_commits;  // newest first
  SubscriptionContext subscription;
  std::string diagnosis;  // one line (Diagnose)
};

// "provenance: <diagnosis>" — the one line the text output prints under
// the row.
std::string ProvenanceLine(const RowProvenance& p);

// The JSON form (docs/provenance.md): {"target", "source_commits",
// "subscription", "diagnosis"}, keys in that order.
nlohmann::ordered_json ProvenanceJson(const RowProvenance& p);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_REPORT_ROW_PROVENANCE_H_
