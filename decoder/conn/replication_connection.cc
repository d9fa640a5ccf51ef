#include "pgparity/conn/replication_connection.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <charconv>
#include <string>
#include <thread>
#include <utility>

#include "pgparity/conn/receive_window.h"

namespace pgparity::conn {

namespace {

// Read coalescing. The walsender sends every pgoutput message with its own
// send(): a reader that goes back to waiting on the socket as soon as it has
// drained it is woken once per message or two, and the walsender pays for
// each wake-up too. So after a wake-up that brought anything, the thread
// sleeps kCoalesceDelay and then reads what accumulated meanwhile; a read
// that finds nothing goes back to waiting on the socket, so an idle stream
// is not polled. Costs at most kCoalesceDelay of latency per batch.
//
// 3 ms, not less: with the small receive buffer of a nearby source
// (receive_window.h) the walsender's window must close while the reader
// sleeps, or the walsender sends each message as its own segment. On this
// project's 2-CPU machines a 1 M-row streamed INSERT drained in 2.9-3.0 s
// with 3 ms and 64 kB, against 3.2-4.8 s before (0.5 ms, and only after a
// wake-up of less than 64 kB), 3.7-5.2 s with 2 ms, and 3.1-3.7 s for
// `pg_recvlogical | cat` (bench/README.md, "The bulk transaction's
// stream").
//
// A sleep, not an Asio timer: Asio keeps the socket in epoll, edge
// triggered, whether or not a wait is pending, so a thread waiting on a
// timer was still woken by every packet. Nor is the socket read again at
// once after a short read (kReadAgainAbove): that took a message or two per
// recv() (bench/README.md, "pg_recvlogical's output").
constexpr std::chrono::microseconds kCoalesceDelay{3000};
// Within one wake-up, the socket is read again at once only after a read
// that brought at least this much (libpq's buffer is 16 kB at first): a
// smaller read means the reader has caught up with the walsender.
constexpr size_t kReadAgainAbove = 4 * 1024;

std::string SlotRef(std::string_view slot_name, std::string_view endpoint) {
  return "replication slot \"" + std::string(slot_name) + "\" on " + std::string(endpoint);
}

Result<wire::Lsn> ParseLsnField(std::string_view field, std::optional<std::string_view> text) {
  if (!text) return wire::Lsn();
  Result<wire::Lsn> lsn = wire::Lsn::Parse(*text);
  if (!lsn.ok()) return std::move(lsn).status().WithPrefix(field);
  return lsn;
}

std::string ErrorField(const PGresult* result, int field) {
  const char* m = result == nullptr ? nullptr : PQresultErrorField(result, field);
  return m == nullptr ? std::string() : std::string(m);
}
std::string PrimaryMessage(const PGresult* result) {
  return ErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
}
std::string Detail(const PGresult* result) { return ErrorField(result, PG_DIAG_MESSAGE_DETAIL); }

}  // namespace

Status ValidateSlot(const SlotState& state, std::string_view dbname, int my_pid,
                    std::string_view endpoint) {
  const std::string slot = SlotRef(state.slot_name, endpoint);
  if (state.slot_type != "logical") {
    return Status::FailedPrecondition(
        slot + " is a " + state.slot_type +
        " slot; pgparity needs a logical pgoutput slot: use another slot name");
  }
  if (state.plugin != "pgoutput") {
    return Status::FailedPrecondition(slot + " uses output plugin \"" + state.plugin +
                                      "\", not pgoutput; use another slot name");
  }
  if (state.database != dbname) {
    return Status::FailedPrecondition(slot + " belongs to database \"" + state.database +
                                      "\", not \"" + std::string(dbname) +
                                      "\"; connect to that database or use another slot");
  }
  if (state.wal_status == "lost") {
    return Status::FailedPrecondition(
        slot +
        " is invalidated (wal_status = lost): the source removed WAL the slot still needed "
        "(max_slot_wal_keep_size); drop the slot, create a new one and restart verification "
        "from its snapshot");
  }
  if (state.active && state.active_pid.value_or(0) != my_pid) {
    const std::string pid = state.active_pid ? std::to_string(*state.active_pid) : "?";
    return Status::FailedPrecondition(slot + " is in use by PID " + pid +
                                      "; stop that consumer (or SELECT pg_terminate_backend(" +
                                      pid + ") on the source) and retry");
  }
  return Status::OK();
}

ReplicationConnection::ReplicationConnection(PgConnPtr conn, ConnParams params)
    : conn_(std::move(conn)),
      params_(std::move(params)),
      endpoint_(DescribeConn(conn_.get())),
      server_version_(PQserverVersion(conn_.get())),
      cancel_(PQgetCancel(conn_.get()), &PQfreeCancel) {}

ReplicationConnection::~ReplicationConnection() {
  alive_.reset();
  ReleaseDescriptor();
  // conn_ closes after: libpq owns the socket, Asio only watched it.
}

Result<std::unique_ptr<ReplicationConnection>> ReplicationConnection::Connect(
    const ConnParams& params) {
  ConnParams repl = params.WithPinnedFormats();
  repl.Set("replication", "database");
  if (!repl.Get("application_name")) repl.Set("application_name", "pgparity");
  PGPARITY_ASSIGN_OR_RETURN(PgConnPtr conn, repl.Connect("replication connection"));

  std::unique_ptr<ReplicationConnection> self(new ReplicationConnection(std::move(conn), params));
  if (self->server_version_ < 100000) {
    return Status::NotSupported("server " + self->endpoint_ + " is version " +
                                std::to_string(self->server_version_) +
                                "; logical replication needs PostgreSQL 10 or later");
  }
  PGPARITY_ASSIGN_OR_RETURN(QueryResult show, ExecSimple(self->raw(), "SHOW wal_sender_timeout",
                                                         "SHOW wal_sender_timeout"));
  if (show.rows() != 1 || show.columns() < 1) {
    return Status::Internal("SHOW wal_sender_timeout on " + self->endpoint_ + " returned " +
                            std::to_string(show.rows()) + " rows");
  }
  PGPARITY_ASSIGN_OR_RETURN(self->wal_sender_timeout_, ParseGucMilliseconds(show.Value(0, 0)));
  spdlog::debug("replication connection to {} (server {}, wal_sender_timeout {} ms)",
                self->endpoint_, self->server_version_, self->wal_sender_timeout_.count());
  return self;
}

Result<SystemIdentity> ReplicationConnection::IdentifySystem() {
  PGPARITY_ASSIGN_OR_RETURN(QueryResult r, ExecSimple(raw(), "IDENTIFY_SYSTEM", "IDENTIFY_SYSTEM"));
  if (r.rows() != 1 || r.columns() < 4) {
    return Status::Corruption("IDENTIFY_SYSTEM on " + endpoint_ + " returned " +
                              std::to_string(r.rows()) + " rows, " + std::to_string(r.columns()) +
                              " columns; expected 1 row, 4 columns");
  }
  SystemIdentity id;
  id.system_id = std::string(r.Value(0, 0));
  const std::string_view tli = r.Value(0, 1);
  auto [ptr, ec] = std::from_chars(tli.data(), tli.data() + tli.size(), id.timeline);
  if (ec != std::errc() || ptr != tli.data() + tli.size()) {
    return Status::Corruption("IDENTIFY_SYSTEM.timeline: \"" + std::string(tli) +
                              "\" is not a number");
  }
  PGPARITY_ASSIGN_OR_RETURN(id.xlogpos, ParseLsnField("IDENTIFY_SYSTEM.xlogpos", r.Get(0, 2)));
  id.dbname = std::string(r.Value(0, 3));
  return id;
}

Status ReplicationConnection::MapCommandError(const PGresult* result, std::string_view context,
                                              std::string_view slot_name) const {
  Status generic = StatusFromResult(conn_.get(), result, context);
  const std::string_view sqlstate = SqlState(result);
  const std::string slot = SlotRef(slot_name, endpoint_);
  const std::string server = " (server: " + OneLine(PrimaryMessage(result)) + ")";
  if (sqlstate == "42704") {
    return Status::NotFound(slot + " does not exist" + server +
                            "; create it (CREATE_REPLICATION_SLOT or SELECT "
                            "pg_create_logical_replication_slot('" +
                            std::string(slot_name) + "', 'pgoutput')) or fix the slot name");
  }
  if (sqlstate == "55006") {
    return Status::FailedPrecondition(slot + " is in use by another connection" + server +
                                      "; stop that consumer (or pg_terminate_backend its PID "
                                      "from pg_replication_slots.active_pid) and retry");
  }
  if (sqlstate == "42710") {
    return Status::AlreadyExists(slot + " already exists" + server +
                                 "; drop it or choose another slot name");
  }
  if (sqlstate == "53400") {
    return Status::FailedPrecondition(
        std::string(context) + " on " + endpoint_ + " failed" + server +
        "; drop unused slots or raise max_replication_slots / max_wal_senders");
  }
  if (sqlstate == "55000") {
    // PG14: "cannot read from logical replication slot" with DETAIL "This
    // slot has been invalidated because it exceeded the maximum reserved
    // size."; PG16: "can no longer get changes from replication slot".
    const std::string_view message = generic.message();
    if (message.find("can no longer get changes") != std::string_view::npos ||
        message.find("invalidated") != std::string_view::npos) {
      return Status::FailedPrecondition(
          slot + " is invalidated (wal_status = lost) (server: " + OneLine(PrimaryMessage(result)) +
          ". " + OneLine(Detail(result)) + ")" +
          "; drop the slot, create a new one and restart verification from its snapshot");
    }
  }
  return generic;
}

Status ReplicationConnection::MapStreamError(const PGresult* result) const {
  Status generic = StatusFromResult(conn_.get(), result, "replication stream");
  const std::string primary = PrimaryMessage(result);
  if (SqlState(result) == "42704" && primary.rfind("publication ", 0) == 0) {
    return Status::NotFound("replication stream on " + endpoint_ + ": " + OneLine(primary) +
                            " (reported when the first change was decoded); create the "
                            "publication on the source or fix the publication names");
  }
  return generic;
}

Result<CreatedSlot> ReplicationConnection::CreateLogicalSlot(std::string_view slot_name,
                                                             bool temporary,
                                                             SnapshotAction snapshot) {
  PGPARITY_ASSIGN_OR_RETURN(
      std::string cmd, CreateLogicalSlotCommand(server_version_, slot_name, temporary, snapshot));
  PgResultPtr result(PQexec(raw(), cmd.c_str()));
  if (result == nullptr || PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return MapCommandError(result.get(), "CREATE_REPLICATION_SLOT", slot_name);
  }
  QueryResult r(std::move(result));
  if (r.rows() != 1 || r.columns() < 4) {
    return Status::Corruption("CREATE_REPLICATION_SLOT on " + endpoint_ + " returned " +
                              std::to_string(r.rows()) + " rows, " + std::to_string(r.columns()) +
                              " columns; expected 1 row, 4 columns");
  }
  CreatedSlot slot;
  slot.slot_name = std::string(r.Value(0, 0));
  PGPARITY_ASSIGN_OR_RETURN(slot.consistent_point,
                            ParseLsnField("CREATE_REPLICATION_SLOT.consistent_point", r.Get(0, 1)));
  if (auto snap = r.Get(0, 2)) slot.snapshot_name = std::string(*snap);
  slot.output_plugin = std::string(r.Value(0, 3));
  if (snapshot == SnapshotAction::kExport && !slot.snapshot_name) {
    return Status::Corruption("CREATE_REPLICATION_SLOT on " + endpoint_ +
                              " exported no snapshot name");
  }
  return slot;
}

Result<PgSession*> ReplicationConnection::SqlSession() {
  if (!sql_) {
    PGPARITY_ASSIGN_OR_RETURN(PgSession session, PgSession::Connect(params_));
    sql_.emplace(std::move(session));
  }
  return &*sql_;
}

Result<std::optional<SlotState>> ReplicationConnection::ReadSlot(std::string_view slot_name) {
  PGPARITY_ASSIGN_OR_RETURN(PgSession * sql, SqlSession());
  const std::string wal_status =
      sql->server_version() >= 130000 ? "wal_status" : "''::text AS wal_status";
  PGPARITY_ASSIGN_OR_RETURN(
      QueryResult r,
      sql->Query("SELECT slot_name, coalesce(plugin, ''), slot_type, coalesce(database, ''), "
                 "temporary, active, active_pid, restart_lsn, confirmed_flush_lsn, " +
                     wal_status + " FROM pg_replication_slots WHERE slot_name = $1",
                 {std::string(slot_name)}));
  if (r.rows() == 0) return std::optional<SlotState>();
  SlotState s;
  s.slot_name = std::string(r.Value(0, 0));
  s.plugin = std::string(r.Value(0, 1));
  s.slot_type = std::string(r.Value(0, 2));
  s.database = std::string(r.Value(0, 3));
  s.temporary = r.Value(0, 4) == "t";
  s.active = r.Value(0, 5) == "t";
  if (auto pid = r.Get(0, 6)) {
    int v = 0;
    auto [ptr, ec] = std::from_chars(pid->data(), pid->data() + pid->size(), v);
    if (ec != std::errc()) return Status::Corruption("pg_replication_slots.active_pid: bad value");
    s.active_pid = v;
  }
  PGPARITY_ASSIGN_OR_RETURN(s.restart_lsn,
                            ParseLsnField("pg_replication_slots.restart_lsn", r.Get(0, 7)));
  PGPARITY_ASSIGN_OR_RETURN(s.confirmed_flush_lsn,
                            ParseLsnField("pg_replication_slots.confirmed_flush_lsn", r.Get(0, 8)));
  s.wal_status = std::string(r.Value(0, 9));
  return std::optional<SlotState>(std::move(s));
}

Result<SlotState> ReplicationConnection::CheckSlot(std::string_view slot_name) {
  PGPARITY_ASSIGN_OR_RETURN(std::optional<SlotState> state, ReadSlot(slot_name));
  if (!state) {
    return Status::NotFound(SlotRef(slot_name, endpoint_) +
                            " does not exist; create it (CREATE_REPLICATION_SLOT or SELECT "
                            "pg_create_logical_replication_slot('" +
                            std::string(slot_name) + "', 'pgoutput')) or fix the slot name");
  }
  PGPARITY_RETURN_IF_ERROR(ValidateSlot(*state, dbname(), backend_pid(), endpoint_));
  if (state->wal_status == "unreserved") {
    spdlog::warn("{} is about to lose WAL it needs (wal_status = unreserved)",
                 SlotRef(slot_name, endpoint_));
  }
  return std::move(*state);
}

Status ReplicationConnection::CheckPublications(const std::vector<std::string>& names) {
  PGPARITY_ASSIGN_OR_RETURN(PgSession * sql, SqlSession());
  for (const std::string& name : names) {
    PGPARITY_ASSIGN_OR_RETURN(
        QueryResult r, sql->Query("SELECT 1 FROM pg_publication WHERE pubname = $1", {name}));
    if (r.rows() == 0) {
      return Status::NotFound("publication \"" + name + "\" does not exist on " + endpoint_ +
                              "; create it on the source (CREATE PUBLICATION) or fix the "
                              "publication names");
    }
  }
  return Status::OK();
}

Status ReplicationConnection::DropSlot(std::string_view slot_name, bool wait) {
  PGPARITY_ASSIGN_OR_RETURN(std::string cmd, DropSlotCommand(slot_name, wait));
  PgResultPtr result(PQexec(raw(), cmd.c_str()));
  if (result == nullptr || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return MapCommandError(result.get(), "DROP_REPLICATION_SLOT", slot_name);
  }
  return Status::OK();
}

Status ReplicationConnection::StartReplication(std::string_view slot_name, wire::Lsn start,
                                               const StreamOptions& options) {
  if (copy_both_) {
    return Status::FailedPrecondition("replication connection to " + endpoint_ +
                                      " is already streaming");
  }
  PGPARITY_ASSIGN_OR_RETURN(std::string cmd,
                            StartReplicationCommand(server_version_, slot_name, start, options));
  PgResultPtr result(PQexec(raw(), cmd.c_str()));
  if (result == nullptr || PQresultStatus(result.get()) != PGRES_COPY_BOTH) {
    return MapCommandError(result.get(), "START_REPLICATION", slot_name);
  }
  copy_both_ = true;
  proto_version_ = EffectiveProtoVersion(server_version_, options);
  spdlog::debug("{}: START_REPLICATION from {} (proto_version {})", SlotRef(slot_name, endpoint_),
                start.ToString(), proto_version_);
  return Status::OK();
}

Status ReplicationConnection::StartStreaming(boost::asio::any_io_executor executor,
                                             FrameHandler on_frame, DoneHandler on_done) {
  if (!copy_both_) {
    return Status::FailedPrecondition("StartStreaming before a successful StartReplication");
  }
  if (streaming_ || socket_) {
    return Status::FailedPrecondition("replication connection to " + endpoint_ +
                                      " is already streaming");
  }
  if (PQsetnonblocking(raw(), 1) != 0) {
    return Status::IOError("cannot make the connection to " + endpoint_ +
                           " non-blocking: " + OneLine(PQerrorMessage(raw())));
  }
  const int fd = PQsocket(raw());
  if (fd < 0) return Status::Unavailable("replication connection to " + endpoint_ + " is closed");
  LimitReceiveWindow(fd);
  boost::system::error_code ec;
  executor_ = executor;
  socket_.emplace(executor);
  socket_->assign(fd, ec);
  if (ec) {
    socket_.reset();
    return Status::IOError("cannot watch the socket of " + endpoint_ + ": " + ec.message());
  }
  on_frame_ = std::move(on_frame);
  on_done_ = std::move(on_done);
  streaming_ = true;
  ending_ = false;
  end_status_ = Status::OK();
  // libpq may hold frames already (they can arrive with the CopyBothResponse):
  // drain before the first wait, from the executor, never inside this call.
  boost::asio::post(executor_, [this, alive = std::weak_ptr<char>(alive_)] {
    if (alive.expired() || !streaming_) return;
    DrainFrames();
  });
  return Status::OK();
}

void ReplicationConnection::ArmRead() {
  if (read_armed_ || !socket_) return;
  read_armed_ = true;
  socket_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this, alive = std::weak_ptr<char>(alive_)](boost::system::error_code ec) {
                        if (alive.expired()) return;
                        read_armed_ = false;
                        OnReadable(ec);
                      });
}

