#include "pgparity/applier/scan/rewritten_tables.h"

namespace pgparity::applier {

namespace {

// The table as the session's snapshot names it, and below a partitioned
// table its partitions (a partition's own partitions too). relfilenode 0:
// a partitioned table has no file of its own.
constexpr const char* kRewrittenSql =
    "WITH RECURSIVE t(oid, relkind) AS ("
    " SELECT c.oid, c.relkind FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = $1 AND c.relname = $2"
    " UNION ALL"
    " SELECT c.oid, c.relkind FROM t JOIN pg_catalog.pg_inherits i ON i.inhparent = t.oid"
    " JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid WHERE t.relkind = 'p')"
    " SELECT coalesce(string_agg(n.nspname || '.' || c.relname, ', ' ORDER BY 1), '')"
    " FROM pg_catalog.pg_class c JOIN t USING (oid)"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relfilenode <> 0"
    " AND c.relfilenode IS DISTINCT FROM pg_catalog.pg_relation_filenode(c.oid)";

}  // namespace

Result<std::string> RewrittenSinceSnapshot(conn::PgSession& session, const TableSpec& spec) {
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult r,
                            session.Query(kRewrittenSql, {spec.schema, spec.name}));
  if (r.rows() != 1) return std::string();
  return std::string(r.Value(0, 0));
}

}  // namespace pgparity::applier
