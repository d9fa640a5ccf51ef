// StreamDecoder: the decoder's state machine. Input: the XLogData frames of
// one logical replication stream (pgoutput), in order. Output: committed
// transactions, delivered to a ChangeSink (change_sink.h). Pure: no libpq,
// no sockets; the only I/O is the optional spill files of streamed
// transactions.
//
//   RecordingSink sink;
//   StreamDecoder decoder(sink, {.protocol_version = 2});
//   for (const wire::XLogData& frame : frames)
//     PGPARITY_RETURN_IF_ERROR(decoder.Feed(frame));
//   Confirm(decoder.last_commit_end());
//
// What it checks (a violation is Status::Corruption naming the frame's LSN
// and the message, "LSN 0/16B3748: Commit: no open transaction (Commit
// without Begin)"):
//   - Begin, then Relation/Type/Origin/changes, then Commit; no Begin inside
//     a transaction or a stream block; Commit.commit_lsn == Begin.final_lsn;
//     commit end LSNs strictly increase;
//   - Stream Start / Stream Stop pairing; Stream Start's first_segment flag
//     against the streamed transactions already open; Stream Commit / Stream
//     Abort only outside blocks and only for an open streamed transaction;
//   - changes, Truncate, transactional messages, Relation and Type only
//     inside a transaction or a stream block; non-transactional messages
//     only outside both;
//   - every change names a relation described by an earlier Relation
//     message (else Status::SchemaChanged, not Corruption: a PostgreSQL 14
//     walsender sends changes of a partitioned table's root undescribed
//     after ALTER PUBLICATION ... SET (publish_via_partition_root), see
//     UndescribedRelation in the .cc), and its tuples have that relation's
//     column count.
// Two-phase messages (protocol v3) are NotSupported: pgparity never asks for
// two_phase and a PostgreSQL 14 source never sends them.
// The first error stops the decoder: later Feed calls return
// FailedPrecondition carrying it.
//
// Streamed transactions (protocol v2, streaming on): every message between
// Stream Start(xid) and Stream Stop is kept, bytes and LSNs, in one ordered
// log per top-level xid, each entry tagged with the subtransaction xid the
// message carries -- Relation and Type messages too: they reach the relation
// cache only when the log is replayed, so transactions committed meanwhile
// see the old definitions (as PostgreSQL's apply worker, which spools them
// with the changes). Stream Commit replays the log through the normal path
// (OnBegin with the Stream Commit's LSN and time, the changes, OnCommit) and
// frees it. Stream Abort(xid, xid) drops the whole log; Stream Abort(xid,
// subxid) drops the entries from the first one of `subxid` to the end, as
// the apply worker truncates its spool file (see DESIGN NOTE below). When
// the logs together hold more than max_buffered_bytes in memory, the
// biggest is moved to a temp file in spill_dir (read back at commit; removed
// at commit, abort and destruction).
//
// With deliver_streamed_changes_early, each Insert/Update/Delete of the
// stream block whose relation the block's transaction described also goes
// to the sink's OnStreamedChange before it is buffered, numbered by its
// entry in the log; the replay gives the same numbers (Change::stream_entry)
// and OnStreamTruncated follows the aborts (change_sink.h).
//
// DESIGN NOTE (subtransaction aborts, checked against PostgreSQL 14 and 16):
// decode.c's DecodeAbort calls ReorderBufferAbort for every subtransaction
// listed in the abort record (the aborted subtransaction's own committed
// descendants) and then for the aborted xid itself; reorderbuffer.c sends a
// Stream Abort for each of them that was streamed (a subtransaction is marked
// streamed only if it had changes when streamed: "we don't want to send
// aborts for XIDs the downstream is not aware of"). Nested subtransactions
// are flattened under the top-level transaction, and their streamed changes
// are in WAL order, so every entry after the first entry of an aborting
// subtransaction S belongs to S or to one of its descendants, whose Stream
// Aborts come first. Dropping "S's entries only" and truncating at S's first
// entry (what worker.c's apply_handle_stream_abort does, "remove the
// subxacts with higher offsets") therefore give the same result on every
// stream PostgreSQL produces; the decoder truncates, like the apply worker,
// so that it agrees with the subscriber even where they could differ.
// pgoutput re-sends Relation messages after any Stream Abort
// (cleanup_rel_sync_cache for the top-level xid), so a Relation dropped with
// an aborted subtransaction is sent again before it is needed.
//
// Restart: a new decoder resumes where the last one confirmed. Set
// resume_lsn to that position (a commit end LSN): transactions whose commit
// LSN is before it are decoded (the relation cache still learns from them)
// but not delivered, exactly the rule the walsender applies itself, so a
// re-sent transaction is never delivered twice.
//
// Allocation: the steady-state non-streamed path (Insert/Update/Delete inside
// Begin/Commit) allocates nothing per change: events are views into the
// frame, scratch vectors are reused. Streamed messages are copied into their
// transaction's log (amortized growth).
//
// Thread-safety: none; one thread feeds a decoder.
#ifndef PGPARITY_CORE_STREAM_DECODER_H_
#define PGPARITY_CORE_STREAM_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "pgparity/core/change_sink.h"
#include "pgparity/core/relation_cache.h"
#include "pgparity/status.h"
#include "pgparity/wire/copy_data.h"
#include "pgparity/wire/lsn.h"
#include "pgparity/wire/messages.h"
#include "pgparity/wire/pgoutput.h"

