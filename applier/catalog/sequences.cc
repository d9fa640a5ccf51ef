#include "pgparity/applier/catalog/sequences.h"

#include "catalog/query_rows.h"

namespace pgparity::applier {

Result<std::vector<SequenceState>> ReadSequences(conn::PgSession& session) {
  return catalog_internal::QueryRows<SequenceState>(
      session, "reading pg_sequences",
      "SELECT schemaname, sequencename, format('%I.%I', schemaname, sequencename) AS qualified, "
      "last_value, has_sequence_privilege(format('%I.%I', schemaname, sequencename), "
      "'SELECT,USAGE') AS readable FROM pg_sequences ORDER BY 1, 2",
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
