#include "pgparity/applier/audit/audit.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <thread>

#include "pgparity/applier/audit/change_checker.h"
#include "pgparity/applier/audit/rolling_check.h"
#include "pgparity/applier/catalog/replication_slots.h"
#include "pgparity/applier/session/check_session.h"
#include "pgparity/applier/session/session_setup.h"
#include "pgparity/applier/shadow/shadow_checkpoint.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/applier/verify/target_checker.h"
#include "pgparity/conn/replication_connection.h"
#include "pgparity/file_util.h"

namespace pgparity::applier {

using std::chrono::steady_clock;

namespace {

// The state directory's files: the checkpoint (its delta and temporary
// files start with its name), the live row store (its checkpoints are
// "store.<LSN>"), the rolling check's position, the slot a first run is
// creating. StartOver writes the last and removes the others (not the
// report, which the next check replaces).
constexpr std::string_view kCheckpointFile = "shadow.ckpt";
constexpr std::string_view kStoreDir = "store";
constexpr std::string_view kRollingFile = "rolling.json";
constexpr std::string_view kPendingSlotFile = "slot.pending";

// How long, after a backlog cleared, the per-change rounds may go on
// waiting for the stream's position before a full check that is due
// starts (Audit::RunChangeRound): longer than the consumer's checkpoint
// pace and a big shadow's checkpoint write, which delay it.
constexpr auto kSettleLimit = std::chrono::seconds(10);

// Checkpoints the shadow at transaction boundaries, on the consumer's
// thread (through StreamOptions::durable_position). The shadow's lock is
// held while the state is taken only when a table spilled; never while the
// file is written and synced: the checks go on meanwhile (the stream
// waits: it is this thread).
class Checkpointer {
 public:
  Checkpointer(ShadowState& shadow, CheckpointMeta meta, std::string path,
               std::chrono::seconds every, std::optional<wire::Lsn> until,
               const StreamPosition& position)
      : shadow_(shadow),
        meta_(std::move(meta)),
        path_(std::move(path)),
        every_(every),
        until_(until),
        position_(position) {}

  // The position the slot may confirm: the last checkpoint's. Writes a new
  // checkpoint when due (or when stopping) and the shadow is between
  // transactions — and once the shadow holds every commit up to
  // --until-lsn, while the last per-change rounds compare them, instead of
  // after them.
  Result<wire::Lsn> Durable(bool force) {
    // The stream waits while a checkpoint is written (this thread), and a
    // big shadow's takes seconds: the next one is due after the interval
    // or ten times as long as the last one took, whichever is longer, so
    // checkpoints take at most about a tenth of the stream's time.
    const auto due = std::max<steady_clock::duration>(every_, 10 * last_took_);
    // Every commit up to --until-lsn is in the shadow, not yet in a checkpoint.
    const bool reached_until = until_ && last() <= *until_ && position_.DecodedBefore() > *until_;
    if (!force && !reached_until && steady_clock::now() - last_write_ < due) return last();
    const auto start = steady_clock::now();
    PreparedCheckpoint prepared;
    wire::Lsn at;
    size_t rows = 0;
    {
      auto lk = shadow_.Lock();
      if (shadow_.in_transaction()) return last();
      at = shadow_.last_commit_end();
      if (at <= last()) return last();
      // A spilled table's reads share the store's buffers: taken under the
      // lock, the checks wait. Otherwise without it, beside their reads:
      // this thread is the consumer, the one that changes the rows
      // (ShadowState's thread-safety), and a big shadow takes a while.
      if (shadow_.store() == nullptr) lk.unlock();
      PGPARITY_ASSIGN_OR_RETURN(prepared, PrepareCheckpoint(shadow_, at, meta_, path_, base_));
      rows = shadow_.TrackedRows();
    }
    PGPARITY_RETURN_IF_ERROR(Commit(prepared, at));
    last_took_ = last_write_ - start;
    const double took = std::chrono::duration<double>(last_took_).count();
    if (prepared.base) {
      spdlog::info("checkpoint at {} ({} rows) in {:.2f} s", at.ToString(), rows, took);
    } else {
      spdlog::info("checkpoint at {} ({} rows; a delta of {} changed rows) in {:.2f} s",
                   at.ToString(), rows, prepared.delta_rows, took);
    }
    return last();
  }

  Status WriteNow(wire::Lsn at) {
    PreparedCheckpoint prepared;
    {
      auto lk = shadow_.Lock();
      PGPARITY_ASSIGN_OR_RETURN(prepared, PrepareCheckpoint(shadow_, at, meta_, path_));
    }
    return Commit(prepared, at);
  }

