#include "pgparity/applier/report/shown_value.h"

#include <cstdio>

#include "pgparity/digest/md5_batch.h"

namespace pgparity::applier {

namespace {

// The length of the well-formed UTF-8 sequence at the start of `s` and its
// code point; 0 when it is not one (a stray continuation byte, a cut or
// overlong sequence, a surrogate, beyond U+10FFFF).
size_t Utf8Sequence(std::string_view s, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  size_t len = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF) len = 2, cp = b0 & 0x1F;
  if (b0 >= 0xE0 && b0 <= 0xEF) len = 3, cp = b0 & 0x0F;
  if (b0 >= 0xF0 && b0 <= 0xF4) len = 4, cp = b0 & 0x07;
  if (len == 0 || s.size() < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
  return len;
}

// Code points a terminal acts on beyond C0/DEL: C1 controls (CSI is
// U+009B), the line and paragraph separators, bidirectional overrides.
bool InvisibleControl(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

void AppendHexEscape(std::string& out, const char* format, unsigned value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, format, value);
  out += buf;
}

// How the one-byte character `c` is escaped; false: it is printable.
// `literal`: also \\ and \' (the body of an E'' constant).
bool AppendAsciiEscape(std::string& out, unsigned char c, bool literal) {
  switch (c) {
    case '\\':
      if (!literal) return false;
      out += "\\\\";
      return true;
    case '\'':
      if (!literal) return false;
      out += "\\'";
      return true;
    case '\n':
      out += "\\n";
      return true;
    case '\r':
      out += "\\r";
      return true;
    case '\t':
      out += "\\t";
      return true;
    default:
      break;
  }
  if (c >= 0x20 && c != 0x7F) return false;
  AppendHexEscape(out, "\\x%02X", c);
  return true;
}

// EscapeForText's and EscapeControls' one body.
std::string Escape(std::string_view text, bool literal) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    char32_t cp = 0;
    const size_t len = Utf8Sequence(text, cp);
    if (len == 0) {
      AppendHexEscape(out, "\\x%02X", static_cast<unsigned char>(text[0]));
      text.remove_prefix(1);
      continue;
    }
    if (len == 1) {
      if (!AppendAsciiEscape(out, static_cast<unsigned char>(cp), literal)) out += text[0];
    } else if (InvisibleControl(cp)) {
      AppendHexEscape(out, "\\u%04X", static_cast<unsigned>(cp));
    } else {
      out += text.substr(0, len);
    }
    text.remove_prefix(len);
  }
  return out;
}

}  // namespace

ShownValue ShowValue(std::optional<std::string_view> value, size_t max_bytes) {
  ShownValue shown;
  if (!value) return shown;
  shown.null = false;
  shown.bytes = value->size();
  shown.md5 = digest::Md5(*value).ToHex();
  size_t cut = value->size();
  if (cut > max_bytes) {
    cut = max_bytes;
    // Back to the start of the character the budget ends in (at most 3
    // continuation bytes: invalid UTF-8 is cut anywhere).
    for (int back = 0; back < 3 && cut > 0 && IsContinuation((*value)[cut]); ++back) --cut;
    shown.truncated = true;
  }
  shown.text = std::string(value->substr(0, cut));
  return shown;
}

ShownValue ShowWideValue(uint64_t bytes, std::string_view md5_hex, std::string_view prefix,
                         size_t max_bytes) {
  ShownValue shown = ShowValue(prefix, max_bytes);
  shown.truncated = true;
  shown.bytes = bytes;
  shown.md5 = std::string(md5_hex);
  return shown;
}

std::string EscapeForText(std::string_view text) { return Escape(text, /*literal=*/true); }

std::string EscapeControls(std::string_view text) { return Escape(text, /*literal=*/false); }

}  // namespace pgparity::applier
