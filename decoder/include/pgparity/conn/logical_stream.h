// LogicalStream: a started ReplicationConnection's frames parsed into
// XLogData and keepalives, keepalives answered by a Feedback, XLogData handed
// to the consumer. The glue every consumer of the stream would otherwise
// write:
//
//   LogicalStream stream(io.get_executor(), *conn, slot.confirmed_flush_lsn);
//   stream.Start([&](const wire::XLogData& x) { ... stream.feedback().MarkDurable(end); },
//                [&](Status s) { result = s; });
//   io.run();
//
// Frames that do not parse end the stream with their Corruption status,
// prefixed with the stream position. Thread-safety: none; executor's thread.
#ifndef PGPARITY_CONN_LOGICAL_STREAM_H_
#define PGPARITY_CONN_LOGICAL_STREAM_H_

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>

#include "pgparity/conn/feedback.h"
#include "pgparity/conn/replication_connection.h"
#include "pgparity/status.h"
#include "pgparity/wire/copy_data.h"

namespace pgparity::conn {

class LogicalStream {
 public:
  // The body views libpq's buffer: valid only during the call. A non-OK
  // return ends the stream with it.
  using XLogDataHandler = std::function<Status(const wire::XLogData& frame)>;
  using DoneHandler = ReplicationConnection::DoneHandler;

  // REQUIRES: conn.StartReplication succeeded; `conn` outlives this object.
  // FeedbackOptions::wal_sender_timeout is taken from the connection.
  LogicalStream(boost::asio::any_io_executor executor, ReplicationConnection& conn, wire::Lsn start,
                FeedbackOptions options = {});
  // Stops a stream still running; its on_done is then not called.
  ~LogicalStream();
  LogicalStream(const LogicalStream&) = delete;
  LogicalStream& operator=(const LogicalStream&) = delete;

  // Starts reading and the periodic feedback. on_done runs once at the end,
  // after the feedback timer is stopped.
  Status Start(XLogDataHandler on_xlogdata, DoneHandler on_done);
  // Ends the stream; on_done(reason) follows from the executor.
  void Stop(Status reason = Status::OK()) { conn_.Stop(std::move(reason)); }

  Feedback& feedback() { return feedback_; }

 private:
  Status OnFrame(std::span<const std::byte> frame);

  boost::asio::any_io_executor executor_;
  ReplicationConnection& conn_;
  Feedback feedback_;
  XLogDataHandler on_xlogdata_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();  // see ~LogicalStream
};

}  // namespace pgparity::conn

#endif  // PGPARITY_CONN_LOGICAL_STREAM_H_
