// The cutover's phases (cutover.h) and the abort that undoes them.
#include "pgparity/applier/cutover/cutover.h"

#include <absl/strings/str_join.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "cutover/way_back.h"
#include "pgparity/applier/catalog/replication_slots.h"
#include "pgparity/applier/catalog/subscription.h"
#include "pgparity/applier/cutover/pgbouncer.h"
#include "pgparity/applier/cutover/source_fence.h"
#include "pgparity/applier/preflight/preflight.h"
#include "pgparity/applier/scan/row_read.h"
#include "pgparity/applier/verify/verify.h"
#include "pgparity/conn/connect.h"
#include "pgparity/utc_time.h"

namespace pgparity::applier {

namespace {

using std::chrono::steady_clock;

class Cutover {
 public:
  explicit Cutover(const CutoverOptions& options) : o_(options) {}
  CutoverReport Run();

 private:
  template <typename Fn>
  bool Phase(const char* name, Fn fn);
  void Progress(const std::string& line) const {
    if (o_.progress) o_.progress(line);
  }
  void Update() const {
    if (o_.on_update) o_.on_update(r_);
  }
  steady_clock::time_point Deadline() const { return steady_clock::now() + o_.timeout; }

  Status Gates();
  Status GatePgBouncer();
  Status CatchUp();
  Status PreCheck();
  Status Fence();
  Status Drain();
  Status FinalCheck();
  Status Judge(const ChangeRound& round);
  Status Sequences();
  Status Reverse();
  Status Switch();
  std::vector<std::string> Plan() const;
  void Abort();
  void StopCanary();

  const CutoverOptions& o_;
  CutoverReport r_;
  std::optional<conn::PgSession> source_, target_;
  SubscriptionInfo sub_;
  std::unique_ptr<PgBouncerAdmin> admin_;
  std::optional<DatabasesFile> file_;
  std::unique_ptr<SourceFence> fence_;
  std::unique_ptr<VerifySession> verify_;
  std::unique_ptr<Canary> canary_;
  wire::Lsn fence_lsn_;
  steady_clock::time_point paused_at_;
  std::optional<std::string> target_read_only_;  // the target database's, before the switch
  bool paused_ = false, raised_ = false, rewritten_ = false, reversed_ = false, unlocked_ = false;
};

// Runs one phase, timed; a failure is recorded as the abort's cause.
template <typename Fn>
bool Cutover::Phase(const char* name, Fn fn) {
  CutoverPhase p;
  p.name = name;
  p.started = UtcMillis(std::chrono::system_clock::now());
  Progress(std::string("cutover: ") + name + " ...");
  r_.current_phase = name;
  Update();
  const auto start = steady_clock::now();
  Status s = o_.before_phase ? o_.before_phase(name) : Status::OK();
  if (s.ok()) s = fn();
  p.ended = UtcMillis(std::chrono::system_clock::now());
  p.seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
  p.outcome = s.ok() ? "ok" : "failed";
  if (!s.ok()) {
    p.detail = std::string(s.message());
    r_.failed_phase = name;
    r_.reason = p.detail;
    r_.failure = s;
  }
  Progress(std::string("cutover: ") + name + " " + p.outcome + " (" +
           std::to_string(static_cast<int>(p.seconds * 1000)) + " ms)" +
           (s.ok() ? "" : ": " + p.detail));
  r_.phases.push_back(std::move(p));
  r_.current_phase.clear();
  Update();
  return s.ok();
}

CutoverReport Cutover::Run() {
  const bool prepared = Phase("gates", [&] { return Gates(); }) &&
                        Phase("catch_up", [&] { return CatchUp(); }) &&
                        Phase("pre_check", [&] { return PreCheck(); });
  if (prepared && o_.dry_run) {
    r_.status = "dry_run";
    r_.plan = Plan();
    StopCanary();
    return std::move(r_);
  }
  const bool ready = prepared && Phase("fence", [&] { return Fence(); }) &&
                     Phase("drain", [&] { return Drain(); }) &&
                     Phase("final_check", [&] { return FinalCheck(); }) &&
                     Phase("sequences", [&] { return Sequences(); }) &&
                     (!o_.reverse || Phase("reverse", [&] { return Reverse(); }));
  if (ready && Phase("switch", [&] { return Switch(); })) {
    r_.status = "switched";
  } else {
    Abort();
    r_.status = "aborted";
  }
  StopCanary();
  return std::move(r_);
}

// Preflight's blocking findings, on sessions of its own (it makes them
// read-only; the cutover's own sessions write later).
Status PreflightGate(const CutoverOptions& o) {
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession source, conn::ConnectSession(o.source, "source"));
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession target, conn::ConnectSession(o.target, "target"));
  PreflightOptions options;
  options.publication = o.publication;
  options.subscription = o.subscription;
  options.commands = {"verify"};
  PGPARITY_ASSIGN_OR_RETURN(PreflightReport report, Preflight(source, target, options).Run());
  for (const auto& f : report.findings) {
    if (f.severity != Severity::kBlocking) continue;
    return Status::FailedPrecondition("preflight: " + f.object + ": " + f.detail +
                                      (f.fix.empty() ? "" : " — fix: " + f.fix));
  }
  return Status::OK();
}

