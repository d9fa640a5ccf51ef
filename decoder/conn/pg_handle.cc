#include "pgparity/conn/pg_handle.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "pgparity/conn/permission_fix.h"
#include "pgparity/contains.h"

namespace pgparity::conn {
// libpq's messages end with a newline and may hold several lines ("connection
// to server at ... failed: FATAL:  ...\n"); a Status message is one line.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

namespace {

std::string Field(const PGresult* result, int field) {
  const char* v = result == nullptr ? nullptr : PQresultErrorField(result, field);
  return v == nullptr ? std::string() : std::string(v);
}

// The password values `dsn` may hold as written (a conninfo's password=,
// quoted or not; a URI's userinfo after ':' and its ?password=), found
// loosely: `dsn` is one libpq rejected, so it may be malformed anywhere.
std::vector<std::string> PasswordsWritten(std::string_view dsn) {
  std::vector<std::string> out;
  if (const size_t scheme = dsn.find("://"); scheme != std::string_view::npos) {
    const std::string_view rest = dsn.substr(scheme + 3);
    const std::string_view userinfo = rest.substr(0, rest.find('@'));
    if (userinfo.size() < rest.size() && userinfo.find(':') != std::string_view::npos) {
      out.emplace_back(userinfo.substr(userinfo.find(':') + 1));
    }
  }
  for (size_t at = dsn.find("password"); at != std::string_view::npos;
       at = dsn.find("password", at + 1)) {
    size_t v = dsn.find_first_not_of(' ', at + 8);
    if (v == std::string_view::npos || dsn[v] != '=') continue;
    v = dsn.find_first_not_of(' ', v + 1);
    if (v == std::string_view::npos) continue;
    const bool quoted = dsn[v] == '\'';
    std::string value;  // unescaped
    size_t i = v + (quoted ? 1 : 0);
    for (; i < dsn.size(); ++i) {
      if (quoted ? dsn[i] == '\'' : (dsn[i] == ' ' || dsn[i] == '&')) break;
      if (quoted && dsn[i] == '\\' && i + 1 < dsn.size()) ++i;
      value.push_back(dsn[i]);
    }
    out.push_back(std::move(value));
    out.emplace_back(dsn.substr(v, i - v));  // as written, escapes and all
  }
  return out;
}

// `%XX` decoded where XX is hex; anything else kept as it is.
std::string PercentDecoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// libpq's reason for rejecting `dsn` with every password of it masked:
// some reasons quote the offending token or the whole URI.
std::string WithoutPasswords(std::string message, std::string_view dsn) {
  std::vector<std::string> secrets;
  for (const std::string& p : PasswordsWritten(dsn)) {
    secrets.push_back(p);
    secrets.push_back(PercentDecoded(p));
  }
  // Longest first: a password's decoded form may be part of its encoded one.
  std::ranges::sort(secrets, std::greater<>{}, [](const std::string& p) { return p.size(); });
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = message.find(secret); at != std::string::npos;
         at = message.find(secret, at + 8)) {
      message.replace(at, secret.size(), "********");
    }
  }
  return message;
}

}  // namespace

Result<ConnParams> ConnParams::Parse(std::string_view dsn) {
  const std::string text(dsn);
  char* err = nullptr;
  PgConninfoPtr options(PQconninfoParse(text.c_str(), &err));
  PgMemPtr<char> err_owner(err);
  if (options == nullptr) {
    // libpq's reason may quote a token or the whole URI, password and all.
    return Status::InvalidArgument(
        "invalid connection string: " +
        OneLine(WithoutPasswords(err != nullptr ? err : "out of memory", dsn)));
  }
  ConnParams params;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr) params.entries_.emplace_back(o->keyword, o->val);
  }
  return params;
}

void ConnParams::Set(std::string_view keyword, std::string_view value) {
  for (auto& [k, v] : entries_) {
    if (k == keyword) {
      v = value;
      return;
    }
  }
  entries_.emplace_back(keyword, value);
}

void ConnParams::Erase(std::string_view keyword) {
  std::erase_if(entries_, [&](const auto& e) { return e.first == keyword; });
}

std::optional<std::string> ConnParams::Get(std::string_view keyword) const {
  for (const auto& [k, v] : entries_) {
    if (k == keyword) return v;
  }
  return std::nullopt;
}

void ConnParams::AppendOptions(std::string_view options) {
  std::optional<std::string> existing = Get("options");
  if (!existing || existing->empty()) {
    Set("options", options);
  } else {
    Set("options", *existing + " " + std::string(options));
  }
}

