#include "pgparity/applier/catalog/target_tables.h"

#include <algorithm>
#include <map>

#include "pgparity/applier/catalog/relations.h"

namespace pgparity::applier {

namespace {

// The target's table of a spec: which of the spec's columns are missing,
// which are extra, and each spec column's type there.
TargetTable Describe(const TableSpec& spec, const Relation& table) {
  TargetTable t;
  t.exists = true;
  t.relkind = table.relkind == 'p' ? 'p' : 'r';
  t.estimated_rows = table.reltuples;
  t.types.assign(spec.columns.size(), std::string());
  for (size_t c = 0; c < spec.columns.size(); ++c) {
    if (const RelationColumn* column = table.Find(spec.columns[c])) {
      t.types[c] = column->type;
    } else {
      t.missing_columns.push_back(spec.columns[c]);
    }
  }
  for (const RelationColumn& column : table.columns) {
    if (std::find(spec.columns.begin(), spec.columns.end(), column.name) == spec.columns.end()) {
      t.extra_columns.push_back(column.name);
    }
  }
  return t;
}

}  // namespace

Result<std::vector<TargetTable>> ReadTargetTables(conn::PgSession& target,
                                                  const std::vector<TableSpec>& specs,
                                                  const SubscriptionInfo& sub) {
  PGPARITY_ASSIGN_OR_RETURN(Relations tables, ReadRelations(target));
  PGPARITY_ASSIGN_OR_RETURN(std::vector<SubscriptionTable> subscribed,
                            ReadSubscriptionTables(target, sub));
  std::map<RelationName, char> states;
  for (const SubscriptionTable& s : subscribed) states[s.table] = s.state;
  std::vector<TargetTable> out;
  for (const TableSpec& spec : specs) {
    const RelationName name{spec.schema, spec.name};
    auto table = tables.find(name);
    TargetTable t = table == tables.end() ? TargetTable() : Describe(spec, table->second);
    if (auto state = states.find(name); state != states.end()) {
      t.sync_state = state->second;
    } else {
      t.subscribed_instead = FindSubscribedInstead(
          tables, name, [&](const RelationName& r) { return states.contains(r); });
    }
    out.push_back(std::move(t));
  }
  return out;
}

void PlanComparison(const std::vector<TargetTable>& targets, std::string_view source_timezone,
                    std::vector<TableSpec>& specs) {
  for (size_t i = 0; i < specs.size(); ++i) {
    TableSpec& spec = specs[i];
    spec.source_timezone = std::string(source_timezone);
    spec.target_types.assign(spec.columns.size(), std::string());
    spec.compare.assign(spec.columns.size(), TypeChange());
    if (!targets[i].exists) continue;  // compared as text if it appears
    spec.target_types = targets[i].types;
    spec.target_relkind = targets[i].relkind;
    for (size_t c = 0; c < spec.columns.size(); ++c) {
      if (targets[i].types[c].empty()) continue;  // missing on the target
      spec.compare[c] = ClassifyTypeChange(spec.types[c], targets[i].types[c]);
    }
  }
}

}  // namespace pgparity::applier
