#include "pgparity/applier/verify.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <ctime>
#include <thread>

#include "pgparity/applier/catalog.h"
#include "pgparity/applier/preflight.h"
#include "pgparity/applier/shadow_state.h"
#include "pgparity/applier/table_scan.h"
#include "pgparity/applier/target_checker.h"
#include "pgparity/consumer/slot_consumer.h"
#include "pgparity/digest/digest_sql.h"

namespace pgparity::applier {

using std::chrono::steady_clock;

namespace {

std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Scans every table into the shadow inside the exported snapshot.
Status Bootstrap(const conn::ConnParams& source, const conn::CreatedSlot& slot, size_t parallel,
                 ShadowState& shadow) {
  if (!slot.snapshot_name) return Status::Internal("the slot was created without a snapshot");
  const auto start = steady_clock::now();
  std::vector<conn::PgSession> sessions;
  for (size_t i = 0; i < std::max<size_t>(1, std::min(parallel, shadow.table_count())); ++i) {
    PGPARITY_ASSIGN_OR_RETURN(conn::PgSession s, conn::PgSession::Connect(source));
    PGPARITY_RETURN_IF_ERROR(s.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    PGPARITY_RETURN_IF_ERROR(
        s.Exec("SET TRANSACTION SNAPSHOT " + digest::QuoteLiteral(*slot.snapshot_name)));
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
        return ScanTable(s, spec.schema, spec.name, spec.columns, spec.estimated_rows, "bootstrap",
                         [&](std::span<const digest::ColumnValue> v) -> Status {
                           ts.AddScannedRow(v);
                           return Status::OK();
                         });
      }));
  for (auto& s : sessions) PGPARITY_RETURN_IF_ERROR(s.Exec("COMMIT"));
  shadow.SetBasePoint(slot.consistent_point);
  const double secs = std::chrono::duration<double>(steady_clock::now() - start).count();
  spdlog::info("bootstrap: {} tables, {} rows as of {} in {:.1f} s ({:.0f} rows/s); shadow {} bytes",
               shadow.table_count(), shadow.TrackedRows(), slot.consistent_point.ToString(), secs,
               secs > 0 ? shadow.TrackedRows() / secs : 0.0, shadow.MemoryBytes());
  return Status::OK();
}

}  // namespace

Result<VerifyReport> RunVerify(const VerifyOptions& options) {
  const auto started = steady_clock::now();
  PGPARITY_ASSIGN_OR_RETURN(conn::ConnParams source_params,
                            PreflightParams(options.source_dsn, "source"));
  PGPARITY_ASSIGN_OR_RETURN(conn::ConnParams target_params,
                            PreflightParams(options.target_dsn, "target"));
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession source, ConnectForPreflight(source_params, "source"));
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession target, ConnectForPreflight(target_params, "target"));
  PGPARITY_ASSIGN_OR_RETURN(std::vector<TableSpec> specs,
                            LoadPublishedTables(source, options.publication));
  PGPARITY_ASSIGN_OR_RETURN(SubscriptionInfo sub,
                            FindSubscription(target, options.subscription, options.publication));
  // Read the applied position once now: a missing privilege is an error
  // before any slot exists.
  PGPARITY_RETURN_IF_ERROR(ReadRemoteLsn(target, sub).status());

  ShadowState shadow(std::move(specs));
  StreamPosition position;

  consumer::SlotConsumerOptions copts;
  copts.dsn = options.source_dsn;
  copts.slot = "pgparity_verify_" + std::to_string(::getpid()) + "_" +
               std::to_string(std::time(nullptr));
  copts.publications = {options.publication};
  copts.create_slot = true;
  copts.temporary_slot = true;
  copts.snapshot = conn::SnapshotAction::kExport;
  copts.reconnect_on_loss = false;  // a temporary slot does not survive it
  copts.checkpoint_interval = std::chrono::milliseconds(100);
  consumer::ConsumerHooks hooks;
  hooks.on_slot_created = [&](const conn::CreatedSlot& slot) -> Status {
    return Bootstrap(source_params, slot, options.parallel, shadow);
  };
  hooks.on_progress = [&](wire::Lsn received, bool idle) {
    position.received = received.value();
    position.idle = idle;
  };
  consumer::SlotConsumer consumer(copts, shadow, hooks);
  Status consumer_status;
  std::atomic<bool> bootstrapped{false};
  std::thread stream([&] {
    consumer_status = consumer.Run();
    position.ended = true;
  });
  struct Joiner {
    consumer::SlotConsumer& c;
    std::thread& t;
    ~Joiner() {
      c.RequestStop();
      if (t.joinable()) t.join();
    }
  } joiner{consumer, stream};

  // Bootstrap runs on the stream thread; the deadline starts after it.
  while (!position.ended) {
    {
      auto lk = shadow.Lock();
      if (shadow.base_point().valid()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (position.ended) {
    stream.join();
    return consumer_status.ok() ? Status::Internal("the replication stream ended at once")
                                : consumer_status;
  }
  (void)bootstrapped;
  const auto deadline = steady_clock::now() + options.timeout;

  CheckOptions check_options;
  check_options.parallel = options.parallel;
  check_options.max_listed_rows = options.max_listed_rows;
  TargetChecker checker(shadow, position, source_params.WithPinnedFormats(),
                        target_params.WithPinnedFormats(), sub, check_options);
  VerifyReport report;
  report.source = source.endpoint();
  report.target = target.endpoint();
  report.publication = options.publication;
  std::string why;
  int checks = 0;
  for (;;) {
    report.notes.clear();
    auto outcome = checker.FullCheck(report, why, deadline);
    if (!outcome.ok()) {
      if (position.ended && !consumer_status.ok()) return consumer_status;
      return outcome.status();
    }
    ++checks;
    const bool conclusive = *outcome == TargetChecker::Outcome::kDone &&
                            report.status != ReportStatus::kIncomplete;
    const bool structural_only = [&] {
      // Unverified for reasons a re-check cannot change (unseen TOAST
      // values, an inconsistent shadow): no point waiting.
      if (*outcome != TargetChecker::Outcome::kDone) return false;
      for (const auto& t : report.tables) {
        if (t.status == TableStatus::kUnverified && t.reason.find("re-check") != std::string::npos)
          return false;
      }
      return true;
    }();
    if (conclusive || structural_only) break;
    if (steady_clock::now() >= deadline) {
      if (*outcome == TargetChecker::Outcome::kNotYet) {
        return Status::DeadlineExceeded("the target did not catch up within " +
                                        std::to_string(options.timeout.count()) + " s: " + why +
                                        "; is the subscription running (pg_stat_subscription)? "
                                        "raise --timeout for a large backlog");
      }
      report.notes.push_back("the check stayed incomplete until the timeout");
      break;
    }
    if (*outcome == TargetChecker::Outcome::kNotYet) {
      spdlog::debug("waiting: {}", why);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  report.checked_at = UtcNow();
  report.seconds = std::chrono::duration<double>(steady_clock::now() - started).count();
  if (checks > 1) report.notes.push_back(std::to_string(checks) + " full checks were needed");
  return report;
}

}  // namespace pgparity::applier
