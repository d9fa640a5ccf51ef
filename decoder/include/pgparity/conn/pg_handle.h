// RAII for libpq handles, connection parameters, and PgSession: a plain
// (non-replication) SQL session returning Result types.
//
// Every PGconn, PGresult, PQconninfoOption array and PQfreemem buffer lives in
// a std::unique_ptr with its deleter, so no path forgets PQclear/PQfinish.
//
// Errors from libpq and the server become Status with one-line messages:
// StatusFromResult maps the SQLSTATE, ConnectError classifies a failed
// connection (unreachable vs. authentication vs. permission), see below.
//
// Thread-safety: a PgSession is used by one thread at a time (libpq's rule for
// a PGconn). ConnParams is a value.
#ifndef PGPARITY_CONN_PG_HANDLE_H_
#define PGPARITY_CONN_PG_HANDLE_H_

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgparity/result.h"
#include "pgparity/status.h"

namespace pgparity::conn {

struct PgConnDeleter {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
struct PgResultDeleter {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
struct PgFreememDeleter {
  void operator()(void* p) const noexcept { PQfreemem(p); }
};
struct PgConninfoDeleter {
  void operator()(PQconninfoOption* options) const noexcept { PQconninfoFree(options); }
};

using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;
// A buffer libpq allocated for us (PQgetCopyData, PQescapeIdentifier, ...).
template <typename T>
using PgMemPtr = std::unique_ptr<T, PgFreememDeleter>;
using PgConninfoPtr = std::unique_ptr<PQconninfoOption, PgConninfoDeleter>;

// The server settings that fix the text form of values (trap #7 of
// shared/notes/pgoutput.md), and row_security=off: a query that a
// row-level security policy would filter for the connected role fails
// (42501, "query would be affected by row-level security policy") instead
// of silently reading only the rows the policy shows, which would make a
// check of part of a table look like a check of all of it. Every
// connection pgparity opens sends them in the `options` keyword, after the
// user's own options so they win.
inline constexpr std::string_view kPinnedServerOptions =
    "-c DateStyle=ISO -c IntervalStyle=postgres -c TimeZone=UTC -c extra_float_digits=3 "
    "-c bytea_output=hex -c row_security=off";
inline constexpr std::string_view kClientEncoding = "UTF8";

// Keyword/value connection parameters for PQconnectdbParams.
class ConnParams {
 public:
  ConnParams() = default;

  // Parses a libpq conninfo string ("host=h dbname=d") or URI
  // ("postgresql://u@h:5432/d?sslmode=require"); "" is valid (everything from
  // the PG* environment variables and libpq's defaults, applied at connect).
  // Fails (InvalidArgument) with libpq's reason; the message never repeats a
  // password.
  static Result<ConnParams> Parse(std::string_view dsn);

  // Sets `keyword`, replacing any earlier value.
  void Set(std::string_view keyword, std::string_view value);
  void Erase(std::string_view keyword);
  std::optional<std::string> Get(std::string_view keyword) const;
  // Appends `options` to the `options` keyword, after what is there.
  void AppendOptions(std::string_view options);

  // The same parameters with the pinned text formats added (options and
  // client_encoding): what every pgparity connection uses.
  ConnParams WithPinnedFormats() const;

  // "host:port/dbname" from the given parameters, for messages before a
  // connection exists ("(default)" for what libpq will fill in). No password.
  std::string Describe() const;