namespace pgparity::core {

namespace internal {
class TxnLog;
}  // namespace internal

inline constexpr size_t kDefaultMaxBufferedBytes = size_t{64} << 20;  // 64 MiB

struct DecoderOptions {
  // The negotiated proto_version: 1, or 2 with streaming (PostgreSQL 14);
  // 3 and 4 parse but their two-phase messages are NotSupported.
  int protocol_version = 1;
  // Protocol v4 with streaming = parallel: Stream Abort carries LSN and time.
  bool stream_abort_info = false;
  // Bound on the bytes the streamed transactions' logs hold in memory, all
  // together; past it the biggest log is spilled to a file.
  size_t max_buffered_bytes = kDefaultMaxBufferedBytes;
  // Where spill files go ("pgparity-spill-<pid>-<xid>-<n>"); empty means the
  // system's temp directory. Files left by a crashed process can be removed
  // when no process with that pid runs.
  std::filesystem::path spill_dir;
  // The position streaming resumed from (the slot's confirmed flush LSN, a
  // commit end); 0/0 for none. Transactions whose commit LSN is before it
  // are not delivered, and last_commit_end() starts there.
  wire::Lsn resume_lsn;
  // Give the sink the changes of open streamed transactions as they arrive
  // too (change_sink.h, "Early delivery"), not only at their Stream Commit.
  bool deliver_streamed_changes_early = false;
};

struct DecoderStats {
  uint64_t frames = 0;
  uint64_t transactions = 0;           // delivered commits (streamed included)
  uint64_t streamed_transactions = 0;  // of which streamed
  uint64_t skipped_transactions = 0;   // not delivered: before resume_lsn
  uint64_t changes = 0;                // OnChange calls
  uint64_t stream_blocks = 0;          // Stream Start .. Stream Stop pairs
  uint64_t streamed_aborts = 0;        // Stream Abort of a whole transaction
  uint64_t subxact_aborts = 0;         // Stream Abort of a subtransaction with entries
  uint64_t spills = 0;                 // logs moved to disk
  uint64_t spilled_bytes = 0;          // bytes written to spill files
  size_t peak_buffered_bytes = 0;      // highest buffered_bytes()
  uint64_t early_changes = 0;          // OnStreamedChange calls
};

class StreamDecoder {
 public:
  // `sink` must outlive the decoder.
  explicit StreamDecoder(ChangeSink& sink, DecoderOptions options = {});
  ~StreamDecoder();  // removes spill files
  StreamDecoder(const StreamDecoder&) = delete;
  StreamDecoder& operator=(const StreamDecoder&) = delete;

  // Decodes one XLogData frame: `body` is one pgoutput message, `wal_start`
  // and `wal_end` the frame's LSN fields. Callbacks to the sink happen inside
  // this call; `body` need only live until it returns.
  Status Feed(wire::Lsn wal_start, wire::Lsn wal_end, std::span<const std::byte> body);
  Status Feed(const wire::XLogData& frame) {
    return Feed(frame.wal_start, frame.wal_end, frame.body);
  }

  // LSN watermarks for the connection layer (see conn/feedback.h).
  //
  // The end LSN of the last commit fully delivered to the sink (and its
  // OnCommit returned OK), or resume_lsn before the first. Confirming it is
  // safe once the sink made its results durable.
  wire::Lsn last_commit_end() const noexcept { return last_commit_end_; }
  // No transaction open, not inside a stream block, no streamed transaction
  // buffered: everything received so far is delivered. Only then may a
  // keepalive's wal end be confirmed.
  bool idle() const noexcept { return state_ == State::kIdle && logs_.empty(); }

  bool in_transaction() const noexcept { return state_ == State::kInTransaction; }
  bool in_stream_block() const noexcept { return state_ == State::kInStreamBlock; }
  size_t open_streamed_transactions() const noexcept { return logs_.size(); }
  // Bytes the streamed transactions' logs hold in memory now.
  size_t buffered_bytes() const noexcept { return buffered_bytes_; }

  const RelationCache& relations() const noexcept { return relations_; }
  const DecoderStats& stats() const noexcept { return stats_; }
  const DecoderOptions& options() const noexcept { return options_; }

 private:
  enum class State { kIdle, kInTransaction, kInStreamBlock };

