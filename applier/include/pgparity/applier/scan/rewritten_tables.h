// RewrittenSinceSnapshot: whether a table was truncated or rewritten after
// the snapshot a session reads in, before the session read it.
//
// TRUNCATE and the table rewrites of ALTER TABLE are not MVCC-safe: they
// give the table a new file, and a transaction whose snapshot predates
// them, reading the table after they committed, finds that new file — no
// row of its snapshot (PostgreSQL's documentation of TRUNCATE). A scan
// inside a slot's exported snapshot then reads an empty table where the
// snapshot had rows, and the changes the slot streams after its consistent
// point touch rows the scan never saw. The session's own view of pg_class
// (its snapshot) still has the old file; pg_relation_filenode() reads the
// catalog as it is now: they differ exactly when such a rewrite committed
// after the snapshot. (VACUUM FULL and CLUSTER also give a new file; they
// keep the rows' visibility, so they are reported too, harmlessly.)
//
// Checked after the scan, in the same transaction: the scan's ACCESS SHARE
// lock, held to the end of the transaction, keeps any later rewrite out.
#ifndef PGPARITY_APPLIER_SCAN_REWRITTEN_TABLES_H_
#define PGPARITY_APPLIER_SCAN_REWRITTEN_TABLES_H_

#include <string>

#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/status.h"

namespace pgparity::applier {

// The relations of `spec` (a partitioned table's partitions too) that
// `session` read after a rewrite newer than its snapshot, comma-separated;
// "" when none.
Result<std::string> RewrittenSinceSnapshot(conn::PgSession& session, const TableSpec& spec);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SCAN_REWRITTEN_TABLES_H_
