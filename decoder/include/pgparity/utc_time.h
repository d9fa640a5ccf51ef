// Wall-clock times as pgparity writes them in reports and logs: ISO 8601,
// UTC, with a Z. One implementation for every report (verify's checked_at,
// the canary's and the cutover's timestamps).
#ifndef PGPARITY_UTC_TIME_H_
#define PGPARITY_UTC_TIME_H_

#include <chrono>
#include <string>

namespace pgparity {

// "2026-12-01T22:40:52Z".
std::string UtcSeconds(std::chrono::system_clock::time_point t);
// "2026-12-01T22:40:52.123Z".
std::string UtcMillis(std::chrono::system_clock::time_point t);

}  // namespace pgparity

#endif  // PGPARITY_UTC_TIME_H_
