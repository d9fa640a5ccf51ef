#include "pgparity/applier/session/check_session.h"

#include <ctime>

#include "pgparity/applier/metrics/metrics.h"
#include "pgparity/applier/metrics/metrics_server.h"
#include "pgparity/consumer/slot_consumer.h"

namespace pgparity::applier {

namespace {

// What every consumer of a session streams: its source and publication,
// the protocol options left at SlotConsumerOptions' defaults.
consumer::SlotConsumerOptions BaseConsumerOptions(const CheckSessionOptions& options) {
  consumer::SlotConsumerOptions copts;
  copts.source = options.source;
  copts.publications = {options.publication};
  return copts;
}

// The options the first connection starts resume_slot's stream with: the
// ones StartConsumer gives a consumer that resumes it.
consumer::SlotConsumerOptions FirstConnectionOptions(const CheckSessionOptions& options) {
  consumer::SlotConsumerOptions copts = BaseConsumerOptions(options);
  copts.slot = options.resume_slot;
  copts.create_slot = options.resume_slot.empty();  // nothing to start
  return copts;
}

}  // namespace

Result<std::unique_ptr<CheckSession>> CheckSession::Open(const CheckSessionOptions& options) {
  // The stream's connection opens while both sides' catalogs are read; its
  // errors are the stream's, reported once it starts (a failed Open waits
  // for it and closes it, and with it a stream it started: nothing was
  // confirmed on it).
  EarlyConnection replication = std::async(std::launch::async, consumer::OpenFirstConnection,
                                           FirstConnectionOptions(options));
  PGPARITY_ASSIGN_OR_RETURN(Sides sides, OpenSides(options.source, options.target,
                                                   options.publication, options.subscription));
  return std::unique_ptr<CheckSession>(
      new CheckSession(options, std::move(sides), std::move(replication)));
}

CheckSession::CheckSession(CheckSessionOptions options, Sides sides, EarlyConnection replication)
    : options_(std::move(options)),
      sides_(std::move(sides)),
      shadow_(std::make_unique<ShadowState>(sides_.specs)),
      replication_(std::move(replication)) {
  shadow_->SetMemoryLimit(options_.memory, options_.store_dir);
}

CheckSession::~CheckSession() { Close().IgnoreError(); }

Status CheckSession::Start(StreamOptions stream) {
  stream_ = std::move(stream);
  if (stream_.load) {
    load_ = Load::kLoading;  // before the metrics: they wait for it
  } else {
    auto lk = shadow_->Lock();  // a loaded checkpoint is a base point
    base_point_ = shadow_->base_point().valid();
  }
  PGPARITY_RETURN_IF_ERROR(StartMetrics());
  if (stream_.load) StartLoad();
  StartConsumer();
  return Status::OK();
}

void CheckSession::StartLoad() {
  load_thread_ = std::thread([this] {
    Status loaded = stream_.load(*shadow_);
    {
      std::lock_guard lk(mu_);
      load_status_ = loaded;
    }
    if (loaded.ok()) base_point_ = true;
    load_ = loaded.ok() ? Load::kLoaded : Load::kFailed;
    Wake();
  });
}

// The consumer's thread: whether the shadow takes transactions yet.
Result<bool> CheckSession::ShadowReady() const {
  switch (load_.load()) {
    case Load::kLoading:
      return false;
    case Load::kFailed: {
      std::lock_guard lk(mu_);
      return load_status_;
    }
    default:
      return true;
  }
}

Status CheckSession::WaitForLoad() {
  {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [this] { return load_ != Load::kLoading; });
  }
  if (load_thread_.joinable()) load_thread_.join();
  std::lock_guard lk(mu_);
  return load_status_;
}

Status CheckSession::StartMetrics() {
  if (options_.metrics_listen.empty()) return Status::OK();
  metrics_ = std::make_unique<MetricsCollector>(
      *this, ScrapeTargets{sides_.source_params.WithPinnedFormats(),
                           sides_.target_params.WithPinnedFormats(), stream_.slot, sides_.sub});
  MetricsCollector* collector = metrics_.get();
  PGPARITY_ASSIGN_OR_RETURN(
      metrics_server_,
      MetricsServer::Start(options_.metrics_listen,
                           [collector](std::string_view path) { return collector->Handle(path); }));
  return Status::OK();
}

void CheckSession::StartConsumer() {
  consumer::SlotConsumerOptions copts = BaseConsumerOptions(options_);
  copts.slot = stream_.slot;
  copts.create_slot = stream_.create_slot;
  copts.temporary_slot = stream_.temporary_slot;
  copts.snapshot = conn::SnapshotAction::kExport;
  copts.resume_lsn = stream_.resume_lsn;
  copts.reconnect_on_loss = stream_.reconnect_on_loss;
  copts.checkpoint_interval = stream_.checkpoint_interval;
  // Frames held while a load runs: the per-change checks' read-ahead,
  // which starts after it.
  copts.max_held_bytes = options_.memory.read_ahead();
  // A streamed transaction's changes are prepared while it streams (the
  // walsender's decoding is the slower side then): its commit only applies
  // them (ShadowState::OnStreamedChange).
  copts.deliver_streamed_changes_early = true;
  consumer::ConsumerHooks hooks;
  hooks.on_slot_created = [this](const conn::CreatedSlot& slot) { return Bootstrap(slot); };
  hooks.on_progress = [this](wire::Lsn received, bool idle) {
    position_.received = received.value();
    position_.idle = idle;
  };
  if (stream_.durable_position) {
    hooks.durable_position = [this](wire::Lsn) { return stream_.durable_position(stopping_); };
  }
  if (stream_.load) hooks.sink_ready = [this] { return ShadowReady(); };
  hooks.first_connection = [this] { return replication_.get(); };
  consumer_ = std::make_unique<consumer::SlotConsumer>(copts, *shadow_, hooks);
  stream_thread_ = std::thread([this] {
    Status status = consumer_->Run();
    {
      std::lock_guard lk(mu_);
      stream_status_ = std::move(status);
    }
    position_.ended = true;
    Wake();
  });
}

