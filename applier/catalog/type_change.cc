#include "pgparity/applier/catalog/type_change.h"

#include <charconv>
#include <optional>

#include "pgparity/digest/digest_sql.h"
#include "pgparity/sql_quote.h"

namespace pgparity::applier {

namespace {

// "name(a)" or "name(a,b)" -> the numbers; "name" -> none. format_type
// prints typmods without spaces.
struct Typmod {
  std::string_view base;
  std::optional<int> a, b;
};

std::optional<int> ToNumber(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Typmod SplitTypmod(std::string_view type) {
  Typmod t{type, {}, {}};
  const size_t open = type.find('(');
  if (open == std::string_view::npos || type.back() != ')') return t;
  t.base = type.substr(0, open);
  std::string_view args = type.substr(open + 1, type.size() - open - 2);
  const size_t comma = args.find(',');
  t.a = ToNumber(args.substr(0, comma));
  if (comma != std::string_view::npos) t.b = ToNumber(args.substr(comma + 1));
  return t;
}

// smallint 1, integer 2, bigint 3, else 0.
int IntegerRank(std::string_view t) {
  if (t == "smallint") return 1;
  if (t == "integer") return 2;
  if (t == "bigint") return 3;
  return 0;
}

// Decimal digits the largest value of an integer type needs.
int IntegerDigits(int rank) { return rank == 1 ? 5 : rank == 2 ? 10 : 19; }

// "timestamp(3) with time zone" -> {with zone, precision 3}; nullopt when
// `t` is not a timestamp type.
struct Timestamp {
  bool with_zone;
  int precision;
};
std::optional<Timestamp> ParseTimestamp(std::string_view t) {
  constexpr std::string_view kWith = " with time zone", kWithout = " without time zone";
  Timestamp ts{};
  if (t.ends_with(kWith)) {
    ts.with_zone = true;
    t.remove_suffix(kWith.size());
  } else if (t.ends_with(kWithout)) {
    t.remove_suffix(kWithout.size());
  } else {
    return std::nullopt;
  }
  const Typmod m = SplitTypmod(t);
  if (m.base != "timestamp") return std::nullopt;
  ts.precision = m.a.value_or(6);
  return ts;
}

bool IsVarchar(const Typmod& m) { return m.base == "character varying" && !m.b; }

// Source -> target changes whose values keep their exact output text.
bool ExactTextChange(std::string_view source, std::string_view target) {
  const int si = IntegerRank(source), ti = IntegerRank(target);
  if (si && ti) return si <= ti;
  const Typmod s = SplitTypmod(source), t = SplitTypmod(target);
  if (si && t.base == "numeric") return !t.a || (t.b.value_or(0) == 0 && *t.a >= IntegerDigits(si));
  if (IsVarchar(s) && (target == "text" || (IsVarchar(t) && (!t.a || (s.a && *t.a >= *s.a))))) {
    return true;
  }
  if (s.base == "numeric" && t.base == "numeric" && s.a) {
    // numeric(p,s) keeps its scale: the same digits print on the target.
    return !t.a || (*t.a >= *s.a && t.b.value_or(0) == s.b.value_or(0));
  }
  return source == "jsonb" && target == "json";
}

TypeChange Conversion(CompareRule rule, std::string risk) {
  return {TypeChangeClass::kConversion, rule, std::move(risk)};
}

std::optional<TypeChange> ConversionOf(std::string_view source, std::string_view target) {
  const auto s = ParseTimestamp(source), t = ParseTimestamp(target);
  if (s && t && s->with_zone != t->with_zone && t->precision >= s->precision) {
    return Conversion(CompareRule::kAtTimeZone,
                      s->with_zone ? "the subscriber drops the offset and keeps the wall-clock "
                                     "time in the source walsender's TimeZone"
                                   : "the subscriber reads the wall-clock time in the apply "
                                     "worker's TimeZone: a TimeZone other than the source's "
                                     "shifts every instant");
  }
  if (source == "real" && target == "double precision") {
    return Conversion(CompareRule::kCastToSource,
                      "the target holds the decimal the source printed, not the float4 value: "
                      "arithmetic on the target can differ in the last digits");
  }
  if (source == "json" && target == "jsonb") {
    return Conversion(CompareRule::kNotCompared,
                      "jsonb normalises json (key order, white space, duplicate keys): the "
                      "column is not compared");
  }
  return std::nullopt;
}

}  // namespace

TypeChange ClassifyTypeChange(std::string_view source, std::string_view target) {
  if (source == target) return {};
  // Arrays print "[]" once whatever their dimensions; compare the elements.
  const bool s_array = source.ends_with("[]"), t_array = target.ends_with("[]");
  if (s_array && t_array) {
    TypeChange element = ClassifyTypeChange(source.substr(0, source.size() - 2),
                                            target.substr(0, target.size() - 2));
    if (element.change_class == TypeChangeClass::kConversion &&
        element.rule != CompareRule::kNotCompared) {
      element.rule = CompareRule::kNotCompared;
      element.risk += "; arrays of it are not compared";
    }
    return element;
  }
  if (s_array != t_array) {
    return {TypeChangeClass::kIncompatible, CompareRule::kText, "an array on one side only"};
  }
  if (ExactTextChange(source, target)) return {TypeChangeClass::kExact, CompareRule::kText, ""};
  if (auto c = ConversionOf(source, target)) return *c;
  return {TypeChangeClass::kIncompatible, CompareRule::kText,
          "no lossless conversion from " + std::string(source) + " to " + std::string(target)};
}

std::string_view TypeChangeClassName(TypeChangeClass c) {
  switch (c) {
    case TypeChangeClass::kSame:
      return "same";
    case TypeChangeClass::kExact:
      return "exact";
    case TypeChangeClass::kConversion:
      return "conversion";
    case TypeChangeClass::kIncompatible:
      return "incompatible";
  }
  return "?";
}

std::string TargetReadExpression(std::string_view column, std::string_view source_type,
                                 const TypeChange& change, std::string_view source_timezone) {
  const std::string c = QuoteIdent(column);
  switch (change.rule) {
    case CompareRule::kText:
      return c;
    case CompareRule::kCastToSource:
      // real -> double precision. PostgreSQL's float8 -> float4 cast fails
      // when the value rounds to infinity (|v| >= 2^128 - 2^103, half an ulp
      // past FLT_MAX) or to zero (0 < |v| <= 2^-150): such a target value (a
      // real difference) prints as itself instead of failing the scan.
      return "CASE WHEN " + c + " = 0 OR " + c + " IN ('NaN', 'Infinity', '-Infinity') OR (abs(" +
             c + ") > '7.006492321624085e-46'::float8 AND abs(" + c +
             ") < '3.4028235677973366e38'::float8) THEN " + c + "::" + std::string(source_type) +
             "::text ELSE " + c + "::text END";
    case CompareRule::kAtTimeZone:
      return "(" + c + " AT TIME ZONE " + QuoteLiteral(source_timezone) + ")";
    case CompareRule::kNotCompared:
      return "NULL";
  }
  return c;
}

}  // namespace pgparity::applier
