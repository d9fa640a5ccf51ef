// Read-only transactions that share one snapshot: how pgparity reads a
// database as of one instant on several sessions (the bootstrap inside a
// replication slot's exported snapshot, the target's full check, `digest
// --jobs`).
//
// A REPEATABLE READ transaction keeps the snapshot its first statement
// takes; SET TRANSACTION SNAPSHOT, before any other statement, makes that
// the snapshot another transaction exported (pg_export_snapshot, or
// CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT while its connection stays
// idle). An exported name stays importable only while its exporting
// transaction is open. The name is a server's token, not ours: it reaches
// SQL quoted (SET TRANSACTION takes no bind parameter).
//
// Neither function rolls back on failure: the caller's session is left in
// an aborted transaction or none, and is not reused for another snapshot.
#ifndef PGPARITY_CONN_SNAPSHOT_TRANSACTION_H_
#define PGPARITY_CONN_SNAPSHOT_TRANSACTION_H_

#include <string>
#include <string_view>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/status.h"

namespace pgparity::conn {

// Begins a read-only REPEATABLE READ transaction on `session` and exports
// its snapshot; returns the name other sessions import.
[[nodiscard]] Result<std::string> BeginExportedSnapshot(PgSession& session);

// Begins a read-only REPEATABLE READ transaction on `session` reading the
// exported snapshot `name`. An unknown or no longer importable name is the
// server's error (InvalidArgument or NotFound, SQLSTATE 22023).
[[nodiscard]] Status BeginInSnapshot(PgSession& session, std::string_view name);

}  // namespace pgparity::conn

#endif  // PGPARITY_CONN_SNAPSHOT_TRANSACTION_H_
