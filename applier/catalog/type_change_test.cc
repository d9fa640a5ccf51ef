#include "pgparity/applier/catalog/type_change.h"

#include <gtest/gtest.h>

namespace pgparity::applier {
namespace {

TypeChangeClass ClassOf(std::string_view s, std::string_view t) {
  return ClassifyTypeChange(s, t).change_class;
}

TEST(TypeChangeTest, SameTypeIsSame) {
  EXPECT_EQ(ClassOf("integer", "integer"), TypeChangeClass::kSame);
  EXPECT_EQ(ClassOf("numeric(10,2)", "numeric(10,2)"), TypeChangeClass::kSame);
  EXPECT_EQ(ClassifyTypeChange("text", "text").rule, CompareRule::kText);
}

TEST(TypeChangeTest, IntegerWideningIsExactNarrowingIsNot) {
  EXPECT_EQ(ClassOf("smallint", "integer"), TypeChangeClass::kExact);
  EXPECT_EQ(ClassOf("smallint", "bigint"), TypeChangeClass::kExact);
  EXPECT_EQ(ClassOf("integer", "bigint"), TypeChangeClass::kExact);
  EXPECT_EQ(ClassOf("bigint", "integer"), TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassOf("integer", "smallint"), TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassOf("integer[]", "bigint[]"), TypeChangeClass::kExact);
  EXPECT_EQ(ClassOf("integer", "numeric"), TypeChangeClass::kExact);
  EXPECT_EQ(ClassOf("integer", "numeric(10,0)"), TypeChangeClass::kExact);
  EXPECT_EQ(ClassOf("integer", "numeric(9,0)"), TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassOf("integer", "numeric(12,2)"), TypeChangeClass::kIncompatible);  // "1" -> "1.00"
}

TEST(TypeChangeTest, VarcharAndNumericWidening) {
  EXPECT_EQ(ClassOf("character varying(20)", "character varying(20)"), TypeChangeClass::kSame);
  EXPECT_EQ(ClassOf("character varying(20)", "character varying(30)"), TypeChangeClass::kExact);
  EXPECT_EQ(ClassOf("character varying(20)", "character varying"), TypeChangeClass::kExact);
  EXPECT_EQ(ClassOf("character varying(20)", "text"), TypeChangeClass::kExact);
  EXPECT_EQ(ClassOf("character varying", "text"), TypeChangeClass::kExact);
  EXPECT_EQ(ClassOf("character varying(30)", "character varying(20)"),
            TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassOf("character varying", "character varying(20)"), TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassOf("text", "character varying(20)"), TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassOf("character(3)", "character(5)"), TypeChangeClass::kIncompatible);  // padding
  EXPECT_EQ(ClassOf("numeric(10,2)", "numeric(12,2)"), TypeChangeClass::kExact);
  EXPECT_EQ(ClassOf("numeric(10,2)", "numeric"), TypeChangeClass::kExact);
  EXPECT_EQ(ClassOf("numeric(10,2)", "numeric(12,3)"), TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassOf("numeric(10,2)", "numeric(8,2)"), TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassOf("numeric", "numeric(12,2)"), TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassOf("jsonb", "json"), TypeChangeClass::kExact);
}

TEST(TypeChangeTest, ConversionsNameTheirRule) {
  const TypeChange tz =
      ClassifyTypeChange("timestamp without time zone", "timestamp with time zone");
  EXPECT_EQ(tz.change_class, TypeChangeClass::kConversion);
  EXPECT_EQ(tz.rule, CompareRule::kAtTimeZone);
  EXPECT_NE(tz.risk.find("TimeZone"), std::string::npos);
  EXPECT_EQ(ClassifyTypeChange("timestamp(3) with time zone", "timestamp without time zone").rule,
            CompareRule::kAtTimeZone);
  // Less precision on the target rounds: not a conversion pgparity accepts.
  EXPECT_EQ(ClassOf("timestamp without time zone", "timestamp(3) with time zone"),
            TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassifyTypeChange("real", "double precision").rule, CompareRule::kCastToSource);
  const TypeChange json = ClassifyTypeChange("json", "jsonb");
  EXPECT_EQ(json.change_class, TypeChangeClass::kConversion);
  EXPECT_EQ(json.rule, CompareRule::kNotCompared);
  EXPECT_FALSE(json.risk.empty());
  // Arrays of a conversion are not compared element by element.
  EXPECT_EQ(ClassifyTypeChange("timestamp without time zone[]", "timestamp with time zone[]").rule,
            CompareRule::kNotCompared);
}

TEST(TypeChangeTest, IncompatibleTypes) {
  EXPECT_EQ(ClassOf("text", "integer"), TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassOf("double precision", "real"), TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassOf("integer[]", "integer"), TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassOf("jsonb", "text"), TypeChangeClass::kIncompatible);
  EXPECT_EQ(ClassifyTypeChange("text", "integer").rule, CompareRule::kText);
}

TEST(TypeChangeTest, TargetReadExpressionQuotes) {
  EXPECT_EQ(TargetReadExpression("Größe \"x\"", "integer", {}, "UTC"), "\"Größe \"\"x\"\"\"");
  const TypeChange tz =
      ClassifyTypeChange("timestamp without time zone", "timestamp with time zone");
  EXPECT_EQ(TargetReadExpression("at", "timestamp without time zone", tz, "Europe/Paris"),
            "(\"at\" AT TIME ZONE 'Europe/Paris')");
  EXPECT_EQ(TargetReadExpression("j", "json", ClassifyTypeChange("json", "jsonb"), "UTC"), "NULL");
  const std::string f =
      TargetReadExpression("f", "real", ClassifyTypeChange("real", "double precision"), "UTC");
  EXPECT_NE(f.find("\"f\"::real::text"), std::string::npos) << f;
}

}  // namespace
}  // namespace pgparity::applier
