#include "pgparity/sql_quote.h"

#include <gtest/gtest.h>

namespace pgparity {
namespace {

TEST(SqlQuoteTest, IdentifiersAreAlwaysQuotedExactly) {
  EXPECT_EQ(QuoteIdent("s"), "\"s\"");
  EXPECT_EQ(QuoteIdent("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteIdent("Größe"), "\"Größe\"");
}

TEST(SqlQuoteTest, QualifiedNamesQuoteEachPartAlone) {
  EXPECT_EQ(QuoteQualifiedName("public", "t"), "\"public\".\"t\"");
  // A dot inside a part stays inside its quotes: not a third part.
  EXPECT_EQ(QuoteQualifiedName("a.b", "c\"d"), "\"a.b\".\"c\"\"d\"");
}

TEST(SqlQuoteTest, LiteralsAreSafeWhateverTheStringSetting) {
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
  EXPECT_EQ(QuoteLiteral("back\\slash's"), "E'back\\\\slash''s'");
  EXPECT_EQ(QuoteStandardLiteral("it's"), "'it''s'");
  EXPECT_EQ(QuoteStandardLiteral("back\\slash"), "'back\\slash'");
}

TEST(SqlQuoteTest, DisplayIdentifiersAreBareOnlyWhenPlain) {
  EXPECT_EQ(IdentForDisplay("users"), "users");
  EXPECT_EQ(IdentForDisplay("user_2"), "user_2");
  EXPECT_EQ(IdentForDisplay("Users"), "\"Users\"");
  EXPECT_EQ(IdentForDisplay("2x"), "\"2x\"");
  EXPECT_EQ(IdentForDisplay(""), "\"\"");
  EXPECT_EQ(IdentForDisplay("a b"), "\"a b\"");
}

}  // namespace
}  // namespace pgparity
