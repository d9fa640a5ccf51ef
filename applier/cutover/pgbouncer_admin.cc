// PgBouncer's admin console over libpq's simple query protocol (the console
// understands nothing else). Semantics relied on, from PgBouncer 1.18's
// src/admin.c and src/janitor.c:
// - A command's argument is a WORD: [0-9a-z_]+ or a double-quoted name with
//   "" for a quote (cmd_normal_rx); we always send the quoted form.
// - PAUSE <db> marks the database paused and answers only once its active
//   server connections are released (admin_pause_done, from per_loop_maint).
//   If the database is resumed first, that answer never comes: the console
//   connection that sent PAUSE stays blocked, so Pause's timeout path RESUMEs
//   from a second connection and drops the blocked one.
// - RESUME <db> of a database not paused is an error ("database X is not
//   paused"), which Resume treats as success.
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "pgparity/applier/cutover/pgbouncer.h"

namespace pgparity::applier {

namespace {

using Clock = std::chrono::steady_clock;

// `name` as the console's WORD: "name" with " doubled.
std::string ConsoleName(std::string_view name) {
  std::string out = "\"";
  for (char ch : name) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

Status CheckName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("PgBouncer database name is empty");
  return Status::OK();
}

// The results of a command already sent and answered: the first error as
// Status, else the last result.
Result<conn::QueryResult> Collect(PGconn* c, std::string_view context) {
  conn::PgResultPtr last;
  Status error;
  while (PGresult* raw = PQgetResult(c)) {
    conn::PgResultPtr r(raw);
    const ExecStatusType st = PQresultStatus(r.get());
    if (error.ok() && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      error = conn::StatusFromResult(c, r.get(), context);
    }
    last = std::move(r);
  }
  if (!error.ok()) return error;
  if (last == nullptr) return conn::StatusFromResult(c, nullptr, context);
  return conn::QueryResult(std::move(last));
}

int ColumnOrZero(const conn::QueryResult& r, int row, std::string_view column) {
  const int index = r.ColumnIndex(column);
  if (index < 0) return 0;
  const std::string_view v = r.Value(row, index);
  int out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

std::string ColumnText(const conn::QueryResult& r, int row, std::string_view column) {
  const int index = r.ColumnIndex(column);
  return index < 0 ? std::string() : std::string(r.Value(row, index));
}

}  // namespace

Result<std::unique_ptr<PgBouncerAdmin>> PgBouncerAdmin::Connect(const conn::ConnParams& admin) {
  const std::optional<std::string> dbname = admin.Get("dbname");
  if (dbname != "pgbouncer") {
    return Status::InvalidArgument(
        "the PgBouncer admin DSN names database \"" + dbname.value_or("") +
        "\", not the admin console — use dbname=pgbouncer, e.g. 'host=127.0.0.1 port=6432 "
        "dbname=pgbouncer user=postgres' (the user must be in PgBouncer's admin_users)");
  }
  // No pinned `options`: PgBouncer refuses a startup parameter it does not
  // know. (libpq still sends PGOPTIONS from the environment; an empty
  // `options` does not stop it, so the error says what to do instead.)
  const conn::ConnParams& params = admin;
  Result<conn::PgConnPtr> c = params.Connect("PgBouncer admin console");
  if (!c.ok()) {
    const std::string message(c.status().message());
    if (message.find("unsupported startup parameter") == std::string::npos) return c.status();
    return c.status().WithMessage(
        message +
        " — unset PGOPTIONS (libpq sends it as `options`) or add the parameter to "
        "PgBouncer's ignore_startup_parameters");
  }
  std::string endpoint = conn::DescribeConn(c->get());
  return std::unique_ptr<PgBouncerAdmin>(
      new PgBouncerAdmin(params, std::move(*c), std::move(endpoint)));
}

Result<conn::PgConnPtr> PgBouncerAdmin::Open() const {
  return params_.Connect("PgBouncer admin console");
}

Result<conn::QueryResult> PgBouncerAdmin::Run(std::string_view command) {
  const std::string text(command);
  const std::string context = "PgBouncer " + endpoint_ + ": " + text;
  if (!PQsendQuery(conn_.get(), text.c_str()))
    return conn::StatusFromResult(conn_.get(), nullptr, context);
  return Collect(conn_.get(), context);
}

Result<std::vector<PgBouncerDatabase>> PgBouncerAdmin::ShowDatabases() {
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult r, Run("SHOW DATABASES"));
  if (r.ColumnIndex("name") < 0 || r.ColumnIndex("paused") < 0) {
    return Status::Internal("PgBouncer " + endpoint_ +
                            ": SHOW DATABASES has no name/paused column — is this PgBouncer?");
  }
  std::vector<PgBouncerDatabase> out;
  for (int row = 0; row < r.rows(); ++row) {
    PgBouncerDatabase db;
    db.name = ColumnText(r, row, "name");
    db.host = ColumnText(r, row, "host");
    db.port = ColumnOrZero(r, row, "port");
    db.database = ColumnText(r, row, "database");
    db.paused = ColumnOrZero(r, row, "paused") != 0;
    out.push_back(std::move(db));
  }
  return out;
}

Result<PgBouncerDatabase> PgBouncerAdmin::ShowDatabase(std::string_view name) {
  PGPARITY_ASSIGN_OR_RETURN(std::vector<PgBouncerDatabase> all, ShowDatabases());
  std::string names;
  for (PgBouncerDatabase& db : all) {
    if (db.name == name) return std::move(db);
    names += (names.empty() ? "" : ", ") + db.name;
  }
  return Status::NotFound("PgBouncer " + endpoint_ + " has no database \"" + std::string(name) +
                          "\" (it has: " + names + ") — name one of its [databases] entries");
}

Result<bool> PgBouncerAdmin::AnswerWithin(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    if (!PQconsumeInput(conn_.get())) {
      return Status::Unavailable("PgBouncer " + endpoint_ + ": connection lost: " +
                                 conn::OneLine(PQerrorMessage(conn_.get())));
    }
    if (!PQisBusy(conn_.get())) return true;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return false;
    // Rounded up: a truncated wait would give up just before the deadline.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    pollfd p{PQsocket(conn_.get()), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000))) < 0 && errno != EINTR) {
      return Status::IOError("PgBouncer " + endpoint_ + ": poll: " + std::strerror(errno));
    }
  }
}

