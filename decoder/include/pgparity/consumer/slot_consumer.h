// SlotConsumer: pgparity's own replication slot on the source, consumed end
// to end — connect, check or create the slot, stream pgoutput, decode, hand
// committed transactions to a ChangeSink, confirm only what the sink made
// durable, reconnect with backoff when the source goes away.
//
//   SlotConsumer consumer(options, sink, hooks);
//   Status s = consumer.Run();   // until --until-lsn, RequestStop(), or an error
//
// LSN safety (shared/notes/pgoutput.md, traps 1-4): the slot is confirmed
// only up to the end of a commit the sink has made durable (hooks.durable);
// a keepalive's wal end only while nothing is open or buffered. After a
// reconnect streaming restarts at the slot's confirmed position and the
// decoder skips every transaction already delivered (resume at the last
// delivered commit end), so the sink sees each transaction exactly once.
// A transaction cut by the lost connection is abandoned first
// (hooks.abandon) and arrives again whole.
//
// Thread-safety: Run() on one thread; RequestStop() from any thread or a
// signal handler's Asio completion.
#ifndef PGPARITY_CONSUMER_SLOT_CONSUMER_H_
#define PGPARITY_CONSUMER_SLOT_CONSUMER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pgparity/conn/reconnect_policy.h"
#include "pgparity/conn/replication_command.h"
#include "pgparity/conn/replication_connection.h"
#include "pgparity/core/change_sink.h"
#include "pgparity/core/stream_decoder.h"
#include "pgparity/wire/copy_data.h"

namespace boost::asio {
class io_context;
}

namespace pgparity::consumer {

struct SlotConsumerOptions {
  // The source database, parsed once at the command line's edge
  // (conn::ParseServerDsn): its connect_timeout and application_name hold
  // for every reconnection too.
  conn::ConnParams source;
  std::string slot;
  std::vector<std::string> publications;
  bool create_slot = true;      // create the slot when it does not exist
  bool temporary_slot = false;  // ... as a temporary slot (gone on disconnect)
  // What a slot created on the first connection does with its snapshot;
  // kExport hands it to hooks.on_slot_created.
  conn::SnapshotAction snapshot = conn::SnapshotAction::kNothing;
  // Stop once everything up to this LSN was received: a commit ending at or
  // past it, or a keepalive at or past it while idle (pg_recvlogical --endpos).
  std::optional<wire::Lsn> until_lsn;
  // Never deliver transactions ending at or before this (a sink's own
  // durable position, e.g. a resumed recording).
  wire::Lsn resume_lsn;
  int proto_version = 0;  // 0: the newest the server supports (2 on PG14+)
  bool streaming = true;
  bool messages = true;
  size_t max_buffered_bytes = core::kDefaultMaxBufferedBytes;
  std::string spill_dir;
  // DecoderOptions::deliver_streamed_changes_early (change_sink.h).
  bool deliver_streamed_changes_early = false;
  conn::ReconnectOptions reconnect;
  bool reconnect_on_loss = true;  // false: a lost connection ends Run with the error
  // How often the sink is asked to make its delivered commits durable.
  std::chrono::milliseconds checkpoint_interval{1000};
  // The periodic one-line status (0 = none).
  std::chrono::milliseconds status_interval{10000};
  // Frames kept while the sink is not ready (ConsumerHooks::sink_ready):
  // past this many bytes the consumer stops reading until it is.
  size_t max_held_bytes = size_t{64} << 20;
};

// What the consumer learned when it connected (for a recording's header).
struct SessionInfo {
  conn::SystemIdentity identity;
  int server_version = 0;
  int proto_version = 0;
  wire::Lsn start_lsn;  // the slot's confirmed position streaming started at
  bool slot_created = false;
};

// A consumer's first connection opened ahead, and the stream already
// started on it when it could be.
struct FirstConnection {
  std::unique_ptr<conn::ReplicationConnection> conn;
  // START_REPLICATION was sent: for this slot, at its confirmed position
  // `start`, on the server IDENTIFY_SYSTEM named.
  struct Started {
    std::string slot;
    wire::Lsn start;
    conn::SystemIdentity identity;
  };
  std::optional<Started> started;
};

// What on_slot_created made of the slot's exported snapshot.
struct SnapshotTaken {
  // Not "": the snapshot could not be used as it was (a table rewritten
  // after it before it was read), and why. The consumer drops the slot and
  // creates it again — a new consistent point, a new snapshot — at most
  // kSlotAttempts times in all, then fails with this reason
  // (DeadlineExceeded: nothing was decided).
  std::string retry_because;
  static constexpr int kSlotAttempts = 3;
};

struct ConsumerHooks {
  // Before the first stream starts (once). May raise `resume` to a sink's
  // own durable position: transactions ending at or before it are skipped.
  // Non-OK aborts Run.
  std::function<Status(const SessionInfo&, wire::Lsn& resume)> on_session;
  // Right after the first connection created the slot, before streaming
  // starts: the exported snapshot (options.snapshot = kExport) is valid
  // only during this call. Non-OK aborts Run and drops the slot it just
  // created; SnapshotTaken may ask for a new slot.
  std::function<Result<SnapshotTaken>(const conn::CreatedSlot&)> on_slot_created;
  // Every checkpoint interval while streaming, before durable_position is
  // asked: the highest wal end received (frames and keepalives), and
  // whether no transaction is open or buffered.
  std::function<void(wire::Lsn received, bool idle)> on_progress;
  // Every XLogData frame before decoding (record --raw).
  std::function<Status(const wire::XLogData&)> on_frame;
  // Make everything delivered up to `commit_end` durable; the slot then
  // confirms it. Unset: nothing to persist, confirm at once.
  std::function<Status(wire::Lsn commit_end)> durable;
  // Instead of `durable`, for sinks that persist on their own schedule:
  // given the last delivered commit end, returns the end of the last commit
  // the sink has made durable (<= it); only that is confirmed. Non-OK stops.
  std::function<Result<wire::Lsn>(wire::Lsn processed)> durable_position;
  // The connection broke inside a transaction: drop its partial delivery.
  std::function<Status()> abandon;
  // As frames arrive, and every 2 ms while some are held: whether the sink
  // can take transactions yet (true once is for good). Until it can — a
  // sink loading its state while the stream starts — the frames received
  // are kept in memory in their order (up to options.max_held_bytes; then
  // the consumer waits for it, reading nothing) and fed to the decoder
  // before anything newer; nothing is confirmed past them meanwhile, and a
  // stop drops them (the slot sends them again). An error stops the
  // stream with it. Unset: always ready.
  std::function<Result<bool>()> sink_ready;
  // The first connection, when the caller opened it ahead (OpenFirstConnection
  // on a thread of its own while it read its catalogs, say): called once,
  // instead of connecting. Reconnections connect anew. Unset: connect.
  std::function<Result<FirstConnection>()> first_connection;
};

// The connection a SlotConsumer streams on: the replication connection and
// the SQL session its slot and publication checks use (two connections,
// two authentications, opened at once: each about 40 ms here with SCRAM).
Result<std::unique_ptr<conn::ReplicationConnection>> ConnectConsumer(
    const conn::ConnParams& source);

// ConnectConsumer; then, when `options` resume a slot (create_slot false)
// that exists and is not active, and its publications exist, the stream
// started as the consumer starts it (the same checks, the same
// START_REPLICATION): the walsender decodes while the caller reads its
// catalogs. A consumer made with these options takes it as it is
// (hooks.first_connection); one for another slot connects anew. When the
// slot is missing or active, or a check fails, the connection is returned
// unstarted: the consumer checks again and reports what it finds. Until a
// consumer reads the stream the walsender fills the socket's buffers, then
// waits; past wal_sender_timeout (60 s by default) without a reply it ends
// the connection, and the consumer reconnects as after any lost connection.
// Errors: ConnectConsumer's.
Result<FirstConnection> OpenFirstConnection(const SlotConsumerOptions& options);

struct ConsumerProgress {
  wire::Lsn received;   // highest wal end seen
  wire::Lsn processed;  // last delivered commit end
  wire::Lsn durable;    // last confirmed commit end
  uint64_t transactions = 0;
  uint64_t changes = 0;
  uint64_t reconnects = 0;
  uint64_t frames_held = 0;  // kept while the sink was not ready (hooks.sink_ready)
};

class SlotConsumer {
 public:
  SlotConsumer(SlotConsumerOptions options, core::ChangeSink& sink, ConsumerHooks hooks = {});
  ~SlotConsumer();
  SlotConsumer(const SlotConsumer&) = delete;
  SlotConsumer& operator=(const SlotConsumer&) = delete;

