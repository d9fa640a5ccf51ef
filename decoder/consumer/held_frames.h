// HeldFrames: XLogData frames the SlotConsumer received while its sink could
// not take them yet (ConsumerHooks::sink_ready), kept in memory in the order
// they came, and handed back in that order. The frames' bodies are copied
// into one growing buffer: the receive buffer they point into is reused for
// the next read.
//
// Thread-safety: none; the consumer's thread only.
#ifndef PGPARITY_CONSUMER_HELD_FRAMES_H_
#define PGPARITY_CONSUMER_HELD_FRAMES_H_

#include <cstddef>
#include <functional>
#include <vector>

#include "pgparity/status.h"
#include "pgparity/wire/copy_data.h"

namespace pgparity::consumer {

class HeldFrames {
 public:
  void Hold(const wire::XLogData& frame);

  // Each held frame, oldest first, to `feed`; stops at its first error
  // (the frames not fed are dropped with the others: the consumer stops).
  // Empty afterwards either way.
  [[nodiscard]] Status FeedAll(const std::function<Status(const wire::XLogData&)>& feed);

  bool empty() const noexcept { return frames_.empty(); }
  // The bodies' bytes held now.
  size_t bytes() const noexcept { return bodies_.size(); }

 private:
  struct Frame {
    wire::Lsn wal_start;
    wire::Lsn wal_end;
    wire::Timestamp send_time;
    size_t offset = 0;  // of its body in bodies_
    size_t size = 0;
  };
  std::vector<Frame> frames_;
  std::vector<std::byte> bodies_;
};

}  // namespace pgparity::consumer

#endif  // PGPARITY_CONSUMER_HELD_FRAMES_H_
