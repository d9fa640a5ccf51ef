// Cutover: switch the application from the source to the target through
// PgBouncer, with nothing lost and the window measured (docs/cutover.md).
//
// Phases, each timed in the report:
//   1 gates      preflight's blocking findings, PgBouncer's entry pointing at
//                the source, the fence's rights, no prepared transaction;
//   2 catch_up   the subscription's slot within max_lag bytes of the
//                source's WAL;
//   3 pre_check  a full verify, consistent; its stream keeps running, and
//                two rounds of the change check bring it up to date, so
//                that the final check covers only seconds of changes;
//   4 fence      PgBouncer PAUSE (clients wait), then the source refuses
//                writes from every role (SourceFence), the fence LSN;
//   5 drain      the subscription confirmed past the fence;
//   6 final_check every row changed since the pre-check compared by key
//                at the fence (VerifySession::CheckChangesThrough); a full
//                check only with full_final_check;
//   7 sequences  the target's sequences set from the fenced source's, and
//                no write slipped past the fence;
//   - reverse    (--reverse) replication from the target back to the source;
//   8 switch     PgBouncer's entry rewritten to the target, the target's
//                database writable (a rollback's target was fenced), RELOAD,
//                RESUME; the source stays read-only.
// A failure in any phase aborts: the source writable again, PgBouncer
// resumed on the source, the file as it was, the subscription untouched.
// dry_run stops after phase 3.
//
// Thread-safety: RunCutover from one thread; a canary runs on its own.
#ifndef PGPARITY_APPLIER_CUTOVER_CUTOVER_H_
#define PGPARITY_APPLIER_CUTOVER_CUTOVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pgparity/applier/cutover/canary.h"
#include "pgparity/applier/cutover/sequence_copy.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"
#include "pgparity/status.h"

namespace pgparity::applier {

struct CutoverReport;

struct CutoverOptions {
  conn::ConnParams source;
  conn::ConnParams target;
  conn::ConnParams pgbouncer;  // its admin console (dbname=pgbouncer)
  std::string pgbouncer_database = "appdb";
  std::string pgbouncer_config;  // the file holding that database's entry
  // Where PgBouncer is to reach the target, when not the target DSN's own
  // host, port and dbname (PgBouncer elsewhere on the network).
  std::optional<std::string> pgbouncer_target_host;
  std::optional<int> pgbouncer_target_port;
  std::string publication = "my_publication";
  std::optional<std::string> subscription;
  int64_t max_lag = 1 << 20;               // bytes, catch-up's goal
  std::chrono::seconds timeout{60};        // per phase
  std::chrono::seconds pause_timeout{10};  // PAUSE waiting for transactions in flight
  int64_t sequence_margin = 0;
  bool dry_run = false;
  bool full_final_check = false;
  // Replication back from the target to the source, started before the
  // switch (way_back.h): a rollback loses nothing.
  bool reverse = false;
  std::string reverse_name = "pgparity_reverse";
  // How the source server reaches the target (its CONNECTION); default: the
  // --target DSN.
  std::optional<conn::ConnParams> reverse_conninfo;
  size_t parallel = 2;
  // Measure what the application sees: a canary through this DSN
  // (PgBouncer's application database) from the gates to after the switch.
  std::optional<conn::ConnParams> canary;
  // Called when a phase starts and ends (progress lines).
  std::function<void(const std::string& line)> progress;
  // Called just before each phase runs, with its name; a non-OK status
  // fails the phase with it. For tests that change a real server between
  // phases (a row on the target, a disabled subscription) to drive each
  // abort path.
  std::function<Status(std::string_view phase)> before_phase;
  // Called when a phase starts and when it ends, on the cutover's thread,
  // with the report so far (`current_phase` set while one runs): the live
  // page of --metrics-listen publishes it.
  std::function<void(const CutoverReport& so_far)> on_update;
};

struct CutoverPhase {
  std::string name;            // "gates", "catch_up", ...
  std::string started, ended;  // UTC, ISO 8601
  double seconds = 0;
  std::string outcome;  // "ok", "failed", "skipped"
  std::string detail;
};

struct CutoverReport {
  std::string status;         // "switched", "aborted", "dry_run"; "" while running
  std::string current_phase;  // the phase running; "" between phases and after
  std::string failed_phase;
  std::string reason;
  Status failure;          // the abort's cause (OK unless aborted)
  bool divergent = false;  // the pre-check or final check found rows differing
  std::vector<CutoverPhase> phases;
  std::string fence_lsn;
  int terminated_sessions = 0;
  // PAUSE returned -> RESUME returned: the window clients waited through.
  double window_seconds = 0;
  uint64_t pre_check_change_rows = 0;              // changed rows compared before the window
  uint64_t final_check_rows = 0;                   // inside it
  std::vector<std::string> final_check_divergent;  // "table key: kind"
  std::vector<SequenceCopied> sequences;
  std::vector<std::string> restored;  // what the abort put back
  std::vector<std::string> notes;     // what the switch changed beyond PgBouncer
  std::vector<std::string> plan;      // dry run: what the cutover would do
  std::optional<CanaryStats> canary;
  std::optional<CanaryCheck> canary_check;
};

// Runs the cutover. The report is returned whether it switched, aborted or
// was a dry run; `status` (Result's error) is for what stops it before any
// change: bad options. An abort's cause is report.reason, and its code
// CutoverStatus(report).
Result<CutoverReport> RunCutover(const CutoverOptions& options);

// The abort's cause as a Status (OK when switched or dry run): the code of
// the failure (DeadlineExceeded for a timeout, FailedPrecondition for a
// divergence — report.divergent says which — ...), with "<phase>: <reason>"
// as message.
Status CutoverStatus(const CutoverReport& report);

// The JSON report (docs/cli.md, "cutover"); "status" is "running" until
// the cutover ends.
std::string CutoverReportJson(const CutoverReport& report);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CUTOVER_CUTOVER_H_
