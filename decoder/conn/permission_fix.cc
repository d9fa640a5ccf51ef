#include "pgparity/conn/permission_fix.h"

#include <algorithm>
#include <cctype>

#include "pgparity/sql_quote.h"

namespace pgparity::conn {
namespace {

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

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

std::string PermissionFix(std::string_view primary, std::string_view user, std::string_view sql) {
  const std::string to =
      " TO " + QuoteIdent(user) + "; (as a superuser on this server; docs/privileges.md)";
  if (Contains(primary, "pg_show_replication_origin_status")) {
    return "; missing EXECUTE on the function: GRANT EXECUTE ON FUNCTION "
           "pg_catalog.pg_show_replication_origin_status()" +
           to;
  }
  if (std::string_view view = NameAfter(primary, "permission denied for view "); !view.empty()) {
    const std::string name = view == "pg_replication_origin_status"
                                 ? "pg_catalog.pg_replication_origin_status"
                                 : QuoteIdent(view);
    return "; missing SELECT on the view: GRANT SELECT ON " + name + to;
  }
  if (std::string_view table = NameAfter(primary, "permission denied for table "); !table.empty()) {
    const std::string privileges = TablePrivileges(sql);
    return "; missing " + privileges + " on the table: GRANT " + privileges + " ON TABLE " +
           QuoteIdent(table) + to;
  }
  if (Contains(primary, "session_replication_role")) {
    return "; missing SET on the parameter (PostgreSQL 15+; a superuser on 14): GRANT SET ON "
           "PARAMETER session_replication_role" +
           to;
  }
  return std::string();
}

}  // namespace pgparity::conn