Status Cutover::Gates() {
  PGPARITY_RETURN_IF_ERROR(PreflightGate(o_));
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession source, conn::ConnectSession(o_.source, "source"));
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession target, conn::ConnectSession(o_.target, "target"));
  source_.emplace(std::move(source));
  target_.emplace(std::move(target));
  // The cutover's own sessions write (sequences, reverse replication), also
  // on a database a previous cutover left read-only.
  // CREATE SUBSCRIPTION's NOTICE is the report's to tell, not stderr's.
  for (conn::PgSession* s : {&*source_, &*target_}) {
    PGPARITY_RETURN_IF_ERROR(s->Exec("SET default_transaction_read_only = off"));
    PGPARITY_RETURN_IF_ERROR(s->Exec("SET client_min_messages = warning"));
  }
  PGPARITY_ASSIGN_OR_RETURN(target_read_only_, cutover_internal::DatabaseReadOnly(*target_));
  PGPARITY_ASSIGN_OR_RETURN(sub_, FindSubscription(*target_, o_.subscription, o_.publication));
  if (sub_.slot_name.empty()) {
    return Status::FailedPrecondition("subscription " + sub_.name +
                                      " has no slot on the source (slot_name = NONE)");
  }
  PGPARITY_RETURN_IF_ERROR(GatePgBouncer());
  FenceOptions fence;
  // pgparity's read-only sessions; a canary (or anything else) is fenced.
  fence.keep_application_prefixes = {"pgparity cutover", "pgparity audit", "pgparity verify"};
  PGPARITY_ASSIGN_OR_RETURN(fence_, SourceFence::Open(o_.source, fence));
  PGPARITY_RETURN_IF_ERROR(fence_->Check());
  if (o_.canary) {
    CanaryOptions canary;
    canary.dsn = *o_.canary;
    canary_ = std::make_unique<Canary>(std::move(canary));
    PGPARITY_RETURN_IF_ERROR(canary_->Start());
  }
  return Status::OK();
}

// "host:port/db" ends with ":<port>/<db>" of PgBouncer's entry: the host
// may be spelled differently (localhost, 127.0.0.1, a service name).
bool SameServer(const std::string& endpoint, const PgBouncerDatabase& db) {
  const std::string tail = ":" + std::to_string(db.port) + "/" + db.database;
  return endpoint.size() >= tail.size() && endpoint.ends_with(tail);
}

Status Cutover::GatePgBouncer() {
  PGPARITY_ASSIGN_OR_RETURN(admin_, PgBouncerAdmin::Connect(o_.pgbouncer));
  PGPARITY_ASSIGN_OR_RETURN(PgBouncerDatabase db, admin_->ShowDatabase(o_.pgbouncer_database));
  if (db.paused) {
    return Status::FailedPrecondition("PgBouncer's database " + db.name +
                                      " is paused already: RESUME " + db.name + " first");
  }
  if (!SameServer(source_->endpoint(), db)) {
    return Status::FailedPrecondition("PgBouncer's database " + db.name + " points at " + db.host +
                                      ":" + std::to_string(db.port) + "/" + db.database +
                                      ", not at the source " + source_->endpoint() +
                                      " — a cutover switches from the source it points at");
  }
  if (o_.pgbouncer_config.empty()) {
    if (o_.dry_run) return Status::OK();  // the plan says what is missing
    return Status::InvalidArgument(
        "--pgbouncer-config is required: the file holding PgBouncer's [databases] entry");
  }
  PGPARITY_ASSIGN_OR_RETURN(DatabasesFile file,
                            DatabasesFile::Open(o_.pgbouncer_config, o_.pgbouncer_database));
  file_.emplace(std::move(file));
  return Status::OK();
}