void ReplicationConnection::ArmCoalescedRead() {
  // On the executor's thread, which runs this stream: its other handlers
  // (timers, a stop) wait at most kCoalesceDelay.
  std::this_thread::sleep_for(kCoalesceDelay);
  boost::asio::post(executor_, [this, alive = std::weak_ptr<char>(alive_)] {
    if (alive.expired() || !streaming_) return;
    // Reads what arrived meanwhile (PQconsumeInput does not block); when
    // that is nothing, DrainFrames goes back to waiting on the socket.
    OnReadable(boost::system::error_code());
  });
}

void ReplicationConnection::OnReadable(const boost::system::error_code& ec) {
  if (!streaming_) return;  // finished; this is the aborted wait
  if (ec) {
    Finish(Status::Unavailable("waiting on the replication connection to " + endpoint_ + ": " +
                               ec.message()));
    return;
  }
  if (PQconsumeInput(raw()) == 0) {
    // A server that reports an error and exits (FATAL) closes the socket
    // right after: its error is the better reason.
    if (ending_ && !end_status_.ok()) {
      Finish(end_status_);
    } else {
      Finish(Status::Unavailable("replication connection to " + endpoint_ +
                                 " lost: " + OneLine(PQerrorMessage(raw()))));
    }
    return;
  }
  if (ending_) {
    DrainResults();
  } else {
    DrainFrames();
  }
}

