// Scanning tables with COPY ... TO STDOUT (text), the fastest way to read a
// whole table: for the bootstrap of the shadow state on the source (inside
// the slot's exported snapshot) and for the full check of the target
// (inside one REPEATABLE READ snapshot). What is read is a TableRead
// (row_read.h): columns named explicitly, so a target with other column
// order or extra columns yields the source's columns in the source's
// order; partitioned tables with their partitions.
#ifndef PGPARITY_APPLIER_SCAN_TABLE_SCAN_H_
#define PGPARITY_APPLIER_SCAN_TABLE_SCAN_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "pgparity/applier/scan/row_read.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/digest/row_digest.h"
#include "pgparity/status.h"

namespace pgparity::applier {

using RowCallback = std::function<Status(std::span<const digest::ColumnValue> values)>;

// CopySql(read) on `session`, one call of `on_row` per row, values in the
// read's select-list order. Logs progress (rows, rows/s, ETA from
// `estimated_rows`) every few seconds on long scans, prefixed by `what`
// ("bootstrap", "target check"). Errors name the table.
Status ScanTable(conn::PgSession& session, const TableRead& read, double estimated_rows,
                 std::string_view what, const RowCallback& on_row);

// Runs `scan(session, table index)` for every index in `tables` on
// `sessions.size()` threads, one session each, biggest tables first (by
// `weight`). Returns the first error; the other threads stop at their next
// table.
Status ScanInParallel(std::vector<conn::PgSession*> sessions, const std::vector<size_t>& tables,
                      const std::vector<double>& weight,
                      const std::function<Status(conn::PgSession&, size_t)>& scan);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SCAN_TABLE_SCAN_H_