  // Runs until until_lsn is reached (OK), RequestStop() (OK) or an error
  // that retrying cannot fix. Confirms the last durable commit before it
  // returns. Errors name the slot, the server and the LSN.
  Status Run();
  void RequestStop();

  ConsumerProgress progress() const;
  const core::DecoderStats& decoder_stats() const { return stats_; }

 private:
  struct Session;

  Status Connect(bool first);
  Status CreateSlot(bool first);
  Status DropCreatedSlot(Status failure);
  Result<bool> TakeFirstConnection();
  Status Stream(boost::asio::io_context& io, bool& stream_started);
  Result<wire::Lsn> StartReplication();
  core::DecoderOptions DecoderOptionsForSession() const;
  Status OnFrame(Session& s, const wire::XLogData& frame);
  Status Feed(Session& s, const wire::XLogData& frame);
  Result<bool> SinkReady();
  Status Hold(Session& s, const wire::XLogData& frame);
  Status FeedHeld(Session& s);
  void ArmHold(Session& s);
  bool Idle(const Session& s) const;
  bool ReachedUntil(Session& s) const;
  void Finish(Session& s, Status why);
  void ArmCheckpoint(Session& s);
  void ArmStatus(Session& s);
  void RunLoop(Session& s);
  void AddSessionStats(const core::DecoderStats& d);
  Status Checkpoint(Session& s);
  void LogStatus(Session& s);

  SlotConsumerOptions options_;
  core::ChangeSink& sink_;
  ConsumerHooks hooks_;
  std::unique_ptr<conn::ReplicationConnection> conn_;
  SessionInfo info_;
  bool info_reported_ = false;
  // The first connection's stream, started ahead (FirstConnection::started).
  std::optional<wire::Lsn> started_ahead_;
  wire::Lsn processed_;  // last delivered commit end (across sessions)
  wire::Lsn durable_;
  wire::Lsn received_;
  core::DecoderStats stats_;  // summed over sessions
  uint64_t reconnects_ = 0;
  bool sink_ready_ = false;  // hooks_.sink_ready said so
  uint64_t frames_held_ = 0;
  bool streamed_frames_ = false;  // the last session received data
  std::atomic<bool> stop_requested_{false};
  std::atomic<boost::asio::io_context*> io_{nullptr};
};

}  // namespace pgparity::consumer

#endif  // PGPARITY_CONSUMER_SLOT_CONSUMER_H_
