// TableSpec: what the applier knows about one published source table, read
// from the source's catalogs once (SourceCatalog) — the columns pgoutput
// sends, in the order it sends them, the key the shadow state tracks rows
// by, and which columns can hold an out-of-line TOAST value.
#ifndef PGPARITY_APPLIER_TABLE_SPEC_H_
#define PGPARITY_APPLIER_TABLE_SPEC_H_

#include <cstddef>
#include <string>
#include <vector>

namespace pgparity::applier {

struct TableSpec {
  std::string schema;
  std::string name;
  // Non-dropped, non-generated columns in attnum order: pgoutput's Relation
  // order and the order of the bootstrap's COPY.
  std::vector<std::string> columns;
  // Positions (into columns) of the key the shadow state tracks rows by:
  // the primary key, else the replica-identity index. Empty: no key (REPLICA
  // IDENTITY FULL or NOTHING without a primary key): rows are a multiset.
  std::vector<size_t> key_positions;
  // The key is one smallint/integer/bigint column: rows are kept under the
  // integer itself (8 bytes instead of a 16-byte RowKey).
  bool integer_key = false;
  // Per column: attstorage is not 'p', so a value can be stored out of line
  // and arrive as 'u' (unchanged TOAST) in an UPDATE.
  std::vector<bool> toastable;
  // 'd', 'n', 'f', 'i' (pg_class.relreplident).
  char replica_identity = 'd';
  // pg_class.reltuples on the source (an estimate, for progress; -1 unknown).
  double estimated_rows = -1;

  std::string QualifiedName() const { return schema + "." + name; }
  bool keyed() const { return !key_positions.empty(); }
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_TABLE_SPEC_H_