void ReplicationConnection::DrainFrames() {
  // libpq reads the socket in pieces of its buffer's size (16 kB at first):
  // read again while the reads come back full (and once after the wake-up's
  // own read), or a stream of big messages is read one buffer per wake-up
  // (per coalescing delay); stop after a short one (kReadAgainAbove).
  bool read_again = true;
  size_t since_read = 0;  // bytes of messages since the last PQconsumeInput
  while (streaming_) {
    char* buffer = nullptr;
    const int n = PQgetCopyData(raw(), &buffer, /*async=*/1);
    if (n == 0 && read_again) {
      read_again = false;
      since_read = 0;
      if (PQconsumeInput(raw()) == 0) {
        Finish(Status::Unavailable("replication connection to " + endpoint_ +
                                   " lost: " + OneLine(PQerrorMessage(raw()))));
        return;
      }
      continue;
    }
    if (n > 0) {
      since_read += static_cast<size_t>(n);
      read_again = read_again || since_read >= kReadAgainAbove;
      frames_since_wait_ = true;
      PgMemPtr<char> owned(buffer);
      Status s = on_frame_(std::span<const std::byte>(reinterpret_cast<const std::byte*>(buffer),
                                                      static_cast<size_t>(n)));
      if (!s.ok()) {
        Finish(std::move(s));
        return;
      }
      continue;
    }
    if (n == 0) {  // nothing complete buffered: wait for the socket
      if (std::exchange(frames_since_wait_, false)) {
        ArmCoalescedRead();
      } else {
        ArmRead();
      }
      return;
    }
    if (n == -1) {  // the COPY ended: collect the server's final results
      ending_ = true;
      DrainResults();
      return;
    }
    Finish(Status::Unavailable("replication stream from " + endpoint_ +
                               " failed: " + OneLine(PQerrorMessage(raw()))));
    return;
  }
}

