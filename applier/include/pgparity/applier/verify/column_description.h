// What a table's report says about how its columns were compared, from its
// TableSpec alone: the columns whose type differs on the target
// (`type_changes[]`, and `unverified_columns[]` for those not compared,
// docs/types.md) and what the publication publishes of it when it narrows
// it (`row_filter`, `published_columns`). The full check and the rolling
// check describe a table the same way (docs/report.md).
#ifndef PGPARITY_APPLIER_VERIFY_COLUMN_DESCRIPTION_H_
#define PGPARITY_APPLIER_VERIFY_COLUMN_DESCRIPTION_H_

#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/applier/report/verify_report.h"

namespace pgparity::applier {

// Sets t.type_changes, t.unverified_columns, t.row_filter and
// t.published_columns from `spec` (replacing what they held).
void DescribeColumns(const TableSpec& spec, TableReport& t);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_VERIFY_COLUMN_DESCRIPTION_H_
