// Feedback: the LSN watermarks of a logical replication stream and the
// Standby Status Updates that report them to the walsender.
//
// Three watermarks, each only moving forward:
//   received  - the highest WAL end seen in XLogData or keepalive frames;
//   processed - what the consumer has handled (checksummed) so far;
//   durable   - the end LSN of the last fully handled commit whose results
//               the consumer has made durable (MarkDurable).
// The update reports written = received, flushed = the flush position below,
// applied = processed. The walsender moves the slot's confirmed_flush_lsn to
// `flushed` (the other two only show in pg_stat_replication).
//
// The flush position is `durable`, and nothing else, except when the
// consumer is idle (SetIdle(true): no open or streamed transaction, nothing
// buffered, everything processed is durable): then the wal end of a keepalive
// received while idle may be reported too, so an idle slot does not pin WAL
// written by other databases (trap #4). A keepalive seen while not idle is
// never acknowledged, not even later (trap #1). The flush position starts at
// the stream's start (the slot's confirmed_flush_lsn) and never goes below
// it: PostgreSQL 14 would move confirmed_flush_lsn backwards if told to.
//
// Updates are sent at once when a keepalive requests a reply, on SendNow(),
// and every interval() from a steady_timer: min(max_interval,
// wal_sender_timeout / 2), so the walsender never times the stream out.
//
// Thread-safety: none; use from the executor's thread.
#ifndef PGPARITY_CONN_FEEDBACK_H_
#define PGPARITY_CONN_FEEDBACK_H_

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "pgparity/wire/copy_data.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::conn {

struct FeedbackOptions {
  // The walsender's wal_sender_timeout (ReplicationConnection reads it at
  // connect); 0 = disabled or unknown.
  std::chrono::milliseconds wal_sender_timeout{60000};
  // Upper bound of the periodic interval (pg_recvlogical uses 10 s).
  std::chrono::milliseconds max_interval{10000};
};

class Feedback {
 public:
  // Delivers an update to the server (ReplicationConnection::SendStatusUpdate).
  using Sender = std::function<void(const wire::StandbyStatusUpdate&)>;

  // `start`: the position streaming starts from, normally the slot's
  // confirmed_flush_lsn; all three watermarks start there.
  Feedback(boost::asio::any_io_executor executor, Sender sender, wire::Lsn start,
           FeedbackOptions options = {});
  ~Feedback();
  Feedback(const Feedback&) = delete;
  Feedback& operator=(const Feedback&) = delete;

  // Starts / stops the periodic updates. Stop() is idempotent.
  void Start();
  void Stop();

  // Frame observers: call for every frame, in stream order, before handing
  // the frame's contents on.
  void OnXLogData(const wire::XLogData& frame);
  // Records the wal end; when idle makes it acknowledgeable; replies at once
  // when the server asks.
  void OnKeepalive(const wire::PrimaryKeepalive& keepalive);

  // Consumer progress. Lower values than the current watermark are ignored.
  void MarkProcessed(wire::Lsn lsn);
  // REQUIRES: `commit_end` is the end LSN of a commit (Commit.end_lsn,
  // StreamCommit.end_lsn) whose transaction is fully handled and durable.
  // Also raises processed.
  void MarkDurable(wire::Lsn commit_end);
  // The consumer's statement that nothing is open or buffered. Starts false.
  void SetIdle(bool idle);

  // Sends an update now.
  void SendNow(bool request_reply = false);

  wire::Lsn received() const { return received_; }
  wire::Lsn processed() const { return processed_; }
  wire::Lsn durable() const { return durable_; }
  // What the next update reports as flushed.
  wire::Lsn flushed() const { return flushed_; }
  bool idle() const { return idle_; }
  std::chrono::milliseconds interval() const { return interval_; }

  // Counters, for tests and metrics.
  uint64_t updates_sent() const { return updates_sent_; }
  uint64_t replies_requested() const { return replies_requested_; }

  // The periodic interval for `options`: min(max_interval, wal_sender_timeout
  // / 2), max_interval when the timeout is 0, never below 100 ms.
  static std::chrono::milliseconds IntervalFor(const FeedbackOptions& options);

 private:
  void ArmTimer();

  boost::asio::steady_timer timer_;
  Sender sender_;
  std::chrono::milliseconds interval_;
  wire::Lsn received_;
  wire::Lsn processed_;
  wire::Lsn durable_;
  wire::Lsn flushed_;  // max(start, durable, idle-acknowledged keepalive ends)
  bool idle_ = false;
  bool running_ = false;
  uint64_t updates_sent_ = 0;
  uint64_t replies_requested_ = 0;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace pgparity::conn

#endif  // PGPARITY_CONN_FEEDBACK_H_
