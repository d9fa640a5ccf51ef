// SQL quoting for the corpus. Test-local on purpose: the oracle must not
// lean on pgparity's own helpers, so a quoting bug there cannot hide here.
#pragma once

#include <string>
#include <string_view>

namespace pgparity::corpus {

// A double-quoted identifier ("Order Lines", "Größe", a"b -> "a""b").
inline std::string QuoteIdent(std::string_view s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// A string literal that reads the same whatever standard_conforming_strings
// is: the E'' form whenever a backslash is present.
inline std::string QuoteLiteral(std::string_view s) {
  const bool backslash = s.find('\\') != std::string_view::npos;
  std::string out = backslash ? "E'" : "'";
  for (char c : s) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// "schema"."name"
inline std::string QuoteTable(std::string_view schema, std::string_view name) {
  return QuoteIdent(schema) + "." + QuoteIdent(name);
}

}  // namespace pgparity::corpus
