// Lsn: a WAL position (PostgreSQL's XLogRecPtr), a strong type over uint64_t.
// Text form "X/X": the high and low 32 bits in hex, as PostgreSQL prints and
// parses pg_lsn ("16/B374D848").
#ifndef PGPARITY_WIRE_LSN_H_
#define PGPARITY_WIRE_LSN_H_

#include <compare>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "pgparity/result.h"

namespace pgparity::wire {

class Lsn {
 public:
  // 0/0, PostgreSQL's InvalidXLogRecPtr.
  constexpr Lsn() noexcept = default;
  constexpr explicit Lsn(uint64_t value) noexcept : value_(value) {}

  constexpr uint64_t value() const noexcept { return value_; }
  // False for 0/0, which no WAL record has.
  constexpr bool valid() const noexcept { return value_ != 0; }

  // Parses "X/X": each half 1 to 8 hex digits, either case, nothing else.
  static Result<Lsn> Parse(std::string_view text);
  // "X/X" in upper-case hex without padding ("0/16B3748").
  std::string ToString() const;

  friend constexpr auto operator<=>(Lsn, Lsn) noexcept = default;

 private:
  uint64_t value_ = 0;
};

std::ostream& operator<<(std::ostream& os, Lsn lsn);

}  // namespace pgparity::wire

#endif  // PGPARITY_WIRE_LSN_H_
