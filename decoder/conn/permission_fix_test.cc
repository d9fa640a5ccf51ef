// PermissionFix: the GRANT appended to a server's "permission denied", for
// the server messages measured on PostgreSQL 14 and 16 (docs/privileges.md).
#include "pgparity/conn/permission_fix.h"

#include <gtest/gtest.h>

namespace pgparity::conn {
namespace {

TEST(TablePrivilegesTest, FollowsTheStatementsFirstKeyword) {
  EXPECT_EQ(TablePrivileges(""), "SELECT");
  EXPECT_EQ(TablePrivileges("COPY (SELECT 1) TO STDOUT"), "SELECT");
  EXPECT_EQ(TablePrivileges("  (SELECT * FROM t)"), "SELECT");
  EXPECT_EQ(TablePrivileges("INSERT INTO t VALUES (1)"), "INSERT");
  EXPECT_EQ(TablePrivileges("insert into t values (1) on conflict (id) do update set a = 1"),
            "INSERT, UPDATE");
  EXPECT_EQ(TablePrivileges("UPDATE ONLY t SET a = 1 WHERE id = 1"), "SELECT, UPDATE");
  EXPECT_EQ(TablePrivileges("DELETE FROM ONLY t WHERE id = 1"), "SELECT, DELETE");
}

TEST(PermissionFixTest, NamesTheGrantOfEachObject) {
  EXPECT_EQ(PermissionFix("permission denied for view pg_replication_origin_status", "pgp", ""),
            "; missing SELECT on the view: GRANT SELECT ON pg_catalog.pg_replication_origin_status "
            "TO \"pgp\"; (as a superuser on this server; docs/privileges.md)");
  EXPECT_EQ(
      PermissionFix("permission denied for function pg_show_replication_origin_status", "pgp", ""),
      "; missing EXECUTE on the function: GRANT EXECUTE ON FUNCTION "
      "pg_catalog.pg_show_replication_origin_status() TO \"pgp\"; (as a superuser on this "
      "server; docs/privileges.md)");
  EXPECT_EQ(PermissionFix("permission denied for table orders", "a\"b", "DELETE FROM orders"),
            "; missing SELECT, DELETE on the table: GRANT SELECT, DELETE ON TABLE \"orders\" TO "
            "\"a\"\"b\"; (as a superuser on this server; docs/privileges.md)");
  EXPECT_EQ(PermissionFix("permission denied to set parameter \"session_replication_role\"", "r",
                          "SET LOCAL session_replication_role = replica"),
            "; missing SET on the parameter (PostgreSQL 15+; a superuser on 14): GRANT SET ON "
            "PARAMETER session_replication_role TO \"r\"; (as a superuser on this server; "
            "docs/privileges.md)");
}

TEST(PermissionFixTest, SchemaUsage) {
  EXPECT_EQ(PermissionFix("permission denied for schema s", "pgp", "SELECT 1"),
            "; missing USAGE on the schema: GRANT USAGE ON SCHEMA \"s\" TO \"pgp\"; (as a "
            "superuser on this server; docs/privileges.md)");
}

TEST(PermissionFixTest, RowLevelSecurityNeedsBypassNotAGrant) {
  EXPECT_EQ(PermissionFix("query would be affected by row-level security policy for table "
                          "\"mandant\"",
                          "pgp", "COPY (SELECT * FROM mandant) TO STDOUT"),
            "; role \"pgp\" is subject to the table's row-level security, so pgparity would see "
            "only the rows its policies show: ALTER ROLE \"pgp\" BYPASSRLS; (as a superuser on "
            "this server; docs/privileges.md)");
}

TEST(PermissionFixTest, NothingForAnUnknownObject) {
  EXPECT_EQ(PermissionFix("must be owner of table t", "pgp", ""), "");
}

}  // namespace
}  // namespace pgparity::conn
