// `pgparity repair`: the SQL that makes the target equal to the source for
// the rows a verify/audit report lists (docs/cli.md), printed (dry run) or
// run in one target transaction and re-checked (--apply).
//
// Values come from the source's rows now, read by key. A row whose source
// digest is no longer the report's source_row_digest (or that exists now
// where the source had none) changed after the compared commit: it is left
// to replication, never overwritten with stale data. Statements are keyed
// and idempotent; a keyless table is repaired by row count, through ctid.
// No statement touches a row outside the report.
//
// Errors (nothing is written to either server then): InvalidArgument for
// an unreadable report or one naming unknown columns or keys,
// FailedPrecondition for a report of another database or a table no longer
// published, Corruption for malformed JSON, the sessions' Status for the
// servers (Unavailable, PermissionDenied, ...). Not thread-safe: one call
// at a time uses its own two sessions.
#ifndef PGPARITY_APPLIER_REPAIR_REPAIR_H_
#define PGPARITY_APPLIER_REPAIR_REPAIR_H_

#include <ostream>
#include <string>
#include <vector>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct RepairOptions {
  conn::ConnParams source;
  conn::ConnParams target;
  std::string report_path;
  bool apply = false;  // false: a dry run, nothing is written
};

// One listed row and what the repair does with it.
struct RepairedRow {
  std::string table;  // schema.name
  std::string key;    // for people: id = 2, or row_digest = <hex>
  std::string kind;   // the report's kind
  std::string note;   // the statement's action, or why it is left alone
};

struct RepairOutcome {
  // The whole script, runnable by psql (BEGIN ... COMMIT), values as quoted
  // literals; "" when no row needs a statement.
  std::string script;
  std::vector<RepairedRow> repaired;      // a statement each
  std::vector<RepairedRow> left_alone;    // changed on the source since the report
  std::vector<RepairedRow> still_differ;  // --apply: differ after the repair
  std::vector<std::string> notes;         // e.g. more divergent rows than listed
  bool applied = false;
};

[[nodiscard]] Result<RepairOutcome> RunRepair(const RepairOptions& options);

// What happened, for people: one line per row ("-- " comments when
// `as_sql_comments`, so that the output stays a runnable script).
void RenderRepairSummary(const RepairOutcome& outcome, bool as_sql_comments, std::ostream& out);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_REPAIR_REPAIR_H_
