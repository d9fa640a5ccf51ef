#include "pgparity/conn/logical_stream.h"

#include <string>
#include <utility>
#include <variant>

namespace pgparity::conn {
namespace {

FeedbackOptions WithTimeout(FeedbackOptions options, const ReplicationConnection& conn) {
  options.wal_sender_timeout = conn.wal_sender_timeout();
  return options;
}

}  // namespace

LogicalStream::LogicalStream(boost::asio::any_io_executor executor, ReplicationConnection& conn,
                             wire::Lsn start, FeedbackOptions options)
    : executor_(executor),
      conn_(conn),
      feedback_(
          executor,
          [&conn](const wire::StandbyStatusUpdate& update) { conn.SendStatusUpdate(update); },
          start, WithTimeout(options, conn)) {}

LogicalStream::~LogicalStream() {
  alive_.reset();
  conn_.Stop();
}

Status LogicalStream::Start(XLogDataHandler on_xlogdata, DoneHandler on_done) {
  on_xlogdata_ = std::move(on_xlogdata);
  PGPARITY_RETURN_IF_ERROR(conn_.StartStreaming(
      executor_, [this](std::span<const std::byte> frame) { return OnFrame(frame); },
      [this, alive = std::weak_ptr<char>(alive_), on_done = std::move(on_done)](Status status) {
        if (alive.expired()) return;
        feedback_.Stop();
        if (on_done) on_done(std::move(status));
      }));
  feedback_.Start();
  return Status::OK();
}

Status LogicalStream::OnFrame(std::span<const std::byte> frame) {
  Result<wire::CopyMessage> message = wire::ParseCopyData(frame);
  if (!message.ok()) {
    return std::move(message).status().WithPrefix("replication stream on " + conn_.endpoint() +
                                                  " after " + feedback_.received().ToString());
  }
  if (const auto* keepalive = std::get_if<wire::PrimaryKeepalive>(&*message)) {
    feedback_.OnKeepalive(*keepalive);
    return Status::OK();
  }
  const auto& xlog = std::get<wire::XLogData>(*message);
  feedback_.OnXLogData(xlog);
  return on_xlogdata_(xlog);
}

}  // namespace pgparity::conn
