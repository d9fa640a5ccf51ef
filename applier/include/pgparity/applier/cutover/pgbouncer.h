// PgBouncer, as `pgparity cutover` drives it (issue 13, phases 4 and 8):
// its admin console (PAUSE / RESUME / RELOAD / SHOW DATABASES) and the
// [databases] entry of its config file, rewritten to point the application's
// database at the target and restorable on the abort path.
//
// Facts this relies on (env/README.md, verified on PgBouncer 1.18):
// RELOAD re-reads an %include'd databases file; after the entry changed and
// RELOAD, an existing client's next transaction goes to the new server;
// PAUSE <db> in transaction mode returns once the transactions in flight
// ended, and new queries wait (not fail) until RESUME.
//
// Thread-safety: a PgBouncerAdmin is used by one thread at a time (it owns a
// PGconn). A DatabasesFile is a value; two of them on one file race.
#ifndef PGPARITY_APPLIER_CUTOVER_PGBOUNCER_H_
#define PGPARITY_APPLIER_CUTOVER_PGBOUNCER_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"
#include "pgparity/status.h"

namespace pgparity::applier {

// One row of SHOW DATABASES.
struct PgBouncerDatabase {
  std::string name;  // "appdb"
  std::string host;  // as configured ("" when it names none: a Unix socket)
  int port = 0;
  std::string database;  // the server database
  bool paused = false;
};

// PgBouncer's admin console (the virtual database "pgbouncer"; simple query
// protocol only). Commands quote the database name as the console's parser
// expects ("name", "" doubled).
class PgBouncerAdmin {
 public:
  // `admin`: a DSN naming dbname=pgbouncer (InvalidArgument with the fix
  // otherwise). Connects WITHOUT pgparity's pinned startup options: PgBouncer
  // refuses `options` unless it is in ignore_startup_parameters (libpq still
  // sends PGOPTIONS from the environment; that refusal's error says to unset
  // it). Errors are one line, with the endpoint (codes as ConnParams::Connect).
  [[nodiscard]] static Result<std::unique_ptr<PgBouncerAdmin>> Connect(
      const conn::ConnParams& admin);

  PgBouncerAdmin(const PgBouncerAdmin&) = delete;
  PgBouncerAdmin& operator=(const PgBouncerAdmin&) = delete;

  // Every row of SHOW DATABASES (including the console's own "pgbouncer").
  [[nodiscard]] Result<std::vector<PgBouncerDatabase>> ShowDatabases();
  // NotFound naming the databases that exist.
  [[nodiscard]] Result<PgBouncerDatabase> ShowDatabase(std::string_view name);
  // PAUSE <db>: returns once transactions in flight ended. If that takes
  // longer than `timeout` (a client holding a transaction open), the pause is
  // undone (RESUME from a second admin connection: the first is blocked until
  // PgBouncer answers, which it never does once the pause is undone) and
  // DeadlineExceeded is returned naming the timeout.
  [[nodiscard]] Status Pause(std::string_view db, std::chrono::milliseconds timeout);
  // RESUME <db>; OK also when it was not paused.
  [[nodiscard]] Status Resume(std::string_view db);
  // RELOAD: re-reads the config files (and what they %include).
  [[nodiscard]] Status Reload();

  // "host:port/pgbouncer".
  const std::string& endpoint() const { return endpoint_; }

 private:
  PgBouncerAdmin(conn::ConnParams params, conn::PgConnPtr conn, std::string endpoint)
      : params_(std::move(params)), conn_(std::move(conn)), endpoint_(std::move(endpoint)) {}

  // A fresh console connection with the same parameters.
  [[nodiscard]] Result<conn::PgConnPtr> Open() const;
  // Runs one console command; errors name the command and the endpoint.
  [[nodiscard]] Result<conn::QueryResult> Run(std::string_view command);
  // Waits up to `timeout` for the answer to the command sent on conn_.
  [[nodiscard]] Result<bool> AnswerWithin(std::chrono::milliseconds timeout);
  // After a PAUSE that timed out: RESUME from a second connection, which
  // then replaces the blocked one.
  [[nodiscard]] Status UndoPause(std::string_view db);

  conn::ConnParams params_;
  conn::PgConnPtr conn_;
  std::string endpoint_;
};

// The [databases] entry of one database in a PgBouncer config file (the file
// pgbouncer.ini %includes, or pgbouncer.ini itself), rewritten atomically for
// the switch and restorable.
class DatabasesFile {
 public:
  // Reads `path` and finds `db`'s line in its [databases] section
  // ("appdb = host=... port=..."). NotFound (no such entry; names the file) /
  // IOError / InvalidArgument (the entry is there twice, or its connect
  // string does not parse as PgBouncer parses it).
  [[nodiscard]] static Result<DatabasesFile> Open(std::string path, std::string db);

  // The entry's current value (after the last PointAt/Restore).
  const std::string& connect_string() const { return connect_string_; }
  const std::string& path() const { return path_; }

  // Rewrites the entry so host, port and dbname are the given ones, keeping
  // every other key (user, pool_size, ...) and every other line of the file
  // byte for byte; written to a temporary file in the same directory, with
  // the file's mode (and owner, when allowed), fsynced, renamed over.
  // Values PgBouncer cannot read unquoted are single-quoted as it parses them;
  // empty values and line breaks are refused (InvalidArgument).
  [[nodiscard]] Status PointAt(std::string_view host, int port, std::string_view dbname);
  // Writes back the text Open read (the abort path). Idempotent.
  [[nodiscard]] Status Restore();

 private:
  DatabasesFile(std::string path, std::string db, std::string original, size_t value_begin,
                size_t value_end);

  // Writes `text` over path_ atomically (temporary file, fsync, rename).
  [[nodiscard]] Status Replace(const std::string& text) const;

  std::string path_;
  std::string db_;
  std::string original_;  // the whole file as Open read it
  // The entry's value in original_: [value_begin_, value_end_).
  size_t value_begin_ = 0;
  size_t value_end_ = 0;
  std::string connect_string_;
};

// One key=value of a PgBouncer connect string, as PgBouncer reads it.
struct ConnectStringPair {
  std::string key;
  std::string value;  // unquoted
};
// Splits a [databases] value into its pairs the way PgBouncer's loader.c does
// (cstr_get_pair); InvalidArgument naming the problem when it would refuse it.
[[nodiscard]] Result<std::vector<ConnectStringPair>> ParseConnectString(std::string_view text);
// `value` as it can stand in a connect string: bare when it holds nothing
// special, else in single quotes with ' doubled. InvalidArgument for "" and
// line breaks / NUL (a [databases] value is one line).
[[nodiscard]] Result<std::string> QuoteConnectStringValue(std::string_view value);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CUTOVER_PGBOUNCER_H_
