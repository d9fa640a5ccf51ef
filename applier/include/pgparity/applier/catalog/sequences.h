// Sequences (pg_sequences): logical replication does not carry them, so the
// target's must be set before cutover.
//
// A read-only query on a plain session to either side.
// Errors and thread-safety: as catalog.h says.
#ifndef PGPARITY_APPLIER_CATALOG_SEQUENCES_H_
#define PGPARITY_APPLIER_CATALOG_SEQUENCES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pgparity/applier/catalog/relations.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct SequenceState {
  RelationName sequence;
  std::string qualified;  // format('%I.%I')
  // nullopt: never used, or not readable.
  std::optional<int64_t> last_value;
  bool readable = false;  // the session's role has SELECT or USAGE on it
};

// Every sequence of the session's database, by schema and name.
Result<std::vector<SequenceState>> ReadSequences(conn::PgSession& session);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_SEQUENCES_H_
