// TableSpec: what the applier knows about one published source table, read
// from the source's catalogs once (LoadPublishedTables) — the columns
// pgoutput sends, in the order it sends them, their types, the key the
// shadow state tracks rows by, which columns can hold an out-of-line TOAST
// value — and how each column is compared with the target's
// (PlanComparison: the class of a type change, docs/types.md).
#ifndef PGPARITY_APPLIER_CATALOG_TABLE_SPEC_H_
#define PGPARITY_APPLIER_CATALOG_TABLE_SPEC_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pgparity/applier/catalog/type_change.h"
#include "pgparity/digest/row_digest.h"

namespace pgparity::applier {

struct TableSpec {
  // As the publication publishes it (pg_publication_tables): a partition's
  // own name, or its root's with publish_via_partition_root.
  std::string schema;
  std::string name;
  // 'r' a table (read without its inheritance children, as pgoutput
  // publishes it), 'p' a partitioned table published via its root (read
  // with all its partitions).
  char relkind = 'r';
  // 'p': the leaf partitions when pgparity started, as "schema.name"
  // sorted; an ATTACH or DETACH since moves rows without any change.
  std::vector<std::string> partitions;
  // The published columns in attnum order: pgoutput's Relation order and
  // the order of the bootstrap's scan. Every non-dropped, non-generated
  // column, or on a PostgreSQL 15+ source the publication's (its column
  // list's; on 18 generated columns too when published).
  std::vector<std::string> columns;
  // A column list narrows what is published: the table's column count
  // (non-dropped), of which only `columns` are sent and compared. 0: no
  // column list.
  size_t table_columns = 0;
  // A published column is a generated one (PostgreSQL 18): read by SELECT,
  // since COPY's column list refuses generated columns.
  bool publishes_generated = false;
  // The publication's row filter (PostgreSQL 15+), an SQL expression as the
  // server prints it: only rows that pass it are published. Every read of
  // the source adds WHERE (row_filter); the target is read whole (a row
  // there outside the filter is an extra row). Empty: no filter.
  std::string row_filter;
  // format_type() of each column on the source.
  std::vector<std::string> types;
  // Each column's type OID and typmod on the source as pgparity started,
  // as a Relation message gives them: another one later is an ALTER TABLE
  // ... TYPE (ShadowState). Empty: not known (specs made by hand), not
  // checked.
  struct TypeId {
    uint32_t oid = 0;
    int32_t typmod = -1;
    friend bool operator==(const TypeId&, const TypeId&) = default;
  };
  std::vector<TypeId> type_ids;
  // Per column, whether pgoutput's Relation message flags it as part of the
  // replica identity (every column with FULL, the primary key's with
  // DEFAULT, the index's with USING INDEX): the old tuples the shadow
  // decodes. Other flags later are a key added or dropped, or another
  // REPLICA IDENTITY (ShadowState). Empty: not known, not checked.
  std::vector<bool> identity_flags;
  // Positions (into columns) of the key the shadow state tracks rows by:
  // the primary key, else the replica-identity index. Empty: no key (REPLICA
  // IDENTITY FULL or NOTHING without a primary key), or a key column not in
  // the publication's column list (an insert-only publication: the server
  // refuses UPDATE and DELETE on it): rows are a multiset.
  std::vector<size_t> key_positions;
  // The key is one smallint/integer/bigint column: rows are kept under the
  // integer itself (8 bytes instead of a 16-byte RowKey).
  bool integer_key = false;
  // Per column: attstorage is not 'p', so a value can be stored out of line
  // and arrive as 'u' (unchanged TOAST) in an UPDATE.
  std::vector<bool> toastable;
  // The table's toast_tuple_target storage parameter (the smallest of its
  // partitions' for a root), 0 when not set: rows past it may hold values
  // out of line (TableShadow keeps their values).
  size_t toast_tuple_target = 0;
  // 'd', 'n', 'f', 'i' (pg_class.relreplident).
  char replica_identity = 'd';
  // pg_class.reltuples on the source (an estimate, for progress; -1 unknown).
  double estimated_rows = -1;

  // Per column, how the target's value is compared (PlanComparison; empty
  // or kSame: as text). Columns whose rule is kNotCompared are left out of
  // every digest of this table, on both sides.
  std::vector<TypeChange> compare;
  std::vector<std::string> target_types;  // format_type() on the target when planned
  char target_relkind = 'r';              // 'p': partitioned on the target when planned
  // The source's default TimeZone (a new session's), for kAtTimeZone.
  std::string source_timezone;

  std::string QualifiedName() const { return schema + "." + name; }
  bool keyed() const { return !key_positions.empty(); }
  bool Compared(size_t column) const {
    return compare.empty() || compare[column].rule != CompareRule::kNotCompared;
  }
};

// The compared columns of a spec's rows: their names (what the digests
// cover) and a view of a row's values reduced to them. A table whose
// columns are all compared passes rows through untouched.
// Not thread-safe (reuses a buffer): one per digesting thread.
class ComparedColumns {
 public:
  explicit ComparedColumns(const TableSpec& spec);
  std::span<const std::string> names() const { return names_; }
  // Their format_type()s on the source (TableSpec::types); empty when the
  // spec has none.
  std::span<const std::string> types() const { return types_; }
  // REQUIRES: all.size() == the spec's column count, in spec order.
  std::span<const digest::ColumnValue> Project(std::span<const digest::ColumnValue> all);
  // A digester of the compared columns.
  digest::RowDigester MakeDigester(const TableSpec& spec) const;

 private:
  std::vector<std::string> names_;
  std::vector<std::string> types_;
  std::vector<size_t> positions_;  // empty: every column
  std::vector<digest::ColumnValue> scratch_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_TABLE_SPEC_H_