  // The transaction being delivered: a non-streamed one between Begin and
  // Commit, or a streamed one during its replay.
  struct ActiveTxn {
    wire::Xid xid = 0;
    wire::Lsn commit_lsn;
    wire::Timestamp commit_time;
    bool streamed = false;
    wire::Lsn end_lsn;    // streamed: StreamCommit.end_lsn
    bool deliver = true;  // false: before resume_lsn
    uint64_t changes = 0;
    uint64_t truncates = 0;
    uint64_t messages = 0;
    uint64_t replay_entry = 0;  // streamed: the log entry being replayed (Change::stream_entry)
    uint64_t log_entries = 0;   // streamed: its log's entries (TxnInfo::streamed_entries)
  };

  // Where a message comes from, for errors and for its LSN.
  struct FrameRef {
    wire::Lsn wal_start;
    wire::Lsn wal_end;
    std::span<const std::byte> body;
  };

  Status FeedFrame(const FrameRef& frame);
  Status Dispatch(const FrameRef& frame, wire::Message& message);

  // Live messages, by type.
  Status OnBegin(const FrameRef& f, const wire::Begin& m);
  Status OnCommit(const FrameRef& f, const wire::Commit& m);
  Status OnOrigin(const FrameRef& f, const wire::Origin& m);
  Status OnStreamStart(const FrameRef& f, const wire::StreamStart& m);
  Status OnStreamStop(const FrameRef& f, const wire::StreamStop& m);
  Status OnStreamCommit(const FrameRef& f, const wire::StreamCommit& m);
  Status OnStreamAbort(const FrameRef& f, const wire::StreamAbort& m);
  // Relation, Type, Insert, Update, Delete, Truncate, Message: inside a
  // transaction applied at once, inside a stream block appended to the log.
  Status OnTransactional(const FrameRef& f, const wire::Message& m, wire::MessageType type,
                         std::optional<wire::Xid> xid);
  Status BufferInStream(const FrameRef& f, wire::Xid subxid);
  // Early delivery of a streamed change ParseHot read, before it is
  // buffered (its entry: the log's size), when its relation was described
  // in the transaction's stream.
  Status DeliverEarly(const wire::HotMessage& h, wire::Lsn lsn, wire::Xid subxid);
  // A Relation or Type message of the stream block, also kept in the
  // transaction's own relation cache for early delivery.
  void DescribeEarly(const wire::Message& m);
  Status EnforceMemoryBound();

  // Applies one transactional message to the relation cache or the sink, in
  // the context of `txn`. Shared by live and replayed messages.
  Status Apply(const wire::Message& m, wire::Lsn lsn, wire::Xid subxid, ActiveTxn& txn);
  Status ApplyRow(ChangeOp op, wire::Oid relid, wire::OldTupleKind old_kind,
                  const wire::TupleView& old_tuple, const wire::TupleView& new_tuple, wire::Lsn lsn,
                  wire::Xid subxid, ActiveTxn& txn);
  // ApplyRow for a change ParseHot read (live or replayed).
  Status ApplyHotRow(const wire::HotMessage& h, wire::Lsn lsn, wire::Xid subxid, ActiveTxn& txn);
  Status ApplyTruncate(const wire::Truncate& m, wire::Lsn lsn, wire::Xid subxid, ActiveTxn& txn);
  Status ApplyMessage(const wire::LogicalMessage& m, wire::Lsn lsn, wire::Xid subxid,
                      ActiveTxn& txn);

  Status BeginDelivery(const ActiveTxn& txn);
  // Checks order, delivers OnCommit, advances the watermark.
  Status FinishDelivery(const ActiveTxn& txn, wire::Lsn end_lsn);
  Status CheckCommitOrder(const FrameRef& f, wire::MessageType type, wire::Lsn commit_lsn,
                          wire::Lsn end_lsn) const;
  Status Replay(internal::TxnLog& log, ActiveTxn& txn);
  void DropLog(wire::Xid xid);

  wire::ParseOptions ParseOptionsFor(bool in_stream) const;

  ChangeSink& sink_;
  DecoderOptions options_;
  Status init_status_;  // invalid options
  Status failed_;       // the first error; sticky

  RelationCache relations_;
  State state_ = State::kIdle;
  ActiveTxn txn_;                           // valid in kInTransaction
  wire::Xid stream_xid_ = 0;                // valid in kInStreamBlock
  internal::TxnLog* stream_log_ = nullptr;  // its log, valid in kInStreamBlock
  bool origin_allowed_ = false;             // right after Begin or Stream Start

  std::unordered_map<wire::Xid, std::unique_ptr<internal::TxnLog>> logs_;
  // Early delivery: the relations each open streamed transaction's stream
  // described so far (the shared cache learns them only at the replay).
  std::unordered_map<wire::Xid, RelationCache> stream_relations_;
  size_t buffered_bytes_ = 0;
  uint64_t spill_counter_ = 0;

  wire::Lsn last_commit_end_;
  wire::Lsn last_seen_commit_end_;  // any commit seen, delivered or skipped

  std::vector<const RelationInfo*> truncate_scratch_;
  wire::HotMessage hot_;  // the hot path's parse, reused
  DecoderStats stats_;
};

}  // namespace pgparity::core

#endif  // PGPARITY_CORE_STREAM_DECODER_H_
