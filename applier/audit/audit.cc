#include "pgparity/applier/audit.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <mutex>
#include <thread>

#include "pgparity/applier/change_checker.h"
#include "pgparity/applier/metrics.h"
#include "pgparity/applier/session_setup.h"
#include "pgparity/applier/shadow_checkpoint.h"
#include "pgparity/applier/shadow_state.h"
#include "pgparity/applier/target_checker.h"
#include "pgparity/consumer/slot_consumer.h"
#include "pgparity/file_util.h"

namespace pgparity::applier {

using std::chrono::steady_clock;

namespace {

// Checkpoints the shadow at transaction boundaries, on the consumer's
// thread (through ConsumerHooks::durable_position).
class Checkpointer {
 public:
  Checkpointer(ShadowState& shadow, CheckpointMeta meta, std::string path,
               std::chrono::seconds every)
      : shadow_(shadow), meta_(std::move(meta)), path_(std::move(path)), every_(every) {}

  // The position the slot may confirm: the last checkpoint's. Writes a new
  // checkpoint when due (or when stopping) and the shadow is between
  // transactions.
  Result<wire::Lsn> Durable(bool force) {
    if (!force && steady_clock::now() - last_write_ < every_) return last();
    auto lk = shadow_.Lock();
    if (shadow_.in_transaction()) return last();
    const wire::Lsn at = shadow_.last_commit_end();
    if (at <= last()) return last();
    const auto start = steady_clock::now();
    PGPARITY_RETURN_IF_ERROR(WriteCheckpoint(shadow_, at, meta_, path_));
    last_ = at.value();
    last_write_ = steady_clock::now();
    spdlog::info("checkpoint at {} ({} rows) in {:.2f} s", at.ToString(), shadow_.TrackedRows(),
                 std::chrono::duration<double>(last_write_ - start).count());
    return last();
  }

  Status WriteNow(wire::Lsn at) {
    auto lk = shadow_.Lock();
    PGPARITY_RETURN_IF_ERROR(WriteCheckpoint(shadow_, at, meta_, path_));
    last_ = at.value();
    last_write_ = steady_clock::now();
    return Status::OK();
  }

  void set_last(wire::Lsn at) {
    last_ = at.value();
    last_write_ = steady_clock::now();
  }
  // Any thread (metrics).
  wire::Lsn last() const { return wire::Lsn(last_.load()); }

 private:
  ShadowState& shadow_;
  CheckpointMeta meta_;
  std::string path_;
  std::chrono::seconds every_;
  std::atomic<uint64_t> last_{0};
  steady_clock::time_point last_write_{};
};

}  // namespace

Status RunAudit(const AuditOptions& options, const std::atomic<bool>& stop) {
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  if (ec) {
    return Status::IOError("cannot create the state directory " + options.state_dir + ": " +
                           ec.message());
  }
  const std::string ckpt_path = (std::filesystem::path(options.state_dir) / "shadow.ckpt").string();
  const std::string report_path =
      options.report_path.empty()
          ? (std::filesystem::path(options.state_dir) / "report.json").string()
          : options.report_path;

  PGPARITY_ASSIGN_OR_RETURN(Sides sides, OpenSides(options.source, options.target,
                                                   options.publication, options.subscription));
  ShadowState shadow(sides.specs);
  CheckpointMeta meta{options.slot, options.publication, ""};
  CheckpointMeta stored;
  PGPARITY_ASSIGN_OR_RETURN(std::optional<wire::Lsn> resumed,
                            ReadCheckpoint(ckpt_path, shadow, stored));
  PGPARITY_ASSIGN_OR_RETURN(
      auto slot_row, sides.source->Query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1",
                                         {options.slot}));
  const bool slot_exists = slot_row.rows() > 0;
  if (resumed) {
    if (stored.slot != options.slot || stored.publication != options.publication) {
      return Status::FailedPrecondition("the state in " + options.state_dir + " belongs to slot " +
                                        stored.slot + " and publication " + stored.publication +
                                        "; pass those, or another --state-dir");
    }
    if (!slot_exists) {
      return Status::FailedPrecondition(
          "slot " + options.slot + " no longer exists on the source but " + options.state_dir +
          " holds a checkpoint of it; remove the state directory to start over");
    }
    spdlog::info("resuming from the checkpoint at {} ({} rows)", resumed->ToString(),
                 shadow.TrackedRows());
  } else if (slot_exists) {
    return Status::FailedPrecondition(
        "slot " + options.slot + " exists on the source but " + options.state_dir +
        " has no checkpoint of it, so its position cannot be trusted; drop it "
        "(SELECT pg_drop_replication_slot('" +
        options.slot + "')) or pass another --slot");
  }

