// The part of a verify/audit report (docs/report.md) a repair acts on:
// which database pair and publication it is of, and the divergent rows of
// each table. Unknown fields are ignored (values, provenance, ...).
// Part of applier/repair/.
#ifndef PGPARITY_APPLIER_REPAIR_REPAIR_INPUT_H_
#define PGPARITY_APPLIER_REPAIR_REPAIR_INPUT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pgparity/result.h"

namespace pgparity::applier {

enum class RepairKind { kMissingOnTarget, kExtraOnTarget, kDiffers };

struct ListedRow {
  // Key column -> value text (nullopt: NULL); keyless: {"row_digest", hex}.
  std::vector<std::pair<std::string, std::optional<std::string>>> key;
  RepairKind kind = RepairKind::kDiffers;
  std::string kind_name;             // as the report spells it
  std::vector<std::string> columns;  // differs: the differing columns, may be empty
  std::optional<std::string> source_row_digest;
};

struct ListedTable {
  std::string table;  // schema.name
  std::vector<ListedRow> rows;
  uint64_t divergent_row_count = 0;
};

struct RepairInput {
  std::string source;  // host:port/db
  std::string target;
  std::string publication;
  std::string subscription;
  std::string source_lsn;
  std::vector<ListedTable> tables;  // only those that list rows
};

// Reads and checks the report at `path`: InvalidArgument when it cannot be
// read, Corruption naming the field when it is not a report.
[[nodiscard]] Result<RepairInput> ReadRepairInput(const std::string& path);

// "db" of "host:port/db".
std::string DatabaseOf(const std::string& endpoint);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_REPAIR_REPAIR_INPUT_H_
