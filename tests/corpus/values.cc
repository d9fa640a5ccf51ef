#include "corpus/values.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

namespace pgparity::corpus {

namespace {

// Symbols RandomText draws from: quotes, backslash, array and JSON
// punctuation, whitespace and multi-byte UTF-8 are the interesting ones.
const std::vector<std::string>& Symbols() {
  static const std::vector<std::string> symbols{
      "a", "b", "c", "x", "y", "z", "A", "Q",  "0",  "7", " ", " ", "'", "\"", "\\", ",",
      "{", "}", "(", ")", "[", "]", ":", "\t", "\n", "ä", "ß", "é", "Ö", "€",  "日", "😀"};
  return symbols;
}

std::string Alnum(Rng& rng, size_t n) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s(n, ' ');
  for (auto& c : s) c = kChars[Uniform(rng, 0, 61)];
  return s;
}

std::string Hex(Rng& rng, size_t bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string s = "\\x";
  for (size_t i = 0; i < bytes; ++i) {
    const auto b = static_cast<unsigned>(rng() & 0xff);
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

// Days since 1970-01-01 to y-m-d (H. Hinnant's civil_from_days).
void CivilFromDays(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
}

// A timestamp between two day numbers, microseconds included; "+00" when zoned.
std::string Timestamp(Rng& rng, int64_t from_day, int64_t to_day, bool zoned) {
  int y, m, d;
  CivilFromDays(Uniform(rng, from_day, to_day), y, m, d);
  const int64_t secs = Uniform(rng, 0, 86399);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d%s", y, m, d,
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60), static_cast<int>(Uniform(rng, 0, 999999)),
                zoned ? "+00" : "");
  return buf;
}

std::string AnyTimestamp(Rng& rng, bool zoned) {
  if (Chance(rng, 0.05)) return "infinity";
  if (Chance(rng, 0.05)) return "-infinity";
  return Timestamp(rng, 7305, 23741, zoned);  // 1990 .. 2034
}

std::string Numeric(Rng& rng, int int_digits, int scale) {
  if (Chance(rng, 0.1)) return "NaN";
  std::string s = Chance(rng, 0.3) ? "-" : "";
  s += std::to_string(Uniform(rng, 0, 9));
  for (int i = 1; i < Uniform(rng, 1, int_digits); ++i) s += std::to_string(Uniform(rng, 0, 9));
  if (scale > 0) {
    s += ".";
    for (int i = 0; i < scale; ++i) s += std::to_string(Uniform(rng, 0, 9));
  }
  return s;
}

// An array element or JSON string body: " and \ escaped with a backslash.
std::string Escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string IntElements(Rng& rng, int64_t n) {
  std::string s;
  for (int64_t i = 0; i < n; ++i) {
    s += std::string(i ? "," : "") +
         (Chance(rng, 0.1) ? "NULL" : std::to_string(Uniform(rng, -1000, 1000)));
  }
  return s;
}

// Mostly one dimension from 1; sometimes another lower bound ('[0:2]={..}'
// prints so, and differs from '{..}' with the same elements), or two
// dimensions.
std::string IntArray(Rng& rng) {
  const int64_t n = Uniform(rng, 0, 6);
  if (n > 0 && Chance(rng, 0.12)) {
    const int64_t lower = Uniform(rng, -3, 3);
    return "[" + std::to_string(lower) + ":" + std::to_string(lower + n - 1) + "]={" +
           IntElements(rng, n) + "}";
  }
  if (n > 0 && Chance(rng, 0.08)) {
    return "{{" + IntElements(rng, n) + "},{" + IntElements(rng, n) + "}}";
  }
  return "{" + IntElements(rng, n) + "}";
}

std::string TextArray(Rng& rng) {
  std::string s = "{";
  for (int64_t i = 0, n = Uniform(rng, 0, 5); i < n; ++i) {
    if (i) s += ",";
    s += Chance(rng, 0.1)
             ? "NULL"
             : "\"" + Escaped(RandomText(rng, static_cast<size_t>(Uniform(rng, 0, 8)))) + "\"";
  }
  return s + "}";
}

// A JSON string: control characters escaped too.
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\u0009";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Json(Rng& rng, int depth);

std::string JsonScalar(Rng& rng) {
  switch (Uniform(rng, 0, 4)) {
    case 0:
      return "null";
    case 1:
      return Chance(rng, 0.5) ? "true" : "false";
    case 2:
      return std::to_string(Uniform(rng, -100000, 100000));
    case 3:
      return Chance(rng, 0.5) ? "1.5e3" : "0.250";
    default:
      return JsonString(RandomText(rng, static_cast<size_t>(Uniform(rng, 0, 6))));
  }
}

// Random whitespace between tokens: json keeps it, jsonb normalises it.
std::string Json(Rng& rng, int depth) {
  const std::string sp = Chance(rng, 0.5) ? " " : "";
  if (depth >= 2 || Chance(rng, 0.3)) return JsonScalar(rng);
  std::string s;
  const int64_t n = Uniform(rng, 0, 3);
  const bool object = Chance(rng, 0.6);
  for (int64_t i = 0; i < n; ++i) {
    if (i) s += "," + sp;
    if (object)
      s += JsonString(Pick(rng, std::vector<std::string>{"a", "b", "ü", "k\ty"})) + ":" + sp;
    s += Json(rng, depth + 1);
  }
  return object ? "{" + sp + s + "}" : "[" + s + sp + "]";
}

std::string Int4Range(Rng& rng) {
  if (Chance(rng, 0.1)) return "empty";
  const int64_t a = Uniform(rng, -500, 500), b = a + Uniform(rng, 1, 300);
  if (Chance(rng, 0.1)) return "[" + std::to_string(a) + ",)";
  return "[" + std::to_string(a) + "," + std::to_string(b) + ")";
}

std::string TstzRange(Rng& rng) {
  if (Chance(rng, 0.1)) return "empty";
  const int64_t a = Uniform(rng, 7305, 23000), b = a + Uniform(rng, 1, 700);
  const std::string lo = "\"" + Timestamp(rng, a, a, true) + "\"";
  const std::string hi = "\"" + Timestamp(rng, b, b, true) + "\"";
  return Chance(rng, 0.1) ? "(," + hi + "]" : "[" + lo + "," + hi + ")";
}

// A float4 printed shortest (what the source prints), so that two values
// differ as float4 whenever their text differs; the specials, -0 and
// subnormals included.
std::string Real(Rng& rng) {
  static const std::vector<std::string> specials{"NaN", "Infinity", "-Infinity",    "0",
                                                 "-0",  "1e-45",    "3.4028235e+38"};
  if (Chance(rng, 0.1)) return Pick(rng, specials);
  const float mantissa = static_cast<float>(Uniform(rng, -9999999, 9999999));
  const float v = mantissa * std::pow(10.0F, static_cast<float>(Uniform(rng, -44, 30)));
  if (!std::isfinite(v)) return "0.5";
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

std::string Float8(Rng& rng) {
  static const std::vector<std::string> specials{"NaN",
                                                 "Infinity",
                                                 "-Infinity",
                                                 "0",
                                                 "-0",
                                                 "5e-324",
                                                 "2.2250738585072014e-308",
                                                 "1.7976931348623157e+308"};
  if (Chance(rng, 0.1)) return Pick(rng, specials);
  const double v = static_cast<double>(Uniform(rng, -999999999999, 999999999999)) *
                   std::pow(10.0, static_cast<double>(Uniform(rng, -320, 290)));
  if (!std::isfinite(v)) return "0.25";
  char buf[40];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

std::string Uuid(Rng& rng) {
  std::string hex = Hex(rng, 16).substr(2);
  for (size_t at : {20, 16, 12, 8}) hex.insert(at, "-");
  return hex;
}

// Months, days and microseconds, each signed: no style prints them alike
// after a sum of parts ('1 day' and '24:00:00' are equal yet print apart).
std::string Interval(Rng& rng) {
  std::string s;
  if (Chance(rng, 0.4)) s += std::to_string(Uniform(rng, -30, 30)) + " mons ";
  if (Chance(rng, 0.5)) s += std::to_string(Uniform(rng, -400, 400)) + " days ";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%02d:%02d:%02d.%06d", Chance(rng, 0.3) ? "-" : "",
                static_cast<int>(Uniform(rng, 0, 99)), static_cast<int>(Uniform(rng, 0, 59)),
                static_cast<int>(Uniform(rng, 0, 59)), static_cast<int>(Uniform(rng, 0, 999999)));
  return s + buf;
}

std::string TimeOfDay(Rng& rng, bool zoned) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%06d", static_cast<int>(Uniform(rng, 0, 23)),
                static_cast<int>(Uniform(rng, 0, 59)), static_cast<int>(Uniform(rng, 0, 59)),
                static_cast<int>(Uniform(rng, 0, 999999)));
  if (!zoned) return Chance(rng, 0.03) ? "24:00:00" : buf;
  // Offsets of whole and half hours, and one of 5:45 (Nepal).
  static const std::vector<std::string> zones{"+00", "+05:30", "-08", "+05:45", "+14", "-12"};
  return buf + Pick(rng, zones);
}

