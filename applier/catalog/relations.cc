#include "pgparity/applier/catalog/relations.h"

#include <algorithm>

#include "catalog/query_rows.h"
#include "pgparity/sql_quote.h"

namespace pgparity::applier {

using catalog_internal::Params;
using catalog_internal::QueryOneRow;
using catalog_internal::QueryRows;
using catalog_internal::TextColumn;
using conn::RowReader;

namespace {

// One row per column (a table without columns: one row, attname NULL);
// $1/$2 NULL: every table, else the one of that schema and name.
std::string RelationsSql(int server_version) {
  const std::string generated = server_version >= 120000 ? "a.attgenerated <> ''" : "false";
  return "SELECT n.nspname AS schema, c.relname AS name, format('%I.%I', n.nspname, c.relname) "
         "AS qualified, c.relkind, c.relpersistence, c.relreplident, c.reltuples::float8 AS "
         "reltuples, pk.indexrelid IS NOT NULL AS has_pk, ri.indexrelid IS NOT NULL AS has_ri, "
         "coalesce(s.n_tup_upd + s.n_tup_del, 0) AS updates_deletes, (SELECT o.option_value::int "
         "FROM pg_options_to_table(c.reloptions) o WHERE o.option_name = 'toast_tuple_target') AS "
         "toast_tuple_target, a.attname, a.attstorage <> 'p' AS toastable, "
         "format_type(a.atttypid, a.atttypmod) AS type, a.atttypid::int8 AS type_oid, a.atttypmod, "
         "a.attnotnull, a.atthasdef, " +
         generated +
         " AS generated, coalesce(a.attnum = ANY (pk.indkey), false) AS in_pk, "
         "coalesce(a.attnum = ANY (ri.indkey), false) AS in_ri, pn.nspname AS parent_schema, "
         "p.relname AS parent_name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
         "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
         "LEFT JOIN pg_index pk ON pk.indrelid = c.oid AND pk.indisprimary "
         "LEFT JOIN pg_index ri ON ri.indrelid = c.oid AND ri.indisreplident "
         "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
         "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND c.relispartition "
         "LEFT JOIN pg_class p ON p.oid = i.inhparent "
         "LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace "
         "WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't' "
         "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
         "AND n.nspname NOT LIKE 'pg\\_toast%' "
         "AND ($1::name IS NULL OR (n.nspname = $1 AND c.relname = $2)) "
         "ORDER BY n.nspname, c.relname, a.attnum";
}

struct ColumnRow {
  RelationName table;
  Relation relation;  // the table's own facts, repeated on each row
  std::optional<RelationColumn> column;
};

Result<ColumnRow> ReadColumnRow(const RowReader& row) {
  ColumnRow r;
  Relation& t = r.relation;
  PGPARITY_ASSIGN_OR_RETURN(t.schema, row.Text("schema"));
  PGPARITY_ASSIGN_OR_RETURN(t.name, row.Text("name"));
  PGPARITY_ASSIGN_OR_RETURN(t.qualified, row.Text("qualified"));
  PGPARITY_ASSIGN_OR_RETURN(t.relkind, row.Char("relkind"));
  PGPARITY_ASSIGN_OR_RETURN(t.persistence, row.Char("relpersistence"));
  PGPARITY_ASSIGN_OR_RETURN(t.replica_identity, row.Char("relreplident"));
  PGPARITY_ASSIGN_OR_RETURN(t.reltuples, row.Double("reltuples"));
  PGPARITY_ASSIGN_OR_RETURN(t.has_primary_key, row.Bool("has_pk"));
  PGPARITY_ASSIGN_OR_RETURN(t.has_identity_index, row.Bool("has_ri"));
  PGPARITY_ASSIGN_OR_RETURN(t.updates_deletes, row.Int64("updates_deletes"));
  PGPARITY_ASSIGN_OR_RETURN(t.toast_tuple_target, row.OptionalInt64("toast_tuple_target"));
  PGPARITY_ASSIGN_OR_RETURN(std::optional<std::string_view> parent,
                            row.OptionalText("parent_name"));
  if (parent) {
    PGPARITY_ASSIGN_OR_RETURN(std::string_view parent_schema, row.Text("parent_schema"));
    t.parent = RelationName{std::string(parent_schema), std::string(*parent)};
  }
  r.table = t.key();
  PGPARITY_ASSIGN_OR_RETURN(std::optional<std::string_view> name, row.OptionalText("attname"));
  if (!name) return r;
  RelationColumn& c = r.column.emplace();
  c.name = *name;
  PGPARITY_ASSIGN_OR_RETURN(c.type, row.Text("type"));
  PGPARITY_ASSIGN_OR_RETURN(const int64_t type_oid, row.Int64("type_oid"));
  PGPARITY_ASSIGN_OR_RETURN(const int64_t typmod, row.Int64("atttypmod"));
  c.type_oid = static_cast<uint32_t>(type_oid);
  c.typmod = static_cast<int32_t>(typmod);
  PGPARITY_ASSIGN_OR_RETURN(c.not_null, row.Bool("attnotnull"));
  PGPARITY_ASSIGN_OR_RETURN(c.has_default, row.Bool("atthasdef"));
  PGPARITY_ASSIGN_OR_RETURN(c.generated, row.Bool("generated"));
  PGPARITY_ASSIGN_OR_RETURN(c.in_primary_key, row.Bool("in_pk"));
  PGPARITY_ASSIGN_OR_RETURN(c.in_identity_index, row.Bool("in_ri"));
  PGPARITY_ASSIGN_OR_RETURN(c.toastable, row.Bool("toastable"));
  return r;
}

Result<Relations> ReadTables(conn::PgSession& session, const Params& name) {
  PGPARITY_ASSIGN_OR_RETURN(
      std::vector<ColumnRow> rows,
      QueryRows<ColumnRow>(session, "reading the tables' columns",
                           RelationsSql(session.server_version()), name, ReadColumnRow));
  Relations relations;
  for (ColumnRow& row : rows) {
    auto [it, first] = relations.try_emplace(row.table, std::move(row.relation));
    if (row.column) it->second.columns.push_back(std::move(*row.column));
  }
  return relations;
}

// A leaf partition belongs to each of its ancestors up to the topmost:
// where a change really happens, and where the subscriber routes it.
void LinkPartitions(Relations& relations) {
  for (auto& [name, leaf] : relations) {
    if (leaf.relkind != 'r') continue;
    for (const std::optional<RelationName>* up = &leaf.parent; *up;) {
      auto ancestor = relations.find(**up);
      if (ancestor == relations.end()) break;
      ancestor->second.leaves.push_back(name);
      leaf.root = ancestor->first;
      up = &ancestor->second.parent;
    }
  }
}

}  // namespace

const RelationColumn* Relation::Find(std::string_view column) const {
  auto it = std::find_if(columns.begin(), columns.end(),
                         [&](const RelationColumn& c) { return c.name == column; });
  return it == columns.end() ? nullptr : &*it;
}

bool Relation::HasReplicaIdentity() const {
  return replica_identity == 'f' || (replica_identity == 'd' && has_primary_key) ||
         (replica_identity == 'i' && has_identity_index);
}

std::vector<std::string> Relation::SentKey() const {
  std::vector<std::string> key;
  for (const auto& c : columns) {
    if (c.generated) continue;
    if (replica_identity == 'f' || (replica_identity == 'd' && c.in_primary_key) ||
        (replica_identity == 'i' && c.in_identity_index)) {
      key.push_back(c.name);
    }
  }
  return key;
}

std::vector<std::string> Relation::LookupKey() const {
  const bool by_identity = replica_identity == 'i' && has_identity_index;
  std::vector<std::string> key;
  for (const auto& c : columns) {
    if (by_identity ? c.in_identity_index : c.in_primary_key) key.push_back(c.name);
  }
  return key;
}

Result<Relations> ReadRelations(conn::PgSession& session) {
  PGPARITY_ASSIGN_OR_RETURN(Relations relations, ReadTables(session, {std::nullopt, std::nullopt}));
  LinkPartitions(relations);
  return relations;
}

Result<std::optional<Relation>> ReadRelation(conn::PgSession& session, const RelationName& name) {
  PGPARITY_ASSIGN_OR_RETURN(Relations relations, ReadTables(session, {name.schema, name.name}));
  if (relations.empty()) return std::optional<Relation>();
  return std::optional<Relation>(std::move(relations.begin()->second));
}

std::vector<const Relation*> StorageOf(const Relations& relations, const Relation& relation) {
  if (relation.relkind != 'p') return {&relation};
  std::vector<const Relation*> out;
  for (const auto& leaf : relation.leaves) {
    if (auto it = relations.find(leaf); it != relations.end()) out.push_back(&it->second);
  }
  return out;
}

Result<bool> HasRows(conn::PgSession& session, const Relation& relation) {
  return QueryOneRow<bool>(session, "reading whether a table is empty",
                           "SELECT EXISTS (SELECT 1 FROM " +
                               QuoteQualifiedName(relation.schema, relation.name) + ") AS has_rows",
                           {}, [](const RowReader& row) { return row.Bool("has_rows"); });
}

Result<std::vector<std::string>> ReadTemporaryTables(conn::PgSession& session) {
  return QueryRows<std::string>(
      session, "reading the temporary tables",
      "SELECT format('%I.%I', n.nspname, c.relname) AS qualified FROM pg_class c JOIN "
      "pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND "
      "c.relpersistence = 't' ORDER BY 1",
      {}, TextColumn("qualified"));
}

Result<std::map<RelationName, std::vector<ReplicaTrigger>>> ReadReplicaTriggers(
    conn::PgSession& session) {
  using Row = std::pair<RelationName, ReplicaTrigger>;
  Result<std::vector<Row>> triggers = QueryRows<Row>(
      session, "reading the triggers that fire on replicated changes",
      "SELECT n.nspname, c.relname, format('%I', t.tgname) AS name, t.tgenabled = 'A' AS always "
      "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = "
      "c.relnamespace WHERE NOT t.tgisinternal AND t.tgenabled IN ('A', 'R') ORDER BY t.tgname",
      {}, [](const RowReader& row) -> Result<Row> {
        Row r;
        PGPARITY_ASSIGN_OR_RETURN(r.first.schema, row.Text("nspname"));
        PGPARITY_ASSIGN_OR_RETURN(r.first.name, row.Text("relname"));
        PGPARITY_ASSIGN_OR_RETURN(r.second.name, row.Text("name"));
        PGPARITY_ASSIGN_OR_RETURN(r.second.always, row.Bool("always"));
        return r;
      });
  if (!triggers.ok()) return triggers.status();
  std::map<RelationName, std::vector<ReplicaTrigger>> out;
  for (auto& [table, trigger] : *triggers) out[table].push_back(std::move(trigger));
  return out;
}

Result<std::map<std::string, bool>> ReadMaterializedViews(conn::PgSession& session) {
  using View = std::pair<std::string, bool>;  // name, populated
  Result<std::vector<View>> views = QueryRows<View>(
      session, "reading the materialized views",
      "SELECT format('%I.%I', n.nspname, c.relname) AS qualified, c.relispopulated FROM "
      "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' AND "
      "n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'",
      {}, [](const RowReader& row) -> Result<View> {
        View v;
        PGPARITY_ASSIGN_OR_RETURN(v.first, row.Text("qualified"));
        PGPARITY_ASSIGN_OR_RETURN(v.second, row.Bool("relispopulated"));
        return v;
      });
  if (!views.ok()) return views.status();
  return std::map<std::string, bool>(views->begin(), views->end());
}

Result<int64_t> CountLargeObjects(conn::PgSession& session) {
  return QueryOneRow<int64_t>(session, "reading pg_largeobject_metadata",
                              "SELECT count(*) AS n FROM pg_largeobject_metadata", {},
                              [](const RowReader& row) { return row.Int64("n"); });
}

}  // namespace pgparity::applier
