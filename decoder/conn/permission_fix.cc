#include "pgparity/conn/permission_fix.h"

#include <algorithm>
#include <cctype>

#include "pgparity/contains.h"
#include "pgparity/sql_quote.h"

namespace pgparity::conn {
namespace {

// The name in a server message "...for table orders" (the rest of the line).
std::string_view NameAfter(std::string_view primary, std::string_view prefix) {
  const size_t at = primary.find(prefix);
  return at == std::string_view::npos ? std::string_view() : primary.substr(at + prefix.size());
}

}  // namespace

// COPY and SELECT read; INSERT ... ON CONFLICT DO UPDATE also updates;
// UPDATE and DELETE read their WHERE clause. Unknown → SELECT: pgparity's
// writes all go through PgSession::Query/Exec, which pass their text.
std::string TablePrivileges(std::string_view sql) {
  std::string upper(sql);  // keywords in any case
  std::ranges::transform(upper, upper.begin(),
                         [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  const size_t start = upper.find_first_not_of(" \t\r\n(");
  const std::string_view rest =
      start == std::string::npos ? std::string_view() : std::string_view(upper).substr(start);
  if (rest.starts_with("INSERT")) return Contains(rest, "DO UPDATE") ? "INSERT, UPDATE" : "INSERT";
  if (rest.starts_with("UPDATE")) return "SELECT, UPDATE";
  if (rest.starts_with("DELETE")) return "SELECT, DELETE";
  return "SELECT";
}

std::string GrantSql(std::string_view privileges, std::string_view object, std::string_view user) {
  return "GRANT " + std::string(privileges) + " ON " + std::string(object) + " TO " +
         QuoteIdent(user) + ";";
}

std::string ReplicationRoleSql(std::string_view user) {
  return "ALTER ROLE " + QuoteIdent(user) + " WITH LOGIN REPLICATION;";
}

std::string PermissionFix(std::string_view primary, std::string_view user, std::string_view sql) {
  constexpr std::string_view kWhere = " (as a superuser on this server; docs/privileges.md)";
  auto fix = [&](std::string_view missing, std::string_view privileges, std::string_view object) {
    return "; missing " + std::string(missing) + ": " + GrantSql(privileges, object, user) +
           std::string(kWhere);
  };
  if (Contains(primary, "pg_show_replication_origin_status")) {
    return fix("EXECUTE on the function", "EXECUTE", kOriginStatusFunction);
  }
  if (std::string_view view = NameAfter(primary, "permission denied for view "); !view.empty()) {
    return fix(
        "SELECT on the view", "SELECT",
        view == "pg_replication_origin_status" ? std::string(kOriginStatusView) : QuoteIdent(view));
  }
  if (std::string_view table = NameAfter(primary, "permission denied for table "); !table.empty()) {
    const std::string privileges = TablePrivileges(sql);
    return fix(privileges + " on the table", privileges, "TABLE " + QuoteIdent(table));
  }
  if (std::string_view schema = NameAfter(primary, "permission denied for schema ");
      !schema.empty()) {
    return fix("USAGE on the schema", "USAGE", "SCHEMA " + QuoteIdent(schema));
  }
  if (std::string_view table =
          NameAfter(primary, "query would be affected by row-level security policy for table ");
      !table.empty()) {
    // The connection's row_security=off (pg_handle.h) turned a filtered read
    // or write into this error; a grant does not lift a policy.
    return "; role " + QuoteIdent(user) + " is subject to the table's row-level security, so " +
           "pgparity would see only the rows its policies show: ALTER ROLE " + QuoteIdent(user) +
           " BYPASSRLS;" + std::string(kWhere);
  }
  if (Contains(primary, "session_replication_role")) {
    return fix("SET on the parameter (PostgreSQL 15+; a superuser on 14)", "SET",
               "PARAMETER session_replication_role");
  }
  return std::string();
}

}  // namespace pgparity::conn