std::string Inet(Rng& rng, bool network) {
  char buf[64];
  if (Chance(rng, 0.6)) {
    const int bits = static_cast<int>(Uniform(rng, network ? 8 : 0, 32));
    uint32_t a = static_cast<uint32_t>(rng());
    if (network) a = bits == 32 ? a : a & ~(0xffffffffU >> bits);  // no host bits
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                  a & 255);
    std::string s = buf;
    if (network || bits != 32) s += "/" + std::to_string(network ? bits : Uniform(rng, 1, 32));
    return s;
  }
  std::snprintf(buf, sizeof buf, "2001:db8:%x::%x", static_cast<unsigned>(Uniform(rng, 0, 65535)),
                network ? 0U : static_cast<unsigned>(Uniform(rng, 1, 65535)));
  return std::string(buf) + (network ? "/48" : Chance(rng, 0.5) ? "/64" : "");
}

std::string Macaddr(Rng& rng) {
  const std::string hex = Hex(rng, 6).substr(2);
  std::string s;
  for (size_t i = 0; i < 12; i += 2) s += (i ? ":" : "") + hex.substr(i, 2);
  return s;
}

// Under lc_monetary C: cents, negative ones too.
std::string Money(Rng& rng) {
  const int64_t cents = Uniform(rng, -99999999999, 99999999999);
  const int64_t whole = (cents < 0 ? -cents : cents) / 100;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld", cents < 0 ? "-" : "",
                static_cast<long long>(whole),
                static_cast<long long>((cents < 0 ? -cents : cents) % 100));
  return buf;
}

