// ReconnectPolicy: exponential backoff with a cap and optional jitter, for a
// higher layer that reconnects after a transient loss (server restart,
// failover, network blip). It only computes delays; the caller sleeps or arms
// a timer, and decides what to retry.
//
// Only Unavailable is transient (IsTransient). Wrong credentials, a missing
// or invalidated slot, a slot in use, a missing publication: retrying cannot
// fix those, so the caller stops with the error.
//
//   ReconnectPolicy policy;
//   for (;;) {
//     Status s = RunStream();              // returns when the stream ends
//     if (!ReconnectPolicy::IsTransient(s)) return s;
//     auto delay = policy.NextDelay();
//     if (!delay) return s.WithPrefix("giving up after retries");
//     Sleep(*delay);
//   }
//   // after a stream made progress: policy.Reset()
//
// Thread-safety: none.
#ifndef PGPARITY_CONN_RECONNECT_POLICY_H_
#define PGPARITY_CONN_RECONNECT_POLICY_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

#include "pgparity/status.h"

namespace pgparity::conn {

struct ReconnectOptions {
  std::chrono::milliseconds initial_delay{500};
  std::chrono::milliseconds max_delay{30000};
  double multiplier = 2.0;  // >= 1
  // Each delay is scaled by a uniform factor in [1 - jitter, 1 + jitter]
  // (clamped to max_delay); 0 = deterministic. In [0, 1].
  double jitter = 0.2;
  // Attempts before NextDelay returns nullopt; 0 = unlimited.
  int max_attempts = 0;
};

class ReconnectPolicy {
 public:
  explicit ReconnectPolicy(ReconnectOptions options = {}, uint64_t seed = std::random_device{}());

  // Whether a retry can help: only Status::Unavailable.
  static bool IsTransient(const Status& status) { return status.IsUnavailable(); }

  // The delay before the next attempt; nullopt when max_attempts are used up.
  // Delays (without jitter): initial, initial*m, initial*m^2, ... up to
  // max_delay.
  std::optional<std::chrono::milliseconds> NextDelay();

  // Back to the initial delay (call after a connection that worked).
  void Reset() { attempts_ = 0; }
  int attempts() const { return attempts_; }

 private:
  ReconnectOptions options_;
  std::mt19937_64 rng_;
  int attempts_ = 0;
};

}  // namespace pgparity::conn

#endif  // PGPARITY_CONN_RECONNECT_POLICY_H_