void ReplicationConnection::DrainResults() {
  while (streaming_) {
    if (PQisBusy(raw())) {
      ArmRead();
      return;
    }
    PgResultPtr result(PQgetResult(raw()));
    if (result == nullptr) {
      Finish(end_status_.ok()
                 ? Status::Unavailable("server " + endpoint_ + " ended the replication stream")
                 : end_status_);
      return;
    }
    switch (PQresultStatus(result.get())) {
      case PGRES_COPY_IN:
        // The server sent CopyDone; answer with ours so it can finish.
        if (PQputCopyEnd(raw(), nullptr) < 0) {
          Finish(Status::Unavailable("replication connection to " + endpoint_ +
                                     " lost: " + OneLine(PQerrorMessage(raw()))));
          return;
        }
        FlushOutput();
        break;
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
        break;
      default:
        if (end_status_.ok()) end_status_ = MapStreamError(result.get());
        break;
    }
  }
}

void ReplicationConnection::SendStatusUpdate(const wire::StandbyStatusUpdate& update) {
  if (!streaming_) return;
  wire::EncodeStandbyStatusUpdate(update, pending_update_);
  has_pending_update_ = true;
  FlushOutput();
}

void ReplicationConnection::FlushOutput() {
  if (!streaming_) return;
  if (has_pending_update_) {
    const int put = PQputCopyData(raw(), reinterpret_cast<const char*>(pending_update_.data()),
                                  static_cast<int>(pending_update_.size()));
    if (put < 0) {
      Finish(Status::Unavailable("sending feedback to " + endpoint_ +
                                 " failed: " + OneLine(PQerrorMessage(raw()))));
      return;
    }
    if (put == 0) {  // libpq's buffer is full: retry when the socket drains
      ArmWrite();
      return;
    }
    has_pending_update_ = false;
  }
  const int flushed = PQflush(raw());
  if (flushed < 0) {
    Finish(Status::Unavailable("sending feedback to " + endpoint_ +
                               " failed: " + OneLine(PQerrorMessage(raw()))));
    return;
  }
  if (flushed == 1) ArmWrite();
}