// Up to 8 characters, blank-padded by the type; trailing blanks in the
// input too (they are not significant), and non-ASCII.
std::string Bpchar(Rng& rng) {
  std::string s = RandomText(rng, static_cast<size_t>(Uniform(rng, 0, 6)));
  if (Chance(rng, 0.3)) s += "  ";
  return s;
}

std::string Varbit(Rng& rng) {
  std::string s;
  for (int64_t n = Uniform(rng, 0, 80); n > 0; --n) s += Chance(rng, 0.5) ? '1' : '0';
  return s;
}

// Lexemes with positions and weights, unsorted and repeated: the type
// sorts and merges them.
std::string Tsvector(Rng& rng) {
  static const std::vector<std::string> words{"fat",  "cat", "rat", "über",   "straße",
                                              "it's", "a b", "ÄÖÜ", "ratten", "katze"};
  std::string s;
  for (int64_t n = Uniform(rng, 0, 8); n > 0; --n) {
    std::string w = Pick(rng, words);
    std::string quoted = "'";
    for (char c : w) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    quoted += "'";
    if (Chance(rng, 0.6)) {
      quoted += ":" + std::to_string(Uniform(rng, 1, 200));
      if (Chance(rng, 0.3)) quoted += Pick(rng, std::vector<std::string>{"A", "B", "C"});
    }
    s += (s.empty() ? "" : " ") + quoted;
  }
  return s;
}