  Checkpointer checkpointer(shadow, meta, ckpt_path, options.checkpoint_interval);
  if (resumed) checkpointer.set_last(*resumed);
  StreamPosition position;
  // Metrics first: an address that cannot be listened on fails before any
  // slot is created.
  std::unique_ptr<MetricsCollector> metrics;
  std::unique_ptr<MetricsServer> metrics_server;
  if (!options.metrics_listen.empty()) {
    metrics = std::make_unique<MetricsCollector>(
        MetricsSources{&shadow, &position, [&] { return checkpointer.last(); },
                       sides.source_params.WithPinnedFormats(),
                       sides.target_params.WithPinnedFormats(), options.slot, sides.sub});
    PGPARITY_ASSIGN_OR_RETURN(
        metrics_server, MetricsServer::Start(options.metrics_listen, [&](std::string_view path) {
          return metrics->Handle(path);
        }));
  }
  std::atomic<bool> stopping{false};

  consumer::SlotConsumerOptions copts;
  copts.source = options.source;
  copts.slot = options.slot;
  copts.publications = {options.publication};
  copts.create_slot = !resumed;
  copts.snapshot = conn::SnapshotAction::kExport;
  copts.resume_lsn = resumed.value_or(wire::Lsn());
  copts.checkpoint_interval = std::chrono::milliseconds(200);
  consumer::ConsumerHooks hooks;
  hooks.on_slot_created = [&](const conn::CreatedSlot& slot) -> Status {
    PGPARITY_RETURN_IF_ERROR(BootstrapShadow(sides.source_params, slot, options.parallel, shadow));
    // Durable before the slot streams: a crash from here on resumes.
    return checkpointer.WriteNow(slot.consistent_point);
  };
  hooks.durable_position = [&](wire::Lsn) { return checkpointer.Durable(stopping); };
  hooks.on_progress = [&](wire::Lsn received, bool idle) {
    position.received = received.value();
    position.idle = idle;
  };
  consumer::SlotConsumer consumer(copts, shadow, hooks);
  Status consumer_status;
  std::thread stream([&] {
    consumer_status = consumer.Run();
    position.ended = true;
  });
  struct Joiner {
    consumer::SlotConsumer& c;
    std::thread& t;
    std::atomic<bool>& stopping;
    ~Joiner() {
      stopping = true;
      c.RequestStop();
      if (t.joinable()) t.join();
    }
  } joiner{consumer, stream, stopping};