Status Cutover::CatchUp() {
  const auto deadline = Deadline();
  for (;;) {
    PGPARITY_ASSIGN_OR_RETURN(auto slots, ReadSlots(*source_, {sub_.slot_name}));
    if (slots.empty()) {
      return Status::NotFound("the subscription's slot " + sub_.slot_name +
                              " is not on the source");
    }
    const int64_t lag = slots[0].lag_bytes.value_or(INT64_MAX);
    if (lag <= o_.max_lag) return Status::OK();
    if (steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded("the subscription is still " + slots[0].lag_size +
                                      " behind after " + std::to_string(o_.timeout.count()) +
                                      " s (--max-lag " + std::to_string(o_.max_lag) + " bytes)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// "public.users id=2: differs" for each divergent row, at most 10.
std::vector<std::string> DivergentRows(const VerifyReport& report) {
  std::vector<std::string> rows;
  for (const auto& t : report.tables)
    for (const auto& d : t.divergent_rows) {
      if (rows.size() == 10) return rows;
      rows.push_back(t.table + " " + KeyText(d.key) + ": " +
                     std::string(RowDivergenceName(d.kind)));
    }
  return rows;
}

// A full check: consistent, or the error naming what differs.
Status ExpectConsistent(VerifySession& verify, std::chrono::seconds timeout, CutoverReport& r) {
  PGPARITY_ASSIGN_OR_RETURN(VerifyReport report, verify.Check(timeout));
  if (report.status == ReportStatus::kConsistent) return Status::OK();
  if (report.status == ReportStatus::kDivergent) {
    r.divergent = true;
    r.final_check_divergent = DivergentRows(report);
    return Status::FailedPrecondition("the target differs from the source at " + report.source_lsn +
                                      " (" + r.final_check_divergent.front() +
                                      ", ...): run pgparity verify for every row");
  }
  return Status::FailedPrecondition("the check was not conclusive at " + report.source_lsn +
                                    ": run pgparity verify to see why");
}

Status Cutover::PreCheck() {
  VerifyOptions v;
  v.source = o_.source;
  v.target = o_.target;
  v.publication = o_.publication;
  v.subscription = sub_.name;
  v.timeout = o_.timeout;
  v.parallel = o_.parallel;
  PGPARITY_ASSIGN_OR_RETURN(verify_, VerifySession::Start(v));
  PGPARITY_RETURN_IF_ERROR(ExpectConsistent(*verify_, o_.timeout, r_));
  // The changes made during the full scan, and then those made during that
  // check, compared before the window: the final check inside it covers
  // only the last short round's, whatever the database's size.
  for (int round = 0; round < 2; ++round) {
    PGPARITY_ASSIGN_OR_RETURN(wire::Lsn now, ReadCurrentWal(*source_));
    PGPARITY_ASSIGN_OR_RETURN(ChangeRound changes, verify_->CheckChangesThrough(now, Deadline()));
    r_.pre_check_change_rows += changes.rows_compared;
    PGPARITY_RETURN_IF_ERROR(Judge(changes));
  }
  return Status::OK();
}

Status Cutover::Fence() {
  PGPARITY_RETURN_IF_ERROR(admin_->Pause(o_.pgbouncer_database, o_.pause_timeout));
  paused_ = true;
  paused_at_ = steady_clock::now();
  raised_ = true;  // before Raise: a partly raised fence is lowered too
  PGPARITY_ASSIGN_OR_RETURN(FenceRecord record, fence_->Raise());
  fence_lsn_ = record.lsn;
  r_.fence_lsn = record.lsn.ToString();
  r_.terminated_sessions = record.terminated;
  return Status::OK();
}

Status Cutover::Drain() {
  const auto deadline = Deadline();
  for (;;) {
    PGPARITY_ASSIGN_OR_RETURN(auto flushed, ReadSlotFlush(*source_, sub_.slot_name));
    if (flushed && *flushed >= fence_lsn_) return Status::OK();
    if (steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded(
          "the subscription confirmed only " + (flushed ? flushed->ToString() : "nothing") +
          " of the fence " + fence_lsn_.ToString() + " within " +
          std::to_string(o_.timeout.count()) + " s: is its apply worker running?");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A change check's verdict: its divergent rows, or the changes it could not
// compare by key (which only --full-final-check may scan, in the window).
Status Cutover::Judge(const ChangeRound& round) {
  for (const auto& [table, row] : round.divergent) {
    if (r_.final_check_divergent.size() < 10) {
      r_.final_check_divergent.push_back(table + " " + KeyText(row.key) + ": " +
                                         std::string(RowDivergenceName(row.kind)));
    }
  }
  if (!round.divergent.empty()) {
    r_.divergent = true;
    return Status::FailedPrecondition(std::to_string(round.divergent.size()) +
                                      " rows changed since the full check differ on the target (" +
                                      r_.final_check_divergent.front() + ", ...)");
  }
  if (!round.left_to_full_check.empty() && !o_.full_final_check) {
    return Status::FailedPrecondition(
        "changes to " + absl::StrJoin(round.left_to_full_check, ", ") +
        " cannot be checked by key (no key, a TRUNCATE, or an unchanged TOAST value): pass "
        "--full-final-check to scan the tables inside the window");
  }
  return Status::OK();
}

Status Cutover::FinalCheck() {
  if (o_.full_final_check) return ExpectConsistent(*verify_, o_.timeout, r_);
  PGPARITY_ASSIGN_OR_RETURN(ChangeRound round,
                            verify_->CheckChangesThrough(fence_lsn_, Deadline()));
  r_.final_check_rows = round.rows_compared;
  return Judge(round);
}

Status Cutover::Sequences() {
  PGPARITY_ASSIGN_OR_RETURN(r_.sequences, CopySequences(*source_, *target_, o_.sequence_margin));
  PGPARITY_ASSIGN_OR_RETURN(std::vector<std::string> written, fence_->WritesSinceFence());
  if (written.empty()) return Status::OK();
  return Status::FailedPrecondition("writes slipped past the fence into " +
                                    absl::StrJoin(written, ", ") +
                                    " (a session turned default_transaction_read_only off?)");
}

// Where PgBouncer is to reach the target.
Result<std::tuple<std::string, int, std::string>> TargetEntry(const CutoverOptions& o) {
  const std::optional<std::string> host =
      o.pgbouncer_target_host ? o.pgbouncer_target_host : o.target.Get("host");
  const std::optional<std::string> port = o.target.Get("port");
  const std::optional<std::string> dbname = o.target.Get("dbname");
  if (!host || !dbname) {
    return Status::InvalidArgument(
        "the target DSN names no host or dbname for PgBouncer: give both in --target (or "
        "--pgbouncer-target-host)");
  }
  const int p =
      o.pgbouncer_target_port ? *o.pgbouncer_target_port : (port ? std::atoi(port->c_str()) : 5432);
  return std::tuple<std::string, int, std::string>{*host, p, *dbname};
}

Status Cutover::Switch() {
  PGPARITY_ASSIGN_OR_RETURN(auto entry, TargetEntry(o_));
  const auto& [host, port, dbname] = entry;
  rewritten_ = true;  // before: a partly written file is restored too
  PGPARITY_RETURN_IF_ERROR(file_->PointAt(host, port, dbname));
  PGPARITY_RETURN_IF_ERROR(admin_->Reload());
  PGPARITY_ASSIGN_OR_RETURN(PgBouncerDatabase db, admin_->ShowDatabase(o_.pgbouncer_database));
  if (db.port != port || db.database != dbname) {
    return Status::Internal("PgBouncer still points " + db.name + " at " + db.host + ":" +
                            std::to_string(db.port) + "/" + db.database + " after RELOAD");
  }
  if (target_read_only_) {
    unlocked_ = true;
    PGPARITY_RETURN_IF_ERROR(cutover_internal::ResetDatabaseReadOnly(*target_));
    r_.notes.push_back("the target database's default_transaction_read_only = " +
                       *target_read_only_ + " (an earlier cutover's fence) was reset");
  }
  PGPARITY_RETURN_IF_ERROR(admin_->Resume(o_.pgbouncer_database));
  paused_ = false;
  r_.window_seconds = std::chrono::duration<double>(steady_clock::now() - paused_at_).count();
  raised_ = false;  // the source stays read-only: the application writes to the target now
  return fence_->Keep();
}

cutover_internal::ReverseReplication ReverseOf(const CutoverOptions& o) {
  cutover_internal::ReverseReplication reverse;
  reverse.name = o.reverse_name;
  reverse.target = o.reverse_conninfo ? *o.reverse_conninfo : o.target;
  reverse.target.Erase("application_name");  // the subscription's name is the walsender's
  return reverse;
}

Status Cutover::Reverse() {
  reversed_ = true;  // before: a partly made way back is undone too
  PGPARITY_RETURN_IF_ERROR(cutover_internal::StartReverse(*source_, *target_, sub_, ReverseOf(o_)));
  r_.notes.push_back("replication back: publication " + o_.reverse_name +
                     " on the target, subscription " + o_.reverse_name +
                     " on the source (copy_data = false); subscription " + sub_.name +
                     " disabled on the target");
  return Status::OK();
}

// What a run without --dry-run would do next, from what the gates found.
std::vector<std::string> Cutover::Plan() const {
  std::vector<std::string> plan;
  const std::string db = o_.pgbouncer_database;
  plan.push_back("fence: PAUSE " + db + " on PgBouncer (at most " +
                 std::to_string(o_.pause_timeout.count()) + " s), then database " +
                 fence_->database() +
                 " on the source read-only for every role and its client "
                 "sessions terminated");
  plan.push_back("drain: until subscription " + sub_.name + " (slot " + sub_.slot_name +
                 ") confirms the fence");
  plan.push_back(o_.full_final_check
                     ? std::string("final check: a full scan of every published table")
                     : std::string("final check: by key, the rows changed since the pre-check"));
  plan.push_back("sequences: every used source sequence set on the target (margin " +
                 std::to_string(o_.sequence_margin) + "), and no write past the fence");
  if (o_.reverse) {
    plan.push_back("reverse: publication " + o_.reverse_name + " on the target, subscription " +
                   o_.reverse_name + " on the source (copy_data = false), " + sub_.name +
                   " disabled");
  }
  auto entry = TargetEntry(o_);
  plan.push_back("switch: " + db + " in " +
                 (o_.pgbouncer_config.empty() ? "(no --pgbouncer-config)" : o_.pgbouncer_config) +
                 " pointed at " +
                 (entry.ok() ? std::get<0>(*entry) + ":" + std::to_string(std::get<1>(*entry)) +
                                   "/" + std::get<2>(*entry)
                             : std::string(entry.status().message())) +
                 ", RELOAD, RESUME; the source stays read-only");
  return plan;
}

// Undoes what the phases did, in the order that lets clients write at once:
// the source writable, PgBouncer's entry back, then RESUME.
void Cutover::Abort() {
  auto note = [&](const Status& s, const std::string& what) {
    if (s.ok()) {
      r_.restored.push_back(what);
    } else {
      r_.restored.push_back("FAILED: " + what + ": " + std::string(s.message()));
      spdlog::error("cutover abort: {}: {}", what, s.ToString());
    }
  };
  if (reversed_) {
    note(cutover_internal::UndoReverse(*source_, *target_, sub_, ReverseOf(o_)),
         "replication back undone, subscription " + sub_.name + " enabled");
  }
  if (unlocked_) {
    note(cutover_internal::SetDatabaseReadOnly(*target_, *target_read_only_),
         "the target database read-only again");
  }
  if (raised_) note(fence_->Lower(), "the source accepts writes again");
  if (rewritten_) {
    note(file_->Restore(), "PgBouncer's " + o_.pgbouncer_config + " restored");
    note(admin_->Reload(), "PgBouncer reloaded");
  }
  if (paused_) {
    note(admin_->Resume(o_.pgbouncer_database), "PgBouncer resumed on the source");
    r_.window_seconds = std::chrono::duration<double>(steady_clock::now() - paused_at_).count();
  }
  if (!reversed_) r_.restored.push_back("the subscription was not touched");
}

// After the switch the canary writes to the target; after an abort to the
// source: every acknowledged write must be there.
void Cutover::StopCanary() {
  if (!canary_) return;
  if (r_.status == "switched") std::this_thread::sleep_for(std::chrono::milliseconds(500));
  r_.canary = canary_->Stop();
  const conn::ConnParams& where = r_.status == "switched" ? o_.target : o_.source;
  auto check = Canary::Check(*r_.canary, where, o_.timeout);
  if (check.ok()) {
    r_.canary_check = *check;
  } else {
    spdlog::error("cutover: checking the canary's writes failed: {}", check.status().ToString());
  }
}

}  // namespace

Result<CutoverReport> RunCutover(const CutoverOptions& options) {
  if (options.max_lag < 0) return Status::InvalidArgument("--max-lag must be 0 or more");
  if (options.sequence_margin < 0) {
    return Status::InvalidArgument("--sequence-margin must be 0 or more");
  }
  return Cutover(options).Run();
}

Status CutoverStatus(const CutoverReport& report) {
  if (report.status != "aborted") return Status::OK();
  return report.failure.WithMessage(report.failed_phase + ": " + report.reason);
}

}  // namespace pgparity::applier
