#include "pgparity/applier/cutover/source_fence.h"

#include <absl/strings/str_join.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <string_view>
#include <thread>
#include <utility>

#include "pgparity/applier/catalog/database_control.h"
#include "pgparity/applier/catalog/privileges.h"
#include "pgparity/applier/catalog/server_activity.h"
#include "pgparity/conn/connect.h"
#include "pgparity/conn/permission_fix.h"
#include "pgparity/sql_quote.h"

namespace pgparity::applier {

namespace {

constexpr std::string_view kSetting = "default_transaction_read_only";

bool StartsWithAny(std::string_view text, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& p) { return text.starts_with(p); });
}

// The client sessions of `database` a fence ends: not walsenders, workers
// or pgparity's own (ReadSessions already leaves out the caller's).
bool IsFencedClient(const ServerSession& s, const std::string& database,
                    const FenceOptions& options) {
  return s.database == database && s.backend_type == "client backend" &&
         !StartsWithAny(s.application_name, options.keep_application_prefixes);
}

// statement_timeout ran out (query_canceled); the Status keeps the SQLSTATE
// only in its message.
bool SqlStateIsCancel(const Status& status) {
  return status.message().find("SQLSTATE 57014") != std::string::npos;
}

// The fence's own session. It must be able to write the ALTER DATABASE
// even when it connects to a database that is read-only already (a
// reconnect after Raise, or a fence kept by an earlier cutover).
Result<conn::PgSession> ConnectFenceSession(const conn::ConnParams& params) {
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession session, conn::ConnectSession(params, "source"));
  PGPARITY_RETURN_IF_ERROR(session.Exec("SET default_transaction_read_only = off"));
  return session;
}

}  // namespace

SourceFence::SourceFence(conn::ConnParams params, conn::PgSession session, FenceOptions options,
                         std::string database)
    : params_(std::move(params)),
      session_(std::move(session)),
      options_(std::move(options)),
      database_(std::move(database)) {}

Result<std::unique_ptr<SourceFence>> SourceFence::Open(const conn::ConnParams& source,
                                                       FenceOptions options) {
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession session, ConnectFenceSession(source));
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult r, session.Query("SELECT current_database()"));
  std::string database(r.Value(0, 0));
  return std::unique_ptr<SourceFence>(
      new SourceFence(source, std::move(session), std::move(options), std::move(database)));
}

SourceFence::~SourceFence() {
  if (altered_ && !kept_) {
    spdlog::warn(
        "the source database {} is left read-only (default_transaction_read_only = on); make it "
        "writable again with ALTER DATABASE {} {}",
        IdentForDisplay(database_), IdentForDisplay(database_),
        previous_ ? "SET default_transaction_read_only = " + QuoteStandardLiteral(*previous_)
                  : std::string("RESET default_transaction_read_only"));
  }
}

Status SourceFence::CheckPreparedTransactions() {
  PGPARITY_ASSIGN_OR_RETURN(std::vector<PreparedTransaction> prepared,
                            ReadPreparedTransactions(session_));
  std::vector<std::string> gids;
  for (const PreparedTransaction& p : prepared) {
    if (p.database == database_) gids.push_back(QuoteStandardLiteral(p.gid));
  }
  if (gids.empty()) return Status::OK();
  return Status::FailedPrecondition(
      "the source database " + IdentForDisplay(database_) + " has " + std::to_string(gids.size()) +
      " prepared transaction(s) " + absl::StrJoin(gids, ", ") +
      ", which a later COMMIT PREPARED would write past the fence; finish each with COMMIT "
      "PREPARED or ROLLBACK PREPARED first");
}

Status SourceFence::CheckRights() {
  PGPARITY_ASSIGN_OR_RETURN(RolePrivileges role, ReadRolePrivileges(session_));
  PGPARITY_ASSIGN_OR_RETURN(DatabaseControl control, ReadDatabaseControl(session_));
  PGPARITY_ASSIGN_OR_RETURN(std::optional<SessionRole> seer, ReadSessionRole(session_));
  const std::string user = QuoteIdent(role.role);
  std::vector<std::string> missing;
  if (!control.may_alter) {
    missing.push_back("ALTER DATABASE needs its owner: GRANT " + QuoteIdent(control.owner) +
                      " TO " + user + "; (or ALTER DATABASE " + QuoteIdent(database_) +
                      " OWNER TO " + user + ";)");
  }
  if (!control.signal_backend) {
    missing.push_back("terminating other roles' sessions: GRANT pg_signal_backend TO " + user +
                      ";");
  }
  if (!seer || !seer->sees_all_sessions) {
    missing.push_back("seeing other roles' sessions: GRANT pg_read_all_stats TO " + user + ";");
  }
  if (!role.replication) {
    missing.push_back("the detector's logical slot: " + conn::ReplicationRoleSql(role.role));
  }
  if (!role.superuser) {
    PGPARITY_ASSIGN_OR_RETURN(std::vector<ServerSession> sessions, ReadSessions(session_));
    const std::set<std::string> supers(control.superusers.begin(), control.superusers.end());
    for (const ServerSession& s : sessions) {
      if (IsFencedClient(s, database_, options_) && supers.contains(s.user)) {
        missing.push_back("session " + std::to_string(s.pid) + " of superuser " +
                          IdentForDisplay(s.user) +
                          " only a superuser may terminate: end it, or fence as a superuser");
      }
    }
  }
  if (missing.empty()) return Status::OK();
  return Status::PermissionDenied("role " + IdentForDisplay(role.role) +
                                  " cannot fence the source database " +
                                  IdentForDisplay(database_) + ": " + absl::StrJoin(missing, " "));
}