  // Resumed: the checkpoint read (its delta's LSN when it had one), and
  // the full checkpoint later deltas apply to.
  void Resume(wire::Lsn at, std::optional<CheckpointBase> base) {
    last_ = at.value();
    last_write_ = steady_clock::now();
    base_ = base;
  }
  // Any thread (metrics).
  wire::Lsn last() const { return wire::Lsn(last_.load()); }

 private:
  // Writes `prepared`, taken at `at`, and makes it the position to confirm.
  Status Commit(const PreparedCheckpoint& prepared, wire::Lsn at) {
    PGPARITY_RETURN_IF_ERROR(CommitCheckpoint(prepared));
    if (prepared.base) base_ = prepared.base;
    last_ = at.value();
    last_write_ = steady_clock::now();
    return Status::OK();
  }

  ShadowState& shadow_;
  CheckpointMeta meta_;
  std::string path_;
  std::chrono::seconds every_;
  std::optional<wire::Lsn> until_;
  const StreamPosition& position_;
  std::atomic<uint64_t> last_{0};
  // The last full checkpoint: the next may be a delta of it.
  std::optional<CheckpointBase> base_;
  steady_clock::time_point last_write_{};
  steady_clock::duration last_took_{};
};

// Whether there is a checkpoint at `path` (damaged or not: PeekCheckpoint
// says), known before it is read.
bool HasCheckpoint(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// A checkpoint's files and what they will resume from (PeekCheckpoint).
struct PeekedCheckpoint {
  CheckpointFiles files;
  std::optional<CheckpointHead> head;
};

Result<PeekedCheckpoint> MapAndPeekCheckpoint(const std::string& path) {
  PeekedCheckpoint peeked;
  PGPARITY_ASSIGN_OR_RETURN(peeked.files, ReadCheckpointFiles(path));
  PGPARITY_ASSIGN_OR_RETURN(peeked.head, PeekCheckpoint(peeked.files, path));
  return peeked;
}

// Whether `slot` exists on the source.
Result<bool> SlotExists(conn::PgSession& source, const std::string& slot) {
  PGPARITY_ASSIGN_OR_RETURN(const auto slots, ReadSlots(source, {slot}));
  return !slots.empty();
}

// Drops pgparity's own slot (gone already is fine). A stream of it that
// has just ended may keep it for a moment: its walsender lets go a little
// later, so "in use" is retried for up to 30 s.
Status DropOwnSlot(const AuditOptions& options) {
  PGPARITY_ASSIGN_OR_RETURN(auto source, conn::ReplicationConnection::Connect(options.source));
  const auto deadline = steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    const Status dropped = source->DropSlot(options.slot);
    if (dropped.ok() || dropped.IsNotFound()) return Status::OK();
    if (dropped.code() != Status::Code::kFailedPrecondition || steady_clock::now() > deadline) {
      return dropped;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// The file naming the slot a first run (or a start over) is about to
// create, removed once its first checkpoint is written: a run killed in
// between leaves it, and the next run knows the slot it finds without a
// checkpoint is this state directory's own, not someone else's.
std::filesystem::path PendingSlotFile(const std::string& state_dir) {
  return std::filesystem::path(state_dir) / kPendingSlotFile;
}

// Whether `slot` is the one PendingSlotFile names.
bool SlotIsPending(const std::string& state_dir, const std::string& slot) {
  Result<std::optional<std::string>> pending =
      ReadFileIfExists(PendingSlotFile(state_dir).string());
  return pending.ok() && pending->has_value() && **pending == slot;
}

// The state directory and the slot belong together: a checkpoint needs
// its slot, and a slot without a checkpoint has a position nobody can
// trust.
Status CheckStateMatchesSlot(const AuditOptions& options, bool resumed,
                             const CheckpointMeta& stored, bool slot_exists) {
  if (resumed && (stored.slot != options.slot || stored.publication != options.publication)) {
    return Status::FailedPrecondition("the state in " + options.state_dir + " belongs to slot " +
                                      stored.slot + " and publication " + stored.publication +
                                      "; pass those, or another --state-dir");
  }
  if (resumed && !slot_exists) {
    return Status::FailedPrecondition(
        "slot " + options.slot + " no longer exists on the source but " + options.state_dir +
        " holds a checkpoint of it; remove the state directory to start over");
  }
  if (!resumed && slot_exists) {
    return Status::FailedPrecondition(
        "slot " + options.slot + " exists on the source but " + options.state_dir +
        " has no checkpoint of it, so its position cannot be trusted; drop it "
        "(SELECT pg_drop_replication_slot('" +
        options.slot + "')) or pass another --slot");
  }
  return Status::OK();
}

// What starting over takes, by hand: the slot and the state go together
// (CheckStateMatchesSlot), so a refused state's fix names both.
std::string StartOverByHand(const AuditOptions& options) {
  return "drop slot " + options.slot + " on the source (SELECT pg_drop_replication_slot('" +
         options.slot + "')) and remove " + options.state_dir;
}

// A checkpoint that cannot be resumed says "remove the state directory to
// start over"; the slot has to go too.
Status WithStartOverFix(const Status& s, const AuditOptions& options) {
  constexpr std::string_view kRemoveOnly = "remove the state directory to start over";
  std::string message(s.message());
  const size_t at = message.find(kRemoveOnly);
  if (at == std::string::npos) return s;
  message.replace(at, kRemoveOnly.size(), StartOverByHand(options) + " to start over");
  return s.WithMessage(message);
}

// "per-change check: public.t id=1 differs on the target (commits A..B)".
std::string DescribeChangeDivergence(const ChangeRound& round, const std::string& table,
                                     const DivergentRow& row) {
  std::string key;
  for (const auto& [c, v] : row.key)
    key += (key.empty() ? "" : ", ") + c + "=" + v.value_or("NULL");
  return "per-change check: " + table + " " + key + " " + std::string(RowDivergenceName(row.kind)) +
         " on the target (commits " + round.from.ToString() + ".." + round.to.ToString() + ")";
}

// One audit: the session, the checkpoints, and the loop of per-change
// rounds and full checks until stopped.
class Audit {
 public:
  Audit(const AuditOptions& options, std::stop_token stop)
      : options_(options), stop_(std::move(stop)) {}
  // The stream calls the checkpointer and the metrics read it: both stop
  // before it goes.
  ~Audit() {
    if (session_) session_->Close().IgnoreError();
  }

  // Whether a check of this run reached a verdict (PublishVerdict).
  bool reached_verdict() const { return reached_verdict_; }
  // Whether the schema change that ended the run needs only a new run from
  // its checkpoint (a type changed on the target: a new comparison plan),
  // not a start over. The run stopped cleanly, its last checkpoint written.
  bool replan() const { return replan_; }

  Status Run() {
    PGPARITY_RETURN_IF_ERROR(PrepareStateDir());
    PGPARITY_RETURN_IF_ERROR(OpenAndResume());
    PGPARITY_RETURN_IF_ERROR(session_->Start(Stream()));
    // A checkpoint's rows load while the stream starts; nothing was applied
    // or confirmed when they cannot be.
    if (Status loaded = session_->WaitForLoad(); !loaded.ok()) {
      session_->Close().IgnoreError();
      return WithStartOverFix(loaded, options_);
    }
    // The base point: the bootstrap's, or the checkpoint's at once.
    Status checked;
    if (session_->WaitForBasePoint(stop_)) checked = CheckUntilStopped();
    // A run that ends for a new plan stops cleanly too: the next resumes.
    if (!checked.ok() && !replan_) return checked;
    PGPARITY_RETURN_IF_ERROR(Stop());
    return checked;
  }

 private:
  Status PrepareStateDir();
  Status OpenAndResume();
  Status LoadCheckpointRows(ShadowState& shadow);
  StreamOptions Stream();
  Status CheckUntilStopped();
  Status CheckSchemaUnchanged();
  bool ReachedUntil() const;
  void WaitForNextRound(steady_clock::time_point until,
                        steady_clock::time_point& next_change_round);
  void RunChangeRound();
  steady_clock::duration ChangeRoundPause() const;
  Status RunFullCheck(steady_clock::time_point& next_check);
  Status RunRollingStep(steady_clock::time_point& next_check,
                        steady_clock::time_point& next_change_round);
  TargetChecker& Checker();
  Status PublishVerdict(VerifyReport& report);
  Status Stop();

  const AuditOptions& options_;
  std::stop_token stop_;
  std::string ckpt_path_, report_path_;
  std::unique_ptr<CheckSession> session_;
  std::optional<wire::Lsn> resumed_;
  CheckpointFiles checkpoint_;  // read, until its rows are loaded
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<TargetChecker> checker_;
  std::unique_ptr<ChangeChecker> changes_;
  std::unique_ptr<RollingCheck> rolling_;  // --scan-rate
  uint64_t change_rows_ = 0, change_divergent_ = 0;
  // The last per-change round's: the target applied more than it took.
  bool change_capped_ = false, shadow_behind_ = false;
  // After the last round with a backlog: rounds go on at the catching-up
  // pace, before a full check may start, while they stop short of the
  // target only for want of the stream's published position — until
  // settle_end_ at most (Audit::RunChangeRound).
  bool settling_ = false;
  steady_clock::time_point settle_end_;
  std::string first_change_divergence_;
  bool reached_verdict_ = false;
  bool replan_ = false;
};

Status Audit::PrepareStateDir() {
  std::error_code ec;
  std::filesystem::create_directories(options_.state_dir, ec);
  if (ec) {
    return Status::IOError("cannot create the state directory " + options_.state_dir + ": " +
                           ec.message());
  }
  const std::filesystem::path dir(options_.state_dir);
  ckpt_path_ = (dir / kCheckpointFile).string();
  report_path_ =
      options_.report_path.empty() ? (dir / "report.json").string() : options_.report_path;
  return Status::OK();
}

// Both sides, the checkpoint (when there is one) and the slot, checked
// against each other before anything is created; the checkpoint's rows
// load later (LoadCheckpointRows), while the stream starts.
Status Audit::OpenAndResume() {
  // The checkpoint's files (tens of MB) are mapped and checked while both
  // sides' catalogs are read, which the shadow they load into is made from.
  std::future<Result<PeekedCheckpoint>> peeked =
      std::async(std::launch::async, MapAndPeekCheckpoint, ckpt_path_);
  PGPARITY_ASSIGN_OR_RETURN(session_,
                            CheckSession::Open({
                                .source = options_.source,
                                .target = options_.target,
                                .publication = options_.publication,
                                .subscription = options_.subscription,
                                .parallel = options_.parallel,
                                .metrics_listen = options_.metrics_listen,
                                .min_range_rows = kMinRangeRows,
                                .memory = options_.memory,
                                // Always set: a checkpoint may have rows in the store
                                // even when this run has no limit.
                                .store_dir = std::filesystem::path(options_.state_dir) / kStoreDir,
                                // A checkpoint: the slot resumes (CheckStateMatchesSlot).
                                .resume_slot = HasCheckpoint(ckpt_path_) ? options_.slot : "",
                            }));
  ShadowState& shadow = session_->shadow();
  shadow.TrackDirtyRows();  // before the load: a delta's rows stay changed
  Result<PeekedCheckpoint> peek = peeked.get();
  if (!peek.ok()) return WithStartOverFix(peek.status(), options_);
  PeekedCheckpoint checkpoint = std::move(*peek);
  checkpoint_ = std::move(checkpoint.files);
  const std::optional<CheckpointHead>& head = checkpoint.head;
  if (head) resumed_ = head->lsn;
  PGPARITY_ASSIGN_OR_RETURN(bool slot_exists, SlotExists(session_->source(), options_.slot));
  if (!resumed_ && slot_exists && SlotIsPending(options_.state_dir, options_.slot)) {
    spdlog::warn(
        "slot {} was created by a run of {} that ended before its first checkpoint: dropping it "
        "to start again",
        options_.slot, options_.state_dir);
    PGPARITY_RETURN_IF_ERROR(DropOwnSlot(options_));
    slot_exists = false;
  }
  PGPARITY_RETURN_IF_ERROR(CheckStateMatchesSlot(
      options_, resumed_.has_value(), head ? head->meta : CheckpointMeta{}, slot_exists));
  checkpointer_ = std::make_unique<Checkpointer>(
      shadow, CheckpointMeta{options_.slot, options_.publication, ""}, ckpt_path_,
      options_.checkpoint_interval, options_.until_lsn, session_->position());
  if (head) checkpointer_->Resume(head->lsn, head->full);
  // The slot this run creates is the state directory's own until its
  // first checkpoint names it (Stream's after_bootstrap).
  const std::string pending = PendingSlotFile(options_.state_dir).string();
  if (!resumed_) return WriteFileAtomically(pending, options_.slot);
  std::error_code ec;
  std::filesystem::remove(pending, ec);  // a kill between the checkpoint and its removal
  return Status::OK();
}

// On a thread of the session's (StreamOptions::load), while the stream
// starts: the checkpoint's rows, at the position PeekCheckpoint said.
Status Audit::LoadCheckpointRows(ShadowState& shadow) {
  const CheckpointFiles files = std::move(checkpoint_);
  CheckpointMeta stored;
  std::optional<CheckpointBase> base;
  PGPARITY_ASSIGN_OR_RETURN(const std::optional<wire::Lsn> at,
                            LoadCheckpoint(files, ckpt_path_, shadow, stored, &base));
  if (at != resumed_) {
    return Status::Internal("checkpoint " + ckpt_path_ + " loaded at " +
                            at.value_or(wire::Lsn()).ToString() + ", not at " +
                            resumed_->ToString() + " as its header said");
  }
  if (base && base->lsn != *resumed_) {
    spdlog::info(
        "resuming from the checkpoint at {} ({} rows; the full checkpoint at {} and its "
        "delta)",
        resumed_->ToString(), shadow.TrackedRows(), base->lsn.ToString());
  } else {
    spdlog::info("resuming from the checkpoint at {} ({} rows)", resumed_->ToString(),
                 shadow.TrackedRows());
  }
  return Status::OK();
}

// The persistent slot: created on the first run, resumed after.
StreamOptions Audit::Stream() {
  StreamOptions stream;
  stream.slot = options_.slot;
  stream.create_slot = !resumed_;
  stream.resume_lsn = resumed_.value_or(wire::Lsn());
  stream.checkpoint_interval = std::chrono::milliseconds(200);
  Checkpointer* checkpointer = checkpointer_.get();
  // Durable before the slot streams: a crash from here on resumes.
  const std::string pending = PendingSlotFile(options_.state_dir).string();
  stream.after_bootstrap = [checkpointer, pending](const conn::CreatedSlot& slot) {
    PGPARITY_RETURN_IF_ERROR(checkpointer->WriteNow(slot.consistent_point));
    std::error_code ec;
    std::filesystem::remove(pending, ec);  // a leftover is removed by the next run
    return Status::OK();
  };
  stream.durable_position = [checkpointer](bool stopping) {
    return checkpointer->Durable(stopping);
  };
  stream.durable = [checkpointer] { return checkpointer->last(); };
  if (resumed_) stream.load = [this](ShadowState& shadow) { return LoadCheckpointRows(shadow); };
  return stream;
}

// Between full checks, every change interval: the rows each applied
// commit touched. Woken early by a stop or the end of the stream. While
// the per-change rounds have a backlog (a restart catching up), they go
// first: a full check then would only wait for the stream and scan
// what the rounds are about to compare, so it waits, at most one more
// interval.
Status Audit::CheckUntilStopped() {
  // A round first: whether there is a backlog decides what comes next.
  RunChangeRound();
  auto next_check = steady_clock::now();
  auto next_change_round = next_check + ChangeRoundPause();
  while (!stop_.stop_requested() && !session_->stream_ended() && !ReachedUntil()) {
    PGPARITY_RETURN_IF_ERROR(CheckSchemaUnchanged());
    const auto now = steady_clock::now();
    const bool backlog = change_capped_ || shadow_behind_ || settling_;
    if (now < next_check || (backlog && now < next_check + options_.check_interval)) {
      if (now >= next_change_round) {
        RunChangeRound();
        if (ReachedUntil()) break;
        next_change_round = steady_clock::now() + ChangeRoundPause();
      }
      const auto check_at = now < next_check ? next_check : next_check + options_.check_interval;
      WaitForNextRound(std::min(check_at, next_change_round), next_change_round);
      continue;
    }
    next_check = now + options_.check_interval;
    PGPARITY_RETURN_IF_ERROR(options_.scan_rate > 0 ? RunRollingStep(next_check, next_change_round)
                                                    : RunFullCheck(next_check));
  }
  if (ReachedUntil()) {
    spdlog::info("caught up: every commit up to {} is applied and its changed rows compared ({})",
                 options_.until_lsn->ToString(), change_rows_);
  }
  return Status::OK();
}

// --on-schema-change restart: a table that joined the publication since
// the start (its changes reached the stream, untracked), one a check found
// it no longer lists (dropped, or ALTER PUBLICATION ... DROP TABLE), or a partitioned
// table whose partitions a check found attached or detached, is a change
// of the tables the state was made from. With `stop` they stay reported as
// unverified by every check, as verify does.
Status Audit::CheckSchemaUnchanged() {
  if (options_.on_schema_change != OnSchemaChange::kRestart) return Status::OK();
  if (checker_ && !checker_->repartitioned().empty()) {
    return Status::SchemaChanged("the partitions of " + *checker_->repartitioned().begin() +
                                 " changed on the source (ATTACH or DETACH PARTITION) since "
                                 "pgparity started");
  }
  if (checker_ && !checker_->left_publication().empty()) {
    const auto& [table, how] = *checker_->left_publication().begin();
    return Status::SchemaChanged("table " + table +
                                 " left the publication since pgparity started: " + how);
  }
  {
    ShadowState& shadow = session_->shadow();
    auto lk = shadow.Lock();
    if (!shadow.untracked().empty()) {
      const auto& [schema, name] = *shadow.untracked().begin();
      return Status::SchemaChanged("table " + schema + "." + name +
                                   " joined the publication since pgparity started");
    }
  }
  if (checker_ && !checker_->retyped_on_target().empty()) {
    replan_ = true;
    return Status::SchemaChanged(*checker_->retyped_on_target().begin());
  }
  return Status::OK();
}

// Until `until`, a stop or the end of the stream — or, while the rows a
// round read wait for the stream to catch up, until the shadow has what
// they need: the next round then compares them at once.
void Audit::WaitForNextRound(steady_clock::time_point until,
                             steady_clock::time_point& next_change_round) {
  if (changes_ && changes_->waiting_for_shadow()) {
    if (changes_->WaitForShadow(until)) next_change_round = steady_clock::now();
    return;
  }
  session_->WaitUntil(until, stop_);
}

// --until-lsn: the per-change checks have looked at every commit up to it
// (their cursor passes it only once the shadow holds them all).
bool Audit::ReachedUntil() const {
  return options_.until_lsn && changes_ && changes_->cursor() > *options_.until_lsn;
}

// At once after a round that stopped at its key cap; soon while the
// shadow catches up with the target (the stream decodes meanwhile), and
// once after; otherwise after the change interval.
steady_clock::duration Audit::ChangeRoundPause() const {
  if (change_capped_) return steady_clock::duration::zero();
  if (shadow_behind_ || settling_)
    return std::min<steady_clock::duration>(std::chrono::milliseconds(100),
                                            options_.change_interval);
  return options_.change_interval;
}

void Audit::RunChangeRound() {
  ShadowState& shadow = session_->shadow();
  if (!changes_) {
    changes_ = std::make_unique<ChangeChecker>(
        shadow, session_->source_params().WithPinnedFormats(),
        session_->target_params().WithPinnedFormats(), session_->subscription(),
        ChangeCheckOptions{
            .max_waiting_keys = options_.memory.read_ahead() / kWaitingKeyBytes,
            .read_sessions = options_.parallel,
            .compare_threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4)});
    auto lk = shadow.Lock();
    changes_->set_cursor(shadow.base_point());
  }
  changes_->set_decoded_before(session_->position().DecodedBefore());
  changes_->set_stream_received(wire::Lsn(session_->position().received.load()));
  auto round = changes_->RunOnce();
  const bool had_backlog = change_capped_ || shadow_behind_;
  const bool was_settling = settling_;
  change_capped_ = shadow_behind_ = settling_ = false;
  if (!round.ok()) {
    spdlog::warn("per-change check failed: {}; retrying", round.status().ToString());
    changes_.reset();
    return;
  }
  change_capped_ = round->capped;
  shadow_behind_ = round->shadow_behind;
  // The shadow caught up with the target, but the stream's position may
  // not yet say that nothing else was committed up to the target's: the
  // rounds' cursor then stops short of it (a restart's catch-up ending, an
  // --until-lsn not yet reached) until the walsender's keepalive is
  // published — with the consumer's next checkpoint, every 200 ms after a
  // checkpoint write, later on a loaded machine. A full check due now would
  // scan every table first (1.7 s for 1 M rows, measured ending a
  // --until-lsn catch-up); rounds at the catching-up pace go first, while
  // they stop short (stream_short) and for kSettleLimit at most: under
  // steady load the subscriber's flush position often leads the stream's.
  const auto now = steady_clock::now();
  if (had_backlog) settle_end_ = now + kSettleLimit;
  settling_ = !change_capped_ && !shadow_behind_ &&
              (had_backlog || (was_settling && round->stream_short && now < settle_end_));
  change_rows_ += round->rows_compared;
  session_->RecordChangeRound(round->rows_compared, round->divergent.size());
  for (const auto& [table, row] : round->divergent) {
    const std::string line = DescribeChangeDivergence(*round, table, row);
    spdlog::warn("{}", line);
    if (change_divergent_++ == 0) first_change_divergence_ = line;
  }
}

TargetChecker& Audit::Checker() {
  if (!checker_) {
    CheckOptions check_options;
    check_options.parallel = options_.parallel;
    check_options.max_listed_rows = options_.max_listed_rows;
    check_options.row_comparison_rows =
        static_cast<double>(options_.memory.row_comparison() / kComparedRowBytes);
    check_options.values = options_.values;
    check_options.publication = options_.publication;
    checker_ = std::make_unique<TargetChecker>(
        session_->shadow(), session_->position(), session_->source_params().WithPinnedFormats(),
        session_->target_params().WithPinnedFormats(), session_->subscription(), check_options);
  }
  return *checker_;
}

// One full check; a failure is retried at the next one (with new
// sessions), a target not far enough within a second.
Status Audit::RunFullCheck(steady_clock::time_point& next_check) {
  Checker();
  VerifyReport report = session_->NewReport();
  std::string why;
  auto outcome = checker_->FullCheck(report, why, next_check);
  session_->RecordCheckAttempt(outcome.status());  // for /readyz
  if (!outcome.ok()) {
    if (session_->stream_ended()) return Status::OK();  // the loop ends
    spdlog::warn("full check failed: {}; retrying at the next check", outcome.status().ToString());
    checker_.reset();  // reconnects next time
    return Status::OK();
  }
  if (*outcome == TargetChecker::Outcome::kNotYet) {
    spdlog::info("full check: not yet — {}", why);
    next_check = std::min(next_check, steady_clock::now() + std::chrono::seconds(1));
    return Status::OK();
  }
  return PublishVerdict(report);
}

// The rolling check's next range (--scan-rate), the next one at once;
// the per-change rounds go on while it reads (between rows). A failure or
// a target not far enough: the same range within a second, with new
// sessions after a failure. The walk itself goes on from where it was.
Status Audit::RunRollingStep(steady_clock::time_point& next_check,
                             steady_clock::time_point& next_change_round) {
  if (!rolling_) {
    rolling_ = std::make_unique<RollingCheck>(
        Checker(), session_->shadow(),
        RollingOptions{
            .scan_rate = options_.scan_rate,
            .window = options_.scan_window,
            .max_listed_rows = options_.max_listed_rows,
            .position_path = (std::filesystem::path(options_.state_dir) / kRollingFile).string(),
        });
  }
  const RowReadHook between_rows = [&]() -> Status {
    if (steady_clock::now() >= next_change_round) {
      RunChangeRound();
      next_change_round = steady_clock::now() + options_.change_interval;
    }
    return Status::OK();
  };
  std::string why;
  auto outcome =
      rolling_->Step(why, stop_, steady_clock::now() + options_.scan_window, between_rows);
  session_->RecordCheckAttempt(outcome.status());  // for /readyz
  next_check = steady_clock::now();
  if (!outcome.ok()) {
    if (session_->stream_ended() || stop_.stop_requested()) return Status::OK();  // the loop ends
    spdlog::warn("rolling check failed: {}; retrying", outcome.status().ToString());
    checker_->Disconnect();  // new sessions for the next try
    next_check += std::chrono::seconds(1);
    return Status::OK();
  }
  if (*outcome == TargetChecker::Outcome::kNotYet) {
    spdlog::info("rolling check: not yet — {}", why);
    next_check += std::chrono::seconds(1);
    return Status::OK();
  }
  VerifyReport report = session_->NewReport();
  rolling_->Fill(report);
  if (Status s = checker_->Complete(report); !s.ok()) {
    spdlog::warn("rolling check's report not written: {}; retrying", s.ToString());
    checker_->Disconnect();
    return Status::OK();
  }
  return PublishVerdict(report);
}

// The verdict to the report file, the metrics and the caller; the shadow's
// history below the check's window goes.
Status Audit::PublishVerdict(VerifyReport& report) {
  report.checked_at = UtcNow();
  {
    ShadowState& shadow = session_->shadow();
    auto lk = shadow.Lock();
    // Later checks never look below this check's window again.
    wire::Lsn horizon = checker_->last_lower_bound();
    if (changes_ && changes_->cursor() < horizon) horizon = changes_->cursor();
    shadow.Prune(horizon);
  }
  size_t match = 0;
  for (const auto& t : report.tables) match += t.status == TableStatus::kMatch;
  spdlog::info("{}: {} — {} of {} tables match at source LSN {}",
               options_.scan_rate > 0 ? "rolling check" : "full check",
               ReportStatusName(report.status), match, report.tables.size(), report.source_lsn);
  report.notes.push_back(
      "per-change checks since the start: " + std::to_string(change_rows_) +
      " changed rows compared on the target, " + std::to_string(change_divergent_) + " divergent" +
      (first_change_divergence_.empty() ? "" : " (first: " + first_change_divergence_ + ")"));
  // The metrics first: whoever sees the file finds them at this report too.
  session_->RecordReport(report);
  PGPARITY_RETURN_IF_ERROR(WriteFileAtomically(report_path_, RenderReportJson(report) + "\n"));
  if (options_.on_report) options_.on_report(report);
  reached_verdict_ = true;
  return Status::OK();
}

// The consumer confirms after its final checkpoint.
Status Audit::Stop() {
  PGPARITY_RETURN_IF_ERROR(session_->Close());
  ShadowState& shadow = session_->shadow();
  auto lk = shadow.Lock();
  spdlog::info(
      "audit stopped at {}; checkpoint at {}; per-change checks: {} changed rows compared on the "
      "target, {} divergent",
      shadow.last_commit_end().ToString(), checkpointer_->last().ToString(), change_rows_,
      change_divergent_);
  if (changes_ && changes_->keys_read_while_streamed() + changes_->keys_read_while_applied() > 0) {
    spdlog::info(
        "per-change checks read keys of streamed transactions before their commit: {} while they "
        "streamed ({} of them counted at the commit), {} while the shadow applied them",
        changes_->keys_read_while_streamed(), changes_->keys_read_while_streamed_used(),
        changes_->keys_read_while_applied());
  }
  return Status::OK();
}

// --on-schema-change restart: what starting over by hand takes — the
// state directory's checkpoint, delta, row store and rolling position
// removed (the report stays until the next check replaces it), then the
// slot dropped; the slot named pending first, so that a kill at any point
// leaves a state the next run resumes or starts over from by itself: the
// checkpoint and its slot, or a pending slot without a checkpoint (dropped
// by the next run, OpenAndResume), or neither.
Status StartOver(const AuditOptions& options) {
  PGPARITY_RETURN_IF_ERROR(
      WriteFileAtomically(PendingSlotFile(options.state_dir).string(), options.slot));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options.state_dir, ec)) {
    const std::string name = entry.path().filename().string();
    const bool store = name == kStoreDir || name.starts_with(std::string(kStoreDir) + ".");
    if (!name.starts_with(kCheckpointFile) && !store && name != kRollingFile) continue;
    std::filesystem::remove_all(entry.path(), ec);
    if (ec) {
      return Status::IOError("starting over: cannot remove " + entry.path().string() + ": " +
                             ec.message());
    }
  }
  if (ec) {
    return Status::IOError("starting over: cannot list " + options.state_dir + ": " + ec.message());
  }
  return DropOwnSlot(options).WithPrefix("starting over");
}

}  // namespace

Status RunAudit(const AuditOptions& options, std::stop_token stop) {
  // Start overs in a row that reached no verdict in between: a schema that
  // keeps changing under the bootstrap, or a change pgparity keeps finding
  // that is none. Not forever: a bootstrap reads every table.
  constexpr int kMaxFruitlessStartOvers = 3;
  int fruitless = 0;
  int replans = 0;  // runs in a row that ended for a new plan: each reached a verdict
  for (;;) {
    Status s;
    bool reached_verdict = false;
    bool replan = false;
    {
      // Gone before a start over: its stream (still running when a check
      // found the change) lets go of the slot only when it closes.
      Audit audit(options, stop);
      s = audit.Run();
      reached_verdict = audit.reached_verdict();
      replan = audit.replan();
    }
    // A run that stopped for a new plan stopped cleanly.
    if (replan && stop.stop_requested()) return Status::OK();
    if (!s.IsSchemaChanged() || stop.stop_requested()) return s;
    if (!replan) replans = 0;
    fruitless = reached_verdict ? 0 : fruitless + 1;
    if (fruitless > kMaxFruitlessStartOvers) {
      return s.WithMessage(std::string(s.message()) + "; found again after " +
                           std::to_string(kMaxFruitlessStartOvers) +
                           " start overs without a check in between: stop the schema changes, "
                           "then run audit again");
    }
    if (replan && ++replans <= kMaxFruitlessStartOvers) {
      spdlog::warn(
          "{}: running again from the checkpoint, to compare it as the target's types are now "
          "(--on-schema-change restart)",
          s.message());
      continue;
    }
    if (options.on_schema_change == OnSchemaChange::kStop) {
      return s.WithMessage(std::string(s.message()) +
                           "; to start over: " + StartOverByHand(options) +
                           ", or run audit with --on-schema-change restart");
    }
    spdlog::warn(
        "{}: starting over (--on-schema-change restart) — dropping slot {} and the state in {}, "
        "then bootstrapping every table again",
        s.message(), options.slot, options.state_dir);
    PGPARITY_RETURN_IF_ERROR(StartOver(options));
  }
}

}  // namespace pgparity::applier
