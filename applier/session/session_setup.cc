#include "pgparity/applier/session/session_setup.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <future>
#include <mutex>

#include "pgparity/applier/catalog/server_defaults.h"
#include "pgparity/applier/scan/key_ranges.h"
#include "pgparity/applier/scan/rewritten_tables.h"
#include "pgparity/applier/scan/table_scan.h"
#include "pgparity/conn/connect.h"
#include "pgparity/conn/snapshot_transaction.h"
#include "pgparity/digest/digest_sql.h"
#include "pgparity/utc_time.h"

namespace pgparity::applier {

using std::chrono::steady_clock;

namespace {

// What is read on one side before the other side's catalogs are needed:
// its session, then the first reads on it (none once a step failed).
struct SourceSide {
  Result<conn::PgSession> session = Status::Internal("not connected");
  Result<std::vector<TableSpec>> specs = Status::Internal("not read");
};
struct TargetSide {
  Result<conn::PgSession> session = Status::Internal("not connected");
  Result<SubscriptionInfo> sub = Status::Internal("not read");
  Status applied_position = Status::Internal("not read");
};

SourceSide OpenSourceSide(const conn::ConnParams& params, const std::string& publication) {
  SourceSide side;
  side.session = conn::ConnectSession(params, "source");
  if (side.session.ok()) side.specs = LoadPublishedTables(*side.session, publication);
  return side;
}

TargetSide OpenTargetSide(const conn::ConnParams& params, const std::string& publication,
                          const std::optional<std::string>& subscription) {
  TargetSide side;
  side.session = conn::ConnectSession(params, "target");
  if (!side.session.ok()) return side;
  side.sub = FindSubscription(*side.session, subscription, publication);
  if (side.sub.ok()) side.applied_position = ReadRemoteLsn(*side.session, *side.sub).status();
  return side;
}

}  // namespace

// The two sides, and the source's default time zone (a connection of its
// own: the sessions pin theirs), are opened at once: each connection's
// authentication and each side's catalog reads are round trips the others
// need not wait for (about 20 ms a connection with SCRAM here). Errors are
// reported in the order the steps would run one after the other, so that
// the first problem named is the same whatever finishes first.
Result<Sides> OpenSides(const conn::ConnParams& source, const conn::ConnParams& target,
                        const std::string& publication,
                        const std::optional<std::string>& subscription) {
  std::future<TargetSide> target_side =
      std::async(std::launch::async, OpenTargetSide, std::cref(target), std::cref(publication),
                 std::cref(subscription));
  std::future<Result<std::string>> timezone =
      std::async(std::launch::async, [&source] { return ReadDefaultTimeZone(source, "source"); });
  SourceSide src = OpenSourceSide(source, publication);
  TargetSide tgt = target_side.get();
  Result<std::string> source_timezone = timezone.get();

  Sides s;
  s.source_params = source;
  s.target_params = target;
  PGPARITY_RETURN_IF_ERROR(src.session.status());
  PGPARITY_RETURN_IF_ERROR(tgt.session.status());
  s.source.emplace(std::move(*src.session));
  s.target.emplace(std::move(*tgt.session));
  PGPARITY_ASSIGN_OR_RETURN(s.specs, std::move(src.specs));
  PGPARITY_ASSIGN_OR_RETURN(s.sub, std::move(tgt.sub));
  PGPARITY_RETURN_IF_ERROR(tgt.applied_position);
  // How each column is compared follows from the target's types now: the
  // shadow's digests leave out the columns that are not compared.
  PGPARITY_ASSIGN_OR_RETURN(auto targets, ReadTargetTables(*s.target, s.specs, s.sub));
  PGPARITY_RETURN_IF_ERROR(source_timezone.status());
  PlanComparison(targets, *source_timezone, s.specs);
  return s;
}

std::string UtcNow() { return UtcSeconds(std::chrono::system_clock::now()); }

Result<std::unique_ptr<conn::PgSession>> ConnectCheckReader(const conn::ConnParams& target) {
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession s, conn::PgSession::Connect(target));
  PGPARITY_RETURN_IF_ERROR(s.Exec("SET default_transaction_read_only = on; SET lock_timeout = " +
                                  std::to_string(kCheckLockTimeoutMs)));
  return std::make_unique<conn::PgSession>(std::move(s));
}

namespace {

// A session on the source inside the slot's exported snapshot.
Result<conn::PgSession> SnapshotSession(const conn::ConnParams& source,
                                        const std::string& snapshot) {
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession s, conn::PgSession::Connect(source));
  PGPARITY_RETURN_IF_ERROR(conn::BeginInSnapshot(s, snapshot));
  return s;
}

// How each of the shadow's tables is cut into key ranges on the source,
// bounds read on `session`.
Result<std::vector<KeySplit>> PlanSourceSplits(conn::PgSession& session, ShadowState& shadow,
                                               const ScanPlanOptions& options) {
  std::vector<TableToPlan> plan;
  for (size_t i = 0; i < shadow.table_count(); ++i) {
    const TableSpec& spec = shadow.table(i).spec();
    TableToPlan p{&spec, SourceRead(spec), "", TypeChange(), spec.estimated_rows};
    if (spec.keyed()) p.key_type = spec.types[spec.key_positions[0]];
    plan.push_back(std::move(p));
  }
  return PlanKeySplits(session, plan, options, "bootstrap");
}

