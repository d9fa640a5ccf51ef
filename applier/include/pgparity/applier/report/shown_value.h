// How a divergent row's values go in the report (docs/report.md,
// "Values"): cut to a byte budget with the whole value's length and MD5,
// and escaped for a terminal. Pure functions; thread-safe.
#ifndef PGPARITY_APPLIER_REPORT_SHOWN_VALUE_H_
#define PGPARITY_APPLIER_REPORT_SHOWN_VALUE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgparity::applier {

// How values go in the report: each cut to `max_bytes` bytes, or, with
// `redact`, none read or shown at all.
struct ValueOptions {
  size_t max_bytes = 256;
  bool redact = false;
};

// One column's value as the report shows it: NULL, or its text (the type's
// output in pgparity's pinned formats; bytea as \x hex) cut to at most
// max_bytes bytes at a UTF-8 character boundary, with the whole value's
// length and MD5 so a cut value can still be compared.
struct ShownValue {
  bool null = true;
  std::string text;        // the shown (maybe cut) text; "" for NULL
  bool truncated = false;  // text is a prefix of the value
  uint64_t bytes = 0;      // the whole value's length in bytes
  std::string md5;         // the whole value's MD5, 32 lowercase hex digits
};

// `value` (nullopt: SQL NULL) shown within `max_bytes`.
ShownValue ShowValue(std::optional<std::string_view> value, size_t max_bytes);

// A wide value read as its length, MD5 and first characters (row_read.h
// ForDigest): shown as those characters cut to `max_bytes`, truncated.
ShownValue ShowWideValue(uint64_t bytes, std::string_view md5_hex, std::string_view prefix,
                         size_t max_bytes);

// `text` as the body of a PostgreSQL escape string constant E'...': \\ and
// \' for backslash and quote, \n \r \t, \xHH for every other control
// character (C0, DEL) and for each byte of invalid UTF-8, \uXXXX for the
// C1 controls, line/paragraph separators and bidirectional overrides.
// Everything else (printable UTF-8) as is: the result never breaks a line
// nor carries a terminal escape.
std::string EscapeForText(std::string_view text);

// The same escapes of control and invisible characters, but backslashes and
// quotes as they are: for pgparity's own lines that quote nothing (a
// provenance diagnosis) yet may carry a name read from a catalog.
std::string EscapeControls(std::string_view text);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_REPORT_SHOWN_VALUE_H_
