#include "pgparity/wire/timestamp.h"

#include <cinttypes>
#include <cstdio>
#include <limits>
#include <ostream>
#include <string>

namespace pgparity::wire {
namespace {

constexpr int64_t kMicrosPerDay = 86'400'000'000;
constexpr int64_t kDaysFrom1970To2000 = 10'957;

// Floor division and modulo (C++ `/` truncates toward zero).
constexpr int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

struct CivilDate {
  int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Proleptic Gregorian date of `days` since 1970-01-01 (Howard Hinnant's
// civil_from_days).
CivilDate CivilFromDays(int64_t days) {
  days += 719'468;
  const int64_t era = FloorDiv(days, 146'097);
  const int64_t doe = days - era * 146'097;                                     // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                  // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                       // [0, 11]
  const unsigned day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const unsigned month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

}  // namespace

Result<Timestamp> Timestamp::FromUnixMicros(int64_t unix_micros) {
  int64_t pg;
  if (__builtin_sub_overflow(unix_micros, kUnixToPgEpochMicros, &pg) ||
      Timestamp(pg).is_infinite()) {
    return Status::InvalidArgument("Unix time " + std::to_string(unix_micros) +
                                   " us is outside the timestamp range");
  }
  return Timestamp(pg);
}

Result<int64_t> Timestamp::ToUnixMicros() const {
  int64_t unix_micros;
  if (is_infinite() || __builtin_add_overflow(pg_micros_, kUnixToPgEpochMicros, &unix_micros)) {
    return Status::InvalidArgument("timestamp " + ToIso8601() + " has no Unix time in int64 us");
  }
  return unix_micros;
}

std::string Timestamp::ToIso8601() const {
  if (pg_micros_ == std::numeric_limits<int64_t>::max()) return "infinity";
  if (pg_micros_ == std::numeric_limits<int64_t>::min()) return "-infinity";
  const int64_t days = FloorDiv(pg_micros_, kMicrosPerDay);
  int64_t micros_of_day = pg_micros_ % kMicrosPerDay;     // no days * kMicrosPerDay: may overflow
  if (micros_of_day < 0) micros_of_day += kMicrosPerDay;  // now [0, kMicrosPerDay)
  const CivilDate date = CivilFromDays(days + kDaysFrom1970To2000);
  const int64_t secs = micros_of_day / 1'000'000;
  const int64_t micros = micros_of_day % 1'000'000;
  char buf[64];
  const int n = (date.year >= 0 && date.year <= 9999)
                    ? std::snprintf(buf, sizeof(buf), "%04" PRId64, date.year)
                    : std::snprintf(buf, sizeof(buf), "%+05" PRId64, date.year);
  std::snprintf(buf + n, sizeof(buf) - n, "-%02u-%02uT%02d:%02d:%02d.%06dZ", date.month, date.day,
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60), static_cast<int>(micros));
  return buf;
}

std::ostream& operator<<(std::ostream& os, Timestamp ts) { return os << ts.ToIso8601(); }

}  // namespace pgparity::wire
