#include "field_reader.h"

#include <cstdio>
#include <string>

namespace pgparity::wire::internal {
namespace {

// "<context>.<prefix>.<name>[<index>].<member>", empty parts left out.
std::string Name(std::string_view context, Field f) {
  std::string out(context);
  for (const std::string_view part : {f.prefix, f.name}) {
    if (part.empty()) continue;
    if (!out.empty()) out += '.';
    out += part;
  }
  if (f.index != Field::kNoIndex) {
    out += '[';
    out += std::to_string(f.index);
    out += ']';
  }
  if (!f.member.empty()) {
    out += '.';
    out += f.member;
  }
  return out;
}

}  // namespace

std::string DescribeByte(uint8_t b) {
  char buf[16];
  if (b >= 0x20 && b < 0x7f) {
    std::snprintf(buf, sizeof(buf), "'%c' (0x%02X)", b, b);
  } else {
    std::snprintf(buf, sizeof(buf), "0x%02X", b);
  }
  return buf;
}

std::string UnknownFlagsText(uint8_t flags, uint8_t allowed) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "unknown flag bits 0x%02X (allowed 0x%02X)",
                static_cast<unsigned>(flags & ~allowed), static_cast<unsigned>(allowed));
  return buf;
}

std::string BadColumnCountText(int ncols) {
  if (ncols < 0) return "negative column count " + std::to_string(ncols);
  return "column count " + std::to_string(ncols) + " exceeds MaxTupleAttributeNumber (1664)";
}

bool SetTruncated(Status& out, std::string_view context, Field f, size_t need, size_t at,
                  size_t left) {
  out = ByteReader::TruncatedError(need, at, left).WithPrefix(Name(context, f));
  return false;
}

bool SetMissingNul(Status& out, std::string_view context, Field f, size_t at) {
  out = ByteReader::MissingNulError(at).WithPrefix(Name(context, f));
  return false;
}

bool SetInvalid(Status& out, std::string_view context, Field f, size_t at, std::string_view what) {
  std::string msg = Name(context, f);
  msg += ": ";
  msg += what;
  msg += " at offset ";
  msg += std::to_string(at);
  out = Status::Corruption(msg);
  return false;
}

bool SetLeftover(Status& out, std::string_view context, size_t left, size_t at) {
  out = ByteReader::LeftoverError(left, at);
  if (!context.empty()) out = std::move(out).WithPrefix(context);
  return false;
}

}  // namespace pgparity::wire::internal
