#include "preflight/command_privileges.h"

#include <absl/strings/str_join.h>

#include <algorithm>
#include <map>
#include <set>

#include "pgparity/applier/preflight/preflight.h"
#include "pgparity/conn/permission_fix.h"
#include "pgparity/sql_quote.h"

namespace pgparity::applier::preflight {

namespace {

// What a command needs; docs/privileges.md says why each is needed.
enum Need : unsigned {
  kReplication = 1u << 0,         // source: a replication connection
  kSourceSelect = 1u << 1,        // source: SELECT on the published tables
  kTargetSelect = 1u << 2,        // target: SELECT on them
  kTargetWrite = 1u << 3,         // target: INSERT, UPDATE, DELETE on them
  kOriginStatus = 1u << 4,        // target: the subscription's applied position
  kSetReplicationRole = 1u << 5,  // target: writes with replication triggers off
};

constexpr unsigned kVerifyNeeds = kReplication | kSourceSelect | kTargetSelect | kOriginStatus;

constexpr std::string_view kCommands[] = {"verify", "audit",  "record",      "tail",
                                          "digest", "repair", "repair-apply"};
constexpr unsigned kCommandNeeds[] = {
    kVerifyNeeds,
    kVerifyNeeds,
    kReplication,
    kReplication,
    kSourceSelect | kTargetSelect,
    kSourceSelect,
    kSourceSelect | kTargetSelect | kTargetWrite | kSetReplicationRole};
static_assert(std::size(kCommands) == std::size(kCommandNeeds));

unsigned NeedsOf(std::string_view command) {
  const auto* at = std::ranges::find(kCommands, command);
  return at == std::end(kCommands) ? 0 : kCommandNeeds[at - std::begin(kCommands)];
}

struct TablePrivilege {
  std::string_view name;
  bool TableRights::*granted;
};
constexpr TablePrivilege kRead[] = {{"SELECT", &TableRights::select}};
constexpr TablePrivilege kWrite[] = {{"INSERT", &TableRights::insert},
                                     {"UPDATE", &TableRights::update},
                                     {"DELETE", &TableRights::delete_}};

std::string Quoted(const RelationName& t) { return QuoteQualifiedName(t.schema, t.name); }
std::string Shown(const RelationName& t) {
  return IdentForDisplay(t.schema) + "." + IdentForDisplay(t.name);
}

}  // namespace

std::string AbridgedList(const std::vector<std::string>& names) {
  constexpr size_t kMax = 5;
  if (names.size() <= kMax) return absl::StrJoin(names, ", ");
  return absl::StrJoin(names.begin(), names.begin() + kMax, ", ") + " and " +
         std::to_string(names.size() - kMax) + " more";
}

namespace {

class Collector {
 public:
  explicit Collector(const PrivilegeInput& in) : in_(in) {}

  // Adds a missing grant when one of the commands checked needs it.
  void Add(std::string_view side, unsigned need, std::string object, std::string what,
           std::string fix) {
    std::vector<std::string> by;
    for (const auto& command : in_.commands)
      if (NeedsOf(command) & need) by.push_back(command);
    if (by.empty()) return;
    out_.push_back({std::string(side), std::move(object),
                    std::move(what) + " (needed by " + absl::StrJoin(by, ", ") + ")",
                    std::move(fix)});
  }
  void TableRights(std::string_view side, const RolePrivileges& role, unsigned need,
                   std::span<const TablePrivilege> wanted);
  void SchemaUsage(std::string_view side, const RolePrivileges& role, unsigned need);
  void RowSecurity(std::string_view side, const RolePrivileges& role, unsigned need);

  const PrivilegeInput& in() const { return in_; }
  std::vector<MissingGrant> Take() { return std::move(out_); }

