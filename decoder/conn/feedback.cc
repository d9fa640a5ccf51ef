#include "pgparity/conn/feedback.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace pgparity::conn {
namespace {

wire::Timestamp Now() {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Result<wire::Timestamp> ts = wire::Timestamp::FromUnixMicros(micros);
  return ts.ok() ? *ts : wire::Timestamp();
}

}  // namespace

std::chrono::milliseconds Feedback::IntervalFor(const FeedbackOptions& options) {
  std::chrono::milliseconds interval = options.max_interval;
  if (options.wal_sender_timeout.count() > 0) {
    interval = std::min(interval, options.wal_sender_timeout / 2);
  }
  return std::max(interval, std::chrono::milliseconds(100));
}

Feedback::Feedback(boost::asio::any_io_executor executor, Sender sender, wire::Lsn start,
                   FeedbackOptions options)
    : timer_(std::move(executor)),
      sender_(std::move(sender)),
      interval_(IntervalFor(options)),
      received_(start),
      processed_(start),
      durable_(start),
      flushed_(start) {}

Feedback::~Feedback() {
  alive_.reset();
  Stop();
}

void Feedback::Start() {
  if (running_) return;
  running_ = true;
  ArmTimer();
}

void Feedback::Stop() {
  running_ = false;
  timer_.cancel();
}

void Feedback::ArmTimer() {
  timer_.expires_after(interval_);
  timer_.async_wait([this, alive = std::weak_ptr<char>(alive_)](boost::system::error_code ec) {
    if (alive.expired() || ec || !running_) return;
    SendNow();
    if (running_) ArmTimer();
  });
}

void Feedback::OnXLogData(const wire::XLogData& frame) {
  received_ = std::max(received_, frame.wal_end);
}

void Feedback::OnKeepalive(const wire::PrimaryKeepalive& keepalive) {
  received_ = std::max(received_, keepalive.wal_end);
  // Everything the server sent before this keepalive has been handed to the
  // consumer (frames are handled in order), and the consumer says none of it
  // is pending: WAL up to wal_end holds nothing more for us.
  if (idle_) flushed_ = std::max(flushed_, keepalive.wal_end);
  if (keepalive.reply_requested) {
    ++replies_requested_;
    SendNow();
  }
}

void Feedback::MarkProcessed(wire::Lsn lsn) { processed_ = std::max(processed_, lsn); }

void Feedback::MarkDurable(wire::Lsn commit_end) {
  durable_ = std::max(durable_, commit_end);
  processed_ = std::max(processed_, durable_);
  flushed_ = std::max(flushed_, durable_);
}

void Feedback::SetIdle(bool idle) { idle_ = idle; }

void Feedback::SendNow(bool request_reply) {
  wire::StandbyStatusUpdate update;
  update.written = std::max(received_, flushed_);
  update.flushed = flushed_;
  update.applied = std::max(processed_, flushed_);
  update.client_time = Now();
  update.reply_requested = request_reply;
  ++updates_sent_;
  spdlog::trace("feedback: written {} flushed {} applied {}", update.written.ToString(),
                update.flushed.ToString(), update.applied.ToString());
  sender_(update);
}

}  // namespace pgparity::conn
