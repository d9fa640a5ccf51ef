// A divergent row's values as the report shows them: cut at a character
// boundary with the whole length and MD5, NULL apart from '', escaped for
// the text output, absent when redacted.
#include "pgparity/applier/report/shown_value.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "pgparity/applier/report/verify_report.h"

namespace pgparity::applier {
namespace {

TEST(ShowValue, NullIsNotTheEmptyString) {
  const ShownValue null = ShowValue(std::nullopt, 256);
  EXPECT_TRUE(null.null);
  const ShownValue empty = ShowValue("", 256);
  EXPECT_FALSE(empty.null);
  EXPECT_EQ(empty.bytes, 0u);
  EXPECT_EQ(empty.md5, "d41d8cd98f00b204e9800998ecf8427e");  // md5('')
  EXPECT_FALSE(empty.truncated);
}

TEST(ShowValue, ShortValueWhole) {
  const ShownValue v = ShowValue("abc", 3);
  EXPECT_EQ(v.text, "abc");
  EXPECT_FALSE(v.truncated);
  EXPECT_EQ(v.bytes, 3u);
  EXPECT_EQ(v.md5, "900150983cd24fb0d6963f7d28e17f72");  // md5('abc')
}

TEST(ShowValue, LongValueCutWithLengthAndMd5OfTheWhole) {
  const ShownValue v = ShowValue("abcdef", 4);
  EXPECT_EQ(v.text, "abcd");
  EXPECT_TRUE(v.truncated);
  EXPECT_EQ(v.bytes, 6u);
  EXPECT_EQ(v.md5, "e80b5017098950fc58aad83c8c14978e");  // md5('abcdef')
  const ShownValue zero = ShowValue("x", 0);
  EXPECT_EQ(zero.text, "");
  EXPECT_TRUE(zero.truncated);
}

TEST(ShowValue, CutNeverSplitsACharacter) {
  // "é" is 2 bytes, "€" 3: a budget inside either backs off to its start.
  EXPECT_EQ(ShowValue("aé", 2).text, "a");
  EXPECT_EQ(ShowValue("a€b", 3).text, "a");
  EXPECT_EQ(ShowValue("a€b", 4).text, "a€");
  // Invalid UTF-8 is cut anyway, at most 3 bytes early.
  EXPECT_EQ(ShowValue(std::string(10, '\x80'), 6).text.size(), 3u);
}

TEST(EscapeForText, PrintableUtf8AsIs) {
  EXPECT_EQ(EscapeForText("plain text, é € 漢字 🙂"), "plain text, é € 漢字 🙂");
}

TEST(EscapeForText, EscapeStringConstantBody) {
  EXPECT_EQ(EscapeForText("a\\b'c"), "a\\\\b\\'c");
  EXPECT_EQ(EscapeForText("line1\nline2\r\tend"), "line1\\nline2\\r\\tend");
  EXPECT_EQ(EscapeForText("\x1b[31mred\x07"), "\\x1B[31mred\\x07");
  EXPECT_EQ(EscapeForText(std::string_view("nul\0", 4)), "nul\\x00");
  EXPECT_EQ(EscapeForText("\x7f"), "\\x7F");
  EXPECT_EQ(EscapeForText("\\x0102ff"), "\\\\x0102ff");  // bytea's hex text
}

TEST(EscapeForText, TerminalControlsBeyondAscii) {
  EXPECT_EQ(EscapeForText("\xc2\x9b"
                          "31m"),
            "\\u009B31m");  // C1 CSI
  EXPECT_EQ(EscapeForText("a\xe2\x80\xa8"
                          "b"),
            "a\\u2028b");  // line separator
  EXPECT_EQ(EscapeForText("\xe2\x80\xae"
                          "abc"),
            "\\u202Eabc");  // right-to-left override
}

TEST(EscapeForText, InvalidUtf8ByteByByte) {
  EXPECT_EQ(EscapeForText("a\xff"
                          "b"),
            "a\\xFFb");
  EXPECT_EQ(EscapeForText("\xc3"), "\\xC3");                    // cut sequence
  EXPECT_EQ(EscapeForText("\xc0\xaf"), "\\xC0\\xAF");           // overlong '/'
  EXPECT_EQ(EscapeForText("\xed\xa0\x80"), "\\xED\\xA0\\x80");  // surrogate
}

TEST(EscapeControls, QuotesAndBackslashesAsTheyAreControlsEscaped) {
  EXPECT_EQ(EscapeControls("the source's insert \\ kept"), "the source's insert \\ kept");
  EXPECT_EQ(EscapeControls("sub\n\x1b[2Jname\xe2\x80\xae"), "sub\\n\\x1B[2Jname\\u202E");
}

VerifyReport ReportWithValues(bool redacted) {
  DivergentRow differs;
  differs.key = {{"id", "1"}};
  differs.columns = {"note", "data"};
  differs.values_shown = true;
  differs.values = {{"note", ShowValue(std::nullopt, 8), ShowValue("", 8)},
                    {"data", ShowValue("\\x0a0b", 8), ShowValue("line\nbreak\x1b[2J", 8)}};
  DivergentRow missing;
  missing.kind = RowDivergence::kMissingOnTarget;
  missing.key = {{"id", "2"}};
  missing.values_shown = true;
  missing.values = {{"id", ShowValue("2", 8), std::nullopt}};
  DivergentRow unread;
  unread.kind = RowDivergence::kExtraOnTarget;
  unread.key = {{"row_digest", "00ff"}};
  TableReport t;
  t.table = "public.t";
  t.status = TableStatus::kMismatch;
  t.divergent_rows = {differs, missing, unread};
  VerifyReport r;
  r.tables = {t};
  r.redacted = redacted;
  r.Decide();
  return r;
}

TEST(RenderReport, JsonValuesPerColumnAndSide) {
  const auto doc = nlohmann::json::parse(RenderReportJson(ReportWithValues(false)));
  EXPECT_EQ(doc["redacted"], false);
  const auto& rows = doc["tables"][0]["divergent_rows"];
  const auto& note = rows[0]["values"][0];
  EXPECT_EQ(note["column"], "note");
  EXPECT_TRUE(note["source"].is_null());
  EXPECT_EQ(note["target"]["text"], "");
  EXPECT_EQ(note["target"]["bytes"], 0);
  const auto& data = rows[0]["values"][1];
  EXPECT_EQ(data["source"]["text"], "\\x0a0b");
  EXPECT_EQ(data["source"]["truncated"], false);
  EXPECT_EQ(data["target"]["text"], "line\nbre");
  EXPECT_EQ(data["target"]["truncated"], true);
  EXPECT_EQ(data["target"]["bytes"], 14);
  EXPECT_EQ(data["target"]["md5"].get<std::string>().size(), 32u);
  EXPECT_EQ(rows[1]["values"][0]["source"]["text"], "2");
  EXPECT_FALSE(rows[1]["values"][0].contains("target"));
  EXPECT_TRUE(rows[2]["values"].is_null());  // not read
}

TEST(RenderReport, TextValuesStayOnTheirLine) {
  std::ostringstream text;
  RenderReportText(ReportWithValues(false), text);
  const std::string out = text.str();
  EXPECT_NE(out.find("        note: source NULL, target E''\n"), std::string::npos) << out;
  EXPECT_NE(out.find("        data: source E'\\\\x0a0b', target E'line\\nbre'... (cut: 14 bytes, "
                     "md5 "),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("        id: source E'2'\n"), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
}

TEST(RenderReport, RedactedLeavesEveryValueOut) {
  const VerifyReport r = ReportWithValues(true);
  const std::string json = RenderReportJson(r);
  const auto doc = nlohmann::json::parse(json);
  EXPECT_EQ(doc["redacted"], true);
  for (const auto& row : doc["tables"][0]["divergent_rows"]) {
    EXPECT_FALSE(row.contains("values")) << row.dump();
  }
  std::ostringstream text;
  RenderReportText(r, text);
  for (const std::string& s : {json, text.str()}) {
    EXPECT_EQ(s.find("x0a0b"), std::string::npos) << s;
    EXPECT_EQ(s.find("line"), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace pgparity::applier
