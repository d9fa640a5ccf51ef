#include "held_frames.h"

namespace pgparity::consumer {

void HeldFrames::Hold(const wire::XLogData& frame) {
  frames_.push_back(
      Frame{frame.wal_start, frame.wal_end, frame.send_time, bodies_.size(), frame.body.size()});
  bodies_.insert(bodies_.end(), frame.body.begin(), frame.body.end());
}

Status HeldFrames::FeedAll(const std::function<Status(const wire::XLogData&)>& feed) {
  Status status;
  for (const Frame& f : frames_) {
    const wire::XLogData frame{f.wal_start, f.wal_end, f.send_time,
                               std::span<const std::byte>(bodies_).subspan(f.offset, f.size)};
    status = feed(frame);
    if (!status.ok()) break;
  }
  frames_.clear();
  bodies_.clear();
  bodies_.shrink_to_fit();  // up to max_held_bytes: give it back
  return status;
}

}  // namespace pgparity::consumer
