// One struct per pgoutput message (logical replication protocol versions 1
// to 4, PostgreSQL 14 to 16), and Message, the variant of them all.
//
// Field order and names follow PostgreSQL's proto.c. Strings, byte runs and
// tuples are views into the buffer that was parsed: a parsed Message is valid
// only while that buffer is. Relation columns and Truncate relids are owned
// vectors (rare messages; the relation cache copies them anyway).
//
// "xid" members of type std::optional<Xid> are present exactly when the
// message was sent inside a Stream Start / Stream Stop block (protocol v2+);
// they carry the (sub)transaction's xid.
#ifndef PGPARITY_WIRE_MESSAGES_H_
#define PGPARITY_WIRE_MESSAGES_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "pgparity/wire/lsn.h"
#include "pgparity/wire/timestamp.h"
#include "pgparity/wire/tuple.h"

namespace pgparity::wire {

using Xid = uint32_t;  // TransactionId; 0 is InvalidTransactionId
using Oid = uint32_t;

// The first byte of every pgoutput message; the values are the wire bytes
// (PostgreSQL's LogicalRepMsgType).
enum class MessageType : char {
  kBegin = 'B',
  kCommit = 'C',
  kOrigin = 'O',
  kRelation = 'R',
  kType = 'Y',
  kInsert = 'I',
  kUpdate = 'U',
  kDelete = 'D',
  kTruncate = 'T',
  kMessage = 'M',
  kStreamStart = 'S',       // v2
  kStreamStop = 'E',        // v2
  kStreamCommit = 'c',      // v2
  kStreamAbort = 'A',       // v2; abort LSN and time in v4 with streaming = parallel
  kBeginPrepare = 'b',      // v3
  kPrepare = 'P',           // v3
  kCommitPrepared = 'K',    // v3
  kRollbackPrepared = 'r',  // v3
  kStreamPrepare = 'p',     // v3
};

// "Begin", "StreamAbort", ... (the struct names); "Unknown" otherwise.
std::string_view MessageTypeName(MessageType type) noexcept;

// Marker byte before an old tuple in Update and Delete.
enum class OldTupleKind : char {
  kNone = 0,    // Update only: no old tuple sent
  kKey = 'K',   // replica identity columns only; others are 'n' = "not part of the key"
  kFull = 'O',  // the whole old row (REPLICA IDENTITY FULL)
};

// Relation's replica identity byte (pg_class.relreplident).
enum class ReplicaIdentity : char {
  kDefault = 'd',
  kNothing = 'n',
  kFull = 'f',
  kIndex = 'i',
};

struct Begin {
  static constexpr MessageType kMessageType = MessageType::kBegin;
  Lsn final_lsn;  // LSN of the commit record; never 0/0
  Timestamp commit_time;
  Xid xid = 0;
};

struct Commit {
  static constexpr MessageType kMessageType = MessageType::kCommit;
  uint8_t flags = 0;  // must be 0
  Lsn commit_lsn;     // LSN of the commit record
  Lsn end_lsn;        // end of the commit record: the position to confirm
  Timestamp commit_time;
};

struct Origin {
  static constexpr MessageType kMessageType = MessageType::kOrigin;
  Lsn origin_lsn;  // 0/0 when sent at Stream Start
  std::string_view name;
};

struct RelationColumn {
  static constexpr uint8_t kFlagKey = 1;  // part of the replica identity
  uint8_t flags = 0;
  std::string_view name;
  Oid type_oid = 0;
  int32_t typmod = -1;

  bool is_key() const noexcept { return (flags & kFlagKey) != 0; }
};

struct Relation {
  static constexpr MessageType kMessageType = MessageType::kRelation;
  std::optional<Xid> xid;
  Oid relid = 0;
  std::string_view namespace_name;  // "" means pg_catalog
  std::string_view name;
  ReplicaIdentity replica_identity = ReplicaIdentity::kDefault;
  std::vector<RelationColumn> columns;
};

// Sent before the first Relation that uses a non-built-in type.
struct Type {
  static constexpr MessageType kMessageType = MessageType::kType;
  std::optional<Xid> xid;
  Oid type_oid = 0;
  std::string_view namespace_name;  // "" means pg_catalog
  std::string_view name;
};

struct Insert {
  static constexpr MessageType kMessageType = MessageType::kInsert;
  std::optional<Xid> xid;
  Oid relid = 0;
  TupleView new_tuple;
};

struct Update {
  static constexpr MessageType kMessageType = MessageType::kUpdate;
  std::optional<Xid> xid;
  Oid relid = 0;
  OldTupleKind old_kind = OldTupleKind::kNone;
  TupleView old_tuple;  // empty when old_kind == kNone
  TupleView new_tuple;
};

struct Delete {
  static constexpr MessageType kMessageType = MessageType::kDelete;
  std::optional<Xid> xid;
  Oid relid = 0;
  OldTupleKind old_kind = OldTupleKind::kKey;  // kKey or kFull, never kNone
  TupleView old_tuple;
};

struct Truncate {
  static constexpr MessageType kMessageType = MessageType::kTruncate;
  static constexpr uint8_t kFlagCascade = 1;
  static constexpr uint8_t kFlagRestartIdentity = 2;
  std::optional<Xid> xid;
  uint8_t flags = 0;  // only the two bits above
  std::vector<Oid> relids;

