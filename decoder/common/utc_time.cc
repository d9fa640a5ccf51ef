#include "pgparity/utc_time.h"

#include <cstdio>
#include <ctime>

namespace pgparity {

namespace {

// The broken-down UTC time of `t` and its milliseconds (0-999). Both
// rounded down, also before 1970, where a division would round up.
std::tm Broken(std::chrono::system_clock::time_point t, int& millis) {
  using namespace std::chrono;
  const auto whole = floor<seconds>(t);
  millis = static_cast<int>(duration_cast<milliseconds>(t - whole).count());
  const std::time_t secs = system_clock::to_time_t(whole);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

}  // namespace

std::string UtcSeconds(std::chrono::system_clock::time_point t) {
  int millis = 0;
  const std::tm tm = Broken(t, millis);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string UtcMillis(std::chrono::system_clock::time_point t) {
  int millis = 0;
  const std::tm tm = Broken(t, millis);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

}  // namespace pgparity
