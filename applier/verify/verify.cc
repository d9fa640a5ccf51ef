#include "pgparity/applier/verify.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <ctime>
#include <thread>

#include "pgparity/applier/catalog.h"
#include "pgparity/applier/metrics.h"
#include "pgparity/applier/session_setup.h"
#include "pgparity/applier/shadow_state.h"
#include "pgparity/applier/table_scan.h"
#include "pgparity/applier/target_checker.h"
#include "pgparity/consumer/slot_consumer.h"
#include "pgparity/digest/digest_sql.h"

namespace pgparity::applier {

using std::chrono::steady_clock;

struct VerifySession::Impl {
  VerifyOptions options;
  conn::ConnParams source_params;
  conn::ConnParams target_params;
  std::optional<conn::PgSession> source;
  std::optional<conn::PgSession> target;
  SubscriptionInfo sub;
  std::unique_ptr<ShadowState> shadow;
  StreamPosition position;
  std::unique_ptr<consumer::SlotConsumer> consumer;
  Status consumer_status;
  std::thread stream;
  std::unique_ptr<TargetChecker> checker;
  steady_clock::time_point started;
  std::unique_ptr<MetricsCollector> metrics;
  std::unique_ptr<MetricsServer> metrics_server;

  ~Impl() {
    metrics_server.reset();
    if (consumer) consumer->RequestStop();
    if (stream.joinable()) stream.join();
  }
};

VerifySession::VerifySession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VerifySession::~VerifySession() = default;

Result<std::unique_ptr<VerifySession>> VerifySession::Start(const VerifyOptions& options) {
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.options = options;
  m.started = steady_clock::now();
  PGPARITY_ASSIGN_OR_RETURN(Sides sides, OpenSides(options.source, options.target,
                                                   options.publication, options.subscription));
  m.source_params = sides.source_params;
  m.target_params = sides.target_params;
  m.source.emplace(std::move(*sides.source));
  m.target.emplace(std::move(*sides.target));
  m.sub = sides.sub;
  std::vector<TableSpec> specs = std::move(sides.specs);

  m.shadow = std::make_unique<ShadowState>(std::move(specs));
  consumer::SlotConsumerOptions copts;
  copts.source = options.source;
  copts.slot =
      "pgparity_verify_" + std::to_string(::getpid()) + "_" + std::to_string(std::time(nullptr));
  // Metrics first: an address that cannot be listened on fails before the
  // slot exists.
  if (!options.metrics_listen.empty()) {
    m.metrics = std::make_unique<MetricsCollector>(
        MetricsSources{m.shadow.get(), &m.position, nullptr, m.source_params.WithPinnedFormats(),
                       m.target_params.WithPinnedFormats(), copts.slot, m.sub});
    MetricsCollector* collector = m.metrics.get();
    PGPARITY_ASSIGN_OR_RETURN(
        m.metrics_server,
        MetricsServer::Start(options.metrics_listen, [collector](std::string_view path) {
          return collector->Handle(path);
        }));
  }
  copts.publications = {options.publication};
  copts.create_slot = true;
  copts.temporary_slot = true;
  copts.snapshot = conn::SnapshotAction::kExport;
  copts.reconnect_on_loss = false;  // a temporary slot does not survive it
  copts.checkpoint_interval = std::chrono::milliseconds(100);
  consumer::ConsumerHooks hooks;
  Impl* self = impl.get();
  hooks.on_slot_created = [self](const conn::CreatedSlot& slot) -> Status {
    return BootstrapShadow(self->source_params, slot, self->options.parallel, *self->shadow);
  };
  hooks.on_progress = [self](wire::Lsn received, bool idle) {
    self->position.received = received.value();
    self->position.idle = idle;
  };
  m.consumer = std::make_unique<consumer::SlotConsumer>(copts, *m.shadow, hooks);
  m.stream = std::thread([self] {
    self->consumer_status = self->consumer->Run();
    self->position.ended = true;
  });
  // The bootstrap runs on the stream thread, inside the slot's creation.
  for (;;) {
    if (m.position.ended) {
      m.stream.join();
      return m.consumer_status.ok() ? Status::Internal("the replication stream ended at once")
                                    : m.consumer_status;
    }
    {
      auto lk = m.shadow->Lock();
      if (m.shadow->base_point().valid()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CheckOptions check_options;
  check_options.parallel = options.parallel;
  check_options.max_listed_rows = options.max_listed_rows;
  m.checker =
      std::make_unique<TargetChecker>(*m.shadow, m.position, m.source_params.WithPinnedFormats(),
                                      m.target_params.WithPinnedFormats(), m.sub, check_options);
  return std::unique_ptr<VerifySession>(new VerifySession(std::move(impl)));
}

VerifySession::Counters VerifySession::counters() const {
  auto lk = impl_->shadow->Lock();
  Counters c;
  c.transactions = impl_->shadow->transactions();
  c.changes = impl_->shadow->changes();
  for (size_t i = 0; i < impl_->shadow->table_count(); ++i) {
    c.unresolved_rows += impl_->shadow->table(i).unresolved_rows();
    c.anomalies += impl_->shadow->table(i).anomalies();
  }
  return c;
}

Result<VerifyReport> VerifySession::Check(std::chrono::seconds timeout) {
  Impl& m = *impl_;
  const auto deadline = steady_clock::now() + timeout;
  VerifyReport report;
  report.source = m.source->endpoint();
  report.target = m.target->endpoint();
  report.publication = m.options.publication;
  std::string why;
  int checks = 0;
  for (;;) {
    report.notes.clear();
    auto outcome = m.checker->FullCheck(report, why, deadline);
    if (!outcome.ok()) {
      if (m.position.ended && !m.consumer_status.ok()) return m.consumer_status;
      return outcome.status();
    }
    ++checks;
    const bool done = *outcome == TargetChecker::Outcome::kDone;
    // Unverified for a reason a re-check cannot change (unseen TOAST
    // values, an inconsistent shadow): no point in waiting.
    bool recheck = !done;
    for (const auto& t : report.tables) {
      if (done && t.status == TableStatus::kUnverified &&
          t.reason.find("re-check") != std::string::npos) {
        recheck = true;
      }
    }
    if (!recheck) break;
    if (steady_clock::now() >= deadline) {
      if (!done) {
        return Status::DeadlineExceeded("the target did not catch up within " +
                                        std::to_string(timeout.count()) + " s: " + why +
                                        "; is the subscription running (pg_stat_subscription)? "
                                        "raise --timeout for a large backlog");
      }
      report.notes.push_back("the check stayed incomplete until the timeout");
      break;
    }
    if (!done) spdlog::debug("waiting: {}", why);
    std::this_thread::sleep_for(std::chrono::milliseconds(done ? 500 : 200));
  }
  report.checked_at = UtcNow();
  report.seconds = std::chrono::duration<double>(steady_clock::now() - m.started).count();
  if (checks > 1) report.notes.push_back(std::to_string(checks) + " full checks were needed");
  if (m.metrics) m.metrics->SetReport(report);
  return report;
}

Result<VerifyReport> RunVerify(const VerifyOptions& options) {
  PGPARITY_ASSIGN_OR_RETURN(std::unique_ptr<VerifySession> session, VerifySession::Start(options));
  return session->Check(options.timeout);
}

}  // namespace pgparity::applier
