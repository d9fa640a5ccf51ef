// Timestamp: PostgreSQL's TimestampTz as sent on the replication wire, a
// signed 64-bit count of microseconds since 2000-01-01 00:00:00 UTC.
// INT64_MIN and INT64_MAX are PostgreSQL's -infinity and infinity.
#ifndef PGPARITY_WIRE_TIMESTAMP_H_
#define PGPARITY_WIRE_TIMESTAMP_H_

#include <compare>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>

#include "pgparity/result.h"

namespace pgparity::wire {

class Timestamp {
 public:
  // Microseconds between 1970-01-01 and 2000-01-01 UTC.
  static constexpr int64_t kUnixToPgEpochMicros = 946'684'800'000'000;

  constexpr Timestamp() noexcept = default;  // 2000-01-01 00:00:00 UTC
  constexpr explicit Timestamp(int64_t pg_micros) noexcept : pg_micros_(pg_micros) {}

  static constexpr Timestamp Infinity() noexcept {
    return Timestamp(std::numeric_limits<int64_t>::max());
  }
  static constexpr Timestamp MinusInfinity() noexcept {
    return Timestamp(std::numeric_limits<int64_t>::min());
  }

  // Microseconds since 2000-01-01 UTC: the wire value.
  constexpr int64_t pg_micros() const noexcept { return pg_micros_; }
  constexpr bool is_infinite() const noexcept {
    return pg_micros_ == std::numeric_limits<int64_t>::max() ||
           pg_micros_ == std::numeric_limits<int64_t>::min();
  }

  // From/to microseconds since 1970-01-01 UTC. Fail (InvalidArgument) on
  // infinities and on values that do not fit in int64 after the shift.
  static Result<Timestamp> FromUnixMicros(int64_t unix_micros);
  Result<int64_t> ToUnixMicros() const;

  // "2024-05-06T07:08:09.123456Z" (always 6 fraction digits, UTC). Years
  // outside 0000..9999 get a sign ("+10000-01-01T..."), as ISO 8601 expanded
  // years do; the infinities print as "infinity" and "-infinity".
  std::string ToIso8601() const;

  friend constexpr auto operator<=>(Timestamp, Timestamp) noexcept = default;

 private:
  int64_t pg_micros_ = 0;
};

std::ostream& operator<<(std::ostream& os, Timestamp ts);

}  // namespace pgparity::wire

#endif  // PGPARITY_WIRE_TIMESTAMP_H_
