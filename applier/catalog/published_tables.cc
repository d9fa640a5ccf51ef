// The published tables as TableSpecs (publication.h): what the shadow state
// tracks and the bootstrap scans, built from the source's Relations.
#include <algorithm>

#include "catalog/query_rows.h"
#include "pgparity/applier/catalog/publication.h"

namespace pgparity::applier {

namespace {

// Whether pgoutput sends `column`: the publication's listed columns on a
// PostgreSQL 15+ source, else every non-generated one (12 to 17 never
// publish generated columns).
bool Published(const PublishedSubset& subset, const RelationColumn& column) {
  return subset.columns.empty() ? !column.generated : subset.Lets(column.name);
}

// The columns of `table` pgoutput sends, and the key among them, into `spec`.
void AddPublishedColumns(const Relation& table, const PublishedSubset& subset, TableSpec& spec) {
  std::vector<size_t> pk, ident;
  std::vector<bool> integer;
  size_t pk_columns = 0, ident_columns = 0;
  for (const RelationColumn& c : table.columns) {
    pk_columns += c.in_primary_key;
    ident_columns += c.in_identity_index;
    if (!Published(subset, c)) continue;
    if (c.in_primary_key) pk.push_back(spec.columns.size());
    if (c.in_identity_index) ident.push_back(spec.columns.size());
    spec.publishes_generated |= c.generated;
    spec.columns.push_back(c.name);
    spec.types.push_back(c.type);
    spec.type_ids.push_back({c.type_oid, c.typmod});
    // Not Relation::SentKey: pgoutput flags a published generated column
    // (18) under FULL too, where SentKey leaves generated columns out.
    spec.identity_flags.push_back(table.replica_identity == 'f' ||
                                  (table.replica_identity == 'd' && c.in_primary_key) ||
                                  (table.replica_identity == 'i' && c.in_identity_index));
    spec.toastable.push_back(c.toastable);
    integer.push_back(c.type == "smallint" || c.type == "integer" || c.type == "bigint");
  }
  spec.row_filter = subset.row_filter.value_or("");
  const size_t unlisted = static_cast<size_t>(
      std::ranges::count_if(table.columns, [](const RelationColumn& c) { return !c.generated; }));
  if (spec.columns.size() != unlisted || spec.publishes_generated) {
    spec.table_columns = table.columns.size();
  }
  // A key column outside the column list: pgoutput sends rows without it,
  // so they cannot be told apart by it (and the server refuses UPDATE and
  // DELETE on the table): a multiset of rows.
  if (pk.size() != pk_columns) pk.clear();
  if (ident.size() != ident_columns) ident.clear();
  // The key pgoutput's old tuples carry: the identity index with USING
  // INDEX, the primary key otherwise (FULL sends every column, so the
  // primary key is in them too). No key: a multiset of rows.
  spec.key_positions = spec.replica_identity == 'i' ? ident : pk;
  spec.integer_key = spec.key_positions.size() == 1 && integer[spec.key_positions[0]];
}

// A published table as the applier tracks it. A partitioned table
// (published via its root) estimates its rows, and keeps values past the
// lowest toast_tuple_target, by its leaves'.
TableSpec SpecOf(const Relations& relations, const Relation& table, const PublishedSubset& subset) {
  TableSpec spec;
  spec.schema = table.schema;
  spec.name = table.name;
  spec.relkind = table.relkind == 'p' ? 'p' : 'r';
  spec.replica_identity = table.replica_identity;
  std::vector<const Relation*> storage = StorageOf(relations, table);
  if (table.relkind == 'p') storage.push_back(&table);
  spec.estimated_rows = table.relkind == 'p' ? 0 : table.reltuples;
  std::optional<int64_t> toast_target;
  for (const Relation* r : storage) {
    if (table.relkind == 'p') spec.estimated_rows += std::max(r->reltuples, 0.0);
    if (r->toast_tuple_target && (!toast_target || *r->toast_tuple_target < *toast_target)) {
      toast_target = r->toast_tuple_target;
    }
  }
  spec.toast_tuple_target = static_cast<size_t>(toast_target.value_or(0));
  AddPublishedColumns(table, subset, spec);
  return spec;
}

}  // namespace

Result<std::vector<TableSpec>> LoadPublishedTables(conn::PgSession& source,
                                                   const std::string& publication) {
  PGPARITY_ASSIGN_OR_RETURN(std::optional<Publication> pub, ReadPublication(source, publication));
  if (!pub) {
    return Status::NotFound("publication \"" + publication + "\" does not exist on the source (" +
                            source.endpoint() +
                            "); pass the migration's publication with --publication, or create "
                            "it (CREATE PUBLICATION " +
                            publication + " FOR ALL TABLES)");
  }
  PGPARITY_ASSIGN_OR_RETURN(Relations relations, ReadRelations(source));
  std::vector<TableSpec> specs;
  for (const RelationName& name : pub->tables) {
    auto table = relations.find(name);
    if (table == relations.end()) continue;  // dropped since the publication was read
    specs.push_back(SpecOf(relations, table->second, pub->SubsetOf(name)));
    if (specs.back().relkind == 'p') {
      PGPARITY_ASSIGN_OR_RETURN(specs.back().partitions, ReadPartitions(source, specs.back()));
    }
  }
  if (specs.empty()) {
    return Status::FailedPrecondition("publication \"" + publication + "\" on the source (" +
                                      source.endpoint() +
                                      ") publishes no table; add tables (ALTER PUBLICATION " +
                                      publication + " ADD TABLE ...) or use FOR ALL TABLES");
  }
  return specs;
}

Result<std::vector<std::string>> ReadPartitions(conn::PgSession& source, const TableSpec& spec) {
  return catalog_internal::QueryRows<std::string>(
      source, "reading the partitions",
      "SELECT n.nspname || '.' || c.relname AS leaf FROM pg_partition_tree("
      "(SELECT c.oid FROM pg_class c JOIN pg_namespace n ON "
      "n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2)) t "
      "JOIN pg_class c ON c.oid = t.relid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.isleaf "
      "ORDER BY (n.nspname || '.' || c.relname) COLLATE \"C\"",
      {spec.schema, spec.name}, catalog_internal::TextColumn("leaf"));
}

}  // namespace pgparity::applier
