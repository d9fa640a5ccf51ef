// ChangeSink: what the decoder (StreamDecoder) delivers, in commit order, one
// transaction at a time:
//
//   OnBegin, then OnChange / OnTruncate / OnLogicalMessage (transactional)
//   in the order the source made them, then OnCommit.
//
// Every transaction is delivered whole and only once it committed: a
// non-streamed transaction as its messages arrive (the server sends it at
// commit), a streamed one at its Stream Commit, replayed from the decoder's
// buffer; aborted streamed (sub)transactions are never delivered. Empty
// transactions (Begin/Commit with nothing between; PostgreSQL 14 sends them
// for transactions that touched no published table) are delivered too: their
// commit end LSN is progress a consumer may confirm.
//
// Non-transactional logical messages arrive between transactions and are
// delivered on their own (OnLogicalMessage with transactional == false).
//
// Early delivery of streamed changes (optional: DecoderOptions::
// deliver_streamed_changes_early, and a sink that overrides the two calls
// below). A change of an open streamed transaction is also given to
// OnStreamedChange as it arrives, before anyone knows whether it commits:
// a consumer may prepare its work there (parse, digest, read ahead), but the
// change is not committed and must not become visible. If its transaction
// commits, the change is delivered again through OnChange at the replay,
// with the same Change::stream_entry (its entry in the transaction's log);
// OnStreamTruncated says which entries an abort took back first. Only
// changes whose relation the transaction's own stream described are given
// early (pgoutput describes each relation in every streamed transaction
// before its first change); others arrive only at the replay.
//
// Lifetimes: every view in an event (tuples, strings, spans, RelationInfo
// references) is valid only during the callback.
//
// A non-OK Status from a callback stops the decoder: StreamDecoder::Feed
// returns it, and the decoder refuses further input.
#ifndef PGPARITY_CORE_CHANGE_SINK_H_
#define PGPARITY_CORE_CHANGE_SINK_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "pgparity/core/relation_cache.h"
#include "pgparity/status.h"
#include "pgparity/wire/lsn.h"
#include "pgparity/wire/messages.h"
#include "pgparity/wire/timestamp.h"
#include "pgparity/wire/tuple.h"

namespace pgparity::core {

struct TxnInfo {
  wire::Xid xid = 0;     // top-level transaction
  wire::Lsn commit_lsn;  // Begin.final_lsn, or StreamCommit.commit_lsn when streamed
  wire::Timestamp commit_time;
  bool streamed = false;  // replayed at Stream Commit
  // StreamCommit.end_lsn when streamed (known before the replay, so a
  // consumer may act on the commit while its changes arrive); 0/0 when not
  // streamed (a Begin does not carry it).
  wire::Lsn end_lsn;
  // When streamed: the messages its replay goes through (changes,
  // truncates, logical messages, relation descriptions), so at least its
  // changes — a size for what a consumer collects per change. 0 when not
  // streamed.
  uint64_t streamed_entries = 0;
};

enum class ChangeOp : char {
  kInsert = 'I',
  kUpdate = 'U',
  kDelete = 'D',
};

// One row change. The tuples have exactly relation.column_count() columns
// (the decoder checks).
struct Change {
  ChangeOp op;
  const RelationInfo& relation;
  // Update: kNone (no old tuple sent), kKey or kFull. Delete: kKey or kFull.
  // Insert: kNone. In a kKey tuple the non-key columns are 'n', meaning "not
  // part of the key", not NULL.
  wire::OldTupleKind old_kind;
  wire::TupleView old_tuple;  // empty when old_kind == kNone
  wire::TupleView new_tuple;  // empty for Delete
  wire::Lsn lsn;              // the change's WAL position (its XLogData start)
  wire::Xid xid;              // top-level transaction
  wire::Xid subxid;           // the (sub)transaction that made it; == xid unless streamed
  // Streamed: the change's entry number in its transaction's log (0-based),
  // the same in OnStreamedChange and at the replay; kNotStreamed otherwise.
  uint64_t stream_entry = kNotStreamed;
  static constexpr uint64_t kNotStreamed = ~uint64_t{0};
};

struct TruncateEvent {
  // In the message's order; each valid during the callback.
  std::span<const RelationInfo* const> relations;
  uint8_t flags = 0;  // wire::Truncate::kFlagCascade | kFlagRestartIdentity
  wire::Lsn lsn;
  wire::Xid xid = 0;
  wire::Xid subxid = 0;

  bool cascade() const noexcept { return (flags & wire::Truncate::kFlagCascade) != 0; }
  bool restart_identity() const noexcept {
    return (flags & wire::Truncate::kFlagRestartIdentity) != 0;
  }
};

struct LogicalMessageEvent {
  bool transactional = false;
  wire::Lsn lsn;  // the message's own LSN (LogicalMessage.lsn)
  std::string_view prefix;
  std::span<const std::byte> content;
  wire::Xid xid = 0;  // top-level transaction; 0 when not transactional
  wire::Xid subxid = 0;
};

struct CommitInfo {
  wire::Xid xid = 0;
  wire::Lsn commit_lsn;
  wire::Lsn end_lsn;  // the position a consumer confirms once it handled the transaction
  wire::Timestamp commit_time;
  bool streamed = false;
  uint64_t changes = 0;    // OnChange calls in this transaction
  uint64_t truncates = 0;  // OnTruncate calls
  uint64_t messages = 0;   // OnLogicalMessage calls
};

class ChangeSink {
 public:
  virtual ~ChangeSink() = default;

  virtual Status OnBegin(const TxnInfo& txn) = 0;
  virtual Status OnChange(const Change& change) = 0;
  virtual Status OnTruncate(const TruncateEvent& truncate) = 0;
  virtual Status OnLogicalMessage(const LogicalMessageEvent& message) = 0;
  virtual Status OnCommit(const CommitInfo& commit) = 0;

  // Early delivery (above). A change of open streamed transaction
  // change.xid, not committed; a non-OK Status stops the decoder.
  virtual Status OnStreamedChange(const Change& /*change*/) { return Status::OK(); }
  // The log of streamed transaction `xid` now holds only its first `entries`
  // entries: a subtransaction's Stream Abort took back the rest; 0 also
  // when the transaction is gone (its Stream Abort, or its replay ended, or
  // it committed before resume_lsn and was not delivered).
  virtual void OnStreamTruncated(wire::Xid /*xid*/, uint64_t /*entries*/) {}
};

}  // namespace pgparity::core

#endif  // PGPARITY_CORE_CHANGE_SINK_H_
