// The steps of a CheckSession (check_session.h) before it streams: open
// both sides, read the publication's tables and find the subscription
// (OpenSides), and the bootstrap scan of the source inside a slot's
// exported snapshot (BootstrapShadow). Part of session/.
#ifndef PGPARITY_APPLIER_SESSION_SESSION_SETUP_H_
#define PGPARITY_APPLIER_SESSION_SESSION_SETUP_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pgparity/applier/catalog/catalog.h"
#include "pgparity/applier/scan/key_ranges.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/conn/replication_connection.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct Sides {
  conn::ConnParams source_params;
  conn::ConnParams target_params;
  std::optional<conn::PgSession> source;
  std::optional<conn::PgSession> target;
  std::vector<TableSpec> specs;
  SubscriptionInfo sub;
};

// Connects to both servers (errors name the side), loads the publication's
// tables and finds the subscription, and reads its applied position once so
// that a missing privilege fails before any slot exists.
Result<Sides> OpenSides(const conn::ConnParams& source, const conn::ConnParams& target,
                        const std::string& publication,
                        const std::optional<std::string>& subscription);

// Scans every table of `shadow` on `scan.jobs` sessions that import the
// slot's exported snapshot, big tables in key ranges (key_ranges.h); the
// shadow is then the source as of the slot's consistent point (its base
// point). Unless a table was truncated or rewritten after the snapshot,
// before its scan read it (rewritten_tables.h): the scans stop, the
// shadow's rows (not the snapshot's) are cleared, the result names the
// table, and the caller needs a new slot.
struct Bootstrapped {
  std::string rewritten;  // "" when every table was read as of the snapshot
};
Result<Bootstrapped> BootstrapShadow(const conn::ConnParams& source, const conn::CreatedSlot& slot,
                                     const ScanPlanOptions& scan, ShadowState& shadow);

// How long a check's read of the target waits for a lock.
inline constexpr int kCheckLockTimeoutMs = 5000;

// A read-only session on the target for the checks (full, rolling,
// per-change), whose statements wait at most kCheckLockTimeoutMs for a
// lock. DDL on the target (ALTER TABLE ... TYPE) queues for its lock
// behind a check's snapshot transaction, and the check's next read of that
// table on another session queues behind the DDL: without a timeout each
// waits for the other for ever — a deadlock PostgreSQL cannot see, as the
// snapshot is released by pgparity only when its reads end — and holds up
// the DDL and every query queued behind it (seen in the corpus). With it
// the read fails, the check ends and is retried at the next.
Result<std::unique_ptr<conn::PgSession>> ConnectCheckReader(const conn::ConnParams& target);

// The current UTC time, ISO 8601 ("2026-12-01T08:57:41Z").
std::string UtcNow();

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SESSION_SESSION_SETUP_H_