  bool cascade() const noexcept { return (flags & kFlagCascade) != 0; }
  bool restart_identity() const noexcept { return (flags & kFlagRestartIdentity) != 0; }
};

// A pg_logical_emit_message() record ('M'; publication option messages).
struct LogicalMessage {
  static constexpr MessageType kMessageType = MessageType::kMessage;
  static constexpr uint8_t kFlagTransactional = 1;
  std::optional<Xid> xid;
  uint8_t flags = 0;  // only kFlagTransactional
  Lsn lsn;
  std::string_view prefix;
  std::span<const std::byte> content;

  bool transactional() const noexcept { return (flags & kFlagTransactional) != 0; }
};

struct StreamStart {
  static constexpr MessageType kMessageType = MessageType::kStreamStart;
  Xid xid = 0;  // top-level transaction
  bool first_segment = false;
};

struct StreamStop {
  static constexpr MessageType kMessageType = MessageType::kStreamStop;
};

struct StreamCommit {
  static constexpr MessageType kMessageType = MessageType::kStreamCommit;
  Xid xid = 0;
  uint8_t flags = 0;  // must be 0
  Lsn commit_lsn;
  Lsn end_lsn;
  Timestamp commit_time;
};

struct StreamAbort {
  static constexpr MessageType kMessageType = MessageType::kStreamAbort;
  // Present only with protocol v4 and streaming = parallel
  // (ParseOptions::stream_abort_info).
  struct AbortInfo {
    Lsn abort_lsn;
    Timestamp abort_time;
  };
  Xid xid = 0;     // top-level transaction
  Xid subxid = 0;  // == xid when the whole transaction aborts
  std::optional<AbortInfo> abort_info;
};

struct BeginPrepare {
  static constexpr MessageType kMessageType = MessageType::kBeginPrepare;
  Lsn prepare_lsn;
  Lsn end_lsn;
  Timestamp prepare_time;
  Xid xid = 0;
  std::string_view gid;
};

// The fields shared by Prepare and StreamPrepare (one layout on the wire).
struct PrepareData {
  uint8_t flags = 0;  // must be 0
  Lsn prepare_lsn;
  Lsn end_lsn;
  Timestamp prepare_time;
  Xid xid = 0;
  std::string_view gid;
};

struct Prepare : PrepareData {
  static constexpr MessageType kMessageType = MessageType::kPrepare;
};

struct StreamPrepare : PrepareData {
  static constexpr MessageType kMessageType = MessageType::kStreamPrepare;
};

struct CommitPrepared {
  static constexpr MessageType kMessageType = MessageType::kCommitPrepared;
  uint8_t flags = 0;  // must be 0
  Lsn commit_lsn;
  Lsn end_lsn;
  Timestamp commit_time;
  Xid xid = 0;
  std::string_view gid;
};

struct RollbackPrepared {
  static constexpr MessageType kMessageType = MessageType::kRollbackPrepared;
  uint8_t flags = 0;  // must be 0
  Lsn prepare_end_lsn;
  Lsn rollback_end_lsn;
  Timestamp prepare_time;
  Timestamp rollback_time;
  Xid xid = 0;
  std::string_view gid;
};

using Message =
    std::variant<Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate,
                 LogicalMessage, StreamStart, StreamStop, StreamCommit, StreamAbort, BeginPrepare,
                 Prepare, CommitPrepared, RollbackPrepared, StreamPrepare>;

// The type byte of whichever message `m` holds.
MessageType TypeOf(const Message& m) noexcept;

}  // namespace pgparity::wire

#endif  // PGPARITY_WIRE_MESSAGES_H_
