// The CopyData frames of streaming replication (START_REPLICATION ...
// LOGICAL): server -> client XLogData ('w') and Primary Keepalive ('k'),
// client -> server Standby Status Update ('r').
//
// Pure: no I/O. ParseCopyData takes the payload of one CopyData ('d') message;
// the XLogData body it returns views that payload and goes to wire::Parse.
#ifndef PGPARITY_WIRE_COPY_DATA_H_
#define PGPARITY_WIRE_COPY_DATA_H_

#include <cstddef>
#include <span>
#include <variant>
#include <vector>

#include "pgparity/result.h"
#include "pgparity/wire/lsn.h"
#include "pgparity/wire/timestamp.h"

namespace pgparity::wire {

enum class CopyMessageType : char {
  kXLogData = 'w',
  kPrimaryKeepalive = 'k',
  kStandbyStatusUpdate = 'r',
};

struct XLogData {
  static constexpr size_t kHeaderSize = 1 + 8 + 8 + 8;  // body starts here
  // In logical mode these are the record's LSNs only on a callback's last
  // write; Relation/Type frames can carry 0/0.
  Lsn wal_start;
  Lsn wal_end;
  Timestamp send_time;
  std::span<const std::byte> body;  // one pgoutput message
};

struct PrimaryKeepalive {
  static constexpr size_t kSize = 1 + 8 + 8 + 1;
  Lsn wal_end;
  Timestamp send_time;
  bool reply_requested = false;
};

struct StandbyStatusUpdate {
  static constexpr size_t kSize = 1 + 8 + 8 + 8 + 8 + 1;
  // Each is "last byte processed + 1".
  Lsn written;
  Lsn flushed;
  Lsn applied;
  Timestamp client_time;
  bool reply_requested = false;
};

using CopyMessage = std::variant<XLogData, PrimaryKeepalive>;

// Parses the payload of a server -> client CopyData message. Errors
// (Corruption) name the frame and field: "PrimaryKeepalive.reply_requested:
// ...". An XLogData body may be empty here; Parse rejects that.
Result<CopyMessage> ParseCopyData(std::span<const std::byte> frame);

// Append the frame to `out` (tests, bench).
void EncodeXLogData(const XLogData& m, std::vector<std::byte>& out);
void EncodePrimaryKeepalive(const PrimaryKeepalive& m, std::vector<std::byte>& out);

// Writes the 34-byte 'r' frame into `out`, the caller's buffer. Allocates
// nothing.
void EncodeStandbyStatusUpdate(const StandbyStatusUpdate& m,
                               std::span<std::byte, StandbyStatusUpdate::kSize> out) noexcept;
// The reverse, for tests and for tools that read captured client traffic.
Result<StandbyStatusUpdate> ParseStandbyStatusUpdate(std::span<const std::byte> frame);

}  // namespace pgparity::wire

#endif  // PGPARITY_WIRE_COPY_DATA_H_
