// Verify: the one-shot answer to "is the PostgreSQL 16 target exactly the
// source, as of the point the native subscription has reached?"
//
//   1. a temporary slot on the source with an exported snapshot;
//   2. bootstrap: every published table scanned inside that snapshot
//      (parallel sessions) into the shadow state, as of the slot's
//      consistent point;
//   3. the slot streamed (pgoutput, decoded by decoder/) into the shadow
//      state on a thread of its own;
//   4. full checks of the target (TargetChecker) until one is conclusive:
//      the target has applied past the bootstrap point, one snapshot of it
//      matches a commit of the shadow's history, or rows differ outside
//      the rows still in flight;
//   5. the temporary slot goes with the replication connection.
// Read-only on the target; on the source it creates only the temporary slot.
// Steps 1-3 and 5 are CheckSession's (check_session.h), which audit shares.
#ifndef PGPARITY_APPLIER_VERIFY_VERIFY_H_
#define PGPARITY_APPLIER_VERIFY_VERIFY_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "pgparity/applier/audit/change_checker.h"
#include "pgparity/applier/report/verify_report.h"
#include "pgparity/applier/scan/key_ranges.h"
#include "pgparity/applier/shadow/memory_limit.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct VerifyOptions {
  // Both servers, parsed at the command line's edge (conn::ParseServerDsn).
  conn::ConnParams source;
  conn::ConnParams target;
  std::string publication = "my_publication";
  std::optional<std::string> subscription;  // nullopt: the one subscribing to the publication
  std::chrono::seconds timeout{300};        // for everything after the bootstrap
  size_t parallel = 2;                      // sessions per side scanning tables (--jobs)
  // A table is cut into key ranges (key_ranges.h) no smaller than this, on
  // both sides; tests lower it to split small tables.
  double min_range_rows = kMinRangeRows;
  size_t max_listed_rows = 100;
  ValueOptions values;  // --max-value-bytes, --redact
  // "HOST:PORT": serve /metrics (Prometheus) and /status (the report)
  // there while running; "" = no server.
  std::string metrics_listen;
  // --memory-limit (0: none). Tables beyond it spill to a row store in a
  // temporary directory under `store_parent` (TMPDIR when empty), removed
  // when the session ends.
  MemoryBudget memory;
  std::filesystem::path store_parent;
};

// The parts of RunVerify, for callers that act between them (tests make
// changes on the source after the bootstrap and before the check).
class VerifySession {
 public:
  // Connects, reads both catalogs, creates the temporary slot, bootstraps
  // the shadow state and starts streaming. Errors as RunVerify's.
  static Result<std::unique_ptr<VerifySession>> Start(const VerifyOptions& options);
  ~VerifySession();  // stops the stream; the temporary slot goes with it

  // Full checks until one is conclusive or `timeout` passes (see RunVerify).
  Result<VerifyReport> Check(std::chrono::seconds timeout);

  // The incremental check (pgparity cutover's): every row the source
  // changed in commits ending at or before `lsn` and not compared yet —
  // since the last consistent Check(), or the last call — read by key on
  // the target and compared with the shadow: a cost that follows the
  // changes, not the tables' size. Waits until the stream has decoded up to
  // `lsn` and the subscription has applied it (its slot confirmed past it).
  // Calls before a fence keep the last one short. Returns this call's
  // divergent rows and rows compared; `left_to_full_check` holds every table
  // with a change since the last consistent Check() it could not compare by
  // key (no key, a TRUNCATE, an unchanged TOAST value). Errors:
  // FailedPrecondition (no consistent Check() before), DeadlineExceeded
  // (saying how far stream and target got), the stream's or a server's.
  Result<ChangeRound> CheckChangesThrough(wire::Lsn lsn,
                                          std::chrono::steady_clock::time_point deadline);

  // The shadow state's counters (transactions and changes applied since
  // the bootstrap, unresolved rows over all tables).

  struct Counters {
    uint64_t transactions = 0;
    uint64_t changes = 0;
    uint64_t unresolved_rows = 0;
    uint64_t anomalies = 0;
  };
  Counters counters() const;

  struct Impl;

 private:
  explicit VerifySession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The verdict, or an error: InvalidArgument (a DSN), NotFound /
// FailedPrecondition (publication, subscription, slot budget),
// Unavailable / Unauthenticated (connections), DeadlineExceeded (the target
// did not catch up within the timeout; the message says how far it got).
// A report whose status is incomplete comes with its reasons per table.
Result<VerifyReport> RunVerify(const VerifyOptions& options);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_VERIFY_VERIFY_H_
