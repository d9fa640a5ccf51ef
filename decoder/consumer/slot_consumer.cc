#include "pgparity/consumer/slot_consumer.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <thread>
#include <utility>

#include "held_frames.h"
#include "pgparity/conn/logical_stream.h"

namespace pgparity::consumer {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// One streaming session: a decoder and a stream over the current connection.
struct SlotConsumer::Session {
  Session(asio::io_context& io, conn::ReplicationConnection& c, wire::Lsn start,
          core::ChangeSink& sink, core::DecoderOptions options)
      : io(io),
        decoder(sink, std::move(options)),
        stream(io.get_executor(), c, start),
        checkpoint_timer(io),
        status_timer(io),
        hold_timer(io),
        last_status(steady_clock::now()) {}

  asio::io_context& io;
  core::StreamDecoder decoder;
  conn::LogicalStream stream;
  asio::steady_timer checkpoint_timer;
  asio::steady_timer status_timer;
  asio::steady_timer hold_timer;  // while frames are held: is the sink ready?
  HeldFrames held;
  steady_clock::time_point last_status;
  uint64_t changes_at_last_status = 0;
  Status done;
  bool ending = false;
};

SlotConsumer::SlotConsumer(SlotConsumerOptions options, core::ChangeSink& sink, ConsumerHooks hooks)
    : options_(std::move(options)), sink_(sink), hooks_(std::move(hooks)) {
  processed_ = options_.resume_lsn;
  durable_ = options_.resume_lsn;
}

SlotConsumer::~SlotConsumer() = default;

void SlotConsumer::RequestStop() {
  stop_requested_ = true;
  if (auto* io = io_.load()) io->stop();
}

ConsumerProgress SlotConsumer::progress() const {
  return {received_,      processed_,  durable_,    stats_.transactions,
          stats_.changes, reconnects_, frames_held_};
}

Result<std::unique_ptr<conn::ReplicationConnection>> ConnectConsumer(
    const conn::ConnParams& source) {
  // Both at once: each is an authentication's round trips (SCRAM) the
  // other need not wait for. The replication connection's error first.
  std::future<Result<conn::PgSession>> sql =
      std::async(std::launch::async, [&source] { return conn::PgSession::Connect(source); });
  Result<std::unique_ptr<conn::ReplicationConnection>> c =
      conn::ReplicationConnection::Connect(source);
  Result<conn::PgSession> session = sql.get();
  if (!c.ok()) return c.status();
  if (!session.ok()) return session.status();
  (*c)->SetSqlSession(std::move(*session));
  return std::move(*c);
}

namespace {

// The source serves the stream's publications; the system's identity.
// What every connection of a consumer checks before its slot.
Result<conn::SystemIdentity> CheckSource(conn::ReplicationConnection& conn,
                                         const SlotConsumerOptions& options) {
  PGPARITY_RETURN_IF_ERROR(conn.CheckPublications(options.publications));
  return conn.IdentifySystem();
}

// START_REPLICATION of the existing slot `options.slot` at its confirmed
// position, after CheckSlot (a logical pgoutput slot of this database, not
// active, not invalidated), with `options`' protocol options: the
// consumer's and OpenFirstConnection's one way to start a stream. The
// position the server resends from.
Result<wire::Lsn> StartExistingSlot(conn::ReplicationConnection& conn,
                                    const SlotConsumerOptions& options) {
  PGPARITY_ASSIGN_OR_RETURN(const conn::SlotState slot, conn.CheckSlot(options.slot));
  conn::StreamOptions stream_options;
  stream_options.publication_names = options.publications;
  stream_options.proto_version = options.proto_version;
  stream_options.streaming = options.streaming;
  stream_options.messages = options.messages;
  PGPARITY_RETURN_IF_ERROR(
      conn.StartReplication(options.slot, slot.confirmed_flush_lsn, stream_options));
  return slot.confirmed_flush_lsn;
}

}  // namespace

Result<FirstConnection> OpenFirstConnection(const SlotConsumerOptions& options) {
  FirstConnection first;
  PGPARITY_ASSIGN_OR_RETURN(first.conn, ConnectConsumer(options.source));
  // The consumer's own checks (CheckSource, StartExistingSlot); any
  // failure leaves the connection unstarted, and the consumer's checks
  // report it. A slot the consumer may create is its to create.
  if (options.create_slot) return first;
  Result<conn::SystemIdentity> identity = CheckSource(*first.conn, options);
  if (!identity.ok()) return first;
  Result<wire::Lsn> start = StartExistingSlot(*first.conn, options);
  if (!start.ok()) return first;
  first.started = FirstConnection::Started{options.slot, *start, *identity};
  return first;
}

// The caller's first connection (hooks.first_connection): true when its
// stream was started ahead for this consumer's slot, so that the checks
// and START_REPLICATION are done; a stream started for another slot is
// closed and a connection opened anew.
Result<bool> SlotConsumer::TakeFirstConnection() {
  PGPARITY_ASSIGN_OR_RETURN(FirstConnection first, hooks_.first_connection());
  conn_ = std::move(first.conn);
  if (!first.started) return false;
  if (first.started->slot != options_.slot || options_.create_slot) {
    conn_.reset();
    PGPARITY_ASSIGN_OR_RETURN(conn_, ConnectConsumer(options_.source));
    return false;
  }
  info_.identity = first.started->identity;
  info_.server_version = conn_->server_version();
  started_ahead_ = first.started->start;
  return true;
}

Status SlotConsumer::Connect(bool first) {
  if (first && hooks_.first_connection) {
    PGPARITY_ASSIGN_OR_RETURN(const bool started, TakeFirstConnection());
    if (started) return Status::OK();
  } else {
    PGPARITY_ASSIGN_OR_RETURN(conn_, ConnectConsumer(options_.source));
  }
  PGPARITY_ASSIGN_OR_RETURN(const conn::SystemIdentity identity, CheckSource(*conn_, options_));
  if (first) {
    info_.identity = identity;
    info_.server_version = conn_->server_version();
  }
  auto slot = conn_->ReadSlot(options_.slot);
  if (!slot.ok()) return slot.status();
  if (!slot->has_value()) {
    const bool may_create = options_.create_slot && (first || options_.temporary_slot);
    if (!may_create) {
      return Status::NotFound("replication slot \"" + options_.slot + "\" does not exist on " +
                              conn_->endpoint() +
                              (first ? "; create it or let pgparity create it"
                                     : " any more (dropped while pgparity was reconnecting?); "
                                       "start again with a new slot"));
    }
    if (!first) {
      spdlog::warn(
          "temporary slot {} vanished with the connection: changes made while "
          "disconnected are not seen",
          options_.slot);
    }
    PGPARITY_RETURN_IF_ERROR(CreateSlot(first));
  } else if (!first && (*slot)->active) {
    // The walsender of the lost connection may linger until it notices.
    return Status::Unavailable("slot " + options_.slot + " is still active (PID " +
                               std::to_string((*slot)->active_pid.value_or(0)) +
                               ") after the connection was lost");
  }
  return Status::OK();
}

// Creates the slot; on the first connection hands its snapshot to
// on_slot_created, and creates it again while that asks for a new one.
Status SlotConsumer::CreateSlot(bool first) {
  const char* kind = options_.temporary_slot ? "temporary " : "";
  for (int attempt = 1;; ++attempt) {
    // The server builds the slot's starting point once every transaction
    // open now has ended: a long one on the source holds this line.
    spdlog::info("creating {}replication slot {} (waits until the transactions open on {} end)",
                 kind, options_.slot, conn_->endpoint());
    auto created =
        conn_->CreateLogicalSlot(options_.slot, options_.temporary_slot,
                                 first ? options_.snapshot : conn::SnapshotAction::kNothing);
    if (!created.ok()) return created.status();
    spdlog::info("created {}replication slot {} at {}", kind, created->slot_name,
                 created->consistent_point.ToString());
    if (!first) return Status::OK();
    info_.slot_created = true;
    if (!hooks_.on_slot_created) return Status::OK();
    Result<SnapshotTaken> use = hooks_.on_slot_created(*created);
    if (!use.ok()) return DropCreatedSlot(use.status());
    const SnapshotTaken& taken = *use;
    if (taken.retry_because.empty()) return Status::OK();
    PGPARITY_RETURN_IF_ERROR(conn_->DropSlot(options_.slot));
    if (attempt == SnapshotTaken::kSlotAttempts) {
      return Status::DeadlineExceeded(taken.retry_because + ", on each of " +
                                      std::to_string(attempt) +
                                      " new slots; the replication slot " + options_.slot +
                                      " was dropped again — run again later");
    }
    spdlog::warn("{}: dropped replication slot {}, creating it again", taken.retry_because,
                 options_.slot);
  }
}

// on_slot_created failed (its bootstrap, its first checkpoint): the slot
// it was to start from goes too — a later run could not trust a slot
// without that state — unless the connection went with the failure.
Status SlotConsumer::DropCreatedSlot(Status failure) {
  if (Status dropped = conn_->DropSlot(options_.slot); !dropped.ok()) {
    spdlog::warn(
        "replication slot {} was created by this run and is left on {} ({}): drop it "
        "with SELECT pg_drop_replication_slot('{}')",
        options_.slot, conn_->endpoint(), dropped.ToString(), options_.slot);
  } else {
    spdlog::info("dropped replication slot {}, created by this run", options_.slot);
  }
  return failure;
}

Status SlotConsumer::Checkpoint(Session& s) {
  if (hooks_.durable_position && processed_ > durable_) {
    auto d = hooks_.durable_position(processed_);
    if (!d.ok()) return d.status().WithPrefix("making commits durable");
    if (*d > durable_) {
      durable_ = std::min(*d, processed_);
      s.stream.feedback().MarkDurable(durable_);
      s.stream.feedback().SendNow();
    }
  } else if (processed_ > durable_) {
    if (hooks_.durable) {
      Status st = hooks_.durable(processed_);
      if (!st.ok())
        return st.WithPrefix("making commits up to " + processed_.ToString() + " durable");
    }
    durable_ = processed_;
    s.stream.feedback().MarkDurable(durable_);
    // Tell the server now, not at the next periodic update: the slot then
    // releases WAL as soon as it can, and a restart resends less.
    s.stream.feedback().SendNow();
  }
  s.stream.feedback().SetIdle(Idle(s) && durable_ == processed_);
  return Status::OK();
}

// Nothing open, buffered or held: a keepalive's position may be confirmed.
bool SlotConsumer::Idle(const Session& s) const { return s.held.empty() && s.decoder.idle(); }

void SlotConsumer::LogStatus(Session& s) {
  const auto now = steady_clock::now();
  const double secs = std::chrono::duration<double>(now - s.last_status).count();
  const uint64_t changes = stats_.changes + s.decoder.stats().changes;
  const wire::Lsn server = s.stream.feedback().received();
  const uint64_t lag = server > processed_ ? server.value() - processed_.value() : 0;
  spdlog::info("slot {}: received {}, processed {}, durable {}, lag {} bytes, {:.0f} changes/s",
               options_.slot, server.ToString(), processed_.ToString(), durable_.ToString(), lag,
               secs > 0 ? (changes - s.changes_at_last_status) / secs : 0.0);
}

// Checks the slot and starts replication at its confirmed position (done
// already when the first connection's stream was started ahead), and
// tells on_session once per consumer; the position the server resends from.
Result<wire::Lsn> SlotConsumer::StartReplication() {
  wire::Lsn start;
  if (started_ahead_) {
    start = *std::exchange(started_ahead_, std::nullopt);
  } else {
    PGPARITY_ASSIGN_OR_RETURN(start, StartExistingSlot(*conn_, options_));
  }

  if (!info_reported_) {
    info_.proto_version = conn_->proto_version();
    info_.start_lsn = start;
    wire::Lsn resume = processed_;
    if (hooks_.on_session) PGPARITY_RETURN_IF_ERROR(hooks_.on_session(info_, resume));
    processed_ = std::max(processed_, resume);
    durable_ = std::max(durable_, resume);
    info_reported_ = true;
  }
  processed_ = std::max(processed_, start);
  durable_ = std::max(durable_, start);
  return start;
}

core::DecoderOptions SlotConsumer::DecoderOptionsForSession() const {
  core::DecoderOptions decoder_options;
  decoder_options.protocol_version = conn_->proto_version();
  decoder_options.max_buffered_bytes = options_.max_buffered_bytes;
  decoder_options.spill_dir = options_.spill_dir;
  decoder_options.deliver_streamed_changes_early = options_.deliver_streamed_changes_early;
  // Everything delivered before (this process, or a sink's durable state)
  // is skipped: the server resends from the slot's confirmed position.
  decoder_options.resume_lsn = processed_;
  return decoder_options;
}

// Ends the stream after confirming what is durable.
void SlotConsumer::Finish(Session& s, Status why) {
  if (s.ending) return;
  s.ending = true;
  Status st = Checkpoint(s);
  if (st.ok()) s.stream.feedback().SendNow();
  s.stream.Stop(st.ok() ? std::move(why) : st);
}

bool SlotConsumer::ReachedUntil(Session& s) const {
  return options_.until_lsn.has_value() && Idle(s) &&
         (processed_ >= *options_.until_lsn ||
          s.stream.feedback().received() >= *options_.until_lsn);
}

void SlotConsumer::ArmCheckpoint(Session& s) {
  const milliseconds every = options_.until_lsn
                                 ? std::min(options_.checkpoint_interval, milliseconds(100))
                                 : options_.checkpoint_interval;
  s.checkpoint_timer.expires_after(every);
  s.checkpoint_timer.async_wait([this, &s](const boost::system::error_code& ec) {
    if (ec || s.ending) return;
    // The progress first: what durable_position decides may depend on it
    // (audit writes its checkpoint as soon as the stream has decoded past
    // --until-lsn, not one tick later).
    if (hooks_.on_progress) {
      hooks_.on_progress(std::max(received_, s.stream.feedback().received()), Idle(s));
    }
    Status st = Checkpoint(s);
    if (!st.ok()) return Finish(s, st);
    if (ReachedUntil(s)) return Finish(s, Status::OK());
    ArmCheckpoint(s);
  });
}

void SlotConsumer::ArmStatus(Session& s) {
  if (options_.status_interval.count() <= 0) return;
  s.status_timer.expires_after(options_.status_interval);
  s.status_timer.async_wait([this, &s](const boost::system::error_code& ec) {
    if (ec || s.ending) return;
    LogStatus(s);
    s.last_status = steady_clock::now();
    s.changes_at_last_status = stats_.changes + s.decoder.stats().changes;
    ArmStatus(s);
  });
}

Status SlotConsumer::OnFrame(Session& s, const wire::XLogData& frame) {
  if (hooks_.on_frame) PGPARITY_RETURN_IF_ERROR(hooks_.on_frame(frame));
  if (frame.wal_end > received_) received_ = frame.wal_end;
  PGPARITY_ASSIGN_OR_RETURN(const bool ready, SinkReady());
  if (!ready) return Hold(s, frame);
  if (!s.held.empty()) PGPARITY_RETURN_IF_ERROR(FeedHeld(s));
  return Feed(s, frame);
}

Status SlotConsumer::Feed(Session& s, const wire::XLogData& frame) {
  PGPARITY_RETURN_IF_ERROR(s.decoder.Feed(frame));
  processed_ = std::max(processed_, s.decoder.last_commit_end());
  s.stream.feedback().MarkProcessed(processed_);
  s.stream.feedback().SetIdle(Idle(s) && durable_ == processed_);
  if (ReachedUntil(s)) asio::post(s.io, [this, &s] { Finish(s, Status::OK()); });
  return Status::OK();
}

Result<bool> SlotConsumer::SinkReady() {
  if (sink_ready_ || !hooks_.sink_ready) return true;
  PGPARITY_ASSIGN_OR_RETURN(sink_ready_, hooks_.sink_ready());
  return sink_ready_;
}

// The sink cannot take `frame` yet: it is kept, after the others. Past
// max_held_bytes the consumer waits here for the sink, reading nothing
// more (the server's send buffer fills, then it waits too).
Status SlotConsumer::Hold(Session& s, const wire::XLogData& frame) {
  if (s.held.empty()) ArmHold(s);
  s.held.Hold(frame);
  ++frames_held_;
  s.stream.feedback().SetIdle(false);  // a keepalive's position is past them
  if (s.held.bytes() < options_.max_held_bytes) return Status::OK();
  while (!stop_requested_) {
    PGPARITY_ASSIGN_OR_RETURN(const bool ready, SinkReady());
    if (ready) return FeedHeld(s);
    std::this_thread::sleep_for(milliseconds(1));
  }
  return Status::OK();  // stopping: the held frames go unconfirmed
}

Status SlotConsumer::FeedHeld(Session& s) {
  s.hold_timer.cancel();
  return s.held.FeedAll([this, &s](const wire::XLogData& f) { return Feed(s, f); });
}

// While frames are held, whether the sink is ready every 2 ms: the frames
// go in as soon as it is, whether or not more arrive.
void SlotConsumer::ArmHold(Session& s) {
  s.hold_timer.expires_after(milliseconds(2));
  s.hold_timer.async_wait([this, &s](const boost::system::error_code& ec) {
    if (ec || s.ending || s.held.empty()) return;
    auto ready = SinkReady();
    if (!ready.ok()) return Finish(s, ready.status());
    if (!*ready) return ArmHold(s);
    Status fed = FeedHeld(s);
    if (!fed.ok()) return Finish(s, fed);
    if (ReachedUntil(s)) Finish(s, Status::OK());  // Feed saw them held
  });
}

// Runs the session's event loop until the stream ends; RequestStop() stops
// the loop, after which the session still confirms and closes cleanly.
void SlotConsumer::RunLoop(Session& s) {
  s.io.restart();
  io_ = &s.io;
  if (stop_requested_) s.io.stop();
  s.io.run();
  io_ = nullptr;
  if (stop_requested_ && !s.ending) {
    s.io.restart();
    Finish(s, Status::OK());
    s.io.run_for(std::chrono::seconds(5));
  }
}

void SlotConsumer::AddSessionStats(const core::DecoderStats& d) {
  stats_.frames += d.frames;
  stats_.transactions += d.transactions;
  stats_.streamed_transactions += d.streamed_transactions;
  stats_.skipped_transactions += d.skipped_transactions;
  stats_.changes += d.changes;
  stats_.stream_blocks += d.stream_blocks;
  stats_.streamed_aborts += d.streamed_aborts;
  stats_.subxact_aborts += d.subxact_aborts;
  stats_.spills += d.spills;
  stats_.spilled_bytes += d.spilled_bytes;
  stats_.peak_buffered_bytes = std::max(stats_.peak_buffered_bytes, d.peak_buffered_bytes);
}

Status SlotConsumer::Stream(asio::io_context& io, bool& partial) {
  PGPARITY_ASSIGN_OR_RETURN(const wire::Lsn start, StartReplication());
  spdlog::info("streaming slot {} from {} (proto {}, {})", options_.slot, start.ToString(),
               conn_->proto_version(), conn_->endpoint());
  Session s(io, *conn_, start, sink_, DecoderOptionsForSession());
  PGPARITY_RETURN_IF_ERROR(
      s.stream.Start([this, &s](const wire::XLogData& frame) { return OnFrame(s, frame); },
                     [&s](Status st) {
                       s.done = std::move(st);
                       s.checkpoint_timer.cancel();
                       s.status_timer.cancel();
                       s.hold_timer.cancel();
                     }));
  ArmCheckpoint(s);
  ArmStatus(s);
  RunLoop(s);
  partial = s.decoder.in_transaction();
  streamed_frames_ = s.decoder.stats().frames > 0;
  AddSessionStats(s.decoder.stats());
  if (s.done.ok() && !ReachedUntil(s) && !stop_requested_) {
    return Status::Unavailable("the source ended the replication stream of slot " + options_.slot);
  }
  return s.done.WithPrefix("slot " + options_.slot + " at " + received_.ToString());
}

Status SlotConsumer::Run() {
  conn::ReconnectPolicy policy(options_.reconnect);
  asio::io_context io;
  bool first = true;
  for (;;) {
    Status st = Connect(first);
    if (st.ok()) {
      bool partial = false;
      st = Stream(io, partial);
      if (partial && hooks_.abandon) {
        Status a = hooks_.abandon();
        if (!a.ok()) st = a;
      }
      if (st.ok() || stop_requested_) {
        conn_.reset();
        return st.ok() || stop_requested_ ? Status::OK() : st;
      }
      if (streamed_frames_) policy.Reset();  // it streamed: a fresh run of attempts
    }
    conn_.reset();
    // Before the first stream, an unreachable source is the user's problem
    // to fix (wrong DSN, server down): report it instead of retrying.
    if (!info_reported_ || !options_.reconnect_on_loss || !conn::ReconnectPolicy::IsTransient(st) ||
        stop_requested_) {
      return st;
    }
    auto delay = policy.NextDelay();
    if (!delay) {
      return st.WithPrefix("gave up after " + std::to_string(policy.attempts()) +
                           " reconnection attempts");
    }
    ++reconnects_;
    spdlog::warn("{}; reconnecting in {} ms", st.ToString(), delay->count());
    const auto wake = steady_clock::now() + *delay;
    while (steady_clock::now() < wake && !stop_requested_) {
      std::this_thread::sleep_for(
          std::min<steady_clock::duration>(milliseconds(100), wake - steady_clock::now()));
    }
    if (stop_requested_) return Status::OK();
    first = false;
  }
}

}  // namespace pgparity::consumer