// On the consumer's thread, inside the slot's creation: the exported
// snapshot is valid only during this call. A table rewritten after the
// snapshot before it was read: its rows are not the snapshot's, so the
// shadow starts over on a new slot.
Result<consumer::SnapshotTaken> CheckSession::Bootstrap(const conn::CreatedSlot& slot) {
  const ScanPlanOptions scan{.jobs = options_.parallel, .min_range_rows = options_.min_range_rows};
  Result<Bootstrapped> scanned = BootstrapShadow(sides_.source_params, slot, scan, *shadow_);
  if (scanned.ok() && !scanned->rewritten.empty()) {
    return consumer::SnapshotTaken{.retry_because =
                                       "table " + scanned->rewritten +
                                       " was truncated or rewritten after the slot's snapshot "
                                       "at " +
                                       slot.consistent_point.ToString() + ", before it was read"};
  }
  if (scanned.ok()) base_point_ = true;
  Wake();  // the base point is set
  PGPARITY_RETURN_IF_ERROR(scanned.status());
  if (stream_.after_bootstrap) PGPARITY_RETURN_IF_ERROR(stream_.after_bootstrap(slot));
  return consumer::SnapshotTaken{};
}

void CheckSession::Wake() {
  // Taking the mutex orders this wakeup after a waiter's predicate check:
  // a waiter either sees the new state or is already asleep.
  { std::lock_guard lk(mu_); }
  cv_.notify_all();
}

bool CheckSession::WaitForBasePoint(std::stop_token stop) {
  std::unique_lock lk(mu_);
  return cv_.wait(lk, stop, [this] {
    if (position_.ended) return true;
    auto shadow_lock = shadow_->Lock();
    return shadow_->base_point().valid();
  }) && !position_.ended;
}

void CheckSession::WaitUntil(std::chrono::steady_clock::time_point until, std::stop_token stop) {
  std::unique_lock lk(mu_);
  cv_.wait_until(lk, stop, until, [this] { return position_.ended.load(); });
}

Status CheckSession::stream_status() const {
  std::lock_guard lk(mu_);
  return stream_status_;
}

Status CheckSession::Close() {
  if (stream_thread_.joinable()) {
    stopping_ = true;
    consumer_->RequestStop();
    stream_thread_.join();
  }
  if (load_thread_.joinable()) load_thread_.join();  // it fills the shadow
  metrics_server_.reset();
  return stream_status();
}

VerifyReport CheckSession::NewReport() const {
  VerifyReport report;
  report.source = sides_.source->endpoint();
  report.target = sides_.target->endpoint();
  report.publication = options_.publication;
  return report;
}

void CheckSession::RecordReport(const VerifyReport& report) {
  auto copy = std::make_shared<const VerifyReport>(report);
  std::lock_guard lk(mu_);
  checks_.report = std::move(copy);
  ++checks_.full_checks;
  checks_.last_check_unix = static_cast<double>(std::time(nullptr));
  check_error_.clear();
}

void CheckSession::RecordCheckAttempt(const Status& status) {
  std::lock_guard lk(mu_);
  check_error_ = status.ok() ? "" : status.ToString();
}

void CheckSession::RecordChangeRound(uint64_t rows_compared, uint64_t divergent_rows) {
  std::lock_guard lk(mu_);
  checks_.change_rows += rows_compared;
  checks_.change_divergent += divergent_rows;
}

StreamFigures CheckSession::ReadStream() const {
  StreamFigures f;
  if (const Load load = load_; load != Load::kLoading && load != Load::kFailed) {
    auto lk = shadow_->Lock();
    for (size_t i = 0; i < shadow_->table_count(); ++i) {
      f.tables.push_back({shadow_->table(i).qualified_name(), shadow_->ops(i)});
    }
    f.transactions = shadow_->transactions();
    f.changes = shadow_->changes();
    f.tracked_rows = shadow_->TrackedRows();
    f.shadow_bytes = shadow_->MemoryBytes();
    f.processed = shadow_->last_commit_end();
  }
  f.received = wire::Lsn(position_.received.load());
  f.durable = stream_.durable ? stream_.durable() : f.processed;
  return f;
}

CheckFigures CheckSession::ReadChecks() const {
  std::lock_guard lk(mu_);
  return checks_;
}

Liveness CheckSession::ReadLiveness() const {
  Liveness l;
  l.base_point = base_point_;
  l.stream_ended = position_.ended;
  std::lock_guard lk(mu_);
  // stream_status_ is set before `ended`: an ended stream's error is seen.
  if (l.stream_ended && !stream_status_.ok()) l.stream_error = stream_status_.ToString();
  l.check_error = check_error_;
  return l;
}

}  // namespace pgparity::applier
