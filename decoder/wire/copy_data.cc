#include "pgparity/wire/copy_data.h"

#include <string>

#include "field_reader.h"
#include "pgparity/wire/byte_reader.h"
#include "pgparity/wire/byte_writer.h"

namespace pgparity::wire {
namespace {

using internal::FieldReader;

Result<bool> ReadBool(FieldReader& in, internal::Field f) {
  const size_t at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint8_t b, in.U8(f));
  if (b > 1) return in.Invalid(f, at, "expected 0 or 1, got " + internal::DescribeByte(b));
  return b == 1;
}

// ---- XLogData 'w': Int64 WAL start, Int64 WAL end, Int64 send time, body.

Result<XLogData> ParseXLogData(FieldReader& in) {
  XLogData m;
  PGPARITY_ASSIGN_OR_RETURN(m.wal_start, in.ReadLsn("wal_start"));
  PGPARITY_ASSIGN_OR_RETURN(m.wal_end, in.ReadLsn("wal_end"));
  PGPARITY_ASSIGN_OR_RETURN(m.send_time, in.ReadTimestamp("send_time"));
  m.body = in.reader().rest();
  PGPARITY_RETURN_IF_ERROR(in.Bytes(m.body.size(), "body").status());  // consume it
  return m;
}

// ---- Primary keepalive 'k': Int64 WAL end, Int64 send time, Byte reply requested.

Result<PrimaryKeepalive> ParseKeepalive(FieldReader& in) {
  PrimaryKeepalive m;
  PGPARITY_ASSIGN_OR_RETURN(m.wal_end, in.ReadLsn("wal_end"));
  PGPARITY_ASSIGN_OR_RETURN(m.send_time, in.ReadTimestamp("send_time"));
  PGPARITY_ASSIGN_OR_RETURN(m.reply_requested, ReadBool(in, "reply_requested"));
  PGPARITY_RETURN_IF_ERROR(in.ExpectEnd());
  return m;
}

}  // namespace

Result<CopyMessage> ParseCopyData(std::span<const std::byte> frame) {
  if (frame.empty()) return Status::Corruption("empty CopyData message: no type byte at offset 0");
  ByteReader reader(frame);
  const uint8_t type = reader.ReadU8Unchecked();  // frame is not empty
  switch (static_cast<CopyMessageType>(type)) {
    case CopyMessageType::kXLogData: {
      // Fast path for the frame of every change: the header is all there.
      if (frame.size() >= XLogData::kHeaderSize) {
        const std::byte* p = frame.data() + 1;
        XLogData m;
        m.wal_start = Lsn(LoadBE64(p));
        m.wal_end = Lsn(LoadBE64(p + 8));
        m.send_time = Timestamp(static_cast<int64_t>(LoadBE64(p + 16)));
        m.body = frame.subspan(XLogData::kHeaderSize);
        return CopyMessage(m);
      }
      FieldReader in(reader, "XLogData");
      PGPARITY_ASSIGN_OR_RETURN(XLogData m, ParseXLogData(in));
      return CopyMessage(m);
    }
    case CopyMessageType::kPrimaryKeepalive: {
      FieldReader in(reader, "PrimaryKeepalive");
      PGPARITY_ASSIGN_OR_RETURN(PrimaryKeepalive m, ParseKeepalive(in));
      return CopyMessage(m);
    }
    default:
      return Status::NotSupported("unknown CopyData message type " + internal::DescribeByte(type) +
                                  " at offset 0");
  }
}

void EncodeXLogData(const XLogData& m, std::vector<std::byte>& out) {
  ByteWriter w(out);
  w.PutU8(static_cast<uint8_t>(CopyMessageType::kXLogData));
  w.PutBE64(m.wal_start.value());
  w.PutBE64(m.wal_end.value());
  w.PutBE64(static_cast<uint64_t>(m.send_time.pg_micros()));
  w.PutBytes(m.body);
}

void EncodePrimaryKeepalive(const PrimaryKeepalive& m, std::vector<std::byte>& out) {
  ByteWriter w(out);
  w.PutU8(static_cast<uint8_t>(CopyMessageType::kPrimaryKeepalive));
  w.PutBE64(m.wal_end.value());
  w.PutBE64(static_cast<uint64_t>(m.send_time.pg_micros()));
  w.PutU8(m.reply_requested ? 1 : 0);
}

// ---- Standby status update 'r': Int64 written, Int64 flushed, Int64
// applied, Int64 client time, Byte reply requested.

void EncodeStandbyStatusUpdate(const StandbyStatusUpdate& m,
                               std::span<std::byte, StandbyStatusUpdate::kSize> out) noexcept {
  std::byte* p = out.data();
  p[0] = static_cast<std::byte>(CopyMessageType::kStandbyStatusUpdate);
  StoreBE64(p + 1, m.written.value());
  StoreBE64(p + 9, m.flushed.value());
  StoreBE64(p + 17, m.applied.value());
  StoreBE64(p + 25, static_cast<uint64_t>(m.client_time.pg_micros()));
  p[33] = static_cast<std::byte>(m.reply_requested ? 1 : 0);
}

Result<StandbyStatusUpdate> ParseStandbyStatusUpdate(std::span<const std::byte> frame) {
  ByteReader reader(frame);
  FieldReader in(reader, "StandbyStatusUpdate");
  const size_t type_at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint8_t type, in.U8("type"));
  if (type != static_cast<uint8_t>(CopyMessageType::kStandbyStatusUpdate)) {
    return in.Invalid("type", type_at, "expected 'r', got " + internal::DescribeByte(type));
  }
  StandbyStatusUpdate m;
  PGPARITY_ASSIGN_OR_RETURN(m.written, in.ReadLsn("written"));
  PGPARITY_ASSIGN_OR_RETURN(m.flushed, in.ReadLsn("flushed"));
  PGPARITY_ASSIGN_OR_RETURN(m.applied, in.ReadLsn("applied"));
  PGPARITY_ASSIGN_OR_RETURN(m.client_time, in.ReadTimestamp("client_time"));
  PGPARITY_ASSIGN_OR_RETURN(m.reply_requested, ReadBool(in, "reply_requested"));
  PGPARITY_RETURN_IF_ERROR(in.ExpectEnd());
  return m;
}

}  // namespace pgparity::wire
