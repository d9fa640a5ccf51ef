// The publication on the source: what it publishes (pg_publication, the
// tables pg_publication_tables lists), and the published tables as the
// applier tracks them — TableSpecs with their columns in pgoutput's order,
// types, keys, replica identity, relkind and partitions.
//
// Read-only queries on a plain session to the source.
// Errors and thread-safety: as catalog.h says.
#ifndef PGPARITY_APPLIER_CATALOG_PUBLICATION_H_
#define PGPARITY_APPLIER_CATALOG_PUBLICATION_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/catalog/relations.h"
#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

// What a publication publishes of one table beyond its name (PostgreSQL
// 15+; pg_publication_tables' attnames and rowfilter). pgoutput sends only
// these columns, and only the changes whose rows pass the filter.
struct PublishedSubset {
  // The published columns (attnames): a column list's, else every column
  // the server publishes (on 18 generated ones too, with
  // publish_generated_columns). Empty: not listed (before 15, or a server
  // that shows NULL without a column list): every non-generated column.
  std::vector<std::string> columns;
  // The row filter as the server prints it (pg_get_expr); nullopt: none.
  std::optional<std::string> row_filter;

  // Whether the column list lets column `name` through: listed, or no list.
  bool Lets(std::string_view name) const;
};

struct Publication {
  std::string name;
  bool all_tables = false;  // FOR ALL TABLES
  bool publish_insert = false;
  bool publish_update = false;
  bool publish_delete = false;
  bool publish_truncate = false;
  bool via_root = false;  // publish_via_partition_root (false before PostgreSQL 13)
  // pg_publication_tables, sorted: a partitioned table's leaves, or its
  // root with publish_via_partition_root.
  std::vector<RelationName> tables;
  // Per published table, on a PostgreSQL 15+ source; absent before 15.
  std::map<RelationName, PublishedSubset> subsets;

  // The subset of `table` (an empty one when the source has none).
  const PublishedSubset& SubsetOf(const RelationName& table) const;
};

// The publication `name`; nullopt when the source has none of that name.
Result<std::optional<Publication>> ReadPublication(conn::PgSession& source,
                                                   const std::string& name);

// Every publication's name, sorted.
Result<std::vector<std::string>> ReadPublicationNames(conn::PgSession& source);

// The tables of `publication` on the source, columns and keys as
// TableSpec describes. NotFound naming the publication and the fix when it
// does not exist; FailedPrecondition when it publishes no table.
Result<std::vector<TableSpec>> LoadPublishedTables(conn::PgSession& source,
                                                   const std::string& publication);

// The leaf partitions of partitioned table `spec` now, as "schema.name"
// sorted (TableSpec::partitions).
Result<std::vector<std::string>> ReadPartitions(conn::PgSession& source, const TableSpec& spec);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_PUBLICATION_H_