Status PgBouncerAdmin::Pause(std::string_view db, std::chrono::milliseconds timeout) {
  PGPARITY_RETURN_IF_ERROR(CheckName(db));
  const std::string command = "PAUSE " + ConsoleName(db);
  const std::string context = "PgBouncer " + endpoint_ + ": " + command;
  if (!PQsendQuery(conn_.get(), command.c_str())) {
    return conn::StatusFromResult(conn_.get(), nullptr, context);
  }
  PGPARITY_ASSIGN_OR_RETURN(bool answered, AnswerWithin(timeout));
  if (answered) {
    Result<conn::QueryResult> r = Collect(conn_.get(), context);
    return r.ok() ? Status::OK() : std::move(r).status();
  }
  const Status undo = UndoPause(db);
  const std::string head = context + " did not return within " + std::to_string(timeout.count()) +
                           " ms (a client holds a transaction open)";
  if (!undo.ok()) {
    return Status::DeadlineExceeded(
        head + ", and undoing the pause failed: " + std::string(undo.message()) + " — run RESUME " +
        std::string(db) + " on the admin console");
  }
  return Status::DeadlineExceeded(head + "; the pause was undone (RESUME " + std::string(db) + ")");
}

Status PgBouncerAdmin::UndoPause(std::string_view db) {
  PGPARITY_ASSIGN_OR_RETURN(conn::PgConnPtr second, Open());
  // The blocked connection would answer PAUSE never (or at some later pause
  // of another database): replace it, then resume from the fresh one.
  conn_ = std::move(second);
  return Resume(db);
}

Status PgBouncerAdmin::Resume(std::string_view db) {
  PGPARITY_RETURN_IF_ERROR(CheckName(db));
  Result<conn::QueryResult> r = Run("RESUME " + ConsoleName(db));
  if (r.ok()) return Status::OK();
  // Not paused is what RESUME is for: make it so. PgBouncer says so in
  // words only (SQLSTATE 08P01 for every console error).
  if (r.status().message().find("is not paused") != std::string_view::npos) return Status::OK();
  return std::move(r).status();
}

Status PgBouncerAdmin::Reload() {
  Result<conn::QueryResult> r = Run("RELOAD");
  return r.ok() ? Status::OK() : std::move(r).status();
}

}  // namespace pgparity::applier
