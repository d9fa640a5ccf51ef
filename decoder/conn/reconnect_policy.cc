#include "pgparity/conn/reconnect_policy.h"

#include <algorithm>
#include <cmath>

namespace pgparity::conn {

ReconnectPolicy::ReconnectPolicy(ReconnectOptions options, uint64_t seed)
    : options_(options), rng_(seed) {
  options_.multiplier = std::max(options_.multiplier, 1.0);
  options_.jitter = std::clamp(options_.jitter, 0.0, 1.0);
  options_.initial_delay = std::max(options_.initial_delay, std::chrono::milliseconds(0));
  options_.max_delay = std::max(options_.max_delay, options_.initial_delay);
}

std::optional<std::chrono::milliseconds> ReconnectPolicy::NextDelay() {
  if (options_.max_attempts > 0 && attempts_ >= options_.max_attempts) return std::nullopt;
  const double max = static_cast<double>(options_.max_delay.count());
  // initial * multiplier^attempts, capped; computed in double so a long run of
  // attempts saturates at the cap instead of overflowing.
  double delay = static_cast<double>(options_.initial_delay.count()) *
                 std::pow(options_.multiplier, static_cast<double>(attempts_));
  delay = std::min(delay, max);
  if (options_.jitter > 0) {
    std::uniform_real_distribution<double> factor(1.0 - options_.jitter, 1.0 + options_.jitter);
    delay = std::min(delay * factor(rng_), max);
  }
  ++attempts_;
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(delay)));
}

}  // namespace pgparity::conn
