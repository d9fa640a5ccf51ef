// Preflight: is a PostgreSQL 14 -> 16 logical-replication migration ready?
//
// Runs read-only checks against the source (publisher) and the target
// (subscriber) through two plain SQL sessions and returns every finding:
// server settings and their budgets (replication slots, WAL senders,
// workers, origins), replica identities, the published tables' schema on the
// target, what logical replication does not carry (unlogged and temporary
// tables, large objects, sequences), what delays slot creation (prepared and
// long-running transactions), and, when a subscription exists, its state,
// its tables' copy states and its slot on the source, plus every other slot
// retaining WAL there.
//
// Nothing is changed on either server: both sessions are switched to
// default_transaction_read_only and bounded by statement_timeout and
// lock_timeout, no slot is created, only catalogs and views are read (plus
// one `SELECT 1 ... LIMIT 1` per published target table while no
// subscription exists, to see whether it is empty).
//
// Formatting is separate: preflight_render.h.
//
// Thread-safety: a Preflight uses its two sessions from the calling thread.
#ifndef PGPARITY_APPLIER_PREFLIGHT_PREFLIGHT_H_
#define PGPARITY_APPLIER_PREFLIGHT_PREFLIGHT_H_

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"
#include "pgparity/status.h"

namespace pgparity::applier {

enum class Severity {
  kBlocking,  // the migration fails or loses changes until it is fixed
  kWarning,   // works, but something is not carried over or costs disk/time
  kInfo,      // a measurement (budgets, sequence values, copy progress)
};

// "blocking", "warning", "info".
std::string_view SeverityName(Severity severity);

struct Finding {
  std::string check;  // stable identifier, e.g. "replica_identity" (docs/cli.md)
  Severity severity = Severity::kInfo;
  std::string object;  // what it concerns: "public.users", "source max_wal_senders", ...
  std::string detail;  // what was found
  std::string fix;     // what to do; "" when nothing is to be done
};

struct PreflightReport {
  std::vector<Finding> findings;
  std::string source;  // "host:port/dbname"
  std::string source_version;
  std::string target;
  std::string target_version;
  std::string publication;
  std::string subscription;  // "" when none was checked

  int Count(Severity severity) const;
  // No blocking finding.
  bool ready() const { return Count(Severity::kBlocking) == 0; }
};

// The commands PreflightOptions::commands may name, in the order of
// docs/privileges.md; "repair" is the dry run, "repair-apply" repair --apply.
std::span<const std::string_view> PrivilegeCommands();

struct PreflightOptions {
  std::string publication = "my_publication";
  // nullopt: "my_subscription" when it exists on the target, else no
  // subscription checks. Given but missing on the target: NotFound.
  std::optional<std::string> subscription;
  // Source transactions open longer than this are reported.
  std::chrono::seconds long_transaction{300};
  // The commands to check the roles' privileges for (docs/privileges.md;
  // PrivilegeCommands()): each missing grant is a blocking
  // "privileges" finding with its GRANT. Empty: no privilege check.
  std::vector<std::string> commands = {"verify", "audit"};
  // Per statement on either side; a blocked catalog read fails instead of
  // hanging.
  std::chrono::seconds statement_timeout{60};
};

class Preflight {
 public:
  // The sessions must outlive the Preflight.
  Preflight(conn::PgSession& source, conn::PgSession& target, PreflightOptions options = {});

  // Runs every check. Errors (the report is then not produced):
  //   NotFound          - the publication does not exist on the source, or an
  //                       explicitly named subscription not on the target;
  //   PermissionDenied  - a catalog the checks read is not readable;
  //   Unavailable       - a server went away;
  //   others            - an unexpected server error (message names the side).
  // Problems of the migration itself are findings, never errors.
  Result<PreflightReport> Run();

 private:
  conn::PgSession& source_;
  conn::PgSession& target_;
  PreflightOptions options_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_PREFLIGHT_PREFLIGHT_H_
