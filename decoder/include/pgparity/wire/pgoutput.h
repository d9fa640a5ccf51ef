// Parse and Encode for pgoutput messages: the body of an XLogData frame.
//
// Parse is pure: no I/O, no state between calls. Whatever depends on the
// stream (the negotiated protocol version, whether we are between Stream
// Start and Stream Stop) is passed in ParseOptions by the caller, who owns
// that state.
//
// Parse checks every read against the remaining bytes and the meaning of each
// field right after reading it, and rejects leftover bytes. Errors are
// Status::Corruption (Status::NotSupported for an unknown message type) and
// name the message, the field and the byte offset within `body`:
//   "Relation.columns[3].name: missing NUL at offset 57"
// The caller adds the LSN: status.WithPrefix("LSN " + lsn.ToString()).
//
// Encode writes exactly the bytes Parse accepts: Encode(*Parse(b, o)) == b for
// every b that parses.
#ifndef PGPARITY_WIRE_PGOUTPUT_H_
#define PGPARITY_WIRE_PGOUTPUT_H_

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "pgparity/result.h"
#include "pgparity/status.h"
#include "pgparity/wire/messages.h"

namespace pgparity::wire {

inline constexpr int kMinProtocolVersion = 1;
inline constexpr int kMaxProtocolVersion = 4;

struct ParseOptions {
  // The negotiated proto_version (1..4). Messages newer than it are errors:
  // stream messages need 2, two-phase messages need 3.
  int protocol_version = kMaxProtocolVersion;
  // Between Stream Start and Stream Stop: Relation, Type, Insert, Update,
  // Delete, Truncate and Message carry an Int32 xid first. Needs version >= 2.
  bool in_stream = false;
  // Protocol v4 with streaming = parallel: Stream Abort carries abort LSN and
  // abort time. Needs version >= 4.
  bool stream_abort_info = false;
};

// OK when the options are consistent (version in range, flags allowed by it).
Status Validate(const ParseOptions& options);

// Parses one message; body[0] is the message type byte. The result views
// `body`: keep the buffer alive while using it. Allocates only for Relation
// columns and Truncate relids.
Result<Message> Parse(std::span<const std::byte> body, const ParseOptions& options);

// The messages of every transaction (Begin, Commit, Insert, Update, Delete;
// inside stream blocks, with `in_stream`, the three changes and their xid)
// parsed into a plain struct instead of a Result<Message>: the decoder's hot
// path, which reuses one HotMessage and so builds no variant and no Status
// per change. It runs the very parse body of each message that Parse runs,
// with a reader that fails without naming anything: false where Parse would
// give an error (Parse then words it), and where it returns true, Parse
// accepts the same bytes and reads the same message. Also false for every
// other message type, and for Begin and Commit inside a stream block.
struct HotMessage {
  MessageType type = MessageType::kBegin;
  // The member named by `type` holds the message; the others are stale.
  Begin begin;
  Commit commit;
  Insert insert;
  Update update;
  Delete del;

  // The (sub)transaction xid of a change read with in_stream.
  // REQUIRES: type is kInsert, kUpdate or kDelete.
  std::optional<Xid> change_xid() const noexcept {
    switch (type) {
      case MessageType::kInsert:
        return insert.xid;
      case MessageType::kUpdate:
        return update.xid;
      default:
        return del.xid;
    }
  }
};
bool ParseHot(std::span<const std::byte> body, bool in_stream, HotMessage& out) noexcept;

// Appends the wire form of `message` to `out` (type byte first). Optional
// fields (xid, StreamAbort::abort_info, Update's old tuple) are written when
// present. REQUIRES: strings contain no NUL.
void Encode(const Message& message, std::vector<std::byte>& out);

}  // namespace pgparity::wire

#endif  // PGPARITY_WIRE_PGOUTPUT_H_
