#include "pgparity/applier/catalog/publication.h"

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
  return std::optional<Publication>(std::move(found[0]));
}

Result<std::vector<std::string>> ReadPublicationNames(conn::PgSession& source) {
  return QueryRows<std::string>(source, "reading the publications",
                                "SELECT pubname FROM pg_publication ORDER BY pubname", {},
                                TextColumn("pubname"));
}

}  // namespace pgparity::applier