  // Wait for the base point (bootstrap or checkpoint).
  while (!position.ended && !stop) {
    {
      auto lk = shadow.Lock();
      if (shadow.base_point().valid()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  CheckOptions check_options;
  check_options.parallel = options.parallel;
  check_options.max_listed_rows = options.max_listed_rows;
  std::unique_ptr<TargetChecker> checker;
  std::unique_ptr<ChangeChecker> changes;
  uint64_t change_rows = 0, change_divergent = 0;
  std::string first_change_divergence;
  auto next_check = steady_clock::now();
  auto next_change_round = steady_clock::now();
  // Between full checks: the rows each applied commit touched.
  auto change_round = [&] {
    if (!changes) {
      changes = std::make_unique<ChangeChecker>(shadow, sides.source_params.WithPinnedFormats(),
                                                sides.target_params.WithPinnedFormats(), sides.sub);
      auto lk = shadow.Lock();
      changes->set_cursor(shadow.base_point());
    }
    auto round = changes->RunOnce();
    if (!round.ok()) {
      spdlog::warn("per-change check failed: {}; retrying", round.status().ToString());
      changes.reset();
      return;
    }
    change_rows += round->rows_compared;
    if (metrics) metrics->AddChangeCheck(round->rows_compared, round->divergent.size());
    for (const auto& [table, row] : round->divergent) {
      std::string key;
      for (const auto& [c, v] : row.key)
        key += (key.empty() ? "" : ", ") + c + "=" + v.value_or("NULL");
      const std::string line = "per-change check: " + table + " " + key + " " +
                               std::string(RowDivergenceName(row.kind)) +
                               " on the target (commits " + round->from.ToString() + ".." +
                               round->to.ToString() + ")";
      spdlog::warn("{}", line);
      if (change_divergent++ == 0) first_change_divergence = line;
    }
  };
  while (!stop && !position.ended) {
    if (steady_clock::now() < next_check) {
      if (steady_clock::now() >= next_change_round) {
        next_change_round = steady_clock::now() + options.change_interval;
        change_round();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    next_check = steady_clock::now() + options.check_interval;
    if (!checker) {
      checker = std::make_unique<TargetChecker>(
          shadow, position, sides.source_params.WithPinnedFormats(),
          sides.target_params.WithPinnedFormats(), sides.sub, check_options);
    }
    VerifyReport report;
    report.source = sides.source->endpoint();
    report.target = sides.target->endpoint();
    report.publication = options.publication;
    std::string why;
    auto outcome = checker->FullCheck(report, why, next_check);
    if (!outcome.ok()) {
      if (position.ended) break;
      spdlog::warn("full check failed: {}; retrying at the next check",
                   outcome.status().ToString());
      checker.reset();  // reconnects next time
      continue;
    }
    if (*outcome == TargetChecker::Outcome::kNotYet) {
      spdlog::info("full check: not yet — {}", why);
      next_check = std::min(next_check, steady_clock::now() + std::chrono::seconds(1));
      continue;
    }
    report.checked_at = UtcNow();
    {
      auto lk = shadow.Lock();
      // Later checks never look below this check's window again.
      wire::Lsn horizon = checker->last_lower_bound();
      if (changes && changes->cursor() < horizon) horizon = changes->cursor();
      shadow.Prune(horizon);
    }
    size_t match = 0;
    for (const auto& t : report.tables) match += t.status == TableStatus::kMatch;
    spdlog::info("full check: {} — {} of {} tables match at source LSN {}",
                 ReportStatusName(report.status), match, report.tables.size(), report.source_lsn);
    report.notes.push_back(
        "per-change checks since the start: " + std::to_string(change_rows) +
        " changed rows compared on the target, " + std::to_string(change_divergent) + " divergent" +
        (first_change_divergence.empty() ? "" : " (first: " + first_change_divergence + ")"));
    Status w = WriteFileAtomically(report_path, RenderReportJson(report) + "\n");
    if (!w.ok()) return w;
    if (metrics) metrics->SetReport(report);
    if (options.on_report) options.on_report(report);
  }
  // Stop: the consumer confirms after its final checkpoint.
  stopping = true;
  consumer.RequestStop();
  stream.join();
  if (!consumer_status.ok()) return consumer_status;
  {
    auto lk = shadow.Lock();
    spdlog::info("audit stopped at {}; checkpoint at {}", shadow.last_commit_end().ToString(),
                 checkpointer.last().ToString());
  }
  return Status::OK();
}

}  // namespace pgparity::applier