// A composite's field: empty is NULL, "" the empty string; quotes and
// backslashes doubled inside quotes.
std::string CompositeField(const std::optional<std::string>& v) {
  if (!v) return "";
  std::string s = "\"";
  for (char c : *v)
    s += c == '"' ? std::string("\"\"") : c == '\\' ? std::string("\\\\") : std::string(1, c);
  return s + "\"";
}

// "Sales"."Anschrift" ("Straße" text, plz int4, tags text[]): commas,
// quotes and parentheses in the text, NULL fields, a row of NULLs.
std::string Composite(Rng& rng) {
  if (Chance(rng, 0.08)) return "(,,)";
  static const std::vector<std::string> streets{
      "Hauptstraße 1", "Weg \"am\" See, 2", "(Hinterhaus)", "", "a\\b", "NULL"};
  std::optional<std::string> street, tags;
  if (!Chance(rng, 0.15)) street = Pick(rng, streets) + RandomText(rng, 2);
  if (!Chance(rng, 0.3)) tags = TextArray(rng);
  const std::string plz = Chance(rng, 0.15) ? "" : std::to_string(Uniform(rng, 1000, 99999));
  return "(" + CompositeField(street) + "," + plz + "," + CompositeField(tags) + ")";
}

// Documents and content fragments: attributes in either quotes, entities,
// CDATA, comments, non-ASCII, a declaration (kept only for what it says
// beyond the defaults), text alone.
std::string Xml(Rng& rng) {
  static const std::vector<std::string> parts{"<a x=\"1\">t &amp; ä</a>",
                                              "<b y='2'/>",
                                              "Text allein ÄÖÜ",
                                              "<![CDATA[<nicht> & markup]]>",
                                              "<!-- Kommentar -->",
                                              "<c>&lt;&#228;&gt;</c>",
                                              "<d xmlns=\"urn:x\"><e>1</e></d>",
                                              "  ",
                                              "<f>\n  eingerückt\n</f>"};
  if (Chance(rng, 0.1)) return "<?xml version=\"1.0\" standalone=\"yes\"?><r/>";
  if (Chance(rng, 0.1)) return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><r>ü</r>";
  std::string s;
  for (int64_t n = Uniform(rng, 0, 4); n > 0; --n) s += Pick(rng, parts);
  return s;
}

// A float8 coordinate: mostly plain, sometimes -0, NaN, ±Infinity or tiny.
std::string Coordinate(Rng& rng) {
  static const std::vector<std::string> specials{"-0",        "NaN",    "Infinity",
                                                 "-Infinity", "1e-310", "1e300"};
  if (Chance(rng, 0.08)) return Pick(rng, specials);
  const int64_t v = Uniform(rng, -1000000, 1000000), a = v < 0 ? -v : v;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%lld.%03lld", v < 0 ? "-" : "",
                static_cast<long long>(a / 1000), static_cast<long long>(a % 1000));
  return buf;
}

std::string Xy(Rng& rng) { return Coordinate(rng) + "," + Coordinate(rng); }

// Points in the forms the type reads: "(x,y)" and "x,y".
std::string Point(Rng& rng) { return Chance(rng, 0.5) ? "(" + Xy(rng) + ")" : Xy(rng); }

// Corners in any order: the type stores upper right, then lower left.
std::string Box(Rng& rng) {
  const std::string corners = "(" + Xy(rng) + "),(" + Xy(rng) + ")";
  return Chance(rng, 0.5) ? "(" + corners + ")" : corners;
}

std::string Polygon(Rng& rng) {
  std::string s;
  for (int64_t n = Uniform(rng, 1, 6); n > 0; --n) s += (s.empty() ? "(" : ",(") + Xy(rng) + ")";
  return "(" + s + ")";
}

// Exactly `bytes` bytes of UTF-8 text: symbols from `symbols`, an ASCII
// letter where the next symbol would not fit.
std::string ExactText(Rng& rng, size_t bytes, const std::vector<std::string>& symbols) {
  std::string s;
  while (s.size() < bytes) {
    const std::string& sym = Pick(rng, symbols);
    s += s.size() + sym.size() <= bytes ? sym : std::string(1, 'a' + static_cast<char>(rng() % 26));
  }
  return s;
}