 private:
  const PrivilegeInput& in_;
  std::vector<MissingGrant> out_;
};

void Collector::SchemaUsage(std::string_view side, const RolePrivileges& role, unsigned need) {
  std::set<std::string> schemas;
  for (const auto& table : in_.published) {
    auto it = role.tables.find(table);
    if (it != role.tables.end() && !it->second.schema_usage) schemas.insert(table.schema);
  }
  if (schemas.empty()) return;
  std::vector<std::string> shown, quoted;
  for (const auto& s : schemas)
    shown.push_back(IdentForDisplay(s)), quoted.push_back(QuoteIdent(s));
  Add(side, need, "schema " + absl::StrJoin(shown, ", "),
      "the role " + IdentForDisplay(role.role) + " lacks USAGE on the schema of published tables",
      conn::GrantSql("USAGE", "SCHEMA " + absl::StrJoin(quoted, ", "), role.role));
}

// Published tables lacking some of `wanted`, grouped by what they lack: one
// GRANT per group, naming every table (the object shows the first five).
void Collector::TableRights(std::string_view side, const RolePrivileges& role, unsigned need,
                            std::span<const TablePrivilege> wanted) {
  std::map<std::string, std::vector<RelationName>> by_missing;
  for (const auto& table : in_.published) {
    auto it = role.tables.find(table);
    if (it == role.tables.end()) continue;  // not on this side: the table checks say so
    std::vector<std::string> missing;
    for (const auto& p : wanted)
      if (!(it->second.*p.granted)) missing.emplace_back(p.name);
    if (!missing.empty()) by_missing[absl::StrJoin(missing, ", ")].push_back(table);
  }
  for (const auto& [missing, tables] : by_missing) {
    std::vector<std::string> shown, quoted;
    for (const auto& t : tables) shown.push_back(Shown(t)), quoted.push_back(Quoted(t));
    Add(side, need, AbridgedList(shown),
        "the role " + IdentForDisplay(role.role) + " lacks " + missing + " on " +
            std::to_string(tables.size()) + " of " + std::to_string(in_.published.size()) +
            " published tables",
        conn::GrantSql(missing, "TABLE " + absl::StrJoin(quoted, ", "), role.role));
  }
}

// Published tables whose row-level security applies to the role: no grant
// lifts a policy, BYPASSRLS does (or connecting as the tables' owner).
void Collector::RowSecurity(std::string_view side, const RolePrivileges& role, unsigned need) {
  std::vector<std::string> shown;
  for (const auto& table : in_.published) {
    auto it = role.tables.find(table);
    if (it != role.tables.end() && it->second.row_security_applies) shown.push_back(Shown(table));
  }
  if (shown.empty()) return;
  Add(side, need, AbridgedList(shown),
      "row-level security applies to the role " + IdentForDisplay(role.role) + " on " +
          std::to_string(shown.size()) + " of " + std::to_string(in_.published.size()) +
          " published tables: it would see only the rows their policies show",
      "ALTER ROLE " + QuoteIdent(role.role) + " BYPASSRLS;");
}

void SourceGrants(Collector& c) {
  const RolePrivileges& role = c.in().source;
  if (!role.replication) {
    c.Add("source", kReplication, "role " + IdentForDisplay(role.role),
          "the role may not open a replication connection", conn::ReplicationRoleSql(role.role));
  }
  c.SchemaUsage("source", role, kSourceSelect);
  c.TableRights("source", role, kSourceSelect, kRead);
  c.RowSecurity("source", role, kSourceSelect);
}

void TargetGrants(Collector& c) {
  const RolePrivileges& role = c.in().target;
  const std::string shown = IdentForDisplay(role.role);
  c.SchemaUsage("target", role, kTargetSelect | kTargetWrite);
  c.TableRights("target", role, kTargetSelect, kRead);
  c.TableRights("target", role, kTargetWrite, kWrite);
  c.RowSecurity("target", role, kTargetSelect | kTargetWrite);
  if (!role.origin_status_view) {
    c.Add("target", kOriginStatus, std::string(conn::kOriginStatusView),
          "the role " + shown + " may not read the subscription's applied position",
          conn::GrantSql("SELECT", conn::kOriginStatusView, role.role));
  }
  if (!role.origin_status_function) {
    c.Add("target", kOriginStatus, "pg_catalog.pg_show_replication_origin_status()",
          "the role " + shown + " may not execute the function behind that view",
          conn::GrantSql("EXECUTE", conn::kOriginStatusFunction, role.role));
  }
  if (role.set_replication_role) return;
  if (c.in().target_version_num >= 150000) {
    c.Add("target", kSetReplicationRole, "parameter session_replication_role",
          "the role " + shown + " may not set it, so it cannot write as the apply worker does",
          conn::GrantSql("SET", "PARAMETER session_replication_role", role.role));
  } else {
    c.Add("target", kSetReplicationRole, "parameter session_replication_role",
          "before PostgreSQL 15 only a superuser may set it",
          "run repair --apply as a superuser, or run the dry run's SQL yourself");
  }
}

}  // namespace

std::vector<MissingGrant> MissingGrants(const PrivilegeInput& in) {
  Collector c(in);
  SourceGrants(c);
  TargetGrants(c);
  return c.Take();
}

}  // namespace pgparity::applier::preflight

namespace pgparity::applier {

std::span<const std::string_view> PrivilegeCommands() { return preflight::kCommands; }

}  // namespace pgparity::applier
