// Internal to pgparity_preflight: what each command needs of the role on
// either side (docs/privileges.md, measured) and, against what the roles
// have (catalog/privileges.h), the grants missing, each with the statement
// that adds it. Pure: unit-tested in command_privileges_test.cc.
#ifndef PGPARITY_APPLIER_PREFLIGHT_COMMAND_PRIVILEGES_H_
#define PGPARITY_APPLIER_PREFLIGHT_COMMAND_PRIVILEGES_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/catalog/privileges.h"
#include "pgparity/applier/catalog/relations.h"

namespace pgparity::applier::preflight {

// One missing right on one side.
struct MissingGrant {
  std::string side;    // "source" or "target"
  std::string object;  // "role pgparity", "public.users, public.orders", ...
  std::string detail;  // what is missing and which of the commands need it
  std::string fix;     // the statement(s) that add it, or what to do instead
};

struct PrivilegeInput {
  std::span<const std::string> commands;  // each one of PrivilegeCommands() (preflight.h)
  const RolePrivileges& source;
  const RolePrivileges& target;
  std::span<const RelationName> published;  // the publication's tables
  int64_t target_version_num = 0;           // server_version_num
};

// "a, b, c" or, past five, "a, b, c, d, e and 7 more" (preflight's objects
// and details name at most five of a list).
std::string AbridgedList(const std::vector<std::string>& names);

// Missing grants in a fixed order: source before target, role attributes,
// schemas, tables, then the target's views, functions and parameters.
// Tables missing on a side are skipped (the table checks report them).
std::vector<MissingGrant> MissingGrants(const PrivilegeInput& in);

}  // namespace pgparity::applier::preflight

#endif  // PGPARITY_APPLIER_PREFLIGHT_COMMAND_PRIVILEGES_H_
