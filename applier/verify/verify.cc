#include "pgparity/applier/verify/verify.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <ctime>
#include <set>
#include <thread>

#include "pgparity/applier/session/check_session.h"
#include "pgparity/applier/session/session_setup.h"
#include "pgparity/applier/verify/target_checker.h"

namespace pgparity::applier {

using std::chrono::steady_clock;

// The row store's temporary directory, removed after the session that
// wrote it (members go in reverse order).
struct StoreDir {
  std::filesystem::path path;
  ~StoreDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

struct VerifySession::Impl {
  VerifyOptions options;
  steady_clock::time_point started;
  StoreDir store_dir;
  std::unique_ptr<CheckSession> session;
  std::unique_ptr<TargetChecker> checker;  // on the session's shadow: goes first
  // Commits ending before it were compared by the last consistent Check().
  std::optional<wire::Lsn> checked_before;
  // The change checks since then (CheckChangesThrough): where they are, and
  // the tables they could not compare by key.
  std::unique_ptr<ChangeChecker> changes;
  std::set<std::string> left_to_full_check;
};

namespace {

CheckSessionOptions SessionOptions(const VerifyOptions& options,
                                   const std::filesystem::path& store_dir) {
  return {.source = options.source,
          .target = options.target,
          .publication = options.publication,
          .subscription = options.subscription,
          .parallel = options.parallel,
          .metrics_listen = options.metrics_listen,
          .min_range_rows = options.min_range_rows,
          .memory = options.memory,
          .store_dir = store_dir,
          .resume_slot = ""};  // a temporary slot: created, never resumed
}

// "<TMPDIR>/pgparity-verify-store-<pid>-<time>": created only if a table
// spills.
std::filesystem::path TemporaryStoreDir(const VerifyOptions& options) {
  std::error_code ec;
  std::filesystem::path parent = options.store_parent;
  if (parent.empty()) parent = std::filesystem::temp_directory_path(ec);
  if (parent.empty()) parent = "/tmp";
  return parent / ("pgparity-verify-store-" + std::to_string(::getpid()) + "-" +
                   std::to_string(std::time(nullptr)));
}

// A temporary slot of verify's own, gone with the replication connection.
StreamOptions TemporarySlot() {
  StreamOptions stream;
  stream.slot =
      "pgparity_verify_" + std::to_string(::getpid()) + "_" + std::to_string(std::time(nullptr));
  stream.create_slot = true;
  stream.temporary_slot = true;
  stream.reconnect_on_loss = false;  // a temporary slot does not survive it
  stream.checkpoint_interval = std::chrono::milliseconds(100);
  return stream;
}

// Whether a check that ended in `report` is worth repeating: it did not
// reach a verdict, or a table is unverified for a reason a re-check can
// change (not unseen TOAST values or an inconsistent shadow).
bool WorthRechecking(const VerifyReport& report, bool done) {
  if (!done) return true;
  for (const auto& t : report.tables) {
    if (t.status == TableStatus::kUnverified && t.reason.find("re-check") != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

VerifySession::VerifySession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VerifySession::~VerifySession() = default;

Result<std::unique_ptr<VerifySession>> VerifySession::Start(const VerifyOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->started = steady_clock::now();
  if (options.memory.limited()) impl->store_dir.path = TemporaryStoreDir(options);
  PGPARITY_ASSIGN_OR_RETURN(impl->session,
                            CheckSession::Open(SessionOptions(options, impl->store_dir.path)));
  CheckSession& session = *impl->session;
  PGPARITY_RETURN_IF_ERROR(session.Start(TemporarySlot()));
  // The bootstrap runs on the stream's thread, inside the slot's creation.
  if (!session.WaitForBasePoint(std::stop_token())) {
    Status ended = session.Close();
    return ended.ok() ? Status::Internal("the replication stream ended at once") : ended;
  }
  CheckOptions check_options;
  check_options.parallel = options.parallel;
  check_options.min_range_rows = options.min_range_rows;
  check_options.max_listed_rows = options.max_listed_rows;
  check_options.row_comparison_rows =
      static_cast<double>(options.memory.row_comparison() / kComparedRowBytes);
  check_options.values = options.values;
  check_options.publication = options.publication;
  impl->checker = std::make_unique<TargetChecker>(
      session.shadow(), session.position(), session.source_params().WithPinnedFormats(),
      session.target_params().WithPinnedFormats(), session.subscription(), check_options);
  return std::unique_ptr<VerifySession>(new VerifySession(std::move(impl)));
}

VerifySession::Counters VerifySession::counters() const {
  ShadowState& shadow = impl_->session->shadow();
  auto lk = shadow.Lock();
  Counters c;
  c.transactions = shadow.transactions();
  c.changes = shadow.changes();
  for (size_t i = 0; i < shadow.table_count(); ++i) {
    c.unresolved_rows += shadow.table(i).unresolved_rows();
    c.anomalies += shadow.table(i).anomalies();
  }
  return c;
}

Result<VerifyReport> VerifySession::Check(std::chrono::seconds timeout) {
  Impl& m = *impl_;
  CheckSession& session = *m.session;
  const auto deadline = steady_clock::now() + timeout;
  VerifyReport report = session.NewReport();
  std::string why;
  int checks = 0;
  for (;;) {
    report.notes.clear();
    auto outcome = m.checker->FullCheck(report, why, deadline);
    if (!outcome.ok()) {
      if (session.stream_ended() && !session.stream_status().ok()) return session.stream_status();
      return outcome.status();
    }
    ++checks;
    const bool done = *outcome == TargetChecker::Outcome::kDone;
    if (!WorthRechecking(report, done)) break;
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
  if (report.status == ReportStatus::kConsistent) {
    if (auto lsn = wire::Lsn::Parse(report.source_lsn); lsn.ok()) {
      m.checked_before = wire::Lsn(lsn->value() + 1);
      m.changes.reset();
      m.left_to_full_check.clear();
    }
  }
  report.checked_at = UtcNow();
  report.seconds = std::chrono::duration<double>(steady_clock::now() - m.started).count();
  if (checks > 1) report.notes.push_back(std::to_string(checks) + " full checks were needed");
  session.RecordReport(report);
  return report;
}

namespace {

void Merge(ChangeRound& all, ChangeRound&& round) {
  all.to = std::max(all.to, round.to);
  all.rows_compared += round.rows_compared;
  all.rows_in_flight = round.rows_in_flight;  // the last round's: what is still moving
  for (auto& d : round.divergent) all.divergent.push_back(std::move(d));
  all.left_to_full_check.merge(round.left_to_full_check);
}

}  // namespace

Result<ChangeRound> VerifySession::CheckChangesThrough(wire::Lsn lsn,
                                                       steady_clock::time_point deadline) {
  Impl& m = *impl_;
  if (!m.checked_before) {
    return Status::FailedPrecondition("no consistent full check to start the change check from");
  }
  CheckSession& session = *m.session;
  if (!m.changes) {
    m.changes = std::make_unique<ChangeChecker>(
        session.shadow(), session.source_params().WithPinnedFormats(),
        session.target_params().WithPinnedFormats(), session.subscription());
    m.changes->set_cursor(*m.checked_before);
  }
  ChangeChecker& checker = *m.changes;
  ChangeRound all;
  all.from = all.to = checker.cursor();
  const wire::Lsn past(lsn.value() + 1);
  while (checker.cursor() < past) {
    if (session.stream_ended()) {
      Status s = session.stream_status();
      return s.ok() ? Status::Unavailable("pgparity's stream ended before " + lsn.ToString()) : s;
    }
    if (steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded(
          "the rows changed up to " + lsn.ToString() + " were compared only up to " +
          checker.cursor().ToString() + " (stream at " +
          wire::Lsn(session.position().received.load()).ToString() +
          "): the target or pgparity's stream did not get there in time");
    }
    checker.set_decoded_before(session.position().DecodedBefore());
    PGPARITY_ASSIGN_OR_RETURN(ChangeRound round, checker.RunOnce());
    const bool moved = round.to > round.from;
    Merge(all, std::move(round));
    if (!moved) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  m.left_to_full_check.insert(all.left_to_full_check.begin(), all.left_to_full_check.end());
  all.left_to_full_check = m.left_to_full_check;
  return all;
}

Result<VerifyReport> RunVerify(const VerifyOptions& options) {
  PGPARITY_ASSIGN_OR_RETURN(std::unique_ptr<VerifySession> session, VerifySession::Start(options));
  return session->Check(options.timeout);
}

}  // namespace pgparity::applier
