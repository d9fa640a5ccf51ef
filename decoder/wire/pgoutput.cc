// One parse/encode pair per message, side by side, reading fields in exactly
// the order they are written (as PostgreSQL's proto.c does). Each read is
// followed at once by its meaning check.
//
// Each message has ONE parse body, a template over the reader policy
// (field_reader.h): wire::Parse runs it with the CheckedReader, which names
// the failing field, and wire::ParseHot with the FastReader, which only says
// false. Both run the same reads and checks, so the hot path cannot accept
// what the checked path rejects. A body returns false on the first failure
// and fills the message it is given; the caller then rejects leftover bytes.
#include "pgparity/wire/pgoutput.h"

#include <string>
#include <utility>

#include "field_reader.h"
#include "pgparity/wire/byte_writer.h"

namespace pgparity::wire {
namespace {

using internal::CheckedReader;
using internal::DescribeByte;
using internal::FastReader;
using internal::Field;
using internal::NamedErrors;
using internal::NoErrors;
using internal::ReadTuple;

// Smallest wire size of one Relation column: flags, "" (a NUL), type oid,
// typmod.
constexpr size_t kMinRelationColumnSize = 1 + 1 + 4 + 4;

int MinProtocolVersion(MessageType type) {
  switch (type) {
    case MessageType::kStreamStart:
    case MessageType::kStreamStop:
    case MessageType::kStreamCommit:
    case MessageType::kStreamAbort:
      return 2;
    case MessageType::kBeginPrepare:
    case MessageType::kPrepare:
    case MessageType::kCommitPrepared:
    case MessageType::kRollbackPrepared:
    case MessageType::kStreamPrepare:
      return 3;
    default:
      return 1;
  }
}

// The Int32 xid that precedes streamed changes: read (and required to be
// valid) only when the caller says we are inside a stream; cleared outside,
// since the hot path reuses its messages.
template <typename In>
bool ReadStreamXid(In& in, const ParseOptions& options, std::optional<Xid>& xid) {
  if (!options.in_stream) {
    xid.reset();
    return true;
  }
  return in.ReadValidXid("xid", xid.emplace());
}

void WriteStreamXid(ByteWriter& out, const std::optional<Xid>& xid) {
  if (xid.has_value()) out.PutBE32(*xid);
}

// A marker byte that must be 'N' (a new tuple follows).
template <typename In>
bool ExpectNewTupleMarker(In& in, Field f) {
  const size_t at = in.offset();
  uint8_t marker = 0;
  if (!in.U8(f, marker)) return false;
  if (marker != 'N') [[unlikely]] {
    return in.Invalid(f, at, [&] { return "expected 'N', got " + DescribeByte(marker); });
  }
  return true;
}

void PutType(ByteWriter& out, MessageType type) { out.PutU8(static_cast<uint8_t>(type)); }
void PutLsn(ByteWriter& out, Lsn lsn) { out.PutBE64(lsn.value()); }
void PutTimestamp(ByteWriter& out, Timestamp ts) {
  out.PutBE64(static_cast<uint64_t>(ts.pg_micros()));
}

// ---- Begin: Int64 final LSN, Int64 commit time, Int32 xid.

template <typename In>
bool ParseFields(In& in, const ParseOptions&, Begin& m) {
  return in.ReadValidLsn("final_lsn", m.final_lsn) &&
         in.ReadTimestamp("commit_time", m.commit_time) && in.BE32("xid", m.xid);
}

void EncodeBegin(const Begin& m, ByteWriter& out) {
  PutType(out, Begin::kMessageType);
  PutLsn(out, m.final_lsn);
  PutTimestamp(out, m.commit_time);
  out.PutBE32(m.xid);
}

// ---- Commit: Int8 flags (0), Int64 commit LSN, Int64 end LSN, Int64 commit time.

template <typename In>
bool ParseFields(In& in, const ParseOptions&, Commit& m) {
  return in.ReadFlags("flags", 0, m.flags) && in.ReadValidLsn("commit_lsn", m.commit_lsn) &&
         in.ReadValidLsn("end_lsn", m.end_lsn) && in.ReadTimestamp("commit_time", m.commit_time);
}

void EncodeCommit(const Commit& m, ByteWriter& out) {
  PutType(out, Commit::kMessageType);
  out.PutU8(m.flags);
  PutLsn(out, m.commit_lsn);
  PutLsn(out, m.end_lsn);
  PutTimestamp(out, m.commit_time);
}

// ---- Origin: Int64 origin LSN (0/0 at Stream Start), String name.

template <typename In>
bool ParseFields(In& in, const ParseOptions&, Origin& m) {
  return in.ReadLsn("origin_lsn", m.origin_lsn) && in.CString("name", m.name);
}

void EncodeOrigin(const Origin& m, ByteWriter& out) {
  PutType(out, Origin::kMessageType);
  PutLsn(out, m.origin_lsn);
  out.PutCString(m.name);
}

// ---- Relation: [xid] Int32 relid, String namespace, String name, Int8
// replica identity, Int16 ncols, per column: Int8 flags, String name, Int32
// type oid, Int32 typmod.

template <typename In>
bool ReadReplicaIdentity(In& in, ReplicaIdentity& identity) {
  const size_t at = in.offset();
  uint8_t b = 0;
  if (!in.U8("replica_identity", b)) return false;
  switch (static_cast<ReplicaIdentity>(b)) {
    case ReplicaIdentity::kDefault:
    case ReplicaIdentity::kNothing:
    case ReplicaIdentity::kFull:
    case ReplicaIdentity::kIndex:
      identity = static_cast<ReplicaIdentity>(b);
      return true;
  }
  return in.Invalid("replica_identity", at, [&] {
    return "unknown replica identity " + DescribeByte(b) + ", expected 'd', 'n', 'f' or 'i'";
  });
}

template <typename In>
bool ReadRelationColumn(In& in, size_t i, RelationColumn& c) {
  uint32_t typmod = 0;
  if (!in.ReadFlags(Field("columns", i, "flags"), RelationColumn::kFlagKey, c.flags) ||
      !in.CString(Field("columns", i, "name"), c.name) ||
      !in.ReadValidOid(Field("columns", i, "type_oid"), c.type_oid) ||
      !in.BE32(Field("columns", i, "typmod"), typmod)) {
    return false;
  }
  c.typmod = static_cast<int32_t>(typmod);
  return true;
}

template <typename In>
bool ParseFields(In& in, const ParseOptions& options, Relation& m) {
  if (!ReadStreamXid(in, options, m.xid) || !in.ReadValidOid("relid", m.relid) ||
      !in.CString("namespace", m.namespace_name) || !in.CString("name", m.name) ||
      !ReadReplicaIdentity(in, m.replica_identity)) {
    return false;
  }
  const size_t ncols_at = in.offset();
  int ncols = 0;
  if (!in.ReadColumnCount("ncols", ncols)) return false;
  // Validate the count against the bytes left before allocating for it.
  const size_t remaining = in.remaining();
  if (static_cast<size_t>(ncols) > remaining / kMinRelationColumnSize) {
    return in.Invalid("ncols", ncols_at, [&] {
      return std::to_string(ncols) + " columns need at least " +
             std::to_string(ncols * kMinRelationColumnSize) + " bytes, " +
             std::to_string(remaining) + " left";
    });
  }
  m.columns.clear();
  m.columns.reserve(static_cast<size_t>(ncols));
  for (size_t i = 0; i < static_cast<size_t>(ncols); ++i) {
    if (!ReadRelationColumn(in, i, m.columns.emplace_back())) return false;
  }
  return true;
}

void EncodeRelation(const Relation& m, ByteWriter& out) {
  PutType(out, Relation::kMessageType);
  WriteStreamXid(out, m.xid);
  out.PutBE32(m.relid);
  out.PutCString(m.namespace_name);
  out.PutCString(m.name);
  out.PutU8(static_cast<uint8_t>(m.replica_identity));
  out.PutBE16(static_cast<uint16_t>(m.columns.size()));
  for (const RelationColumn& c : m.columns) {
    out.PutU8(c.flags);
    out.PutCString(c.name);
    out.PutBE32(c.type_oid);
    out.PutBE32(static_cast<uint32_t>(c.typmod));
  }
}

// ---- Type: [xid] Int32 oid, String namespace, String name.

template <typename In>
bool ParseFields(In& in, const ParseOptions& options, Type& m) {
  return ReadStreamXid(in, options, m.xid) && in.ReadValidOid("type_oid", m.type_oid) &&
         in.CString("namespace", m.namespace_name) && in.CString("name", m.name);
}

void EncodeType(const Type& m, ByteWriter& out) {
  PutType(out, Type::kMessageType);
  WriteStreamXid(out, m.xid);
  out.PutBE32(m.type_oid);
  out.PutCString(m.namespace_name);
  out.PutCString(m.name);
}

// ---- Insert: [xid] Int32 relid, 'N', TupleData.

template <typename In>
bool ParseFields(In& in, const ParseOptions& options, Insert& m) {
  return ReadStreamXid(in, options, m.xid) && in.ReadValidOid("relid", m.relid) &&
         ExpectNewTupleMarker(in, "marker") && ReadTuple(in, "new_tuple", m.new_tuple);
}

void EncodeInsert(const Insert& m, ByteWriter& out) {
  PutType(out, Insert::kMessageType);
  WriteStreamXid(out, m.xid);
  out.PutBE32(m.relid);
  out.PutU8('N');
  m.new_tuple.EncodeTo(out);
}

// ---- Update: [xid] Int32 relid, optional ('K' | 'O') TupleData, 'N' TupleData.

template <typename In>
bool ParseFields(In& in, const ParseOptions& options, Update& m) {
  if (!ReadStreamXid(in, options, m.xid) || !in.ReadValidOid("relid", m.relid)) return false;
  const size_t marker_at = in.offset();
  uint8_t marker = 0;
  if (!in.U8("marker", marker)) return false;
  switch (marker) {
    case 'K':
    case 'O':
      m.old_kind = static_cast<OldTupleKind>(marker);
      if (!ReadTuple(in, "old_tuple", m.old_tuple) || !ExpectNewTupleMarker(in, "new_marker")) {
        return false;
      }
      break;
    case 'N':
      m.old_kind = OldTupleKind::kNone;
      m.old_tuple = TupleView();
      break;
    default:
      return in.Invalid("marker", marker_at,
                        [&] { return "expected 'K', 'O' or 'N', got " + DescribeByte(marker); });
  }
  return ReadTuple(in, "new_tuple", m.new_tuple);
}

void EncodeUpdate(const Update& m, ByteWriter& out) {
  PutType(out, Update::kMessageType);
  WriteStreamXid(out, m.xid);
  out.PutBE32(m.relid);
  if (m.old_kind != OldTupleKind::kNone) {
    out.PutU8(static_cast<uint8_t>(m.old_kind));
    m.old_tuple.EncodeTo(out);
  }
  out.PutU8('N');
  m.new_tuple.EncodeTo(out);
}

// ---- Delete: [xid] Int32 relid, 'K' | 'O', TupleData.

template <typename In>
bool ParseFields(In& in, const ParseOptions& options, Delete& m) {
  if (!ReadStreamXid(in, options, m.xid) || !in.ReadValidOid("relid", m.relid)) return false;
  const size_t marker_at = in.offset();
  uint8_t marker = 0;
  if (!in.U8("marker", marker)) return false;
  if (marker != 'K' && marker != 'O') [[unlikely]] {
    return in.Invalid("marker", marker_at,
                      [&] { return "expected 'K' or 'O', got " + DescribeByte(marker); });
  }
  m.old_kind = static_cast<OldTupleKind>(marker);
  return ReadTuple(in, "old_tuple", m.old_tuple);
}

void EncodeDelete(const Delete& m, ByteWriter& out) {
  PutType(out, Delete::kMessageType);
  WriteStreamXid(out, m.xid);
  out.PutBE32(m.relid);
  out.PutU8(static_cast<uint8_t>(m.old_kind));
  m.old_tuple.EncodeTo(out);
}

// ---- Truncate: [xid] Int32 nrels, Int8 flags, Int32 relid x nrels.

template <typename In>
bool ParseFields(In& in, const ParseOptions& options, Truncate& m) {
  if (!ReadStreamXid(in, options, m.xid)) return false;
  const size_t nrels_at = in.offset();
  uint32_t raw_nrels = 0;
  if (!in.BE32("nrels", raw_nrels)) return false;
  const int32_t nrels = static_cast<int32_t>(raw_nrels);
  if (nrels < 0) {
    return in.Invalid("nrels", nrels_at,
                      [&] { return "negative relation count " + std::to_string(nrels); });
  }
  if (!in.ReadFlags("flags", Truncate::kFlagCascade | Truncate::kFlagRestartIdentity, m.flags)) {
    return false;
  }
  // Validate the count against the bytes left before allocating for it.
  const size_t remaining = in.remaining();
  if (static_cast<size_t>(nrels) > remaining / 4) {
    return in.Invalid("nrels", nrels_at, [&] {
      return std::to_string(nrels) + " relations need " + std::to_string(4 * size_t{raw_nrels}) +
             " bytes, " + std::to_string(remaining) + " left";
    });
  }
  m.relids.clear();
  m.relids.reserve(static_cast<size_t>(nrels));
  for (size_t i = 0; i < static_cast<size_t>(nrels); ++i) {
    if (!in.ReadValidOid(Field("relids", i, ""), m.relids.emplace_back())) return false;
  }
  return true;
}

void EncodeTruncate(const Truncate& m, ByteWriter& out) {
  PutType(out, Truncate::kMessageType);
  WriteStreamXid(out, m.xid);
  out.PutBE32(static_cast<uint32_t>(m.relids.size()));
  out.PutU8(m.flags);
  for (const Oid relid : m.relids) out.PutBE32(relid);
}

// ---- Message: [xid] Int8 flags, Int64 LSN, String prefix, Int32 length, bytes.

template <typename In>
bool ParseFields(In& in, const ParseOptions& options, LogicalMessage& m) {
  if (!ReadStreamXid(in, options, m.xid) ||
      !in.ReadFlags("flags", LogicalMessage::kFlagTransactional, m.flags) ||
      !in.ReadLsn("lsn", m.lsn) || !in.CString("prefix", m.prefix)) {
    return false;
  }
  const size_t length_at = in.offset();
  uint32_t length = 0;
  if (!in.BE32("content_length", length)) return false;
  if (static_cast<int32_t>(length) < 0) {
    return in.Invalid("content_length", length_at, [&] {
      return "negative length " + std::to_string(static_cast<int32_t>(length));
    });
  }
  return in.Bytes(length, "content", m.content);
}

void EncodeLogicalMessage(const LogicalMessage& m, ByteWriter& out) {
  PutType(out, LogicalMessage::kMessageType);
  WriteStreamXid(out, m.xid);
  out.PutU8(m.flags);
  PutLsn(out, m.lsn);
  out.PutCString(m.prefix);
  out.PutBE32(static_cast<uint32_t>(m.content.size()));
  out.PutBytes(m.content);
}

// ---- Stream Start: Int32 xid, Int8 first segment (0 or 1).

template <typename In>
bool ParseFields(In& in, const ParseOptions&, StreamStart& m) {
  if (!in.ReadValidXid("xid", m.xid)) return false;
  const size_t first_at = in.offset();
  uint8_t first = 0;
  if (!in.U8("first_segment", first)) return false;
  if (first > 1) {
    return in.Invalid("first_segment", first_at,
                      [&] { return "expected 0 or 1, got " + DescribeByte(first); });
  }
  m.first_segment = first == 1;
  return true;
}

void EncodeStreamStart(const StreamStart& m, ByteWriter& out) {
  PutType(out, StreamStart::kMessageType);
  out.PutBE32(m.xid);
  out.PutU8(m.first_segment ? 1 : 0);
}

// ---- Stream Stop: no fields.

template <typename In>
bool ParseFields(In&, const ParseOptions&, StreamStop&) {
  return true;
}

void EncodeStreamStop(const StreamStop&, ByteWriter& out) {
  PutType(out, StreamStop::kMessageType);
}

// ---- Stream Commit: Int32 xid, Int8 flags (0), Int64 commit LSN, Int64 end
// LSN, Int64 commit time.

template <typename In>
bool ParseFields(In& in, const ParseOptions&, StreamCommit& m) {
  return in.ReadValidXid("xid", m.xid) && in.ReadFlags("flags", 0, m.flags) &&
         in.ReadValidLsn("commit_lsn", m.commit_lsn) && in.ReadValidLsn("end_lsn", m.end_lsn) &&
         in.ReadTimestamp("commit_time", m.commit_time);
}

void EncodeStreamCommit(const StreamCommit& m, ByteWriter& out) {
  PutType(out, StreamCommit::kMessageType);
  out.PutBE32(m.xid);
  out.PutU8(m.flags);
  PutLsn(out, m.commit_lsn);
  PutLsn(out, m.end_lsn);
  PutTimestamp(out, m.commit_time);
}

// ---- Stream Abort: Int32 xid, Int32 subxid; with stream_abort_info (v4,
// streaming = parallel) also Int64 abort LSN, Int64 abort time.

template <typename In>
bool ParseFields(In& in, const ParseOptions& options, StreamAbort& m) {
  if (!in.ReadValidXid("xid", m.xid) || !in.ReadValidXid("subxid", m.subxid)) return false;
  if (!options.stream_abort_info) {
    m.abort_info.reset();
    return true;
  }
  StreamAbort::AbortInfo& info = m.abort_info.emplace();
  return in.ReadLsn("abort_lsn", info.abort_lsn) && in.ReadTimestamp("abort_time", info.abort_time);
}

void EncodeStreamAbort(const StreamAbort& m, ByteWriter& out) {
  PutType(out, StreamAbort::kMessageType);
  out.PutBE32(m.xid);
  out.PutBE32(m.subxid);
  if (m.abort_info.has_value()) {
    PutLsn(out, m.abort_info->abort_lsn);
    PutTimestamp(out, m.abort_info->abort_time);
  }
}

// ---- Begin Prepare: Int64 prepare LSN, Int64 end LSN, Int64 prepare time,
// Int32 xid, String gid.

template <typename In>
bool ParseFields(In& in, const ParseOptions&, BeginPrepare& m) {
  return in.ReadValidLsn("prepare_lsn", m.prepare_lsn) && in.ReadValidLsn("end_lsn", m.end_lsn) &&
         in.ReadTimestamp("prepare_time", m.prepare_time) && in.ReadValidXid("xid", m.xid) &&
         in.CString("gid", m.gid);
}

void EncodeBeginPrepare(const BeginPrepare& m, ByteWriter& out) {
  PutType(out, BeginPrepare::kMessageType);
  PutLsn(out, m.prepare_lsn);
  PutLsn(out, m.end_lsn);
  PutTimestamp(out, m.prepare_time);
  out.PutBE32(m.xid);
  out.PutCString(m.gid);
}

// ---- Prepare and Stream Prepare: Int8 flags (0), Int64 prepare LSN, Int64
// end LSN, Int64 prepare time, Int32 xid, String gid. (Both messages derive
// from PrepareData, so this one body reads both.)

template <typename In>
bool ParseFields(In& in, const ParseOptions&, PrepareData& m) {
  return in.ReadFlags("flags", 0, m.flags) && in.ReadValidLsn("prepare_lsn", m.prepare_lsn) &&
         in.ReadValidLsn("end_lsn", m.end_lsn) &&
         in.ReadTimestamp("prepare_time", m.prepare_time) && in.ReadValidXid("xid", m.xid) &&
         in.CString("gid", m.gid);
}

void EncodePrepareData(MessageType type, const PrepareData& m, ByteWriter& out) {
  PutType(out, type);
  out.PutU8(m.flags);
  PutLsn(out, m.prepare_lsn);
  PutLsn(out, m.end_lsn);
  PutTimestamp(out, m.prepare_time);
  out.PutBE32(m.xid);
  out.PutCString(m.gid);
}

// ---- Commit Prepared: Int8 flags (0), Int64 commit LSN, Int64 end LSN,
// Int64 commit time, Int32 xid, String gid.

template <typename In>
bool ParseFields(In& in, const ParseOptions&, CommitPrepared& m) {
  return in.ReadFlags("flags", 0, m.flags) && in.ReadValidLsn("commit_lsn", m.commit_lsn) &&
         in.ReadValidLsn("end_lsn", m.end_lsn) && in.ReadTimestamp("commit_time", m.commit_time) &&
         in.ReadValidXid("xid", m.xid) && in.CString("gid", m.gid);
}

void EncodeCommitPrepared(const CommitPrepared& m, ByteWriter& out) {
  PutType(out, CommitPrepared::kMessageType);
  out.PutU8(m.flags);
  PutLsn(out, m.commit_lsn);
  PutLsn(out, m.end_lsn);
  PutTimestamp(out, m.commit_time);
  out.PutBE32(m.xid);
  out.PutCString(m.gid);
}

// ---- Rollback Prepared: Int8 flags (0), Int64 prepare end LSN, Int64
// rollback end LSN, Int64 prepare time, Int64 rollback time, Int32 xid,
// String gid.

template <typename In>
bool ParseFields(In& in, const ParseOptions&, RollbackPrepared& m) {
  return in.ReadFlags("flags", 0, m.flags) &&
         in.ReadValidLsn("prepare_end_lsn", m.prepare_end_lsn) &&
         in.ReadValidLsn("rollback_end_lsn", m.rollback_end_lsn) &&
         in.ReadTimestamp("prepare_time", m.prepare_time) &&
         in.ReadTimestamp("rollback_time", m.rollback_time) && in.ReadValidXid("xid", m.xid) &&
         in.CString("gid", m.gid);
}

void EncodeRollbackPrepared(const RollbackPrepared& m, ByteWriter& out) {
  PutType(out, RollbackPrepared::kMessageType);
  out.PutU8(m.flags);
  PutLsn(out, m.prepare_end_lsn);
  PutLsn(out, m.rollback_end_lsn);
  PutTimestamp(out, m.prepare_time);
  PutTimestamp(out, m.rollback_time);
  out.PutBE32(m.xid);
  out.PutCString(m.gid);
}

// The checked path of one message: its body with the CheckedReader, then no
// leftover bytes; the message, or the error naming the field.
template <typename T>
Result<Message> ParseChecked(std::span<const std::byte> body, std::string_view name,
                             const ParseOptions& options) {
  Status error;
  CheckedReader in(body.subspan(1), 1, NamedErrors(name, error));
  T m;
  if (ParseFields(in, options, m) && in.ExpectEnd()) return Message(std::move(m));
  return error;
}

// The hot path of one message: the same body with the FastReader.
template <typename T>
bool ParseFast(std::span<const std::byte> body, const ParseOptions& options, T& m) noexcept {
  FastReader in(body.subspan(1), 1, NoErrors());
  return ParseFields(in, options, m) && in.ExpectEnd();
}

// The checked parse of a message whose type is known.
Result<Message> ParseKnown(MessageType type, std::span<const std::byte> body, std::string_view name,
                           const ParseOptions& o) {
  switch (type) {
    case MessageType::kBegin:
      return ParseChecked<Begin>(body, name, o);
    case MessageType::kCommit:
      return ParseChecked<Commit>(body, name, o);
    case MessageType::kOrigin:
      return ParseChecked<Origin>(body, name, o);
    case MessageType::kRelation:
      return ParseChecked<Relation>(body, name, o);
    case MessageType::kType:
      return ParseChecked<Type>(body, name, o);
    case MessageType::kInsert:
      return ParseChecked<Insert>(body, name, o);
    case MessageType::kUpdate:
      return ParseChecked<Update>(body, name, o);
    case MessageType::kDelete:
      return ParseChecked<Delete>(body, name, o);
    case MessageType::kTruncate:
      return ParseChecked<Truncate>(body, name, o);
    case MessageType::kMessage:
      return ParseChecked<LogicalMessage>(body, name, o);
    case MessageType::kStreamStart:
      return ParseChecked<StreamStart>(body, name, o);
    case MessageType::kStreamStop:
      return ParseChecked<StreamStop>(body, name, o);
    case MessageType::kStreamCommit:
      return ParseChecked<StreamCommit>(body, name, o);
    case MessageType::kStreamAbort:
      return ParseChecked<StreamAbort>(body, name, o);
    case MessageType::kBeginPrepare:
      return ParseChecked<BeginPrepare>(body, name, o);
    case MessageType::kPrepare:
      return ParseChecked<Prepare>(body, name, o);
    case MessageType::kCommitPrepared:
      return ParseChecked<CommitPrepared>(body, name, o);
    case MessageType::kRollbackPrepared:
      return ParseChecked<RollbackPrepared>(body, name, o);
    case MessageType::kStreamPrepare:
      return ParseChecked<StreamPrepare>(body, name, o);
  }
  return Status::Internal("unhandled message type");  // unreachable: the caller knew its name
}

}  // namespace

std::string_view MessageTypeName(MessageType type) noexcept {
  switch (type) {
    case MessageType::kBegin:
      return "Begin";
    case MessageType::kCommit:
      return "Commit";
    case MessageType::kOrigin:
      return "Origin";
    case MessageType::kRelation:
      return "Relation";
    case MessageType::kType:
      return "Type";
    case MessageType::kInsert:
      return "Insert";
    case MessageType::kUpdate:
      return "Update";
    case MessageType::kDelete:
      return "Delete";
    case MessageType::kTruncate:
      return "Truncate";
    case MessageType::kMessage:
      return "Message";
    case MessageType::kStreamStart:
      return "StreamStart";
    case MessageType::kStreamStop:
      return "StreamStop";
    case MessageType::kStreamCommit:
      return "StreamCommit";
    case MessageType::kStreamAbort:
      return "StreamAbort";
    case MessageType::kBeginPrepare:
      return "BeginPrepare";
    case MessageType::kPrepare:
      return "Prepare";
    case MessageType::kCommitPrepared:
      return "CommitPrepared";
    case MessageType::kRollbackPrepared:
      return "RollbackPrepared";
    case MessageType::kStreamPrepare:
      return "StreamPrepare";
  }
  return "Unknown";
}

MessageType TypeOf(const Message& m) noexcept {
  return std::visit([](const auto& msg) { return std::decay_t<decltype(msg)>::kMessageType; }, m);
}

Status Validate(const ParseOptions& options) {
  if (options.protocol_version < kMinProtocolVersion ||
      options.protocol_version > kMaxProtocolVersion) {
    return Status::InvalidArgument("ParseOptions.protocol_version " +
                                   std::to_string(options.protocol_version) + " is outside 1..4");
  }
  if (options.in_stream && options.protocol_version < 2) {
    return Status::InvalidArgument("ParseOptions.in_stream needs protocol version 2 or later");
  }
  if (options.stream_abort_info && options.protocol_version < 4) {
    return Status::InvalidArgument(
        "ParseOptions.stream_abort_info needs protocol version 4 or later");
  }
  return Status::OK();
}

bool ParseHot(std::span<const std::byte> body, bool in_stream, HotMessage& out) noexcept {
  if (body.empty()) return false;
  // The five bodies read only in_stream; the caller validated it against the
  // protocol version, and all five exist since version 1.
  ParseOptions options;
  options.in_stream = in_stream;
  out.type = static_cast<MessageType>(std::to_integer<char>(body[0]));
  switch (out.type) {
    // Begin and Commit never appear inside a stream block: the checked path
    // lets the decoder report them.
    case MessageType::kBegin:
      return !in_stream && ParseFast(body, options, out.begin);
    case MessageType::kCommit:
      return !in_stream && ParseFast(body, options, out.commit);
    case MessageType::kInsert:
      return ParseFast(body, options, out.insert);
    case MessageType::kUpdate:
      return ParseFast(body, options, out.update);
    case MessageType::kDelete:
      return ParseFast(body, options, out.del);
    default:
      return false;
  }
}

Result<Message> Parse(std::span<const std::byte> body, const ParseOptions& options) {
  PGPARITY_RETURN_IF_ERROR(Validate(options));
  if (body.empty()) return Status::Corruption("empty pgoutput message: no type byte at offset 0");
  const uint8_t type_byte = std::to_integer<uint8_t>(body[0]);
  const auto type = static_cast<MessageType>(type_byte);
  const std::string_view name = MessageTypeName(type);
  if (name == "Unknown") {
    return Status::NotSupported("unknown pgoutput message type " + DescribeByte(type_byte) +
                                " at offset 0");
  }
  if (MinProtocolVersion(type) > options.protocol_version) {
    return Status::Corruption(std::string(name) + ": needs protocol version " +
                              std::to_string(MinProtocolVersion(type)) + ", stream uses " +
                              std::to_string(options.protocol_version) + ", at offset 0");
  }
  return ParseKnown(type, body, name, options);
}

void Encode(const Message& message, std::vector<std::byte>& out) {
  ByteWriter w(out);
  struct Visitor {
    ByteWriter& w;
    void operator()(const Begin& m) const { EncodeBegin(m, w); }
    void operator()(const Commit& m) const { EncodeCommit(m, w); }
    void operator()(const Origin& m) const { EncodeOrigin(m, w); }
    void operator()(const Relation& m) const { EncodeRelation(m, w); }
    void operator()(const Type& m) const { EncodeType(m, w); }
    void operator()(const Insert& m) const { EncodeInsert(m, w); }
    void operator()(const Update& m) const { EncodeUpdate(m, w); }
    void operator()(const Delete& m) const { EncodeDelete(m, w); }
    void operator()(const Truncate& m) const { EncodeTruncate(m, w); }
    void operator()(const LogicalMessage& m) const { EncodeLogicalMessage(m, w); }
    void operator()(const StreamStart& m) const { EncodeStreamStart(m, w); }
    void operator()(const StreamStop& m) const { EncodeStreamStop(m, w); }
    void operator()(const StreamCommit& m) const { EncodeStreamCommit(m, w); }
    void operator()(const StreamAbort& m) const { EncodeStreamAbort(m, w); }
    void operator()(const BeginPrepare& m) const { EncodeBeginPrepare(m, w); }
    void operator()(const Prepare& m) const { EncodePrepareData(Prepare::kMessageType, m, w); }
    void operator()(const CommitPrepared& m) const { EncodeCommitPrepared(m, w); }
    void operator()(const RollbackPrepared& m) const { EncodeRollbackPrepared(m, w); }
    void operator()(const StreamPrepare& m) const {
      EncodePrepareData(StreamPrepare::kMessageType, m, w);
    }
  };
  std::visit(Visitor{w}, message);
}

}  // namespace pgparity::wire
