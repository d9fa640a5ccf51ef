#include "pgparity/sql_quote.h"

namespace pgparity {

namespace {

std::string Quote(std::string_view text, char quote) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back(quote);
  for (char c : text) {
    if (c == quote) out.push_back(quote);
    out.push_back(c);
  }
  out.push_back(quote);
  return out;
}

bool NeedsNoQuotes(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::string QuoteIdent(std::string_view name) { return Quote(name, '"'); }

std::string QuoteQualifiedName(std::string_view schema, std::string_view name) {
  return QuoteIdent(schema) + "." + QuoteIdent(name);
}

std::string QuoteStandardLiteral(std::string_view text) { return Quote(text, '\''); }

std::string QuoteLiteral(std::string_view text) {
  if (text.find('\\') == std::string_view::npos) return Quote(text, '\'');
  std::string out = "E'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out.push_back(c);
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string IdentForDisplay(std::string_view name) {
  return NeedsNoQuotes(name) ? std::string(name) : QuoteIdent(name);
}

}  // namespace pgparity
