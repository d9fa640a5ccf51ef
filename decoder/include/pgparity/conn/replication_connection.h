// ReplicationConnection: pgparity's own walsender connection to the source
// (replication=database): IDENTIFY_SYSTEM, slot management, and the
// START_REPLICATION COPY BOTH stream read without blocking through
// Boost.Asio.
//
// Lifecycle:
//   auto conn = ReplicationConnection::Connect(params);    // blocking
//   conn->IdentifySystem(); conn->CreateLogicalSlot(...);   // blocking commands
//   conn->StartReplication(slot, start, options);           // enters COPY BOTH
//   conn->StartStreaming(io.get_executor(), on_frame, on_done);
//   io.run();  // frames flow to on_frame until on_done
//
// Setup commands block (PQexec; CREATE_REPLICATION_SLOT can wait for running
// transactions on the source: Cancel() from another thread interrupts it).
// Streaming is event-driven: no thread blocks on the socket. While frames
// flow, a wake-up that brought data is followed by a read 3 ms later instead
// of another wait, the executor's thread sleeping meanwhile (read
// coalescing: fewer wake-ups for pgparity and for the walsender, whose TCP
// window closes meanwhile on a nearby source: receive_window.h); an idle
// stream is not polled.
//
// Thread-safety: not thread-safe. After StartStreaming every call (including
// destruction) must happen on the executor's thread. Cancel() alone may be
// called from any thread.
//
// Lifetime: the executor's io_context must outlive the connection while it
// streams (declare the io_context first), as for any Asio I/O object; after
// the stream ended (on_done ran, or Stop()) the connection no longer touches
// it.
#ifndef PGPARITY_CONN_REPLICATION_CONNECTION_H_
#define PGPARITY_CONN_REPLICATION_CONNECTION_H_

#include <libpq-fe.h>

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/conn/replication_command.h"
#include "pgparity/result.h"
#include "pgparity/status.h"
#include "pgparity/wire/copy_data.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::conn {

// The reply to IDENTIFY_SYSTEM.
struct SystemIdentity {
  std::string system_id;  // decimal, as the server prints it (a uint64)
  uint32_t timeline = 0;
  wire::Lsn xlogpos;  // the server's current WAL flush position; never a resume point
  std::string dbname;
};

// The reply to CREATE_REPLICATION_SLOT.
struct CreatedSlot {
  std::string slot_name;
  // The first LSN the slot will stream: changes committed after it are sent,
  // the exported snapshot shows everything before it.
  wire::Lsn consistent_point;
  // Only with SnapshotAction::kExport; valid until the next command on the
  // connection that created it (import it with SET TRANSACTION SNAPSHOT).
  std::optional<std::string> snapshot_name;
  std::string output_plugin;
};

// A row of pg_replication_slots.
struct SlotState {
  std::string slot_name;
  std::string plugin;     // "" for a physical slot
  std::string slot_type;  // "logical" | "physical"
  std::string database;   // "" for a physical slot
  bool temporary = false;
  bool active = false;
  std::optional<int> active_pid;
  wire::Lsn restart_lsn;          // 0/0 when NULL (invalidated)
  wire::Lsn confirmed_flush_lsn;  // the resume point
  // "reserved", "extended", "unreserved", "lost" (PG13+); "" before.
  std::string wal_status;
};

// Whether `state` can be streamed by pgparity from database `dbname` over a
// connection whose backend PID is `my_pid` (0: none yet). One-line errors
// naming the slot, `endpoint` and the fix:
//   FailedPrecondition - physical, not pgoutput, another database, active for
//                        another PID, or invalidated (wal_status = lost).
Status ValidateSlot(const SlotState& state, std::string_view dbname, int my_pid,
                    std::string_view endpoint);

class ReplicationConnection {
 public:
  // Called for each CopyData frame of the stream, in order. The span views
  // libpq's buffer and is valid only during the call. A non-OK return stops
  // the stream; on_done then receives that Status.
  using FrameHandler = std::function<Status(std::span<const std::byte> frame)>;
  // Called once when the stream ends: the handler's error, the server's
  // error, the connection's loss, or Stop()'s reason. Never called after the
  // connection is destroyed.
  using DoneHandler = std::function<void(Status)>;

  // Connects with `params` (conn::ParseServerDsn's, normally) plus
  // replication=database, the pinned text formats (options,
  // client_encoding=UTF8), and application_name=pgparity unless `params`
  // names one; then reads the server version and SHOW wal_sender_timeout.
  // Errors: see ConnectError.
  static Result<std::unique_ptr<ReplicationConnection>> Connect(const ConnParams& params);

  ~ReplicationConnection();
  ReplicationConnection(const ReplicationConnection&) = delete;
  ReplicationConnection& operator=(const ReplicationConnection&) = delete;

  // PQserverVersion: 140011 for 14.11.
  int server_version() const { return server_version_; }
  int server_major() const { return server_version_ / 10000; }
  // The walsender's wal_sender_timeout (0 = disabled).
  std::chrono::milliseconds wal_sender_timeout() const { return wal_sender_timeout_; }
  // "host:port/dbname" for messages.
  const std::string& endpoint() const { return endpoint_; }
  // The database this connection is bound to (PQdb).
  std::string dbname() const { return PQdb(conn_.get()); }
  // The walsender's PID.
  int backend_pid() const { return PQbackendPID(conn_.get()); }
  PGconn* raw() const { return conn_.get(); }

