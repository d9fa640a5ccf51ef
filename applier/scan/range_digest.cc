#include "pgparity/applier/scan/range_digest.h"

#include <mutex>

#include "pgparity/applier/scan/table_scan.h"
#include "pgparity/digest/row_digest.h"

namespace pgparity::applier {

namespace {

void AddDigest(digest::TableDigest& total, const digest::TableDigest& part) {
  total.rows += part.rows;
  total.sum += part.sum;
}

// The digest of one unit: a whole table or one of its ranges.
Result<digest::TableDigest> DigestUnit(conn::PgSession& session, const TableToPlan& table,
                                       const KeySplit& split, const ScanUnit& unit,
                                       std::string_view what) {
  const TableSpec& spec = *table.spec;
  // Only the sum is needed: row digests a batch at a time.
  ComparedColumns compared(spec);
  digest::TableDigester digester(spec.schema, spec.name, compared.names());
  PGPARITY_RETURN_IF_ERROR(
      ScanTable(session, RangeRead(ForDigest(table.read, spec), split, unit.range), unit.weight,
                what, [&](std::span<const digest::ColumnValue> v) -> Status {
                  digester.Add(compared.Project(v));
                  return Status::OK();
                }));
  return digester.Finish();
}

}  // namespace

Result<std::vector<DigestedTable>> DigestTables(const std::vector<conn::PgSession*>& sessions,
                                                std::span<const TableToPlan> tables,
                                                const ScanPlanOptions& options,
                                                std::string_view what) {
  if (sessions.empty()) return Status::Internal("DigestTables: no session");
  PGPARITY_ASSIGN_OR_RETURN(std::vector<KeySplit> splits,
                            PlanKeySplits(*sessions[0], tables, options, what));
  std::vector<double> rows;
  for (const TableToPlan& t : tables) rows.push_back(t.estimated_rows);
  std::vector<DigestedTable> out(tables.size());
  std::mutex mu;  // guards `out`: the ranges of one table end on several threads
  PGPARITY_RETURN_IF_ERROR(ScanUnits(
      sessions, PlanUnits(splits, rows), [&](conn::PgSession& s, const ScanUnit& u) -> Status {
        PGPARITY_ASSIGN_OR_RETURN(const digest::TableDigest part,
                                  DigestUnit(s, tables[u.table], splits[u.table], u, what));
        std::lock_guard lk(mu);
        AddDigest(out[u.table].digest, part);
        return Status::OK();
      }));
  for (size_t i = 0; i < out.size(); ++i) out[i].split = std::move(splits[i]);
  return out;
}

}  // namespace pgparity::applier
