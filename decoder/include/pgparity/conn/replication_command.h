// The text of the replication-protocol commands pgparity sends, per server
// version, and the quoting they need. Pure: no libpq, no I/O, so the exact
// bytes are unit-tested.
//
// The walsender's command lexer (repl_scanner.l) takes identifiers in double
// quotes ("" for a quote inside) and literals in single quotes ('' for a
// quote; backslash is an ordinary character). publication_names is one
// literal holding a comma-separated list of identifiers, which pgoutput splits
// with SplitIdentifierString: so each name is quoted as an identifier first,
// and the list then as a literal.
#ifndef PGPARITY_CONN_REPLICATION_COMMAND_H_
#define PGPARITY_CONN_REPLICATION_COMMAND_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/result.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::conn {

// What CREATE_REPLICATION_SLOT does with the slot's starting snapshot.
enum class SnapshotAction {
  kExport,   // export it; its name is valid until the next command on this connection
  kNothing,  // don't (NOEXPORT_SNAPSHOT)
};

// REQUIRES: server_version >= 100000 (PQserverVersion form, 140011).
// PG14 and older: the legacy form
//   CREATE_REPLICATION_SLOT "s" [TEMPORARY] LOGICAL pgoutput EXPORT_SNAPSHOT
// PG15+: ... LOGICAL pgoutput (SNAPSHOT 'export')
// Fails (InvalidArgument) for an empty name or one holding a NUL.
Result<std::string> CreateLogicalSlotCommand(int server_version, std::string_view slot_name,
                                             bool temporary, SnapshotAction snapshot);

// DROP_REPLICATION_SLOT "s" [WAIT]. WAIT (PG10+) waits for an active slot to
// be released instead of failing.
Result<std::string> DropSlotCommand(std::string_view slot_name, bool wait);

// pgoutput options for START_REPLICATION.
struct StreamOptions {
  std::vector<std::string> publication_names;  // at least one
  // 0 = the newest this client needs for the server: 2 on PG14+, else 1.
  // pgparity decodes 1..4, but only 1 and 2 carry everything it reads.
  int proto_version = 0;
  // Stream large in-progress transactions (needs proto_version >= 2, PG14+).
  // Ignored (not sent) when the server or version can't.
  bool streaming = true;
  // Logical decoding messages, pg_logical_emit_message (PG14+). Ignored
  // (not sent) on older servers.
  bool messages = true;
  // Send values in binary (send/recv) format instead of text. Off: pgparity
  // checksums the text form.
  bool binary = false;
};

// The protocol version StartReplicationCommand will request.
int EffectiveProtoVersion(int server_version, const StreamOptions& options);

// START_REPLICATION SLOT "s" LOGICAL X/X (proto_version '2',
//   publication_names '"p1","p2"', streaming 'on', messages 'true')
// Fails (InvalidArgument) for no publication, an empty or NUL-holding name,
// or a proto_version the server does not know (> 2 before PG15, > 3 on PG15,
// > 4 on PG16+, < 1, or 2+ before PG14).
Result<std::string> StartReplicationCommand(int server_version, std::string_view slot_name,
                                            wire::Lsn start, const StreamOptions& options);

// Parses the value SHOW prints for a time setting in milliseconds
// (wal_sender_timeout): "0", "500ms", "60s", "1min", "2h", "1d", or a bare
// number of milliseconds.
Result<std::chrono::milliseconds> ParseGucMilliseconds(std::string_view text);

}  // namespace pgparity::conn

#endif  // PGPARITY_CONN_REPLICATION_COMMAND_H_
