#include "pgparity/applier/catalog/publication.h"

#include <algorithm>
#include <map>

#include "catalog/query_rows.h"

namespace pgparity::applier {

using catalog_internal::QueryRows;
using catalog_internal::TextColumn;
using conn::RowReader;

namespace {

Result<Publication> ReadPublicationRow(const RowReader& row) {
  Publication p;
  PGPARITY_ASSIGN_OR_RETURN(p.name, row.Text("pubname"));
  PGPARITY_ASSIGN_OR_RETURN(p.all_tables, row.Bool("puballtables"));
  PGPARITY_ASSIGN_OR_RETURN(p.publish_insert, row.Bool("pubinsert"));
  PGPARITY_ASSIGN_OR_RETURN(p.publish_update, row.Bool("pubupdate"));
  PGPARITY_ASSIGN_OR_RETURN(p.publish_delete, row.Bool("pubdelete"));
  PGPARITY_ASSIGN_OR_RETURN(p.publish_truncate, row.Bool("pubtruncate"));
  PGPARITY_ASSIGN_OR_RETURN(p.via_root, row.Bool("via_root"));
  return p;
}

struct SubsetRow {
  RelationName table;
  std::optional<std::string> row_filter;
  std::optional<std::string> column;  // one published column, in attnum order
};

// pg_publication_tables' column lists and row filters (PostgreSQL 15+):
// one row per published column (attnames is in attnum order: pgoutput's),
// or one with column NULL when the server shows no attnames. Before 18 no
// generated column is ever sent, but a 15 source's attnames lists them when
// the table has no column list: they are left out there.
Result<std::map<RelationName, PublishedSubset>> ReadSubsets(conn::PgSession& source,
                                                            const std::string& name) {
  const std::string sent =
      source.server_version() >= 180000
          ? "true"
          : "NOT EXISTS (SELECT 1 FROM pg_attribute g WHERE g.attrelid = format('%I.%I', "
            "p.schemaname, p.tablename)::regclass AND g.attname = a.column_name AND "
            "g.attgenerated <> '')";
  PGPARITY_ASSIGN_OR_RETURN(
      std::vector<SubsetRow> rows,
      QueryRows<SubsetRow>(source, "reading the publication's column lists and row filters",
                           "SELECT schemaname, tablename, rowfilter, a.column_name, a.n "
                           "FROM pg_publication_tables p LEFT JOIN LATERAL unnest(p.attnames) "
                           "WITH ORDINALITY AS a(column_name, n) ON true "
                           "WHERE pubname = $1 AND (a.column_name IS NULL OR " +
                               sent + ") ORDER BY 1, 2, a.n",
                           {name}, [](const RowReader& row) -> Result<SubsetRow> {
                             SubsetRow r;
                             PGPARITY_ASSIGN_OR_RETURN(r.table.schema, row.Text("schemaname"));
                             PGPARITY_ASSIGN_OR_RETURN(r.table.name, row.Text("tablename"));
                             PGPARITY_ASSIGN_OR_RETURN(auto filter, row.OptionalText("rowfilter"));
                             if (filter) r.row_filter = std::string(*filter);
                             PGPARITY_ASSIGN_OR_RETURN(auto column,
                                                       row.OptionalText("column_name"));
                             if (column) r.column = std::string(*column);
                             return r;
                           }));
  std::map<RelationName, PublishedSubset> subsets;
  for (SubsetRow& r : rows) {
    PublishedSubset& s = subsets[r.table];
    s.row_filter = std::move(r.row_filter);
    if (r.column) s.columns.push_back(std::move(*r.column));
  }
  return subsets;
}

}  // namespace

Result<std::optional<Publication>> ReadPublication(conn::PgSession& source,
                                                   const std::string& name) {
  const std::string via_root = source.server_version() >= 130000 ? "pubviaroot" : "false";
  PGPARITY_ASSIGN_OR_RETURN(
      std::vector<Publication> found,
      QueryRows<Publication>(source, "reading the publication",
                             "SELECT pubname, puballtables, pubinsert, pubupdate, pubdelete, "
                             "pubtruncate, " +
                                 via_root + " AS via_root FROM pg_publication WHERE pubname = $1",
                             {name}, ReadPublicationRow));
  if (found.empty()) return std::optional<Publication>();
  PGPARITY_ASSIGN_OR_RETURN(
      found[0].tables,
      QueryRows<RelationName>(source, "reading the published tables",
                              "SELECT schemaname, tablename FROM pg_publication_tables "
                              "WHERE pubname = $1 ORDER BY 1, 2",
                              {name}, [](const RowReader& row) -> Result<RelationName> {
                                RelationName t;
                                PGPARITY_ASSIGN_OR_RETURN(t.schema, row.Text("schemaname"));
                                PGPARITY_ASSIGN_OR_RETURN(t.name, row.Text("tablename"));
                                return t;
                              }));
  if (source.server_version() >= 150000) {
    PGPARITY_ASSIGN_OR_RETURN(found[0].subsets, ReadSubsets(source, name));
  }
  return std::optional<Publication>(std::move(found[0]));
}

bool PublishedSubset::Lets(std::string_view name) const {
  return columns.empty() || std::ranges::find(columns, name) != columns.end();
}

const PublishedSubset& Publication::SubsetOf(const RelationName& table) const {
  static const PublishedSubset kWhole;
  auto it = subsets.find(table);
  return it == subsets.end() ? kWhole : it->second;
}

Result<std::vector<std::string>> ReadPublicationNames(conn::PgSession& source) {
  return QueryRows<std::string>(source, "reading the publications",
                                "SELECT pubname FROM pg_publication ORDER BY pubname", {},
                                TextColumn("pubname"));
}

}  // namespace pgparity::applier