Status SourceFence::Check() {
  PGPARITY_RETURN_IF_ERROR(EnsureSession());
  PGPARITY_RETURN_IF_ERROR(CheckPreparedTransactions());
  return CheckRights();
}

// ALTER DATABASE takes no parameters: the name is quoted here, the value is
// "on" or the stored previous value as a literal.
Status SourceFence::Alter(const std::optional<std::string>& value) {
  const std::string sql = "ALTER DATABASE " + QuoteIdent(database_) +
                          (value ? " SET default_transaction_read_only = " + QuoteLiteral(*value)
                                 : std::string(" RESET default_transaction_read_only"));
  return session_.Exec(sql).WithPrefix("setting default_transaction_read_only on the source");
}

Result<std::vector<int64_t>> SourceFence::TerminateClients() {
  PGPARITY_ASSIGN_OR_RETURN(std::vector<ServerSession> sessions, ReadSessions(session_));
  std::vector<int64_t> terminated;
  for (const ServerSession& s : sessions) {
    if (!IsFencedClient(s, database_, options_)) continue;
    PGPARITY_ASSIGN_OR_RETURN(
        conn::QueryResult r,
        session_.Query("SELECT pg_terminate_backend($1::int)", {std::to_string(s.pid)}));
    // false: the session ended on its own meanwhile.
    if (r.Value(0, 0) == "t") terminated.push_back(s.pid);
  }
  return terminated;
}

Status SourceFence::WaitGone(const std::vector<int64_t>& pids) {
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  const std::set<int64_t> wanted(pids.begin(), pids.end());
  for (;;) {
    PGPARITY_ASSIGN_OR_RETURN(std::vector<ServerSession> sessions, ReadSessions(session_));
    std::vector<std::string> left;
    for (const ServerSession& s : sessions) {
      if (wanted.contains(s.pid)) left.push_back(std::to_string(s.pid));
    }
    if (left.empty()) return Status::OK();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded("terminated sessions of the source database " +
                                      IdentForDisplay(database_) + " still there after " +
                                      std::to_string(options_.timeout.count()) + " ms: pid " +
                                      absl::StrJoin(left, ", "));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Result<wire::Lsn> SourceFence::CreateDetector() {
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult pid, session_.Query("SELECT pg_backend_pid()"));
  const std::string name = "pgparity_fence_" + std::string(pid.Value(0, 0));
  // Creating a logical slot waits for every transaction holding an xid on
  // the server to end; bounded like the rest of Raise.
  PGPARITY_RETURN_IF_ERROR(session_
                               .Query("SELECT set_config('statement_timeout', $1, false)",
                                      {std::to_string(options_.timeout.count())})
                               .status());
  Result<conn::QueryResult> created = session_.Query(
      "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'test_decoding', true)",
      {name});
  Status reset = session_.Exec("SET statement_timeout = 0");
  if (!created.ok()) {
    if (SqlStateIsCancel(created.status())) {
      return Status::DeadlineExceeded(
          "creating the fence's write detector (a temporary logical slot) waited " +
          std::to_string(options_.timeout.count()) +
          " ms for transactions on the source server to end; end them (pg_stat_activity: "
          "backend_xid) and retry");
    }
    return created.status().WithPrefix("creating the fence's write detector");
  }
  slot_ = name;
  PGPARITY_RETURN_IF_ERROR(reset);
  return wire::Lsn::Parse(created->Value(0, 0));
}

Result<FenceRecord> SourceFence::Raise() {
  if (altered_ || !slot_.empty()) {
    return Status::FailedPrecondition("the fence of the source database " +
                                      IdentForDisplay(database_) +
                                      " is already raised; Lower it first");
  }
  PGPARITY_RETURN_IF_ERROR(EnsureSession());
  FenceRecord record;
  PGPARITY_ASSIGN_OR_RETURN(previous_, ReadDatabaseSetting(session_, kSetting));
  record.previous = previous_;
  kept_ = false;
  altered_ = true;  // before the ALTER: a lost answer leaves it in doubt, Lower restores
  PGPARITY_RETURN_IF_ERROR(Alter("on"));
  PGPARITY_ASSIGN_OR_RETURN(std::vector<int64_t> terminated, TerminateClients());
  record.terminated = static_cast<int>(terminated.size());
  PGPARITY_RETURN_IF_ERROR(WaitGone(terminated));
  PGPARITY_RETURN_IF_ERROR(CheckPreparedTransactions());
  PGPARITY_ASSIGN_OR_RETURN(record.lsn, CreateDetector());
  return record;
}

Result<std::vector<std::string>> SourceFence::WritesSinceFence() {
  if (slot_.empty()) {
    return Status::FailedPrecondition("the fence of the source database " +
                                      IdentForDisplay(database_) + " is not raised");
  }
  PGPARITY_ASSIGN_OR_RETURN(
      conn::QueryResult r,
      session_.Query("SELECT data FROM pg_logical_slot_peek_changes($1, NULL, NULL, "
                     "'skip-empty-xacts', '1')",
                     {slot_}));
  std::vector<std::string> lines;
  lines.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) lines.emplace_back(r.Value(i, 0));
  return TablesWrittenInTestDecoding(lines);
}

