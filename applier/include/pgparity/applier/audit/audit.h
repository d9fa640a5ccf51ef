// Audit: verify continuously, for the whole life of a migration.
//
// Like verify, but with a persistent slot and a state directory:
//   - first run: the slot is created with an exported snapshot, the shadow
//     state bootstrapped and checkpointed to DIR/shadow.ckpt at the slot's
//     consistent point;
//   - while it runs: every decoded commit moves the shadow state; every
//     checkpoint interval the state is checkpointed (at a transaction
//     boundary, atomically; after the first, a delta of the rows changed
//     since the last full one while that is at most a quarter of them) and
//     the slot confirmed up to that commit — never further; every check interval the target gets a
//     full check (TargetChecker) and the report file is replaced atomically; in between, every
//     second, the rows of the commits the target applied since are compared by key (ChangeChecker);
//   - after kill -9 or a crash: the checkpoint is loaded and the slot
//     streams from its confirmed position; commits the checkpoint already
//     holds are skipped, so nothing is lost or counted twice;
//   - on stop (SIGTERM/SIGINT): a last checkpoint, the slot confirmed, exit;
//   - when the tables the state was made from change (a column added,
//     dropped or retyped, a table joining or leaving the publication
//     (dropped too), partitions attached or detached, a checkpoint that no
//     longer fits): with
//     OnSchemaChange::kRestart, the slot dropped, the state removed and a
//     new bootstrap, in the same run; with kStop, SchemaChanged.
// The sides, the stream and the metrics are CheckSession's
// (check_session.h), as verify's are.
// The target is only read. The slot keeps WAL on the source while the
// audit is stopped: drop it when the migration is over.
#ifndef PGPARITY_APPLIER_AUDIT_AUDIT_H_
#define PGPARITY_APPLIER_AUDIT_AUDIT_H_

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>

#include "pgparity/applier/report/verify_report.h"
#include "pgparity/applier/shadow/memory_limit.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/status.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::applier {

// What audit does when the tables its state was made from change under it:
// a published table's columns or their types (ALTER TABLE, found on the
// stream or in the checkpoint a restart loads), or a table joining or
// leaving the publication.
enum class OnSchemaChange {
  kRestart,  // start over in the same run: slot dropped, state removed, a new bootstrap
  kStop,     // exit with a SchemaChanged error naming the table and the fix
};

struct AuditOptions {
  // Both servers, parsed at the command line's edge (conn::ParseServerDsn).
  conn::ConnParams source;
  conn::ConnParams target;
  std::string state_dir;
  std::string publication = "my_publication";
  std::string slot = "pgparity_audit";
  std::optional<std::string> subscription;
  std::string report_path;  // "" = <state_dir>/report.json
  std::chrono::seconds check_interval{30};
  std::chrono::seconds checkpoint_interval{10};
  // Between full checks: how often the rows of newly applied commits are
  // compared on the target (ChangeChecker).
  std::chrono::milliseconds change_interval{1000};
  // Stop once every commit ending at or before it is in the shadow and the
  // per-change checks have compared the rows those commits changed (they
  // wait for the target to apply them); then, as on a stop request, a last
  // checkpoint and OK. A catch-up's end (bench/audit_catchup.sh); unset:
  // run until stopped.
  std::optional<wire::Lsn> until_lsn;
  // --scan-rate: instead of full checks every check_interval, the rolling
  // check (rolling_check.h) walks the tables range by range, reading at
  // most this many rows per second from the target; 0 = full checks.
  double scan_rate = 0;
  std::chrono::seconds scan_window{10};  // a range holds about scan_rate x this many rows
  size_t parallel = 2;
  // --memory-limit (0: none): tables beyond it spill to the row store in
  // <state_dir>/store, checkpointed with the shadow (shadow_checkpoint.h).
  MemoryBudget memory;
  size_t max_listed_rows = 100;
  ValueOptions values;  // --max-value-bytes, --redact
  // "HOST:PORT": serve /metrics (Prometheus) and /status (the report)
  // there while running; "" = no server.
  std::string metrics_listen;
  OnSchemaChange on_schema_change = OnSchemaChange::kRestart;
  // Called after each full check that reached a verdict (tests, metrics).
  std::function<void(const VerifyReport&)> on_report;
};

// Runs until a stop is requested on `stop` (OK, after the final
// checkpoint; the request wakes the waits at once) or an error retrying
// cannot fix: InvalidArgument, NotFound, FailedPrecondition
// (slot and state directory do not belong together), SchemaChanged (with
// OnSchemaChange::kStop; kRestart starts over instead), Unauthenticated,
// Unavailable (the source gone for good), IOError (the state directory).
// A target that goes away is retried at the next check.
Status RunAudit(const AuditOptions& options, std::stop_token stop);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_AUDIT_AUDIT_H_
