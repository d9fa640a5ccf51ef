// What the connected role may do on one side: the role attributes and the
// grants pgparity's commands need (docs/privileges.md), read with the
// server's own has_*_privilege functions, so membership in a role that holds
// a grant, PUBLIC's grants and superuser all count as the server counts them.
// Errors and thread-safety: as catalog.h says.
#ifndef PGPARITY_APPLIER_CATALOG_PRIVILEGES_H_
#define PGPARITY_APPLIER_CATALOG_PRIVILEGES_H_

#include <map>
#include <string>

#include "pgparity/applier/catalog/relations.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct TableRights {
  bool schema_usage = false;  // USAGE on its schema: without it no grant on the table helps
  bool select = false;
  bool insert = false;
  bool update = false;
  bool delete_ = false;
  // Row-level security is on and applies to the role (not a superuser,
  // not BYPASSRLS, not the owner unless FORCE ROW LEVEL SECURITY): its
  // reads would see only the rows the policies show. pgparity's sessions
  // set row_security=off, so they fail on such a table instead.
  bool row_security_applies = false;
};

struct RolePrivileges {
  std::string role;  // current_user
  bool superuser = false;
  bool replication = false;  // may open a replication connection (or superuser)
  // SELECT on pg_replication_origin_status and EXECUTE on the function
  // behind it (both are revoked from PUBLIC).
  bool origin_status_view = false;
  bool origin_status_function = false;
  // SET on session_replication_role: has_parameter_privilege on
  // PostgreSQL 15+, superuser only before.
  bool set_replication_role = false;
  // Every ordinary and partitioned table outside the system schemas.
  std::map<RelationName, TableRights> tables;
};

Result<RolePrivileges> ReadRolePrivileges(conn::PgSession& session);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_PRIVILEGES_H_
