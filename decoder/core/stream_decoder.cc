#include "pgparity/core/stream_decoder.h"

#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

#include "txn_log.h"

namespace pgparity::core {
namespace {

using wire::Lsn;
using wire::MessageType;
using wire::Xid;

std::string XidText(Xid xid) { return std::to_string(xid); }

// "LSN 0/16B3748: Commit: <what>": a protocol violation at the frame at `lsn`.
Status Violation(Lsn lsn, MessageType type, std::string_view what) {
  std::string msg = "LSN " + lsn.ToString() + ": ";
  msg += wire::MessageTypeName(type);
  msg += ": ";
  msg += what;
  return Status::Corruption(msg);
}

// A change of a relation no Relation message described. pgoutput describes
// a relation before its first change on a connection, but a walsender of
// PostgreSQL 14 does not after ALTER PUBLICATION ... SET
// (publish_via_partition_root) on a FOR ALL TABLES publication: the
// publication's invalidation (of every relation) does not reach
// pgoutput's cache, whose entry of a partition still says "described"
// while its changes now go as its root's, never described. Seen on 14.23
// (false to true; true to false describes the partitions, sent with their
// root before); 16 describes the root. The tables published changed, so it is a
// schema change to whoever holds state made from them; a new connection
// describes the relation.
Status UndescribedRelation(Lsn lsn, MessageType type, wire::Oid relid) {
  const std::string id = std::to_string(relid);
  return Status::SchemaChanged(
      "LSN " + lsn.ToString() + ": " + std::string(wire::MessageTypeName(type)) + ": relation " +
      id + " was not described by a Relation message (SELECT " + id +
      "::regclass on the source names it; a PostgreSQL 14 walsender does this after ALTER "
      "PUBLICATION ... SET (publish_via_partition_root), which changes the tables published)");
}

bool IsTwoPhase(MessageType type) {
  switch (type) {
    case MessageType::kBeginPrepare:
    case MessageType::kPrepare:
    case MessageType::kCommitPrepared:
    case MessageType::kRollbackPrepared:
    case MessageType::kStreamPrepare:
      return true;
    default:
      return false;
  }
}

MessageType MessageTypeOf(ChangeOp op) { return static_cast<MessageType>(static_cast<char>(op)); }

// The row change a message ParseHot read holds (Insert, Update or Delete).
struct HotRow {
  ChangeOp op;
  wire::Oid relid;
  wire::OldTupleKind old_kind;
  const wire::TupleView& old_tuple;  // empty when old_kind == kNone
  const wire::TupleView& new_tuple;  // empty for Delete
};

const wire::TupleView kNoTuple;

HotRow RowOf(const wire::HotMessage& h) {
  switch (h.type) {
    case MessageType::kInsert:
      return {ChangeOp::kInsert, h.insert.relid, wire::OldTupleKind::kNone, kNoTuple,
              h.insert.new_tuple};
    case MessageType::kUpdate:
      return {ChangeOp::kUpdate, h.update.relid, h.update.old_kind, h.update.old_tuple,
              h.update.new_tuple};
    default:  // ParseHot gave a change, so kDelete
      return {ChangeOp::kDelete, h.del.relid, h.del.old_kind, h.del.old_tuple, kNoTuple};
  }
}

// How a change's tuples do not have `rel`'s column count, or nullopt.
std::optional<std::string> TupleMismatch(const RelationInfo& rel, ChangeOp op,
                                         wire::OldTupleKind old_kind,
                                         const wire::TupleView& old_tuple,
                                         const wire::TupleView& new_tuple) {
  const size_t ncols = rel.column_count();
  const auto has = [&](const char* which, size_t n) {
    return std::string(which) + " tuple has " + std::to_string(n) + " columns, relation " +
           rel.QualifiedName() + " (" + std::to_string(rel.relid()) + ") has " +
           std::to_string(ncols);
  };
  if (op != ChangeOp::kDelete && new_tuple.size() != ncols) return has("new", new_tuple.size());
  if (old_kind != wire::OldTupleKind::kNone && old_tuple.size() != ncols) {
    return has("old", old_tuple.size());
  }
  return std::nullopt;
}

}  // namespace

StreamDecoder::StreamDecoder(ChangeSink& sink, DecoderOptions options)
    : sink_(sink), options_(std::move(options)) {
  init_status_ = wire::Validate(ParseOptionsFor(false));
  if (!init_status_.ok()) {
    init_status_ = std::move(init_status_).WithPrefix("StreamDecoder options");
  }
  if (options_.spill_dir.empty()) {
    std::error_code ec;
    options_.spill_dir = std::filesystem::temp_directory_path(ec);
    if (ec) options_.spill_dir = "/tmp";
  }
  last_commit_end_ = options_.resume_lsn;
}

StreamDecoder::~StreamDecoder() {
  // What the sink prepared for transactions never finished here is void.
  if (!options_.deliver_streamed_changes_early) return;
  for (const auto& [xid, log] : logs_) sink_.OnStreamTruncated(xid, 0);
}

wire::ParseOptions StreamDecoder::ParseOptionsFor(bool in_stream) const {
  wire::ParseOptions o;
  o.protocol_version = options_.protocol_version;
  o.in_stream = in_stream;
  o.stream_abort_info = options_.stream_abort_info;
  return o;
}

Status StreamDecoder::Feed(wire::Lsn wal_start, wire::Lsn wal_end,
                           std::span<const std::byte> body) {
  if (!init_status_.ok()) return init_status_;
  if (!failed_.ok()) {
    return Status::FailedPrecondition("decoder stopped by an earlier error: " + failed_.ToString());
  }
  ++stats_.frames;
  Status s = FeedFrame(FrameRef{wal_start, wal_end, body});
  if (!s.ok()) failed_ = s;
  return s;
}

Status StreamDecoder::FeedFrame(const FrameRef& f) {
  // The messages of every transaction skip the Message variant; anything
  // else, or anything ParseHot does not plainly accept, takes the checked
  // path below (which gives the errors).
  wire::HotMessage& h = hot_;
  if (state_ == State::kInStreamBlock) {
    if (wire::ParseHot(f.body, true, h)) {
      origin_allowed_ = false;
      if (options_.deliver_streamed_changes_early) {
        PGPARITY_RETURN_IF_ERROR(DeliverEarly(h, f.wal_start, *h.change_xid()));
      }
      return BufferInStream(f, *h.change_xid());
    }
  } else if (wire::ParseHot(f.body, false, h)) {
    switch (h.type) {
      case MessageType::kBegin:
        origin_allowed_ = false;
        return OnBegin(f, h.begin);
      case MessageType::kCommit:
        origin_allowed_ = false;
        return OnCommit(f, h.commit);
      default:
        if (state_ != State::kInTransaction) break;
        origin_allowed_ = false;
        return ApplyHotRow(h, f.wal_start, txn_.xid, txn_);
    }
  }
  Result<wire::Message> parsed = wire::Parse(f.body, ParseOptionsFor(in_stream_block()));
  if (!parsed.ok()) return std::move(parsed).status().WithPrefix("LSN " + f.wal_start.ToString());
  return Dispatch(f, *parsed);
}

Status StreamDecoder::Dispatch(const FrameRef& f, wire::Message& m) {
  const MessageType type = wire::TypeOf(m);
  // Origin is allowed only as the very next message after Begin or Stream
  // Start; whatever comes next closes that window.
  const bool origin_allowed = origin_allowed_;
  origin_allowed_ = false;
  switch (type) {
    case MessageType::kBegin:
      return OnBegin(f, std::get<wire::Begin>(m));
    case MessageType::kCommit:
      return OnCommit(f, std::get<wire::Commit>(m));
    case MessageType::kOrigin:
      if (!origin_allowed) {
        return Violation(f.wal_start, type, "not right after Begin or Stream Start");
      }
      return Status::OK();
    case MessageType::kRelation:
      return OnTransactional(f, m, type, std::get<wire::Relation>(m).xid);
    case MessageType::kType:
      return OnTransactional(f, m, type, std::get<wire::Type>(m).xid);
    case MessageType::kInsert:
      return OnTransactional(f, m, type, std::get<wire::Insert>(m).xid);
    case MessageType::kUpdate:
      return OnTransactional(f, m, type, std::get<wire::Update>(m).xid);
    case MessageType::kDelete:
      return OnTransactional(f, m, type, std::get<wire::Delete>(m).xid);
    case MessageType::kTruncate:
      return OnTransactional(f, m, type, std::get<wire::Truncate>(m).xid);
    case MessageType::kMessage:
      return OnTransactional(f, m, type, std::get<wire::LogicalMessage>(m).xid);
    case MessageType::kStreamStart:
      return OnStreamStart(f, std::get<wire::StreamStart>(m));
    case MessageType::kStreamStop:
      return OnStreamStop(f, std::get<wire::StreamStop>(m));
    case MessageType::kStreamCommit:
      return OnStreamCommit(f, std::get<wire::StreamCommit>(m));
    case MessageType::kStreamAbort:
      return OnStreamAbort(f, std::get<wire::StreamAbort>(m));
    default:
      break;
  }
  if (IsTwoPhase(type)) {
    return Status::NotSupported(
        "LSN " + f.wal_start.ToString() + ": " + std::string(wire::MessageTypeName(type)) +
        ": two-phase transactions are not supported (pgparity never requests two_phase; a "
        "PostgreSQL 14 source never sends them)");
  }
  return Status::Internal("LSN " + f.wal_start.ToString() + ": unhandled message type " +
                          std::string(wire::MessageTypeName(type)));
}

// ---------------------------------------------------------------- Begin / Commit

Status StreamDecoder::OnBegin(const FrameRef& f, const wire::Begin& m) {
  if (state_ == State::kInTransaction) {
    return Violation(f.wal_start, MessageType::kBegin,
                     "transaction xid " + XidText(txn_.xid) + " (final_lsn " +
                         txn_.commit_lsn.ToString() +
                         ") is still open (Begin inside a transaction)");
  }
  if (state_ == State::kInStreamBlock) {
    return Violation(
        f.wal_start, MessageType::kBegin,
        "inside the stream block of xid " + XidText(stream_xid_) + " (Begin before Stream Stop)");
  }
  txn_ = ActiveTxn{};
  txn_.xid = m.xid;
  txn_.commit_lsn = m.final_lsn;
  txn_.commit_time = m.commit_time;
  txn_.deliver = !(options_.resume_lsn.valid() && m.final_lsn < options_.resume_lsn);
  state_ = State::kInTransaction;
  origin_allowed_ = true;
  return BeginDelivery(txn_);
}

Status StreamDecoder::OnCommit(const FrameRef& f, const wire::Commit& m) {
  if (state_ == State::kIdle) {
    return Violation(f.wal_start, MessageType::kCommit,
                     "no open transaction (Commit without Begin)");
  }
  if (state_ == State::kInStreamBlock) {
    return Violation(f.wal_start, MessageType::kCommit,
                     "inside the stream block of xid " + XidText(stream_xid_));
  }
  if (m.commit_lsn != txn_.commit_lsn) {
    return Violation(f.wal_start, MessageType::kCommit,
                     "commit_lsn " + m.commit_lsn.ToString() +
                         " does not match Begin's final_lsn " + txn_.commit_lsn.ToString() +
                         " (xid " + XidText(txn_.xid) + ")");
  }
  PGPARITY_RETURN_IF_ERROR(CheckCommitOrder(f, MessageType::kCommit, m.commit_lsn, m.end_lsn));
  state_ = State::kIdle;
  return FinishDelivery(txn_, m.end_lsn);
}

Status StreamDecoder::CheckCommitOrder(const FrameRef& f, MessageType type, Lsn commit_lsn,
                                       Lsn end_lsn) const {
  if (end_lsn <= commit_lsn) {
    return Violation(
        f.wal_start, type,
        "end_lsn " + end_lsn.ToString() + " is not after commit_lsn " + commit_lsn.ToString());
  }
  if (commit_lsn < last_seen_commit_end_) {
    return Violation(f.wal_start, type,
                     "commit_lsn " + commit_lsn.ToString() +
                         " is before the end of the previous commit " +
                         last_seen_commit_end_.ToString() + " (commits out of order)");
  }
  return Status::OK();
}

Status StreamDecoder::BeginDelivery(const ActiveTxn& txn) {
  if (!txn.deliver) return Status::OK();
  TxnInfo info;
  info.xid = txn.xid;
  info.commit_lsn = txn.commit_lsn;
  info.commit_time = txn.commit_time;
  info.streamed = txn.streamed;
  info.end_lsn = txn.end_lsn;
  info.streamed_entries = txn.log_entries;
  return sink_.OnBegin(info);
}

Status StreamDecoder::FinishDelivery(const ActiveTxn& txn, Lsn end_lsn) {
  last_seen_commit_end_ = end_lsn;
  if (!txn.deliver) {
    ++stats_.skipped_transactions;
    last_commit_end_ = std::max(last_commit_end_, end_lsn);
    return Status::OK();
  }
  CommitInfo c;
  c.xid = txn.xid;
  c.commit_lsn = txn.commit_lsn;
  c.end_lsn = end_lsn;
  c.commit_time = txn.commit_time;
  c.streamed = txn.streamed;
  c.changes = txn.changes;
  c.truncates = txn.truncates;
  c.messages = txn.messages;
  PGPARITY_RETURN_IF_ERROR(sink_.OnCommit(c));
  ++stats_.transactions;
  if (txn.streamed) ++stats_.streamed_transactions;
  last_commit_end_ = std::max(last_commit_end_, end_lsn);
  return Status::OK();
}

// ---------------------------------------------------------------- changes

Status StreamDecoder::OnTransactional(const FrameRef& f, const wire::Message& m, MessageType type,
                                      std::optional<Xid> xid) {
  const bool non_transactional_message =
      type == MessageType::kMessage && !std::get<wire::LogicalMessage>(m).transactional();
  switch (state_) {
    case State::kInTransaction:
      if (non_transactional_message) {
        return Violation(f.wal_start, type,
                         "non-transactional message inside transaction xid " + XidText(txn_.xid));
      }
      return Apply(m, f.wal_start, txn_.xid, txn_);
    case State::kInStreamBlock:
      if (non_transactional_message) {
        return Violation(
            f.wal_start, type,
            "non-transactional message inside the stream block of xid " + XidText(stream_xid_));
      }
      // The parser read the xid: it is there whenever in_stream is set.
      if (!xid.has_value()) {
        return Status::Internal("LSN " + f.wal_start.ToString() + ": streamed " +
                                std::string(wire::MessageTypeName(type)) + " without an xid");
      }
      if (options_.deliver_streamed_changes_early) DescribeEarly(m);
      return BufferInStream(f, *xid);
    case State::kIdle:
      break;
  }
  if (non_transactional_message) {
    const wire::LogicalMessage& lm = std::get<wire::LogicalMessage>(m);
    if (options_.resume_lsn.valid() && lm.lsn < options_.resume_lsn) return Status::OK();
    LogicalMessageEvent e;
    e.transactional = false;
    e.lsn = lm.lsn;
    e.prefix = lm.prefix;
    e.content = lm.content;
    return sink_.OnLogicalMessage(e);
  }
  return Violation(f.wal_start, type,
                   "outside any transaction (no Begin or Stream Start before it)");
}

Status StreamDecoder::Apply(const wire::Message& m, Lsn lsn, Xid subxid, ActiveTxn& txn) {
  switch (wire::TypeOf(m)) {
    case MessageType::kRelation:
      relations_.Apply(std::get<wire::Relation>(m));
      return Status::OK();
    case MessageType::kType:
      relations_.ApplyType(std::get<wire::Type>(m));
      return Status::OK();
    case MessageType::kInsert: {
      const auto& x = std::get<wire::Insert>(m);
      return ApplyRow(ChangeOp::kInsert, x.relid, wire::OldTupleKind::kNone, wire::TupleView(),
                      x.new_tuple, lsn, subxid, txn);
    }
    case MessageType::kUpdate: {
      const auto& x = std::get<wire::Update>(m);
      return ApplyRow(ChangeOp::kUpdate, x.relid, x.old_kind, x.old_tuple, x.new_tuple, lsn, subxid,
                      txn);
    }
    case MessageType::kDelete: {
      const auto& x = std::get<wire::Delete>(m);
      return ApplyRow(ChangeOp::kDelete, x.relid, x.old_kind, x.old_tuple, wire::TupleView(), lsn,
                      subxid, txn);
    }
    case MessageType::kTruncate:
      return ApplyTruncate(std::get<wire::Truncate>(m), lsn, subxid, txn);
    case MessageType::kMessage:
      return ApplyMessage(std::get<wire::LogicalMessage>(m), lsn, subxid, txn);
    default:
      return Status::Internal("LSN " + lsn.ToString() + ": " +
                              std::string(wire::MessageTypeName(wire::TypeOf(m))) +
                              " is not a transactional message");
  }
}

Status StreamDecoder::ApplyRow(ChangeOp op, wire::Oid relid, wire::OldTupleKind old_kind,
                               const wire::TupleView& old_tuple, const wire::TupleView& new_tuple,
                               Lsn lsn, Xid subxid, ActiveTxn& txn) {
  const RelationInfo* rel = relations_.Find(relid);
  if (rel == nullptr) return UndescribedRelation(lsn, MessageTypeOf(op), relid);
  if (auto bad = TupleMismatch(*rel, op, old_kind, old_tuple, new_tuple)) {
    return Violation(lsn, MessageTypeOf(op), *bad);
  }
  ++txn.changes;
  if (!txn.deliver) return Status::OK();
  ++stats_.changes;
  Change change{op, *rel, old_kind, old_tuple, new_tuple, lsn, txn.xid, subxid};
  if (txn.streamed) change.stream_entry = txn.replay_entry;
  return sink_.OnChange(change);
}

Status StreamDecoder::ApplyHotRow(const wire::HotMessage& h, Lsn lsn, Xid subxid, ActiveTxn& txn) {
  const HotRow r = RowOf(h);
  return ApplyRow(r.op, r.relid, r.old_kind, r.old_tuple, r.new_tuple, lsn, subxid, txn);
}

Status StreamDecoder::ApplyTruncate(const wire::Truncate& m, Lsn lsn, Xid subxid, ActiveTxn& txn) {
  truncate_scratch_.clear();
  for (const wire::Oid relid : m.relids) {
    const RelationInfo* rel = relations_.Find(relid);
    if (rel == nullptr) return UndescribedRelation(lsn, MessageType::kTruncate, relid);
    truncate_scratch_.push_back(rel);
  }
  ++txn.truncates;
  if (!txn.deliver) return Status::OK();
  TruncateEvent e;
  e.relations = truncate_scratch_;
  e.flags = m.flags;
  e.lsn = lsn;
  e.xid = txn.xid;
  e.subxid = subxid;
  return sink_.OnTruncate(e);
}

Status StreamDecoder::ApplyMessage(const wire::LogicalMessage& m, Lsn /*lsn*/, Xid subxid,
                                   ActiveTxn& txn) {
  ++txn.messages;
  if (!txn.deliver) return Status::OK();
  LogicalMessageEvent e;
  e.transactional = true;
  e.lsn = m.lsn;
  e.prefix = m.prefix;
  e.content = m.content;
  e.xid = txn.xid;
  e.subxid = subxid;
  return sink_.OnLogicalMessage(e);
}

// ---------------------------------------------------------------- streams

Status StreamDecoder::OnStreamStart(const FrameRef& f, const wire::StreamStart& m) {
  if (state_ == State::kInTransaction) {
    return Violation(
        f.wal_start, MessageType::kStreamStart,
        "inside transaction xid " + XidText(txn_.xid) + " (Stream Start before Commit)");
  }
  if (state_ == State::kInStreamBlock) {
    return Violation(f.wal_start, MessageType::kStreamStart,
                     "inside the stream block of xid " + XidText(stream_xid_) +
                         " (Stream Start without Stream Stop)");
  }
  auto it = logs_.find(m.xid);
  if (m.first_segment) {
    if (it != logs_.end()) {
      return Violation(f.wal_start, MessageType::kStreamStart,
                       "first segment of xid " + XidText(m.xid) +
                           ", which is already open (a second first segment)");
    }
    const std::string file = "pgparity-spill-" + std::to_string(::getpid()) + "-" + XidText(m.xid) +
                             "-" + std::to_string(++spill_counter_);
    it = logs_.emplace(m.xid, std::make_unique<internal::TxnLog>(m.xid, options_.spill_dir / file))
             .first;
  } else if (it == logs_.end()) {
    return Violation(f.wal_start, MessageType::kStreamStart,
                     "next segment of xid " + XidText(m.xid) +
                         ", which has no open streamed transaction (no first segment)");
  }
  state_ = State::kInStreamBlock;
  stream_xid_ = m.xid;
  stream_log_ = it->second.get();
  origin_allowed_ = true;
  ++stats_.stream_blocks;
  return Status::OK();
}

Status StreamDecoder::OnStreamStop(const FrameRef& f, const wire::StreamStop&) {
  if (state_ != State::kInStreamBlock) {
    return Violation(f.wal_start, MessageType::kStreamStop,
                     state_ == State::kInTransaction
                         ? "inside transaction xid " + XidText(txn_.xid) + ", not a stream block"
                         : std::string("no open stream block (Stream Stop without Stream Start)"));
  }
  state_ = State::kIdle;
  stream_xid_ = 0;
  stream_log_ = nullptr;
  return Status::OK();
}

void StreamDecoder::DescribeEarly(const wire::Message& m) {
  const MessageType type = wire::TypeOf(m);
  if (type != MessageType::kRelation && type != MessageType::kType) return;
  RelationCache& described = stream_relations_.try_emplace(stream_xid_).first->second;
  if (type == MessageType::kRelation) {
    described.Apply(std::get<wire::Relation>(m));
  } else {
    described.ApplyType(std::get<wire::Type>(m));
  }
}

Status StreamDecoder::DeliverEarly(const wire::HotMessage& h, Lsn lsn, Xid subxid) {
  const auto described = stream_relations_.find(stream_xid_);
  if (described == stream_relations_.end()) return Status::OK();
  const HotRow r = RowOf(h);
  const RelationInfo* rel = described->second.Find(r.relid);
  // Not described in this stream, or tuples that do not fit: the replay
  // delivers it (or reports it).
  if (rel == nullptr || TupleMismatch(*rel, r.op, r.old_kind, r.old_tuple, r.new_tuple)) {
    return Status::OK();
  }
  Change change{r.op, *rel, r.old_kind, r.old_tuple, r.new_tuple, lsn, stream_xid_, subxid};
  change.stream_entry = stream_log_->entries();
  ++stats_.early_changes;
  return sink_.OnStreamedChange(change);
}

Status StreamDecoder::BufferInStream(const FrameRef& f, Xid subxid) {
  const size_t before = stream_log_->memory_bytes();
  stream_log_->Append(subxid, f.wal_start, f.wal_end, f.body);
  buffered_bytes_ += stream_log_->memory_bytes() - before;
  Status s = EnforceMemoryBound();
  if (!s.ok()) return std::move(s).WithPrefix("LSN " + f.wal_start.ToString());
  stats_.peak_buffered_bytes = std::max(stats_.peak_buffered_bytes, buffered_bytes_);
  return Status::OK();
}

Status StreamDecoder::EnforceMemoryBound() {
  while (buffered_bytes_ > options_.max_buffered_bytes) {
    internal::TxnLog* biggest = nullptr;
    for (auto& [xid, log] : logs_) {
      if (biggest == nullptr || log->memory_bytes() > biggest->memory_bytes()) {
        biggest = log.get();
      }
    }
    if (biggest == nullptr || biggest->memory_bytes() == 0) break;
    const size_t bytes = biggest->memory_bytes();
    const uint64_t file_before = biggest->file_bytes();
    PGPARITY_RETURN_IF_ERROR(biggest->Spill());
    buffered_bytes_ -= bytes;
    ++stats_.spills;
    stats_.spilled_bytes += biggest->file_bytes() - file_before;
  }
  return Status::OK();
}

Status StreamDecoder::OnStreamCommit(const FrameRef& f, const wire::StreamCommit& m) {
  if (state_ != State::kIdle) {
    return Violation(f.wal_start, MessageType::kStreamCommit,
                     state_ == State::kInTransaction
                         ? "inside transaction xid " + XidText(txn_.xid)
                         : "inside the stream block of xid " + XidText(stream_xid_) +
                               " (Stream Commit before Stream Stop)");
  }
  const auto it = logs_.find(m.xid);
  if (it == logs_.end()) {
    return Violation(
        f.wal_start, MessageType::kStreamCommit,
        "xid " + XidText(m.xid) + " has no open streamed transaction (no Stream Start)");
  }
  PGPARITY_RETURN_IF_ERROR(
      CheckCommitOrder(f, MessageType::kStreamCommit, m.commit_lsn, m.end_lsn));

  ActiveTxn txn;
  txn.xid = m.xid;
  txn.commit_lsn = m.commit_lsn;
  txn.commit_time = m.commit_time;
  txn.streamed = true;
  txn.end_lsn = m.end_lsn;
  txn.deliver = !(options_.resume_lsn.valid() && m.commit_lsn < options_.resume_lsn);
  txn.log_entries = it->second->entries();
  PGPARITY_RETURN_IF_ERROR(BeginDelivery(txn));
  Status s = Replay(*it->second, txn);
  if (!s.ok()) {
    return std::move(s).WithPrefix("LSN " + f.wal_start.ToString() + ": StreamCommit: xid " +
                                   XidText(m.xid) + ": replaying its streamed messages");
  }
  DropLog(m.xid);
  return FinishDelivery(txn, m.end_lsn);
}

Status StreamDecoder::Replay(internal::TxnLog& log, ActiveTxn& txn) {
  const wire::ParseOptions options = ParseOptionsFor(true);
  wire::HotMessage& h = hot_;
  uint64_t entry = 0;
  return log.Replay([&](const internal::LogEntry& e) -> Status {
    txn.replay_entry = entry++;  // the number DeliverEarly gave it (entries() then)
    if (wire::ParseHot(e.body, true, h)) {
      return ApplyHotRow(h, e.wal_start, e.subxid, txn);
    }
    Result<wire::Message> m = wire::Parse(e.body, options);
    if (!m.ok()) return std::move(m).status().WithPrefix("LSN " + e.wal_start.ToString());
    return Apply(*m, e.wal_start, e.subxid, txn);
  });
}

Status StreamDecoder::OnStreamAbort(const FrameRef& f, const wire::StreamAbort& m) {
  if (state_ != State::kIdle) {
    return Violation(f.wal_start, MessageType::kStreamAbort,
                     state_ == State::kInTransaction
                         ? "inside transaction xid " + XidText(txn_.xid)
                         : "inside the stream block of xid " + XidText(stream_xid_) +
                               " (Stream Abort before Stream Stop)");
  }
  const auto it = logs_.find(m.xid);
  if (it == logs_.end()) {
    return Violation(
        f.wal_start, MessageType::kStreamAbort,
        "xid " + XidText(m.xid) + " has no open streamed transaction (no Stream Start)");
  }
  if (m.subxid == m.xid) {
    DropLog(m.xid);
    ++stats_.streamed_aborts;
    return Status::OK();
  }
  internal::TxnLog& log = *it->second;
  const size_t before = log.memory_bytes();
  Result<internal::TxnLog::TruncateResult> r = log.TruncateAtSubxact(m.subxid);
  if (!r.ok()) return std::move(r).status().WithPrefix("LSN " + f.wal_start.ToString());
  buffered_bytes_ -= before - log.memory_bytes();
  if (r->entries_dropped > 0) {
    ++stats_.subxact_aborts;
    if (options_.deliver_streamed_changes_early) sink_.OnStreamTruncated(m.xid, log.entries());
  }
  return Status::OK();
}

void StreamDecoder::DropLog(Xid xid) {
  const auto it = logs_.find(xid);
  if (it == logs_.end()) return;
  buffered_bytes_ -= it->second->memory_bytes();
  logs_.erase(it);
  stream_relations_.erase(xid);
  if (options_.deliver_streamed_changes_early) sink_.OnStreamTruncated(xid, 0);
}

}  // namespace pgparity::core
