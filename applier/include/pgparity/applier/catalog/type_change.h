// A column whose type differs between the source and the target: which
// class of change it is (docs/types.md), and how verify and audit compare
// its values. Pure: types are format_type(atttypid, atttypmod) text as both
// servers print it ("integer", "character varying(20)", "numeric(10,2)",
// "timestamp(3) without time zone", "text[]").
//
// The classes:
//   kSame        the same type.
//   kExact       every source value is stored exactly and its output text
//                is the same on the target (int2 -> int4 -> int8,
//                varchar(n) -> varchar(m >= n) / text, numeric(p,s) ->
//                numeric(p' >= p, s) or numeric, jsonb -> json, and arrays
//                of these). Compared as text: no cast, nothing can fail.
//   kConversion  the subscriber converts the value by a rule that depends
//                on settings or normalises it (timestamp <-> timestamptz,
//                real -> double precision, json -> jsonb). Compared by the
//                rule named in `rule`, or not compared (kNotCompared) with
//                the reason in `risk`.
//   kIncompatible anything else: the subscriber may fail or change values;
//                preflight blocks, verify compares text (a difference is
//                then reported as such).
#ifndef PGPARITY_APPLIER_CATALOG_TYPE_CHANGE_H_
#define PGPARITY_APPLIER_CATALOG_TYPE_CHANGE_H_

#include <string>
#include <string_view>

namespace pgparity::applier {

enum class TypeChangeClass { kSame, kExact, kConversion, kIncompatible };

// How the target's value is read to compare it with the source's text.
enum class CompareRule {
  kText,          // the target's output text as it is
  kCastToSource,  // cast back to the source type (real -> double precision)
  kAtTimeZone,    // "col AT TIME ZONE <the source's TimeZone>"
  kNotCompared,   // the column is left out of the comparison (`risk` says why)
};

struct TypeChange {
  TypeChangeClass change_class = TypeChangeClass::kSame;
  CompareRule rule = CompareRule::kText;
  // kConversion: what the conversion can change; kIncompatible: why it is.
  std::string risk;
};

TypeChange ClassifyTypeChange(std::string_view source_type, std::string_view target_type);

std::string_view TypeChangeClassName(TypeChangeClass c);  // "same", "exact", ...

// The SQL expression that reads column `column` (of source type
// `source_type`) on the target so that its output text equals the
// source's, by `change.rule`. `source_timezone` is used by kAtTimeZone;
// kNotCompared reads NULL. Identifiers and literals are quoted.
std::string TargetReadExpression(std::string_view column, std::string_view source_type,
                                 const TypeChange& change, std::string_view source_timezone);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_TYPE_CHANGE_H_