// Letters, digits and multi-byte letters: nothing a JSON string escapes
// or an array element quotes.
const std::vector<std::string>& PlainSymbols() {
  static const std::vector<std::string> symbols{"a", "b", "k", "x", "Z",  "Q", "0", "7", "ä",
                                                "ß", "é", "Ö", "€", "日", "😀", "m", "r"};
  return symbols;
}

// {"k": "<s>"}: 9 bytes of text around s.
std::string JsonDocument(const std::string& s) { return "{\"k\": \"" + s + "\"}"; }

// An array of 1..4 elements of at least 5 bytes each (never the word
// NULL, never quoted) whose text is exactly `bytes` bytes ("{}" below 7).
std::string ExactArray(Rng& rng, size_t bytes, bool incompressible) {
  if (bytes < 7) return "{}";
  const size_t most = (bytes - 1) / 6;  // each element with its comma takes at least 6
  const size_t n =
      static_cast<size_t>(Uniform(rng, 1, static_cast<int64_t>(std::min<size_t>(4, most))));
  size_t left = bytes - 2 - (n - 1);  // bytes of the elements
  std::string s = "{";
  for (size_t i = 0; i < n; ++i) {
    const size_t len =
        i + 1 == n
            ? left
            : static_cast<size_t>(Uniform(rng, 5, static_cast<int64_t>(left - 5 * (n - 1 - i))));
    left -= len;
    s += (i ? "," : "") + (incompressible ? Alnum(rng, len) : ExactText(rng, len, PlainSymbols()));
  }
  return s + "}";
}

// How many text bytes a width calls for (bytea: its hex text).
size_t WidthBytes(Rng& rng, Width width, size_t max_inline) {
  switch (width) {
    case Width::kShort:
      return static_cast<size_t>(Uniform(rng, 0, 100));
    case Width::k127:
      return 127;
    case Width::k128:
      return 128;
    case Width::k129:
      return 129;
    case Width::kInline:
      return static_cast<size_t>(Uniform(rng, 130, static_cast<int64_t>(max_inline)));
    case Width::kOutOfLine:
      return static_cast<size_t>(Uniform(rng, 2100, 6000));
  }
  return 0;
}

}  // namespace

std::string WideValue(Rng& rng, Kind kind, Width width, size_t max_inline) {
  const size_t bytes = WidthBytes(rng, width, max_inline);
  const bool out = width == Width::kOutOfLine;
  switch (kind) {
    case Kind::kWideBytea: {
      // 2 + 2n bytes of text: n = 62, 63, 64 for 126, 128, 130; 2,100 to
      // 6,000 bytes stored when out of line.
      const size_t n = width == Width::k127   ? 62
                       : width == Width::k128 ? 63
                       : width == Width::k129 ? 64
                       : out                  ? bytes
                       : bytes < 2            ? 0
                                              : (bytes - 1) / 2;
      return Hex(rng, n);
    }
    case Kind::kWideJsonb:
      if (bytes < 9) return "{}";
      return JsonDocument(out ? Alnum(rng, bytes - 9) : ExactText(rng, bytes - 9, PlainSymbols()));
    case Kind::kWideTextArray:
      return ExactArray(rng, bytes, out);
    default:
      if (width == Width::kShort && Chance(rng, 0.15)) return "";
      return out ? Alnum(rng, bytes) : ExactText(rng, bytes, Symbols());
  }
}

Width RandomWidth(Rng& rng) {
  const int64_t dice = Uniform(rng, 0, 99);
  return dice < 20   ? Width::kShort
         : dice < 32 ? Width::k127
         : dice < 44 ? Width::k128
         : dice < 56 ? Width::k129
         : dice < 76 ? Width::kInline
                     : Width::kOutOfLine;
}

std::string RandomText(Rng& rng, size_t chars) {
  std::string s;
  for (size_t i = 0; i < chars; ++i) s += Pick(rng, Symbols());
  return s;
}

std::string RandomKeyTime(Rng& rng) {
  if (Chance(rng, 0.04)) return Chance(rng, 0.5) ? "infinity" : "-infinity";
  if (Chance(rng, 0.1)) return Timestamp(rng, 16436, 20819, true);  // 2015 .. 2026
  return Timestamp(rng, 17897, 19722, true);                        // 2019 .. 2023
}