  // Connects (blocking; bounded by connect_timeout when given). Errors are
  // classified by ConnectError; `what` names the connection in them.
  Result<PgConnPtr> Connect(std::string_view what = "connection") const;

  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// The parameters as one libpq conninfo string ("host='h' port='5433' ..."),
// every value single-quoted with \ and ' escaped as libpq parses them, for a
// server to connect with (CREATE SUBSCRIPTION ... CONNECTION). It holds the
// password: never for messages or logs.
std::string ConninfoString(const ConnParams& params);

// `text` on one line: runs of whitespace and newlines (libpq's multi-line
// messages) become one space; leading/trailing whitespace is dropped.
std::string OneLine(std::string_view text);

// "host:port/dbname" of a connection (also of a failed one), for messages.
std::string DescribeConn(const PGconn* conn);

// The Status of a connection attempt that did not reach CONNECTION_OK:
//   Unauthenticated  - the server rejected the password, or asked for one and
//                      none was given;
//   PermissionDenied - no pg_hba.conf entry, or no REPLICATION/LOGIN right;
//   NotFound         - the database does not exist;
//   Unavailable      - everything else: refused, timed out, DNS, too many
//                      connections, server starting up or shutting down.
// Classification reads libpq's state and the server's (English) message; a
// server with lc_messages in another language still yields Unavailable or
// Unauthenticated (PQconnectionNeedsPassword), never a wrong "slot" error.
// The message is one line: "<what> to <host:port/db> failed: <reason>; <fix>".
Status ConnectError(const PGconn* conn, std::string_view what);

// The Status of a failed command. `result` may be null (libpq out of memory
// or connection lost). SQLSTATE → code: 08*, 57P01-57P03 and a lost
// connection → Unavailable; 28* → Unauthenticated; 42501 → PermissionDenied;
// 42704, 42P01, 3D000 → NotFound; 42710 → AlreadyExists; 55* and 53400 →
// FailedPrecondition; other 42* → InvalidArgument; anything else → IOError.
// The message: "<context>: <server message> (SQLSTATE x)[; DETAIL ...]".
// A permission error (42501) on a table, a view, the origin-status function
// or session_replication_role ends with the missing privilege and the GRANT
// that fixes it ("; missing SELECT on the table: GRANT SELECT ON TABLE ...").
Status StatusFromResult(const PGconn* conn, const PGresult* result, std::string_view context);
// The same for the statement `sql`, whose first keyword names the privilege a
// refused table needs (INSERT, UPDATE, DELETE; otherwise SELECT).
Status StatusFromStatement(const PGconn* conn, const PGresult* result, std::string_view context,
                           std::string_view sql);

// The SQLSTATE of `result`, "" when it has none.
std::string_view SqlState(const PGresult* result);

// A query's rows, owning the PGresult. Values are text (the session uses the
// text format); views returned stay valid while this object lives.
class QueryResult {
 public:
  explicit QueryResult(PgResultPtr result) : result_(std::move(result)) {}

  int rows() const { return PQntuples(result_.get()); }
  int columns() const { return PQnfields(result_.get()); }
  // -1 when there is no column of that name.
  int ColumnIndex(std::string_view name) const;
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  // The value, nullopt for NULL. REQUIRES: row < rows(), column < columns().
  std::optional<std::string_view> Get(int row, int column) const;
  // The value, "" for NULL.
  std::string_view Value(int row, int column) const;
  // The command tag ("INSERT 0 1").
  std::string_view CommandStatus() const { return PQcmdStatus(result_.get()); }

  const PGresult* get() const { return result_.get(); }

 private:
  PgResultPtr result_;
};

// Runs `sql` (simple query protocol, may hold several statements) on `conn`;
// the last result, or the first error as Status.
Result<QueryResult> ExecSimple(PGconn* conn, std::string_view sql, std::string_view context);

// A plain SQL session (no replication), with the pinned text formats.
class PgSession {
 public:
  // Connects with `params` plus the pinned formats. A `replication` keyword
  // in `params` is removed: this is the plain session.
  static Result<PgSession> Connect(const ConnParams& params);
  static Result<PgSession> Connect(std::string_view dsn);

  PgSession(PgSession&&) noexcept = default;
  PgSession& operator=(PgSession&&) noexcept = default;

  // Runs one or more statements; discards rows.
  Status Exec(std::string_view sql);
  // One statement with $1..$n parameters (text; nullopt = NULL).
  Result<QueryResult> Query(std::string_view sql,
                            const std::vector<std::optional<std::string>>& params = {});

  // "host:port/dbname".
  const std::string& endpoint() const { return endpoint_; }
  int server_version() const { return PQserverVersion(conn_.get()); }
  PGconn* get() const { return conn_.get(); }

 private:
  explicit PgSession(PgConnPtr conn);

  PgConnPtr conn_;
  std::string endpoint_;
};

}  // namespace pgparity::conn

#endif  // PGPARITY_CONN_PG_HANDLE_H_
