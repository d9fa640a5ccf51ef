#include "pgparity/applier/catalog/sequences.h"

#include "catalog/query_rows.h"

namespace pgparity::applier {

Result<std::vector<SequenceState>> ReadSequences(conn::PgSession& session) {
  return catalog_internal::QueryRows<SequenceState>(
      session, "reading pg_sequences",
      // By oid: a name would need USAGE on the schema to resolve, and fail.
      "SELECT s.schemaname, s.sequencename, "
      "format('%I.%I', s.schemaname, s.sequencename) AS qualified, s.last_value, "
      "has_sequence_privilege(c.oid, 'SELECT,USAGE') AS readable FROM pg_sequences s "
      "JOIN pg_namespace n ON n.nspname = s.schemaname "
      "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.sequencename ORDER BY 1, 2",
      {}, [](const conn::RowReader& row) -> Result<SequenceState> {
        SequenceState s;
        PGPARITY_ASSIGN_OR_RETURN(s.sequence.schema, row.Text("schemaname"));
        PGPARITY_ASSIGN_OR_RETURN(s.sequence.name, row.Text("sequencename"));
        PGPARITY_ASSIGN_OR_RETURN(s.qualified, row.Text("qualified"));
        PGPARITY_ASSIGN_OR_RETURN(s.last_value, row.OptionalInt64("last_value"));
        PGPARITY_ASSIGN_OR_RETURN(s.readable, row.Bool("readable"));
        return s;
      });
}

}  // namespace pgparity::applier