Status SourceFence::DropDetector() {
  if (slot_.empty()) return Status::OK();
  Result<conn::QueryResult> dropped = session_.Query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
      {slot_});
  if (!dropped.ok()) return dropped.status().WithPrefix("dropping the fence's write detector");
  slot_.clear();
  return Status::OK();
}

// A lost session took its temporary slot with it; a new one can still
// restore the setting.
Status SourceFence::EnsureSession() {
  // libpq notices a terminated session only on its next command: probe.
  if (PQstatus(session_.get()) == CONNECTION_OK) {
    Status alive = session_.Exec("SELECT 1");
    if (alive.ok() || PQstatus(session_.get()) == CONNECTION_OK) return alive;
  }
  slot_.clear();
  PGPARITY_ASSIGN_OR_RETURN(session_, ConnectFenceSession(params_));
  return Status::OK();
}

Status SourceFence::Lower() {
  PGPARITY_RETURN_IF_ERROR(EnsureSession());
  PGPARITY_RETURN_IF_ERROR(DropDetector());
  if (!altered_) return Status::OK();
  PGPARITY_RETURN_IF_ERROR(Alter(previous_));
  altered_ = false;
  kept_ = false;
  return Status::OK();
}

Status SourceFence::Keep() {
  PGPARITY_RETURN_IF_ERROR(EnsureSession());
  PGPARITY_RETURN_IF_ERROR(DropDetector());
  kept_ = true;
  return Status::OK();
}

namespace {

// One identifier as quote_identifier prints it, from the front of `text`:
// "..." with "" inside, or a run of characters up to '.', ':' or ','.
std::optional<size_t> IdentifierLength(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text[0] != '"') {
    const size_t end = text.find_first_of(".:, ");
    return end == 0 ? std::nullopt : std::optional<size_t>(std::min(end, text.size()));
  }
  for (size_t i = 1; i < text.size(); ++i) {
    if (text[i] != '"') continue;
    if (i + 1 < text.size() && text[i + 1] == '"') {
      ++i;  // a doubled quote inside the name
      continue;
    }
    return i + 1;
  }
  return std::nullopt;  // no closing quote
}

// "schema.name" from the front of `text`, as printed.
std::optional<size_t> QualifiedNameLength(std::string_view text) {
  std::optional<size_t> schema = IdentifierLength(text);
  if (!schema || *schema >= text.size() || text[*schema] != '.') return std::nullopt;
  std::optional<size_t> name = IdentifierLength(text.substr(*schema + 1));
  if (!name) return std::nullopt;
  return *schema + 1 + *name;
}

// The tables of one "table " line, nullopt when it is not test_decoding's form.
std::optional<std::vector<std::string>> TablesOfLine(std::string_view rest) {
  std::vector<std::string> tables;
  for (;;) {
    std::optional<size_t> n = QualifiedNameLength(rest);
    if (!n) return std::nullopt;
    tables.emplace_back(rest.substr(0, *n));
    rest.remove_prefix(*n);
    if (!rest.starts_with(", ")) break;
    rest.remove_prefix(2);
  }
  if (!rest.starts_with(": ")) return std::nullopt;
  rest.remove_prefix(2);
  for (std::string_view action : {"INSERT:", "UPDATE:", "DELETE:"}) {
    if (rest.starts_with(action) && tables.size() == 1) return tables;
  }
  if (rest.starts_with("TRUNCATE:")) return tables;
  return std::nullopt;
}

}  // namespace

Result<std::vector<std::string>> TablesWrittenInTestDecoding(const std::vector<std::string>& lines,
                                                             size_t limit) {
  std::vector<std::string> tables;
  std::set<std::string> seen;
  for (const std::string& line : lines) {
    std::string_view rest(line);
    if (!rest.starts_with("table ")) continue;  // BEGIN, COMMIT, message: ...
    std::optional<std::vector<std::string>> written = TablesOfLine(rest.substr(6));
    if (!written) {
      return Status::Corruption("the fence's write detector: cannot read test_decoding line '" +
                                line.substr(0, 120) + "'");
    }
    for (std::string& table : *written) {
      if (tables.size() >= limit) return tables;
      if (seen.insert(table).second) tables.push_back(std::move(table));
    }
  }
  return tables;
}

}  // namespace pgparity::applier