// The bootstrap's scan units into the shadow, from several sessions at
// once. After each unit, whether its table was rewritten after the
// snapshot (rewritten_tables.h): the first such table is kept, and the
// units after it are skipped — the caller needs a new slot anyway.
class BootstrapUnits {
 public:
  BootstrapUnits(ShadowState& shadow, const std::vector<KeySplit>& splits)
      : shadow_(shadow), splits_(splits), table_mu_(shadow.table_count()) {}

  Status Scan(conn::PgSession& s, const ScanUnit& u) {
    if (!rewritten().empty()) return Status::OK();
    TableShadow& ts = shadow_.table(u.table);
    const TableSpec& spec = ts.spec();
    // TableShadow is not thread-safe: the ranges of one table take turns.
    std::mutex* mu = splits_[u.table].ranges() > 1 ? &table_mu_[u.table] : nullptr;
    const auto hold = [mu] { return mu ? std::unique_lock(*mu) : std::unique_lock<std::mutex>(); };
    PGPARITY_RETURN_IF_ERROR(
        ScanTable(s, RangeRead(ForDigest(SourceRead(spec), spec), splits_[u.table], u.range),
                  u.weight, "bootstrap", [&](std::span<const digest::ColumnValue> v) -> Status {
                    const auto lk = hold();
                    ts.AddScannedRow(v);
                    return Status::OK();
                  }));
    PGPARITY_ASSIGN_OR_RETURN(std::string rewritten, RewrittenSinceSnapshot(s, spec));
    if (!rewritten.empty()) {
      std::lock_guard lk(mu_);
      if (rewritten_.empty()) rewritten_ = std::move(rewritten);
      return Status::OK();
    }
    const auto lk = hold();
    ts.ScanEnded();  // --memory-limit: a small table's rows count too
    return Status::OK();
  }

  std::string rewritten() {
    std::lock_guard lk(mu_);
    return rewritten_;
  }

 private:
  ShadowState& shadow_;
  const std::vector<KeySplit>& splits_;
  std::vector<std::mutex> table_mu_;
  std::mutex mu_;
  std::string rewritten_;
};

}  // namespace

// Scans every table into the shadow inside the exported snapshot, a big
// table in key ranges on several sessions at once.
Result<Bootstrapped> BootstrapShadow(const conn::ConnParams& source, const conn::CreatedSlot& slot,
                                     const ScanPlanOptions& scan, ShadowState& shadow) {
  if (!slot.snapshot_name) return Status::Internal("the slot was created without a snapshot");
  const auto start = steady_clock::now();
  // --memory-limit: the tables that cannot fit go to the row store before
  // their first row (the others spill if they outgrow the estimate).
  PGPARITY_RETURN_IF_ERROR(shadow.SpillPlanned());
  std::vector<conn::PgSession> sessions;
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession first, SnapshotSession(source, *slot.snapshot_name));
  sessions.push_back(std::move(first));
  PGPARITY_ASSIGN_OR_RETURN(const std::vector<KeySplit> splits,
                            PlanSourceSplits(sessions[0], shadow, scan));
  std::vector<double> rows;
  for (size_t i = 0; i < shadow.table_count(); ++i) {
    rows.push_back(shadow.table(i).spec().estimated_rows);
  }
  const std::vector<ScanUnit> units = PlanUnits(splits, rows);
  while (sessions.size() < std::min(std::max<size_t>(1, scan.jobs), units.size())) {
    PGPARITY_ASSIGN_OR_RETURN(conn::PgSession s, SnapshotSession(source, *slot.snapshot_name));
    sessions.push_back(std::move(s));
  }
  std::vector<conn::PgSession*> ptrs;
  for (auto& s : sessions) ptrs.push_back(&s);
  BootstrapUnits scanner(shadow, splits);
  PGPARITY_RETURN_IF_ERROR(ScanUnits(
      ptrs, units, [&](conn::PgSession& s, const ScanUnit& u) { return scanner.Scan(s, u); }));
  Bootstrapped result{.rewritten = scanner.rewritten()};
  for (auto& s : sessions) PGPARITY_RETURN_IF_ERROR(s.Exec("COMMIT"));
  if (!result.rewritten.empty()) {
    shadow.ClearRows();  // not the snapshot's: the next slot's bootstrap starts empty
    return result;
  }
  PGPARITY_RETURN_IF_ERROR(shadow.spill_status());
  shadow.SetBasePoint(slot.consistent_point);
  const double secs = std::chrono::duration<double>(steady_clock::now() - start).count();
  spdlog::info(
      "bootstrap: {} tables, {} rows as of {} in {:.1f} s ({:.0f} rows/s); shadow {} bytes of "
      "memory, {} tables in the row store ({} bytes on disk)",
      shadow.table_count(), shadow.TrackedRows(), slot.consistent_point.ToString(), secs,
      secs > 0 ? shadow.TrackedRows() / secs : 0.0, shadow.MemoryBytes(), shadow.spilled_tables(),
      shadow.store() ? shadow.store()->DiskBytes() : 0);
  return result;
}

}  // namespace pgparity::applier
