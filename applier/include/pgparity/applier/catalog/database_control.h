// Who controls the session's database and what it sets for every new
// session: its owner, whether current_user may ALTER it and signal other
// roles' backends, which roles are superusers (whose sessions only a
// superuser may end), and its database-level settings (ALTER DATABASE ...
// SET, pg_db_role_setting with setrole = 0). What the cutover's fence of the
// source needs (cutover/source_fence.h).
//
// Read-only queries on a plain session; pg_database, pg_roles and
// pg_db_role_setting are readable by any role.
// Errors and thread-safety: as catalog.h says.
#ifndef PGPARITY_APPLIER_CATALOG_DATABASE_CONTROL_H_
#define PGPARITY_APPLIER_CATALOG_DATABASE_CONTROL_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct DatabaseControl {
  std::string database;  // current_database()
  std::string owner;     // the role that owns it
  // May run ALTER DATABASE on it: a member of the owner role (superusers are).
  bool may_alter = false;
  // May pg_terminate_backend other roles' (non-superuser) sessions: a member
  // of pg_signal_backend, or a superuser.
  bool signal_backend = false;
  std::vector<std::string> superusers;  // every role with rolsuper, sorted
};

Result<DatabaseControl> ReadDatabaseControl(conn::PgSession& session);

// The value the session's database sets for `name` in every new session
// (ALTER DATABASE ... SET, for all roles), exactly as stored; nullopt when
// the database sets none.
Result<std::optional<std::string>> ReadDatabaseSetting(conn::PgSession& session,
                                                       std::string_view name);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_DATABASE_CONTROL_H_