void ReplicationConnection::ArmWrite() {
  if (write_armed_ || !socket_) return;
  write_armed_ = true;
  socket_->async_wait(
      boost::asio::posix::stream_descriptor::wait_write,
      [this, alive = std::weak_ptr<char>(alive_)](boost::system::error_code ec) {
        if (alive.expired()) return;
        write_armed_ = false;
        if (!streaming_) return;
        if (ec) {
          Finish(Status::Unavailable("waiting to write to " + endpoint_ + ": " + ec.message()));
          return;
        }
        FlushOutput();
      });
}

void ReplicationConnection::Stop(Status reason) {
  if (!streaming_) return;
  Finish(std::move(reason));
}

void ReplicationConnection::Finish(Status status) {
  if (!streaming_) return;
  streaming_ = false;
  ending_ = false;
  ReleaseDescriptor();
  if (!status.ok())
    spdlog::debug("replication stream on {} ended: {}", endpoint_, status.ToString());
  // on_frame_ may be running right now (it called Stop): keep it alive; the
  // done handler runs later, from the executor.
  boost::asio::post(executor_, [alive = std::weak_ptr<char>(alive_), done = std::move(on_done_),
                                status = std::move(status)]() mutable {
    if (alive.expired() || !done) return;
    done(std::move(status));
  });
  on_done_ = nullptr;
}

void ReplicationConnection::ReleaseDescriptor() {
  if (!socket_) return;
  // release(), not close(): the fd is libpq's. Pending waits complete with
  // operation_aborted and find streaming_ false (or the connection gone).
  boost::system::error_code ignored;
  socket_->cancel(ignored);
  socket_->release();
  socket_.reset();
}

void ReplicationConnection::Cancel() {
  if (cancel_ == nullptr) return;
  char errbuf[256];
  if (PQcancel(cancel_.get(), errbuf, sizeof errbuf) == 0) {
    spdlog::warn("cancel request to {} failed: {}", endpoint_, errbuf);
  }
}

}  // namespace pgparity::conn
