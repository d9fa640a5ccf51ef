#include "pgparity/wire/lsn.h"

#include <cstdio>
#include <ostream>
#include <string>

namespace pgparity::wire {
namespace {

// Parses 1 to 8 hex digits, nothing else.
bool ParseHex32(std::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 8) return false;
  uint32_t v = 0;
  for (const char c : s) {
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
    v = (v << 4) | digit;
  }
  *out = v;
  return true;
}

}  // namespace

Result<Lsn> Lsn::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  uint32_t hi = 0;
  uint32_t lo = 0;
  if (slash == std::string_view::npos || !ParseHex32(text.substr(0, slash), &hi) ||
      !ParseHex32(text.substr(slash + 1), &lo)) {
    return Status::InvalidArgument("invalid LSN \"" + std::string(text) +
                                   "\": expected X/X, 1 to 8 hex digits each");
  }
  return Lsn((static_cast<uint64_t>(hi) << 32) | lo);
}

std::string Lsn::ToString() const {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%X/%X", static_cast<unsigned>(value_ >> 32),
                static_cast<unsigned>(value_ & 0xFFFFFFFFu));
  return buf;
}

std::ostream& operator<<(std::ostream& os, Lsn lsn) { return os << lsn.ToString(); }

}  // namespace pgparity::wire
