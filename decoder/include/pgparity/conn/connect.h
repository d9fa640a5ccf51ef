// How every pgparity command reaches a server: the DSN is parsed once, at
// the command line's edge (ParseServerDsn), and the ConnParams it yields are
// what the plain sessions (ConnectSession) and the replication connection
// (ReplicationConnection::Connect) both use, so that both have the same
// connect_timeout and announce themselves as the same command in
// pg_stat_activity.
#ifndef PGPARITY_CONN_CONNECT_H_
#define PGPARITY_CONN_CONNECT_H_

#include <string_view>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::conn {

// The seconds a connection attempt may take when the DSN does not say.
inline constexpr std::string_view kDefaultConnectTimeout = "10";

// `dsn` (conninfo or URI) parsed, with connect_timeout=10 and
// application_name="pgparity <command>" unless the DSN gives them.
// InvalidArgument "--<flag>: invalid connection string: <libpq's reason> —
// e.g. 'host=... port=5432 dbname=... user=...'" when it cannot be parsed;
// `flag` is the command-line option the DSN came from.
Result<ConnParams> ParseServerDsn(std::string_view dsn, std::string_view flag,
                                  std::string_view command);

// A plain SQL session to one server; `side` ("source", "target", "server")
// names it in errors: "cannot connect to the target (<reason>)". Codes as
// ConnParams::Connect: Unavailable, Unauthenticated, PermissionDenied,
// NotFound (the database).
Result<PgSession> ConnectSession(const ConnParams& params, std::string_view side);

}  // namespace pgparity::conn

#endif  // PGPARITY_CONN_CONNECT_H_
