// StreamPosition: how far pgparity's own stream has got. CheckSession's
// consumer hooks publish it on the consumer's thread; the checks read it
// (TargetChecker waits until the stream has decoded past a target's
// snapshot). Part of session/.
//
// Thread-safety: every field is an atomic read on its own; no field is
// consistent with another.
#ifndef PGPARITY_APPLIER_SESSION_STREAM_POSITION_H_
#define PGPARITY_APPLIER_SESSION_STREAM_POSITION_H_

#include <atomic>
#include <cstdint>

#include "pgparity/wire/lsn.h"

namespace pgparity::applier {

struct StreamPosition {
  std::atomic<uint64_t> received{0};  // highest wal end seen (frames and keepalives)
  std::atomic<bool> idle{true};       // no transaction open or buffered
  std::atomic<bool> ended{false};     // the consumer stopped

  // Every commit ending before it is in the shadow, though the shadow's
  // last commit may be older (a quiet source: keepalives move `received`):
  // received + 1 while idle, else 0/0. Received is read first, so idle
  // then covers it.
  wire::Lsn DecodedBefore() const {
    const uint64_t at = received.load();
    return idle.load() ? wire::Lsn(at + 1) : wire::Lsn();
  }
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SESSION_STREAM_POSITION_H_
