// How the oracle reads a column whose type differs on the target: the
// comparison rules of docs/types.md, written out again from the
// documentation (nothing of pgparity's catalog code), and what a report
// must say about such a column in `type_changes[]` and
// `unverified_columns[]`. Header-only: the corpus' target list is
// tests/CMakeLists.txt, outside this directory.
#pragma once

#include <string>

namespace pgparity::corpus {

enum class ReadRule {
  kText,         // the same type, or a change whose values print the same
  kAtTimeZone,   // timestamp <-> timestamptz: AT TIME ZONE the source's default TimeZone
  kCastToReal,   // real -> double precision: cast back to real
  kNotCompared,  // json -> jsonb: left out on both sides
};

// A published column whose type differs on the target (format_type text).
struct TypeChangeSeen {
  std::string column, source_type, target_type;
  ReadRule rule = ReadRule::kText;
};

inline ReadRule RuleFor(const std::string& source_type, const std::string& target_type) {
  static const std::string kPlain = "timestamp without time zone",
                           kZoned = "timestamp with time zone";
  if ((source_type == kPlain && target_type == kZoned) ||
      (source_type == kZoned && target_type == kPlain)) {
    return ReadRule::kAtTimeZone;
  }
  if (source_type == "real" && target_type == "double precision") return ReadRule::kCastToReal;
  if (source_type == "json" && target_type == "jsonb") return ReadRule::kNotCompared;
  return ReadRule::kText;
}

inline std::string TargetRead(const std::string& quoted, ReadRule rule) {
  switch (rule) {
    case ReadRule::kText:
    case ReadRule::kNotCompared:
      return quoted;
    case ReadRule::kAtTimeZone:
      // timestamp -> timestamptz gives the wall-clock time in the zone;
      // timestamptz -> timestamp the instant, printed in the oracle's UTC.
      // The zone is a bind parameter, never spliced.
      return "(" + quoted + " AT TIME ZONE $1::text)";
    case ReadRule::kCastToReal:
      // Outside float4's range (overflow, or so small it would round to
      // 0) the cast fails: such a value is a difference, printed as is.
      return "CASE WHEN " + quoted + "::text IN ('NaN', 'Infinity', '-Infinity') OR " + quoted +
             " = 0 OR abs(" + quoted + ") BETWEEN 7.1e-46 AND 3.4028235e38 THEN " + quoted +
             "::real::text ELSE " + quoted + "::text END";
  }
  return quoted;
}

inline std::string ComparedAs(ReadRule rule, const std::string& source_timezone) {
  switch (rule) {
    case ReadRule::kText:
      return "text";
    case ReadRule::kAtTimeZone:
      return "at time zone " + source_timezone;
    case ReadRule::kCastToReal:
      return "cast back to the source type";
    case ReadRule::kNotCompared:
      return "not compared";
  }
  return "text";
}

}  // namespace pgparity::corpus
