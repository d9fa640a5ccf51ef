#include "pgparity/applier/session/session_setup.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

#include "pgparity/applier/catalog/server_defaults.h"
#include "pgparity/applier/scan/table_scan.h"
#include "pgparity/conn/connect.h"
#include "pgparity/digest/digest_sql.h"
#include "pgparity/sql_quote.h"
#include "pgparity/utc_time.h"

namespace pgparity::applier {

using std::chrono::steady_clock;

Result<Sides> OpenSides(const conn::ConnParams& source, const conn::ConnParams& target,
                        const std::string& publication,
                        const std::optional<std::string>& subscription) {
  Sides s;
  s.source_params = source;
  s.target_params = target;
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession source_session, conn::ConnectSession(source, "source"));
  s.source.emplace(std::move(source_session));
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession target_session, conn::ConnectSession(target, "target"));
  s.target.emplace(std::move(target_session));
  PGPARITY_ASSIGN_OR_RETURN(s.specs, LoadPublishedTables(*s.source, publication));
  PGPARITY_ASSIGN_OR_RETURN(s.sub, FindSubscription(*s.target, subscription, publication));
  PGPARITY_RETURN_IF_ERROR(ReadRemoteLsn(*s.target, s.sub).status());
  // How each column is compared follows from the target's types now: the
  // shadow's digests leave out the columns that are not compared.
  PGPARITY_ASSIGN_OR_RETURN(auto targets, ReadTargetTables(*s.target, s.specs, s.sub));
  PGPARITY_ASSIGN_OR_RETURN(const std::string timezone,
                            ReadDefaultTimeZone(s.source_params, "source"));
  PlanComparison(targets, timezone, s.specs);
  return s;
}

std::string UtcNow() { return UtcSeconds(std::chrono::system_clock::now()); }

// Scans every table into the shadow inside the exported snapshot.
Status BootstrapShadow(const conn::ConnParams& source, const conn::CreatedSlot& slot,
                       size_t parallel, ShadowState& shadow) {
  if (!slot.snapshot_name) return Status::Internal("the slot was created without a snapshot");
  const auto start = steady_clock::now();
  std::vector<conn::PgSession> sessions;
  for (size_t i = 0; i < std::max<size_t>(1, std::min(parallel, shadow.table_count())); ++i) {
    PGPARITY_ASSIGN_OR_RETURN(conn::PgSession s, conn::PgSession::Connect(source));
    PGPARITY_RETURN_IF_ERROR(s.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    PGPARITY_RETURN_IF_ERROR(
        s.Exec("SET TRANSACTION SNAPSHOT " + QuoteLiteral(*slot.snapshot_name)));
    sessions.push_back(std::move(s));
  }
  std::vector<conn::PgSession*> ptrs;
  for (auto& s : sessions) ptrs.push_back(&s);
  std::vector<size_t> tables;
  std::vector<double> weight;
  for (size_t i = 0; i < shadow.table_count(); ++i) {
    tables.push_back(i);
    weight.push_back(shadow.table(i).spec().estimated_rows);
  }
  PGPARITY_RETURN_IF_ERROR(
      ScanInParallel(ptrs, tables, weight, [&](conn::PgSession& s, size_t t) -> Status {
        TableShadow& ts = shadow.table(t);
        const TableSpec& spec = ts.spec();
        return ScanTable(s, ForDigest(SourceRead(spec), spec), spec.estimated_rows, "bootstrap",
                         [&](std::span<const digest::ColumnValue> v) -> Status {
                           ts.AddScannedRow(v);
                           return Status::OK();
                         });
      }));
  for (auto& s : sessions) PGPARITY_RETURN_IF_ERROR(s.Exec("COMMIT"));
  shadow.SetBasePoint(slot.consistent_point);
  const double secs = std::chrono::duration<double>(steady_clock::now() - start).count();
  spdlog::info(
      "bootstrap: {} tables, {} rows as of {} in {:.1f} s ({:.0f} rows/s); shadow {} bytes",
      shadow.table_count(), shadow.TrackedRows(), slot.consistent_point.ToString(), secs,
      secs > 0 ? shadow.TrackedRows() / secs : 0.0, shadow.MemoryBytes());
  return Status::OK();
}

}  // namespace pgparity::applier