std::string RandomNonNull(Rng& rng, Kind kind) {
  switch (kind) {
    case Kind::kCounter:
    case Kind::kInt8:
      return std::to_string(static_cast<int64_t>(rng()) >> Uniform(rng, 0, 62));
    case Kind::kInt4:
    case Kind::kInt4ToInt8:
      return std::to_string(static_cast<int32_t>(rng()) >> Uniform(rng, 0, 31));
    case Kind::kRegion:
      return Pick(rng, Regions());
    case Kind::kKeyTime:
      return RandomKeyTime(rng);
    case Kind::kText:
    case Kind::kCollatedText:
    case Kind::kDomain:
      return Chance(rng, 0.12) ? "" : RandomText(rng, static_cast<size_t>(Uniform(rng, 1, 30)));
    case Kind::kVarcharToText:
      return Chance(rng, 0.12) ? "" : RandomText(rng, static_cast<size_t>(Uniform(rng, 1, 20)));
    case Kind::kLongText:
      return Chance(rng, 0.15) ? RandomText(rng, 40)
                               : Alnum(rng, static_cast<size_t>(Uniform(rng, 2100, 6000)));
    case Kind::kBytea:
      return Hex(rng, static_cast<size_t>(Uniform(rng, 0, 24)));
    case Kind::kLongBytea:
      return Hex(rng, static_cast<size_t>(Chance(rng, 0.15) ? 16 : Uniform(rng, 2100, 5000)));
    case Kind::kNumeric:
      return Numeric(rng, 14, static_cast<int>(Uniform(rng, 0, 6)));
    case Kind::kNumericScaled:
      return Numeric(rng, 8, 2);
    case Kind::kTimestamptz:
      return AnyTimestamp(rng, true);
    case Kind::kTimestamp:
      return AnyTimestamp(rng, false);
    case Kind::kDate:
      return Chance(rng, 0.05) ? "infinity" : AnyTimestamp(rng, false).substr(0, 10);
    case Kind::kBool:
      return Chance(rng, 0.5) ? "t" : "f";
    case Kind::kIntArray:
      return IntArray(rng);
    case Kind::kTextArray:
      return TextArray(rng);
    case Kind::kEnum:
      return Pick(rng, EnumLabels());
    case Kind::kInt4Range:
      return Int4Range(rng);
    case Kind::kTstzRange:
      return TstzRange(rng);
    case Kind::kJson:
    case Kind::kJsonb:
      return Json(rng, 0);
    case Kind::kReal:
      return Real(rng);
    case Kind::kWideText:
    case Kind::kWideBytea:
    case Kind::kWideJsonb:
    case Kind::kWideTextArray:
      return WideValue(rng, kind, RandomWidth(rng));
    case Kind::kInt2:
      return std::to_string(static_cast<int16_t>(rng()) >> Uniform(rng, 0, 15));
    case Kind::kFloat8:
      return Float8(rng);
    case Kind::kUuid:
      return Uuid(rng);
    case Kind::kInterval:
      return Interval(rng);
    case Kind::kTime:
      return TimeOfDay(rng, false);
    case Kind::kTimetz:
      return TimeOfDay(rng, true);
    case Kind::kInet:
      return Inet(rng, false);
    case Kind::kCidr:
      return Inet(rng, true);
    case Kind::kMacaddr:
      return Macaddr(rng);
    case Kind::kMoney:
      return Money(rng);
    case Kind::kBpchar:
      return Bpchar(rng);
    case Kind::kVarbit:
      return Varbit(rng);
    case Kind::kTsvector:
      return Tsvector(rng);
    case Kind::kComposite:
      return Composite(rng);
    case Kind::kXml:
      return Xml(rng);
    case Kind::kPoint:
      return Point(rng);
    case Kind::kBox:
      return Box(rng);
    case Kind::kPolygon:
      return Polygon(rng);
  }
  return "";
}

Value RandomValue(Rng& rng, const Column& column) {
  if (column.nullable && Chance(rng, 0.22)) return std::nullopt;
  return RandomNonNull(rng, column.kind);
}

}  // namespace pgparity::corpus
