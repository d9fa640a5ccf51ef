// CheckSession: what verify and audit both run on. It opens both sides and
// reads their catalogs (OpenSides), holds the shadow state, serves the
// metrics while it runs, streams pgparity's own slot into the shadow on a
// thread of its own — the bootstrap scan inside the slot's creation — and
// keeps the last verdict for /status. verify and audit keep what differs:
// the slot (temporary or persistent), checkpoints, and when to check.
//
//   auto session = CheckSession::Open(options);  // connects, reads catalogs
//   ...                                           // audit: a checkpoint into shadow()
//   session->Start(stream);                       // metrics, then the slot
//   if (session->WaitForBasePoint(stop)) { ... }  // bootstrap or checkpoint done
//   ... TargetChecker / ChangeChecker on shadow() and position()
//   session->Close();                             // or the destructor
//
// Ownership: the session owns both SQL sessions of OpenSides, the shadow
// state, the consumer and its thread, the metrics server and collector.
// The hooks in StreamOptions run on the consumer's thread and the durable
// getter on the metrics server's: what they refer to must outlive Close().
//
// Thread-safety: Open, Start, WaitForBasePoint, WaitUntil and Close on the
// owner's thread; RecordReport, RecordChangeRound, the stream_* readers and
// the CheckState readers on any thread.
#ifndef PGPARITY_APPLIER_SESSION_CHECK_SESSION_H_
#define PGPARITY_APPLIER_SESSION_CHECK_SESSION_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "pgparity/applier/catalog/catalog.h"
#include "pgparity/applier/metrics/check_state.h"
#include "pgparity/applier/report/verify_report.h"
#include "pgparity/applier/session/session_setup.h"
#include "pgparity/applier/session/stream_position.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/conn/replication_connection.h"
#include "pgparity/consumer/slot_consumer.h"
#include "pgparity/result.h"

namespace pgparity::applier {

class MetricsCollector;
class MetricsServer;

struct CheckSessionOptions {
  // Both servers, parsed at the command line's edge (conn::ParseServerDsn).
  conn::ConnParams source;
  conn::ConnParams target;
  std::string publication;
  std::optional<std::string> subscription;  // nullopt: the one subscribing to the publication
  size_t parallel = 2;                      // sessions scanning the source in the bootstrap
  // "HOST:PORT": serve /metrics and /status there while running; "" = none.
  std::string metrics_listen;
  // The bootstrap cuts a table into key ranges no smaller than this
  // (key_ranges.h); tests lower it.
  double min_range_rows = kMinRangeRows;
  // --memory-limit (memory_limit.h) and where the row store goes when a
  // table spills (verify: a temporary directory; audit: the state
  // directory's "store").
  MemoryBudget memory;
  std::filesystem::path store_dir;
  // The slot Start will resume (StreamOptions::slot with create_slot
  // false), when known before Open: its stream starts while both sides'
  // catalogs are read (consumer::OpenFirstConnection), and the walsender
  // decodes meanwhile. "" (verify; audit's first run): only connected.
  std::string resume_slot;
};

// How pgparity's own slot is streamed: what differs between verify
// (a temporary slot) and audit (a persistent slot with checkpoints).
struct StreamOptions {
  std::string slot;
  bool create_slot = true;  // the slot is created (exported snapshot, bootstrap)
  bool temporary_slot = false;
  bool reconnect_on_loss = true;
  wire::Lsn resume_lsn;  // never deliver commits ending at or before it
  // How often progress is published and durable_position asked.
  std::chrono::milliseconds checkpoint_interval{1000};
  // Consumer's thread, after the bootstrap and before the slot streams
  // (audit: the first checkpoint). Non-OK ends the stream with it.
  std::function<Status(const conn::CreatedSlot&)> after_bootstrap;
  // Consumer's thread: the end of the last commit made durable, which the
  // slot may confirm (ConsumerHooks::durable_position); `stopping` once
  // Close() began. Unset: confirm what was delivered.
  std::function<Result<wire::Lsn>(bool stopping)> durable_position;
  // Metrics server's thread: what the slot is confirmed up to, for
  // /metrics. Unset: the last commit applied to the shadow.
  std::function<wire::Lsn()> durable;
  // Set (with create_slot false): fills the shadow (audit: from its
  // checkpoint, whose position is resume_lsn) on a thread of its own while
  // the consumer connects and streams. The consumer keeps the frames it
  // receives meanwhile (up to MemoryBudget::read_ahead(), which the
  // per-change checks use only after it) and applies them once this returns OK
  // (consumer::ConsumerHooks::sink_ready); an error ends the stream with
  // it, before anything is applied or confirmed. The metrics leave the
  // shadow alone until then. WaitForLoad() returns its Status.
  std::function<Status(ShadowState&)> load;
};

class CheckSession final : public CheckState {
 public:
  // Connects to both sides, reads the publication's tables, finds the
  // subscription and plans the comparison (OpenSides, whose errors it
  // returns); the shadow state is created empty.
  static Result<std::unique_ptr<CheckSession>> Open(const CheckSessionOptions& options);
  ~CheckSession() override;  // Close()
  CheckSession(const CheckSession&) = delete;
  CheckSession& operator=(const CheckSession&) = delete;

