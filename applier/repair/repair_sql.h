// The statements of a repair, built once and rendered two ways: with $n
// parameters (text) for --apply, and with quoted literals (QuoteLiteral)
// for the printed script, so that psql running the script does what
// --apply does. Identifiers are quoted by QuoteIdent; no value is ever
// spliced into SQL text. Pure. Part of applier/repair/.
#ifndef PGPARITY_APPLIER_REPAIR_REPAIR_SQL_H_
#define PGPARITY_APPLIER_REPAIR_REPAIR_SQL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgparity/applier/catalog/table_spec.h"

namespace pgparity::applier {

// SQL text with value slots.
class RepairStatement {
 public:
  RepairStatement& Text(std::string_view sql);
  // A value (nullopt: NULL) in the next slot.
  RepairStatement& Value(std::optional<std::string> value);

  // "$1", "$2", ... in the slots; params() are their values.
  std::string WithParameters() const;
  // QuoteLiteral(value) or NULL in the slots.
  std::string WithLiterals() const;
  const std::vector<std::optional<std::string>>& params() const { return params_; }

 private:
  std::vector<std::string> text_{""};  // text_[i] precedes slot i; one more than slots
  std::vector<std::optional<std::string>> params_;
};

using ColumnValues = std::vector<std::pair<size_t, std::optional<std::string>>>;  // spec position

// INSERT of the source row (`values`: every published column) ON CONFLICT
// (key) DO UPDATE of its non-key compared columns.
RepairStatement UpsertRow(const TableSpec& spec, const ColumnValues& values);
// UPDATE of `set` columns of the row with key `key`.
RepairStatement UpdateRow(const TableSpec& spec, const ColumnValues& set, const ColumnValues& key);
// DELETE of the row with key `key`.
RepairStatement DeleteRow(const TableSpec& spec, const ColumnValues& key);

// Keyless: the target's rows whose row digest is `digest` made `count`:
// copies of `values` inserted up to `count` (none when there are as many),
// or the surplus deleted by (tableoid, ctid). Idempotent.
RepairStatement InsertCopiesUpTo(const TableSpec& spec, const ColumnValues& values,
                                 const std::string& digest, int64_t count);
RepairStatement DeleteCopiesDownTo(const TableSpec& spec, const std::string& digest, int64_t count);

// "[ONLY] "schema"."name"" as the target reads the table.
std::string TargetRelation(const TableSpec& spec);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_REPAIR_REPAIR_SQL_H_
