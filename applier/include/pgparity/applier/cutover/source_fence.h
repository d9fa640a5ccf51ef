// The fence of cutover's phase 4 (issue 13): the source database made to
// refuse writes from every role, not only the pooler's, and a detector of
// any write that slips past it.
//
// The fence is default_transaction_read_only = on set on the database (it
// reaches only new sessions, so every other client session of the database
// is terminated), and prepared transactions must be none (a COMMIT PREPARED
// writes whatever the setting). A session may still SET it off: a fence
// against accidents, not against a hostile role — which is why a temporary
// test_decoding slot, created once the writers are gone, decodes every
// commit after the fence LSN, and WritesSinceFence names what it saw.
//
// The fence never lowers itself: the orchestrator calls Lower (abort) or
// Keep (the switch succeeded). Thread-safety: one thread at a time (it owns
// one PgSession).
#ifndef PGPARITY_APPLIER_CUTOVER_SOURCE_FENCE_H_
#define PGPARITY_APPLIER_CUTOVER_SOURCE_FENCE_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"
#include "pgparity/status.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::applier {

struct FenceOptions {
  std::chrono::milliseconds timeout{10000};  // for the terminated sessions to go
  // Sessions whose application_name starts with one of these are not terminated
  // (pgparity's own: "pgparity"; their sessions are read-only).
  std::vector<std::string> keep_application_prefixes = {"pgparity"};
};

// What a raised fence did, for the report.
struct FenceRecord {
  wire::Lsn lsn;       // the fence: every write acknowledged before the fence ends at or before it
  int terminated = 0;  // client sessions of the database terminated
  std::optional<std::string> previous;  // the database's own default_transaction_read_only
                                        // setting before (nullopt: none)
};

// Makes the source database refuse writes from every role, not only the pooler's, and
// detects any write that slips past it. Holds its own session on the source.
class SourceFence {
 public:
  [[nodiscard]] static Result<std::unique_ptr<SourceFence>> Open(const conn::ConnParams& source,
                                                                 FenceOptions options);
  ~SourceFence();  // does NOT lower the fence (the orchestrator decides); logs a warning if raised
  SourceFence(const SourceFence&) = delete;
  SourceFence& operator=(const SourceFence&) = delete;

  // The gate before fencing: FailedPrecondition naming the gids when prepared transactions of
  // this database exist (a later COMMIT PREPARED would write past the fence); PermissionDenied
  // with the GRANT/ALTER when the role cannot ALTER DATABASE (owner or superuser), terminate other
  // roles' sessions (pg_signal_backend; superusers' sessions only by a superuser), see them
  // (pg_read_all_stats: without it their backend_type is hidden) or create a logical slot
  // (REPLICATION).
  [[nodiscard]] Status Check();
  // 1) ALTER DATABASE <db> SET default_transaction_read_only = on (remembering the previous
  //    database-level value from pg_db_role_setting, setrole = 0, exactly);
  // 2) pg_terminate_backend every client backend of this database (backend_type = 'client backend')
  //    except its own and keep_application_prefixes; walsenders and the subscription are never
  //    touched;
  // 3) waits until they are gone (timeout → DeadlineExceeded; the caller lowers);
  // 4) prepared transactions again (FailedPrecondition);
  // 5) creates a TEMPORARY logical slot with test_decoding on its own session (the write detector)
  //    and returns its consistent point as the fence LSN: every commit after it is decoded by the
  //    slot. Its creation waits for transactions holding an xid anywhere on the server; bounded
  //    by the timeout too (DeadlineExceeded).
  // A second Raise without Lower: FailedPrecondition.
  [[nodiscard]] Result<FenceRecord> Raise();
  // Tables written since the fence: peeks the detector slot (pg_logical_slot_peek_changes, never
  // get: it stays re-readable) and returns "schema.table" of each INSERT/UPDATE/DELETE/TRUNCATE
  // decoded, distinct, at most 10; empty when none. FailedPrecondition when not raised.
  [[nodiscard]] Result<std::vector<std::string>> WritesSinceFence();
  // Restores the database's previous setting exactly (RESET when there was none), drops the
  // detector slot. Idempotent; safe after a partial Raise (reconnects when the session was lost:
  // a temporary slot goes with its session).
  [[nodiscard]] Status Lower();
  // Leaves the database read-only (the switch succeeded) but drops the detector slot.
  [[nodiscard]] Status Keep();
  const std::string& database() const { return database_; }

 private:
  SourceFence(conn::ConnParams params, conn::PgSession session, FenceOptions options,
              std::string database);
  Status CheckPreparedTransactions();
  Status CheckRights();
  Status Alter(const std::optional<std::string>& value);
  Result<std::vector<int64_t>> TerminateClients();
  Status WaitGone(const std::vector<int64_t>& pids);
  Result<wire::Lsn> CreateDetector();
  Status DropDetector();
  Status EnsureSession();

  conn::ConnParams params_;
  conn::PgSession session_;
  FenceOptions options_;
  std::string database_;
  std::string slot_;                     // the detector's name; "" when none exists
  bool altered_ = false;                 // the ALTER DATABASE may have run: Lower restores
  bool kept_ = false;                    // Keep: read-only on purpose
  std::optional<std::string> previous_;  // the setting before, when altered_
};

// The tables test_decoding's lines write: "table <schema>.<name>: INSERT:|UPDATE:|DELETE:|
// TRUNCATE: ..." (TRUNCATE may list several, ", "-separated), identifiers as
// quote_identifier prints them ("My Schema"."t" stays quoted). Distinct, in the order first
// seen, at most `limit`. BEGIN, COMMIT and message lines are no writes. Corruption naming the
// line when a "table " line cannot be parsed: a detector does not guess.
[[nodiscard]] Result<std::vector<std::string>> TablesWrittenInTestDecoding(
    const std::vector<std::string>& lines, size_t limit = 10);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CUTOVER_SOURCE_FENCE_H_