  // Serves the metrics when asked to — first, so that an address that
  // cannot be listened on fails (MetricsServer::Start's errors) before any
  // slot exists — then starts the consumer on a thread of its own. Once.
  Status Start(StreamOptions stream);

  // StreamOptions::load's Status, once it returned (OK at once without
  // one). Owner's thread.
  Status WaitForLoad();

  // Blocks until the shadow has its base point (true), or the stream ended
  // or `stop` was requested first (false). Woken by the bootstrap, the end
  // of the stream and `stop`; it does not poll.
  bool WaitForBasePoint(std::stop_token stop);
  // Sleeps until `until`, or less when the stream ends or `stop` is
  // requested.
  void WaitUntil(std::chrono::steady_clock::time_point until, std::stop_token stop);

  bool stream_ended() const { return position_.ended; }
  // The consumer's final status once stream_ended(); OK before.
  Status stream_status() const;

  // Asks the consumer to stop (after its last durable position:
  // durable_position sees `stopping`), joins its thread and stops serving
  // the metrics. Returns the consumer's status. Idempotent.
  Status Close();

  ShadowState& shadow() { return *shadow_; }
  const StreamPosition& position() const { return position_; }
  const conn::ConnParams& source_params() const { return sides_.source_params; }
  const conn::ConnParams& target_params() const { return sides_.target_params; }
  const SubscriptionInfo& subscription() const { return sides_.sub; }
  // The source session OpenSides opened (owner's thread only).
  conn::PgSession& source() { return *sides_.source; }
  // A report naming both servers and the publication, for a check to fill.
  VerifyReport NewReport() const;

  // A full check's verdict: /status serves it, the metrics count it.
  void RecordReport(const VerifyReport& report);
  // One per-change round's figures, for the metrics.
  void RecordChangeRound(uint64_t rows_compared, uint64_t divergent_rows);
  // A full check attempt's outcome: an error is what /readyz answers with
  // until an attempt ends without one (a verdict or "not yet").
  void RecordCheckAttempt(const Status& status);

  // CheckState (the metrics server's thread).
  StreamFigures ReadStream() const override;
  CheckFigures ReadChecks() const override;
  Liveness ReadLiveness() const override;

 private:
  using EarlyConnection = std::future<Result<consumer::FirstConnection>>;
  CheckSession(CheckSessionOptions options, Sides sides, EarlyConnection replication);
  Status StartMetrics();
  void StartConsumer();
  Result<consumer::SnapshotTaken> Bootstrap(const conn::CreatedSlot& slot);
  void StartLoad();
  Result<bool> ShadowReady() const;
  void Wake();

  const CheckSessionOptions options_;
  Sides sides_;
  std::unique_ptr<ShadowState> shadow_;
  StreamPosition position_;
  StreamOptions stream_;
  std::atomic<bool> stopping_{false};
  // Set once the shadow has its base point: probes read it without the
  // shadow's lock, which a full check holds for long stretches.
  std::atomic<bool> base_point_{false};
  // StreamOptions::load's progress; its Status in load_status_.
  enum class Load { kNone, kLoading, kLoaded, kFailed };
  std::atomic<Load> load_{Load::kNone};
  std::thread load_thread_;

  mutable std::mutex mu_;  // guards the members below; cv_ waits on it
  std::condition_variable_any cv_;
  Status stream_status_;
  Status load_status_;
  CheckFigures checks_;
  std::string check_error_;

  // The stream's first connection, opened (and its stream started, with
  // resume_slot) while OpenSides ran.
  EarlyConnection replication_;
  std::unique_ptr<consumer::SlotConsumer> consumer_;
  std::thread stream_thread_;
  std::unique_ptr<MetricsCollector> metrics_;
  std::unique_ptr<MetricsServer> metrics_server_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SESSION_CHECK_SESSION_H_
