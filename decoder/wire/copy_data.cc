#include "pgparity/wire/copy_data.h"

#include <string>

#include "field_reader.h"
#include "pgparity/wire/byte_reader.h"
#include "pgparity/wire/byte_writer.h"

namespace pgparity::wire {
namespace {

using internal::CheckedReader;
using internal::FastReader;
using internal::NamedErrors;
using internal::NoErrors;

bool ReadBool(CheckedReader& in, internal::Field f, bool& v) {
  const size_t at = in.offset();
  uint8_t b = 0;
  if (!in.U8(f, b)) return false;
  if (b > 1) {
    return in.Invalid(f, at, [&] { return "expected 0 or 1, got " + internal::DescribeByte(b); });
  }
  v = b == 1;
  return true;
}

// ---- XLogData 'w': Int64 WAL start, Int64 WAL end, Int64 send time, body.

template <typename In>
bool ParseXLogData(In& in, XLogData& m) {
  return in.ReadLsn("wal_start", m.wal_start) && in.ReadLsn("wal_end", m.wal_end) &&
         in.ReadTimestamp("send_time", m.send_time) && in.Bytes(in.remaining(), "body", m.body);
}

// ---- Primary keepalive 'k': Int64 WAL end, Int64 send time, Byte reply requested.

bool ParseKeepalive(CheckedReader& in, PrimaryKeepalive& m) {
  return in.ReadLsn("wal_end", m.wal_end) && in.ReadTimestamp("send_time", m.send_time) &&
         ReadBool(in, "reply_requested", m.reply_requested) && in.ExpectEnd();
}

}  // namespace

Result<CopyMessage> ParseCopyData(std::span<const std::byte> frame) {
  if (frame.empty()) return Status::Corruption("empty CopyData message: no type byte at offset 0");
  const uint8_t type = std::to_integer<uint8_t>(frame[0]);
  Status error;
  switch (static_cast<CopyMessageType>(type)) {
    case CopyMessageType::kXLogData: {
      // The frame of every change: the fast policy first, the checked one (the
      // same body) only to word an error. With the checked one alone, gcc 12
      // stores every field's name on each read, ~10% of decode-only time.
      XLogData m;
      if (FastReader fast(frame.subspan(1), 1, NoErrors()); ParseXLogData(fast, m)) {
        return CopyMessage(m);
      }
      CheckedReader in(frame.subspan(1), 1, NamedErrors("XLogData", error));
      ParseXLogData(in, m);  // fails where the fast one did, and says why
      return error;
    }
    case CopyMessageType::kPrimaryKeepalive: {
      CheckedReader in(frame.subspan(1), 1, NamedErrors("PrimaryKeepalive", error));
      if (PrimaryKeepalive m; ParseKeepalive(in, m)) return CopyMessage(m);
      return error;
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
  Status error;
  CheckedReader in(frame, 0, NamedErrors("StandbyStatusUpdate", error));
  uint8_t type = 0;
  if (!in.U8("type", type)) return error;
  if (type != static_cast<uint8_t>(CopyMessageType::kStandbyStatusUpdate)) {
    in.Invalid("type", 0, [&] { return "expected 'r', got " + internal::DescribeByte(type); });
    return error;
  }
  StandbyStatusUpdate m;
  if (in.ReadLsn("written", m.written) && in.ReadLsn("flushed", m.flushed) &&
      in.ReadLsn("applied", m.applied) && in.ReadTimestamp("client_time", m.client_time) &&
      ReadBool(in, "reply_requested", m.reply_requested) && in.ExpectEnd()) {
    return m;
  }
  return error;
}

}  // namespace pgparity::wire