ConnParams ConnParams::WithPinnedFormats() const {
  ConnParams out = *this;
  out.AppendOptions(kPinnedServerOptions);
  out.Set("client_encoding", kClientEncoding);
  return out;
}

std::string ConnParams::Describe() const {
  auto get = [&](std::string_view k) { return Get(k).value_or("(default)"); };
  std::string host = Get("host").value_or(Get("hostaddr").value_or("(default)"));
  return host + ":" + get("port") + "/" + get("dbname");
}

Result<PgConnPtr> ConnParams::Connect(std::string_view what) const {
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  keywords.reserve(entries_.size() + 1);
  values.reserve(entries_.size() + 1);
  for (const auto& [k, v] : entries_) {
    keywords.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  // The DSN was expanded by Parse already: no second expansion of dbname.
  PgConnPtr conn(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/0));
  if (conn == nullptr) return Status::Unavailable("libpq could not allocate a connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) return ConnectError(conn.get(), what);
  return conn;
}

std::string DescribeConn(const PGconn* conn) {
  auto s = [](const char* p) { return std::string(p == nullptr || *p == '\0' ? "?" : p); };
  // PQhost & co. take a non-const PGconn in old libpq headers.
  auto* c = const_cast<PGconn*>(conn);
  return s(PQhost(c)) + ":" + s(PQport(c)) + "/" + s(PQdb(c));
}

Status ConnectError(const PGconn* conn, std::string_view what) {
  auto* c = const_cast<PGconn*>(conn);
  const std::string where = DescribeConn(conn);
  const std::string reason = OneLine(PQerrorMessage(c));
  const std::string user = PQuser(c) == nullptr ? "?" : PQuser(c);
  std::string head = std::string(what) + " to " + where + " failed: " + reason;

  if (PQconnectionNeedsPassword(c)) {
    return Status::Unauthenticated(head + "; supply the password of user \"" + user +
                                   "\" (DSN password=, PGPASSWORD or ~/.pgpass)");
  }
  if (Contains(reason, "authentication failed") || Contains(reason, "password authentication") ||
      Contains(reason, "no password supplied")) {
    return Status::Unauthenticated(head + "; check the user name and password of user \"" + user +
                                   "\" (DSN, PGPASSWORD or ~/.pgpass)");
  }
  if (Contains(reason, "no pg_hba.conf entry")) {
    return Status::PermissionDenied(head + "; add a pg_hba.conf line allowing user \"" + user +
                                    "\" from this host to this database and reload");
  }
  if (Contains(reason, "must be superuser or replication role") ||
      Contains(reason, "permission denied") || Contains(reason, "not permitted to log in")) {
    return Status::PermissionDenied(head + "; " + ReplicationRoleSql(user) + " on the source");
  }
  if (Contains(reason, "database \"") && Contains(reason, "does not exist")) {
    return Status::NotFound(head + "; fix dbname in the DSN");
  }
  return Status::Unavailable(head + "; check that the server is running and reachable");
}

std::string ConninfoString(const ConnParams& params) {
  std::string out;
  for (const auto& [keyword, value] : params.entries()) {
    out += (out.empty() ? "" : " ") + keyword + "='";
    for (char c : value) {
      if (c == '\\' || c == '\'') out += '\\';
      out += c;
    }
    out += '\'';
  }
  return out;
}

std::string_view SqlState(const PGresult* result) {
  const char* v = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return v == nullptr ? std::string_view() : std::string_view(v);
}

Status StatusFromResult(const PGconn* conn, const PGresult* result, std::string_view context) {
  return StatusFromStatement(conn, result, context, std::string_view());
}

Status StatusFromStatement(const PGconn* conn, const PGresult* result, std::string_view context,
                           std::string_view sql) {
  auto* c = const_cast<PGconn*>(conn);
  const std::string where = conn == nullptr ? std::string() : " on " + DescribeConn(conn);
  std::string primary = Field(result, PG_DIAG_MESSAGE_PRIMARY);
  if (primary.empty()) {
    const char* m = result != nullptr ? PQresultErrorMessage(result) : nullptr;
    if (m == nullptr || *m == '\0') m = conn != nullptr ? PQerrorMessage(c) : "unknown error";
    primary = m;
  }
  const std::string sqlstate(SqlState(result));
  std::string msg = std::string(context) + where + ": " + OneLine(primary);
  if (!sqlstate.empty()) msg += " (SQLSTATE " + sqlstate + ")";
  if (std::string detail = Field(result, PG_DIAG_MESSAGE_DETAIL); !detail.empty()) {
    msg += "; DETAIL: " + OneLine(detail);
  }
  if (std::string hint = Field(result, PG_DIAG_MESSAGE_HINT); !hint.empty()) {
    msg += "; HINT: " + OneLine(hint);
  }

  if (sqlstate.empty()) {
    // No SQLSTATE: libpq's own error, usually the connection went away.
    if (conn == nullptr || PQstatus(c) == CONNECTION_BAD) return Status::Unavailable(msg);
    return Status::IOError(msg);
  }
  const std::string_view cls = std::string_view(sqlstate).substr(0, 2);
  if (cls == "08" || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" ||
      sqlstate == "53300") {
    return Status::Unavailable(msg);
  }
  if (cls == "28") return Status::Unauthenticated(msg);
  if (sqlstate == "42501") {
    const char* user = conn == nullptr ? nullptr : PQuser(c);
    return Status::PermissionDenied(msg + PermissionFix(primary, user == nullptr ? "" : user, sql));
  }
  if (sqlstate == "42704" || sqlstate == "42P01" || sqlstate == "3D000") {
    return Status::NotFound(msg);
  }
  if (sqlstate == "42710") return Status::AlreadyExists(msg);
  if (cls == "55" || sqlstate == "53400") return Status::FailedPrecondition(msg);
  if (cls == "42" || cls == "22") return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

int QueryResult::ColumnIndex(std::string_view name) const {
  for (int i = 0; i < columns(); ++i) {
    if (name == PQfname(result_.get(), i)) return i;
  }
  return -1;
}

std::optional<std::string_view> QueryResult::Get(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return std::string_view(PQgetvalue(result_.get(), row, column),
                          static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

std::string_view QueryResult::Value(int row, int column) const {
  return Get(row, column).value_or(std::string_view());
}

namespace {

bool IsSuccess(const PGresult* result) {
  switch (PQresultStatus(result)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<QueryResult> ExecSimple(PGconn* conn, std::string_view sql, std::string_view context) {
  const std::string text(sql);
  if (!PQsendQuery(conn, text.c_str())) return StatusFromResult(conn, nullptr, context);
  // Collect every result: the first error wins, else the last result.
  PgResultPtr last;
  Status error;
  while (PGresult* raw = PQgetResult(conn)) {
    PgResultPtr result(raw);
    if (error.ok() && !IsSuccess(result.get())) {
      error = StatusFromStatement(conn, result.get(), context, text);
    }
    if (PQresultStatus(result.get()) == PGRES_COPY_BOTH ||
        PQresultStatus(result.get()) == PGRES_COPY_OUT ||
        PQresultStatus(result.get()) == PGRES_COPY_IN) {
      // Not for COPY: callers that start COPY use PQexec themselves.
      return Status::Internal(std::string(context) + ": unexpected COPY result from ExecSimple");
    }
    last = std::move(result);
  }
  if (!error.ok()) return error;
  if (last == nullptr) return StatusFromResult(conn, nullptr, context);
  return QueryResult(std::move(last));
}

PgSession::PgSession(PgConnPtr conn)
    : conn_(std::move(conn)), endpoint_(DescribeConn(conn_.get())) {}

Result<PgSession> PgSession::Connect(const ConnParams& params) {
  ConnParams plain = params.WithPinnedFormats();
  plain.Erase("replication");
  PGPARITY_ASSIGN_OR_RETURN(PgConnPtr conn, plain.Connect("SQL connection"));
  return PgSession(std::move(conn));
}

Result<PgSession> PgSession::Connect(std::string_view dsn) {
  PGPARITY_ASSIGN_OR_RETURN(ConnParams params, ConnParams::Parse(dsn));
  return Connect(params);
}

Status PgSession::Exec(std::string_view sql) {
  Result<QueryResult> r = ExecSimple(conn_.get(), sql, "SQL");
  return r.ok() ? Status::OK() : std::move(r).status();
}

Result<QueryResult> PgSession::Query(std::string_view sql,
                                     const std::vector<std::optional<std::string>>& params) {
  const std::string text(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PgResultPtr result(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(values.size()),
                                  /*paramTypes=*/nullptr, values.data(), /*paramLengths=*/nullptr,
                                  /*paramFormats=*/nullptr, /*resultFormat=*/0));
  if (result == nullptr || !IsSuccess(result.get())) {
    return StatusFromStatement(conn_.get(), result.get(), "query", text);
  }
  return QueryResult(std::move(result));
}

}  // namespace pgparity::conn
