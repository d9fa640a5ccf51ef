// The missing privilege behind a server's "permission denied" (SQLSTATE
// 42501), and the GRANT that fixes it, for the objects pgparity reads or
// writes: a table, a view (pg_replication_origin_status), the function
// pg_show_replication_origin_status(), the parameter session_replication_role.
// The measured grants of every command: docs/privileges.md. Pure functions.
#ifndef PGPARITY_CONN_PERMISSION_FIX_H_
#define PGPARITY_CONN_PERMISSION_FIX_H_

#include <string>
#include <string_view>

namespace pgparity::conn {

// The privileges a statement needs on a table it was refused, from its first
// keyword: "INSERT" (", UPDATE" with ON CONFLICT DO UPDATE), "SELECT, UPDATE",
// "SELECT, DELETE"; anything else (SELECT, COPY, "" for unknown) → "SELECT".
std::string TablePrivileges(std::string_view sql);

// "GRANT <privileges> ON <object> TO \"<user>\";" with `object` already SQL
// ("TABLE public.users", "FUNCTION pg_catalog.f()", "PARAMETER x").
std::string GrantSql(std::string_view privileges, std::string_view object, std::string_view user);

// "ALTER ROLE \"<user>\" WITH LOGIN REPLICATION;": what a replication
// connection needs, a role attribute rather than a grant.
std::string ReplicationRoleSql(std::string_view user);

// The origin status view and the function behind it, as GRANT names them.
inline constexpr std::string_view kOriginStatusView = "pg_catalog.pg_replication_origin_status";
inline constexpr std::string_view kOriginStatusFunction =
    "FUNCTION pg_catalog.pg_show_replication_origin_status()";

// "; missing <privilege> on <object>: GRANT ... TO \"<user>\"; on this server
// (docs/privileges.md)" for the server message `primary` of a 42501 error
// raised by `sql` ("" when unknown), or "" when the message names no object
// pgparity knows how to grant.
std::string PermissionFix(std::string_view primary, std::string_view user, std::string_view sql);

}  // namespace pgparity::conn

#endif  // PGPARITY_CONN_PERMISSION_FIX_H_