  Result<SystemIdentity> IdentifySystem();

  // Creates a logical pgoutput slot with the syntax the server accepts (see
  // replication_command.h). AlreadyExists when the name is taken;
  // FailedPrecondition when max_replication_slots are all used or
  // wal_level is not logical.
  Result<CreatedSlot> CreateLogicalSlot(std::string_view slot_name, bool temporary,
                                        SnapshotAction snapshot);

  // The slot's row in pg_replication_slots, read through a plain SQL session
  // opened on first use (so this also works while streaming); nullopt when
  // there is no such slot.
  Result<std::optional<SlotState>> ReadSlot(std::string_view slot_name);

  // ReadSlot + ValidateSlot: NotFound when the slot is missing.
  Result<SlotState> CheckSlot(std::string_view slot_name);

  // NotFound naming the first publication of `names` missing in this
  // database. (PG14's walsender itself accepts unknown publication names at
  // START_REPLICATION and fails only when it decodes the first change.)
  Status CheckPublications(const std::vector<std::string>& names);
  // The SQL session the slot and publication queries run on (otherwise
  // opened by the first of them), which the caller opened on the same
  // parameters (PgSession::Connect of the ConnParams given to Connect)
  // while this connection was opened (consumer::ConnectConsumer).
  void SetSqlSession(PgSession session) { sql_.emplace(std::move(session)); }

  // DROP_REPLICATION_SLOT. Without `wait` an active slot fails
  // (FailedPrecondition); with it the call blocks until the slot is free.
  // NotFound when there is no such slot.
  Status DropSlot(std::string_view slot_name, bool wait = false);

  // Sends START_REPLICATION SLOT ... LOGICAL `start` (options per server
  // version) and enters COPY BOTH mode. `start` should be the slot's
  // confirmed_flush_lsn (or 0/0, which means the same), never
  // IDENTIFY_SYSTEM's xlogpos. Errors: NotFound (slot missing),
  // FailedPrecondition (slot active elsewhere, invalidated, wrong database),
  // InvalidArgument (bad options).
  Status StartReplication(std::string_view slot_name, wire::Lsn start,
                          const StreamOptions& options);
  // The protocol version the last StartReplication requested.
  int proto_version() const { return proto_version_; }

  // REQUIRES: StartReplication succeeded; not streaming yet.
  // Puts the connection in non-blocking mode and starts reading on
  // `executor`. Returns at once; frames go to on_frame from the executor.
  Status StartStreaming(boost::asio::any_io_executor executor, FrameHandler on_frame,
                        DoneHandler on_done);
  bool streaming() const { return streaming_; }

  // Queues a Standby Status Update and flushes it without blocking (waits for
  // writability when the socket is full; only the newest update is kept).
  // A write error ends the stream through on_done. No-op when not streaming.
  void SendStatusUpdate(const wire::StandbyStatusUpdate& update);

  // Ends the stream: stops reading and calls on_done(reason) from the
  // executor (not from inside this call). The connection stays open but is
  // still in COPY BOTH mode: close it (destroy) afterwards.
  void Stop(Status reason = Status::OK());

  // Asks the server to cancel the running command (a blocking
  // CREATE_REPLICATION_SLOT waiting for transactions). Thread-safe.
  void Cancel();

 private:
  ReplicationConnection(PgConnPtr conn, ConnParams params);

  Status MapCommandError(const PGresult* result, std::string_view context,
                         std::string_view slot_name) const;
  Status MapStreamError(const PGresult* result) const;
  Result<PgSession*> SqlSession();

  void ArmRead();
  // Reads again after a short delay instead of waiting on the socket (read
  // coalescing; see kCoalesceDelay in the .cc).
  void ArmCoalescedRead();
  void OnReadable(const boost::system::error_code& ec);
  void DrainFrames();
  void DrainResults();
  void FlushOutput();
  void ArmWrite();
  void Finish(Status status);
  void ReleaseDescriptor();

  PgConnPtr conn_;
  ConnParams params_;  // the user's DSN, for the plain session
  std::string endpoint_;
  int server_version_ = 0;
  std::chrono::milliseconds wal_sender_timeout_{60000};
  int proto_version_ = 0;
  std::unique_ptr<PGcancel, void (*)(PGcancel*)> cancel_;
  std::optional<PgSession> sql_;

  // Streaming state.
  bool copy_both_ = false;  // StartReplication succeeded
  bool streaming_ = false;  // StartStreaming called and not finished
  bool ending_ = false;     // PQgetCopyData said -1: collecting the final results
  boost::asio::any_io_executor executor_;
  std::optional<boost::asio::posix::stream_descriptor> socket_;
  FrameHandler on_frame_;
  DoneHandler on_done_;
  Status end_status_;  // the first error seen while collecting final results
  bool read_armed_ = false;
  bool write_armed_ = false;
  bool frames_since_wait_ = false;  // a frame delivered since the last wait
  bool has_pending_update_ = false;
  std::array<std::byte, wire::StandbyStatusUpdate::kSize> pending_update_{};
  // Handlers hold a weak_ptr to this; it expires in the destructor, so a
  // handler that runs after destruction (an aborted wait) does nothing.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace pgparity::conn

#endif  // PGPARITY_CONN_REPLICATION_CONNECTION_H_
