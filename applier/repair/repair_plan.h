// What a repair does with each listed row of one table: checks the report
// against the table as the publication publishes it now, reads the
// source's current rows (and, for keyless tables, the target's copy
// counts), and builds each row's statement or says why the row is left to
// replication. Read-only on both sides. Also the re-check after --apply.
// Part of applier/repair/.
#ifndef PGPARITY_APPLIER_REPAIR_REPAIR_PLAN_H_
#define PGPARITY_APPLIER_REPAIR_REPAIR_PLAN_H_

#include <optional>
#include <string>
#include <vector>

#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/applier/repair/repair.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"
#include "repair/repair_input.h"
#include "repair/repair_sql.h"

namespace pgparity::applier {

struct PlannedRow {
  RepairedRow row;
  const TableSpec* spec = nullptr;
  std::optional<RepairStatement> statement;  // nullopt: left to replication
  ColumnValues key;                          // keyed tables
  std::string digest;                        // keyless tables: the row digest
};

// InvalidArgument naming the table and the fix when a listed key or column
// is not one of `spec`'s, or FailedPrecondition when a keyless table has a
// compared column read by a conversion rule (not repairable by digest SQL).
[[nodiscard]] Status CheckListedTable(const TableSpec& spec, const ListedTable& listed);

// The planned rows of `listed` (checked by CheckListedTable).
[[nodiscard]] Result<std::vector<PlannedRow>> PlanTable(conn::PgSession& source,
                                                        conn::PgSession& target,
                                                        const TableSpec& spec,
                                                        const ListedTable& listed);

// Whether a repaired row now matches: the same compared values on both
// sides (or absent on both), or as many copies of a keyless row.
[[nodiscard]] Result<bool> RowMatchesNow(conn::PgSession& source, conn::PgSession& target,
                                         const PlannedRow& planned);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_REPAIR_REPAIR_PLAN_H_
