// One Parse/Encode pair per message, side by side, reading fields in exactly
// the order they are written (as PostgreSQL's proto.c does). Each read is
// followed at once by its meaning check.
#include "pgparity/wire/pgoutput.h"

#include <string>
#include <utility>

#include "field_reader.h"
#include "pgparity/wire/byte_reader.h"
#include "pgparity/wire/byte_writer.h"

namespace pgparity::wire {
namespace {

using internal::Field;
using internal::FieldReader;

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
// valid) only when the caller says we are inside a stream.
Status ReadStreamXid(FieldReader& in, const ParseOptions& options, std::optional<Xid>& xid) {
  if (!options.in_stream) return Status::OK();
  PGPARITY_ASSIGN_OR_RETURN(xid, in.ReadValidXid("xid"));
  return Status::OK();
}

void WriteStreamXid(ByteWriter& out, const std::optional<Xid>& xid) {
  if (xid.has_value()) out.PutBE32(*xid);
}

// A relation or type OID; 0 (InvalidOid) names nothing.
Result<Oid> ReadValidOid(FieldReader& in, Field f) {
  const size_t at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const Oid oid, in.BE32(f));
  if (oid == 0) return in.Invalid(f, at, "invalid OID 0");
  return oid;
}

void PutType(ByteWriter& out, MessageType type) { out.PutU8(static_cast<uint8_t>(type)); }
void PutLsn(ByteWriter& out, Lsn lsn) { out.PutBE64(lsn.value()); }
void PutTimestamp(ByteWriter& out, Timestamp ts) {
  out.PutBE64(static_cast<uint64_t>(ts.pg_micros()));
}

// ---- Begin: Int64 final LSN, Int64 commit time, Int32 xid.

Result<Begin> ParseBegin(FieldReader& in) {
  Begin m;
  PGPARITY_ASSIGN_OR_RETURN(m.final_lsn, in.ReadValidLsn("final_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.commit_time, in.ReadTimestamp("commit_time"));
  PGPARITY_ASSIGN_OR_RETURN(m.xid, in.BE32("xid"));
  return m;
}

void EncodeBegin(const Begin& m, ByteWriter& out) {
  PutType(out, Begin::kMessageType);
  PutLsn(out, m.final_lsn);
  PutTimestamp(out, m.commit_time);
  out.PutBE32(m.xid);
}

// ---- Commit: Int8 flags (0), Int64 commit LSN, Int64 end LSN, Int64 commit time.

Result<Commit> ParseCommit(FieldReader& in) {
  Commit m;
  PGPARITY_ASSIGN_OR_RETURN(m.flags, in.ReadFlags("flags", 0));
  PGPARITY_ASSIGN_OR_RETURN(m.commit_lsn, in.ReadValidLsn("commit_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.end_lsn, in.ReadValidLsn("end_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.commit_time, in.ReadTimestamp("commit_time"));
  return m;
}

void EncodeCommit(const Commit& m, ByteWriter& out) {
  PutType(out, Commit::kMessageType);
  out.PutU8(m.flags);
  PutLsn(out, m.commit_lsn);
  PutLsn(out, m.end_lsn);
  PutTimestamp(out, m.commit_time);
}

// ---- Origin: Int64 origin LSN (0/0 at Stream Start), String name.

Result<Origin> ParseOrigin(FieldReader& in) {
  Origin m;
  PGPARITY_ASSIGN_OR_RETURN(m.origin_lsn, in.ReadLsn("origin_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.name, in.CString("name"));
  return m;
}

void EncodeOrigin(const Origin& m, ByteWriter& out) {
  PutType(out, Origin::kMessageType);
  PutLsn(out, m.origin_lsn);
  out.PutCString(m.name);
}

// ---- Relation: [xid] Int32 relid, String namespace, String name, Int8
// replica identity, Int16 ncols, per column: Int8 flags, String name, Int32
// type oid, Int32 typmod.

Result<Relation> ParseRelation(FieldReader& in, const ParseOptions& options) {
  Relation m;
  PGPARITY_RETURN_IF_ERROR(ReadStreamXid(in, options, m.xid));
  PGPARITY_ASSIGN_OR_RETURN(m.relid, ReadValidOid(in, "relid"));
  PGPARITY_ASSIGN_OR_RETURN(m.namespace_name, in.CString("namespace"));
  PGPARITY_ASSIGN_OR_RETURN(m.name, in.CString("name"));

  const size_t identity_at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint8_t identity, in.U8("replica_identity"));
  switch (static_cast<ReplicaIdentity>(identity)) {
    case ReplicaIdentity::kDefault:
    case ReplicaIdentity::kNothing:
    case ReplicaIdentity::kFull:
    case ReplicaIdentity::kIndex:
      m.replica_identity = static_cast<ReplicaIdentity>(identity);
      break;
    default:
      return in.Invalid("replica_identity", identity_at,
                        "unknown replica identity " + internal::DescribeByte(identity) +
                            ", expected 'd', 'n', 'f' or 'i'");
  }

  const size_t ncols_at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const int ncols, internal::ReadColumnCount(in));
  // Validate the count against the bytes left before allocating for it.
  const size_t remaining = in.reader().remaining();
  if (static_cast<size_t>(ncols) > remaining / kMinRelationColumnSize) {
    return in.Invalid("ncols", ncols_at,
                      std::to_string(ncols) + " columns need at least " +
                          std::to_string(ncols * kMinRelationColumnSize) + " bytes, " +
                          std::to_string(remaining) + " left");
  }
  m.columns.reserve(static_cast<size_t>(ncols));
  for (size_t i = 0; i < static_cast<size_t>(ncols); ++i) {
    RelationColumn& c = m.columns.emplace_back();
    PGPARITY_ASSIGN_OR_RETURN(c.flags,
                              in.ReadFlags(Field("columns", i, "flags"), RelationColumn::kFlagKey));
    PGPARITY_ASSIGN_OR_RETURN(c.name, in.CString(Field("columns", i, "name")));
    PGPARITY_ASSIGN_OR_RETURN(c.type_oid, ReadValidOid(in, Field("columns", i, "type_oid")));
    PGPARITY_ASSIGN_OR_RETURN(const uint32_t typmod, in.BE32(Field("columns", i, "typmod")));
    c.typmod = static_cast<int32_t>(typmod);
  }
  return m;
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

Result<Type> ParseType(FieldReader& in, const ParseOptions& options) {
  Type m;
  PGPARITY_RETURN_IF_ERROR(ReadStreamXid(in, options, m.xid));
  PGPARITY_ASSIGN_OR_RETURN(m.type_oid, ReadValidOid(in, "type_oid"));
  PGPARITY_ASSIGN_OR_RETURN(m.namespace_name, in.CString("namespace"));
  PGPARITY_ASSIGN_OR_RETURN(m.name, in.CString("name"));
  return m;
}

void EncodeType(const Type& m, ByteWriter& out) {
  PutType(out, Type::kMessageType);
  WriteStreamXid(out, m.xid);
  out.PutBE32(m.type_oid);
  out.PutCString(m.namespace_name);
  out.PutCString(m.name);
}

// ---- Insert: [xid] Int32 relid, 'N', TupleData.

// Reads a marker byte that must be 'N' (a new tuple follows).
Status ExpectNewTupleMarker(FieldReader& in, Field f) {
  const size_t at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint8_t marker, in.U8(f));
  if (marker != 'N') {
    return in.Invalid(f, at, "expected 'N', got " + internal::DescribeByte(marker));
  }
  return Status::OK();
}

Result<Insert> ParseInsert(FieldReader& in, const ParseOptions& options) {
  Insert m;
  PGPARITY_RETURN_IF_ERROR(ReadStreamXid(in, options, m.xid));
  PGPARITY_ASSIGN_OR_RETURN(m.relid, ReadValidOid(in, "relid"));
  PGPARITY_RETURN_IF_ERROR(ExpectNewTupleMarker(in, "marker"));
  PGPARITY_ASSIGN_OR_RETURN(m.new_tuple, TupleView::Read(in.reader(), "Insert.new_tuple"));
  return m;
}

void EncodeInsert(const Insert& m, ByteWriter& out) {
  PutType(out, Insert::kMessageType);
  WriteStreamXid(out, m.xid);
  out.PutBE32(m.relid);
  out.PutU8('N');
  m.new_tuple.EncodeTo(out);
}

// ---- Update: [xid] Int32 relid, optional ('K' | 'O') TupleData, 'N' TupleData.

Result<Update> ParseUpdate(FieldReader& in, const ParseOptions& options) {
  Update m;
  PGPARITY_RETURN_IF_ERROR(ReadStreamXid(in, options, m.xid));
  PGPARITY_ASSIGN_OR_RETURN(m.relid, ReadValidOid(in, "relid"));
  const size_t marker_at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint8_t marker, in.U8("marker"));
  switch (marker) {
    case 'K':
    case 'O': {
      m.old_kind = static_cast<OldTupleKind>(marker);
      PGPARITY_ASSIGN_OR_RETURN(m.old_tuple, TupleView::Read(in.reader(), "Update.old_tuple"));
      PGPARITY_RETURN_IF_ERROR(ExpectNewTupleMarker(in, "new_marker"));
      break;
    }
    case 'N':
      m.old_kind = OldTupleKind::kNone;
      break;
    default:
      return in.Invalid("marker", marker_at,
                        "expected 'K', 'O' or 'N', got " + internal::DescribeByte(marker));
  }
  PGPARITY_ASSIGN_OR_RETURN(m.new_tuple, TupleView::Read(in.reader(), "Update.new_tuple"));
  return m;
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

Result<Delete> ParseDelete(FieldReader& in, const ParseOptions& options) {
  Delete m;
  PGPARITY_RETURN_IF_ERROR(ReadStreamXid(in, options, m.xid));
  PGPARITY_ASSIGN_OR_RETURN(m.relid, ReadValidOid(in, "relid"));
  const size_t marker_at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint8_t marker, in.U8("marker"));
  if (marker != 'K' && marker != 'O') {
    return in.Invalid("marker", marker_at,
                      "expected 'K' or 'O', got " + internal::DescribeByte(marker));
  }
  m.old_kind = static_cast<OldTupleKind>(marker);
  PGPARITY_ASSIGN_OR_RETURN(m.old_tuple, TupleView::Read(in.reader(), "Delete.old_tuple"));
  return m;
}

void EncodeDelete(const Delete& m, ByteWriter& out) {
  PutType(out, Delete::kMessageType);
  WriteStreamXid(out, m.xid);
  out.PutBE32(m.relid);
  out.PutU8(static_cast<uint8_t>(m.old_kind));
  m.old_tuple.EncodeTo(out);
}

// ---- Truncate: [xid] Int32 nrels, Int8 flags, Int32 relid x nrels.

Result<Truncate> ParseTruncate(FieldReader& in, const ParseOptions& options) {
  Truncate m;
  PGPARITY_RETURN_IF_ERROR(ReadStreamXid(in, options, m.xid));
  const size_t nrels_at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint32_t raw_nrels, in.BE32("nrels"));
  const int32_t nrels = static_cast<int32_t>(raw_nrels);
  if (nrels < 0) {
    return in.Invalid("nrels", nrels_at, "negative relation count " + std::to_string(nrels));
  }
  PGPARITY_ASSIGN_OR_RETURN(
      m.flags, in.ReadFlags("flags", Truncate::kFlagCascade | Truncate::kFlagRestartIdentity));
  // Validate the count against the bytes left before allocating for it.
  const size_t remaining = in.reader().remaining();
  if (static_cast<size_t>(nrels) > remaining / 4) {
    return in.Invalid("nrels", nrels_at,
                      std::to_string(nrels) + " relations need " +
                          std::to_string(4 * size_t{raw_nrels}) + " bytes, " +
                          std::to_string(remaining) + " left");
  }
  m.relids.reserve(static_cast<size_t>(nrels));
  for (size_t i = 0; i < static_cast<size_t>(nrels); ++i) {
    PGPARITY_ASSIGN_OR_RETURN(m.relids.emplace_back(), ReadValidOid(in, Field("relids", i, "")));
  }
  return m;
}

void EncodeTruncate(const Truncate& m, ByteWriter& out) {
  PutType(out, Truncate::kMessageType);
  WriteStreamXid(out, m.xid);
  out.PutBE32(static_cast<uint32_t>(m.relids.size()));
  out.PutU8(m.flags);
  for (const Oid relid : m.relids) out.PutBE32(relid);
}

// ---- Message: [xid] Int8 flags, Int64 LSN, String prefix, Int32 length, bytes.

Result<LogicalMessage> ParseLogicalMessage(FieldReader& in, const ParseOptions& options) {
  LogicalMessage m;
  PGPARITY_RETURN_IF_ERROR(ReadStreamXid(in, options, m.xid));
  PGPARITY_ASSIGN_OR_RETURN(m.flags, in.ReadFlags("flags", LogicalMessage::kFlagTransactional));
  PGPARITY_ASSIGN_OR_RETURN(m.lsn, in.ReadLsn("lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.prefix, in.CString("prefix"));
  const size_t length_at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint32_t length, in.BE32("content_length"));
  if (static_cast<int32_t>(length) < 0) {
    return in.Invalid("content_length", length_at,
                      "negative length " + std::to_string(static_cast<int32_t>(length)));
  }
  PGPARITY_ASSIGN_OR_RETURN(m.content, in.Bytes(length, "content"));
  return m;
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

Result<StreamStart> ParseStreamStart(FieldReader& in) {
  StreamStart m;
  PGPARITY_ASSIGN_OR_RETURN(m.xid, in.ReadValidXid("xid"));
  const size_t first_at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint8_t first, in.U8("first_segment"));
  if (first > 1) {
    return in.Invalid("first_segment", first_at,
                      "expected 0 or 1, got " + internal::DescribeByte(first));
  }
  m.first_segment = first == 1;
  return m;
}

void EncodeStreamStart(const StreamStart& m, ByteWriter& out) {
  PutType(out, StreamStart::kMessageType);
  out.PutBE32(m.xid);
  out.PutU8(m.first_segment ? 1 : 0);
}

// ---- Stream Stop: no fields.

void EncodeStreamStop(const StreamStop&, ByteWriter& out) {
  PutType(out, StreamStop::kMessageType);
}

// ---- Stream Commit: Int32 xid, Int8 flags (0), Int64 commit LSN, Int64 end
// LSN, Int64 commit time.

Result<StreamCommit> ParseStreamCommit(FieldReader& in) {
  StreamCommit m;
  PGPARITY_ASSIGN_OR_RETURN(m.xid, in.ReadValidXid("xid"));
  PGPARITY_ASSIGN_OR_RETURN(m.flags, in.ReadFlags("flags", 0));
  PGPARITY_ASSIGN_OR_RETURN(m.commit_lsn, in.ReadValidLsn("commit_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.end_lsn, in.ReadValidLsn("end_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.commit_time, in.ReadTimestamp("commit_time"));
  return m;
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

Result<StreamAbort> ParseStreamAbort(FieldReader& in, const ParseOptions& options) {
  StreamAbort m;
  PGPARITY_ASSIGN_OR_RETURN(m.xid, in.ReadValidXid("xid"));
  PGPARITY_ASSIGN_OR_RETURN(m.subxid, in.ReadValidXid("subxid"));
  if (options.stream_abort_info) {
    StreamAbort::AbortInfo& info = m.abort_info.emplace();
    PGPARITY_ASSIGN_OR_RETURN(info.abort_lsn, in.ReadLsn("abort_lsn"));
    PGPARITY_ASSIGN_OR_RETURN(info.abort_time, in.ReadTimestamp("abort_time"));
  }
  return m;
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

Result<BeginPrepare> ParseBeginPrepare(FieldReader& in) {
  BeginPrepare m;
  PGPARITY_ASSIGN_OR_RETURN(m.prepare_lsn, in.ReadValidLsn("prepare_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.end_lsn, in.ReadValidLsn("end_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.prepare_time, in.ReadTimestamp("prepare_time"));
  PGPARITY_ASSIGN_OR_RETURN(m.xid, in.ReadValidXid("xid"));
  PGPARITY_ASSIGN_OR_RETURN(m.gid, in.CString("gid"));
  return m;
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
// end LSN, Int64 prepare time, Int32 xid, String gid.

Status ParsePrepareData(FieldReader& in, PrepareData& m) {
  PGPARITY_ASSIGN_OR_RETURN(m.flags, in.ReadFlags("flags", 0));
  PGPARITY_ASSIGN_OR_RETURN(m.prepare_lsn, in.ReadValidLsn("prepare_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.end_lsn, in.ReadValidLsn("end_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.prepare_time, in.ReadTimestamp("prepare_time"));
  PGPARITY_ASSIGN_OR_RETURN(m.xid, in.ReadValidXid("xid"));
  PGPARITY_ASSIGN_OR_RETURN(m.gid, in.CString("gid"));
  return Status::OK();
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

template <typename T>
Result<T> ParsePrepareLike(FieldReader& in) {
  T m;
  PGPARITY_RETURN_IF_ERROR(ParsePrepareData(in, m));
  return m;
}

// ---- Commit Prepared: Int8 flags (0), Int64 commit LSN, Int64 end LSN,
// Int64 commit time, Int32 xid, String gid.

Result<CommitPrepared> ParseCommitPrepared(FieldReader& in) {
  CommitPrepared m;
  PGPARITY_ASSIGN_OR_RETURN(m.flags, in.ReadFlags("flags", 0));
  PGPARITY_ASSIGN_OR_RETURN(m.commit_lsn, in.ReadValidLsn("commit_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.end_lsn, in.ReadValidLsn("end_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.commit_time, in.ReadTimestamp("commit_time"));
  PGPARITY_ASSIGN_OR_RETURN(m.xid, in.ReadValidXid("xid"));
  PGPARITY_ASSIGN_OR_RETURN(m.gid, in.CString("gid"));
  return m;
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

Result<RollbackPrepared> ParseRollbackPrepared(FieldReader& in) {
  RollbackPrepared m;
  PGPARITY_ASSIGN_OR_RETURN(m.flags, in.ReadFlags("flags", 0));
  PGPARITY_ASSIGN_OR_RETURN(m.prepare_end_lsn, in.ReadValidLsn("prepare_end_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.rollback_end_lsn, in.ReadValidLsn("rollback_end_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(m.prepare_time, in.ReadTimestamp("prepare_time"));
  PGPARITY_ASSIGN_OR_RETURN(m.rollback_time, in.ReadTimestamp("rollback_time"));
  PGPARITY_ASSIGN_OR_RETURN(m.xid, in.ReadValidXid("xid"));
  PGPARITY_ASSIGN_OR_RETURN(m.gid, in.CString("gid"));
  return m;
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

// Turns a parsed message into the variant once no bytes are left over.
template <typename T>
Result<Message> Finish(Result<T> parsed, const FieldReader& in) {
  if (!parsed.ok()) return std::move(parsed).status();
  PGPARITY_RETURN_IF_ERROR(in.ExpectEnd());
  return Message(std::move(parsed).value());
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

namespace {

// The fast path for the messages of every transaction: Begin, Commit,
// Insert, Update, Delete (ParseHot outside stream blocks). The same checks
// as the field-by-field parsers above, without naming anything: on the
// first thing that is not plainly valid it gives up and Parse runs the
// checked parser, which produces the error. It never accepts what the
// checked parser rejects.
// REQUIRES: body not empty.
bool ParseHotIn(std::span<const std::byte> body, bool in_stream, HotMessage& out) noexcept {
  std::optional<Xid>& xid = out.xid;
  const std::byte* const p = body.data();
  const size_t n = body.size();
  const auto type = static_cast<MessageType>(std::to_integer<char>(p[0]));
  out.type = type;
  switch (type) {
    case MessageType::kBegin: {
      if (n != 1 + 8 + 8 + 4) return false;
      Begin& m = out.begin;
      m.final_lsn = Lsn(LoadBE64(p + 1));
      if (!m.final_lsn.valid()) return false;
      m.commit_time = Timestamp(static_cast<int64_t>(LoadBE64(p + 9)));
      m.xid = LoadBE32(p + 17);
      return true;
    }
    case MessageType::kCommit: {
      if (n != 1 + 1 + 8 + 8 + 8 || p[1] != std::byte{0}) return false;
      Commit& m = out.commit;
      m.flags = 0;
      m.commit_lsn = Lsn(LoadBE64(p + 2));
      m.end_lsn = Lsn(LoadBE64(p + 10));
      if (!m.commit_lsn.valid() || !m.end_lsn.valid()) return false;
      m.commit_time = Timestamp(static_cast<int64_t>(LoadBE64(p + 18)));
      return true;
    }
    case MessageType::kInsert:
    case MessageType::kUpdate:
    case MessageType::kDelete:
      break;
    default:
      return false;
  }
  ByteReader r(body.subspan(1), 1);
  xid.reset();
  if (in_stream) {
    if (r.remaining() < 4) return false;
    xid = r.ReadBE32Unchecked();
    if (*xid == 0) return false;
  }
  if (r.remaining() < 4 + 1) return false;
  out.relid = r.ReadBE32Unchecked();
  if (out.relid == 0) return false;
  const uint8_t marker = r.ReadU8Unchecked();
  // Read's fast path only: what it declines, Parse's checked reader looks at.
  auto tuple = [&r](TupleView& t) -> bool { return TupleView::TryRead(r, t); };
  out.old_kind = OldTupleKind::kNone;
  out.old_tuple = TupleView();
  out.new_tuple = TupleView();
  switch (type) {
    case MessageType::kInsert:
      return marker == 'N' && tuple(out.new_tuple) && r.empty();
    case MessageType::kUpdate:
      if (marker == 'K' || marker == 'O') {
        if (!tuple(out.old_tuple) || r.remaining() < 1 || r.ReadU8Unchecked() != 'N') return false;
        out.old_kind = static_cast<OldTupleKind>(marker);
      } else if (marker != 'N') {
        return false;
      }
      return tuple(out.new_tuple) && r.empty();
    default:  // Delete
      if (marker != 'K' && marker != 'O') return false;
      out.old_kind = static_cast<OldTupleKind>(marker);
      return tuple(out.old_tuple) && r.empty();
  }
}

std::optional<Message> ParseCommon(std::span<const std::byte> body, const ParseOptions& options) {
  HotMessage h;
  if (!ParseHotIn(body, options.in_stream, h)) return std::nullopt;
  const std::optional<Xid> xid = h.xid;
  switch (h.type) {
    case MessageType::kBegin:
      return Message(h.begin);
    case MessageType::kCommit:
      return Message(h.commit);
    case MessageType::kInsert:
      return Message(Insert{xid, h.relid, h.new_tuple});
    case MessageType::kUpdate:
      return Message(Update{xid, h.relid, h.old_kind, h.old_tuple, h.new_tuple});
    default:
      return Message(Delete{xid, h.relid, h.old_kind, h.old_tuple});
  }
}

}  // namespace

bool ParseHot(std::span<const std::byte> body, bool in_stream, HotMessage& out) noexcept {
  if (body.empty()) return false;
  const bool parsed = ParseHotIn(body, in_stream, out);
  // Begin and Commit never appear inside a stream block.
  return parsed &&
         (!in_stream || (out.type != MessageType::kBegin && out.type != MessageType::kCommit));
}

Result<Message> Parse(std::span<const std::byte> body, const ParseOptions& options) {
  PGPARITY_RETURN_IF_ERROR(Validate(options));
  if (body.empty()) return Status::Corruption("empty pgoutput message: no type byte at offset 0");
  if (std::optional<Message> m = ParseCommon(body, options)) return std::move(*m);

  ByteReader reader(body);
  const uint8_t type_byte = reader.ReadU8Unchecked();  // body is not empty
  const auto type = static_cast<MessageType>(type_byte);
  const std::string_view name = MessageTypeName(type);
  if (name == "Unknown") {
    return Status::NotSupported("unknown pgoutput message type " +
                                internal::DescribeByte(type_byte) + " at offset 0");
  }
  FieldReader in(reader, name);
  if (MinProtocolVersion(type) > options.protocol_version) {
    return Status::Corruption(std::string(name) + ": needs protocol version " +
                              std::to_string(MinProtocolVersion(type)) + ", stream uses " +
                              std::to_string(options.protocol_version) + ", at offset 0");
  }

  switch (type) {
    case MessageType::kBegin:
      return Finish(ParseBegin(in), in);
    case MessageType::kCommit:
      return Finish(ParseCommit(in), in);
    case MessageType::kOrigin:
      return Finish(ParseOrigin(in), in);
    case MessageType::kRelation:
      return Finish(ParseRelation(in, options), in);
    case MessageType::kType:
      return Finish(ParseType(in, options), in);
    case MessageType::kInsert:
      return Finish(ParseInsert(in, options), in);
    case MessageType::kUpdate:
      return Finish(ParseUpdate(in, options), in);
    case MessageType::kDelete:
      return Finish(ParseDelete(in, options), in);
    case MessageType::kTruncate:
      return Finish(ParseTruncate(in, options), in);
    case MessageType::kMessage:
      return Finish(ParseLogicalMessage(in, options), in);
    case MessageType::kStreamStart:
      return Finish(ParseStreamStart(in), in);
    case MessageType::kStreamStop:
      return Finish(Result<StreamStop>(StreamStop{}), in);
    case MessageType::kStreamCommit:
      return Finish(ParseStreamCommit(in), in);
    case MessageType::kStreamAbort:
      return Finish(ParseStreamAbort(in, options), in);
    case MessageType::kBeginPrepare:
      return Finish(ParseBeginPrepare(in), in);
    case MessageType::kPrepare:
      return Finish(ParsePrepareLike<Prepare>(in), in);
    case MessageType::kCommitPrepared:
      return Finish(ParseCommitPrepared(in), in);
    case MessageType::kRollbackPrepared:
      return Finish(ParseRollbackPrepared(in), in);
    case MessageType::kStreamPrepare:
      return Finish(ParsePrepareLike<StreamPrepare>(in), in);
  }
  return Status::Internal("unhandled message type");  // unreachable: name was known
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
