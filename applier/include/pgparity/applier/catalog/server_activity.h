// What runs on a server now: its sessions (pg_stat_activity: WAL senders,
// logical replication workers, open transactions), its prepared
// transactions, and whether the session's role may see all of it.
//
// Read-only queries on a plain session to either side. A role without
// pg_read_all_stats sees other roles' sessions without their details
// (empty strings here, no transaction), which ReadSessionRole tells.
// Errors and thread-safety: as catalog.h says.
#ifndef PGPARITY_APPLIER_CATALOG_SERVER_ACTIVITY_H_
#define PGPARITY_APPLIER_CATALOG_SERVER_ACTIVITY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct ServerSession {
  int64_t pid = 0;
  std::string backend_type;  // "client backend", "walsender", "logical replication worker", ...
  std::string application_name;
  std::string user;
  std::string database;
  std::string state;  // "active", "idle in transaction", ...
  // How long its transaction has been open, -1 when none is; and the same
  // as an interval truncated to seconds ("00:07:12"), for messages.
  double transaction_seconds = -1;
  std::string transaction_age;
  bool has_written = false;  // holds a transaction id
  std::string query;         // its first 80 characters, runs of white space as one space
};

// Every session but the caller's own, longest-open transaction first.
Result<std::vector<ServerSession>> ReadSessions(conn::PgSession& session);

struct PreparedTransaction {
  std::string gid;
  std::string prepared_at;  // truncated to seconds, in the session's TimeZone
  std::string owner;
  std::string database;
};

// pg_prepared_xacts of the whole server, oldest first.
Result<std::vector<PreparedTransaction>> ReadPreparedTransactions(conn::PgSession& session);

struct SessionRole {
  std::string name;                // current_user
  bool sees_all_sessions = false;  // superuser or member of pg_read_all_stats
};

// nullopt when current_user has no pg_roles row (a dropped role).
Result<std::optional<SessionRole>> ReadSessionRole(conn::PgSession& session);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_SERVER_ACTIVITY_H_
