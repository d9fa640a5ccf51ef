// The renderers alone: text layout, verdict wording, JSON shape and escaping.
#include "pgparity/applier/preflight/render.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <sstream>

namespace pgparity::applier {
namespace {

PreflightReport Sample() {
  PreflightReport r;
  r.source = "127.0.0.1:5432/sourcedb";
  r.source_version = "14.23";
  r.target = "127.0.0.1:5433/targetdb";
  r.target_version = "16.14";
  r.publication = "my_publication";
  r.subscription = "my_subscription";
  r.findings = {
      {"wal_level", Severity::kInfo, "source wal_level", "logical", ""},
      {"replica_identity", Severity::kBlocking, "public.events", "no primary key",
       "ALTER TABLE public.events ADD PRIMARY KEY (...)"},
      {"sequence", Severity::kWarning, "sequence public.s", "source 5, target unused", "setval"},
      {"wal_level", Severity::kInfo, "x", "second of its group", ""},
  };
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(PreflightRenderTest, VerdictCountsBlockingProblems) {
  PreflightReport r = Sample();
  EXPECT_FALSE(r.ready());
  EXPECT_EQ(VerdictLine(r), "verdict: 1 blocking problem — 1 warning, 2 info");
  r.findings.push_back(r.findings[1]);
  EXPECT_EQ(VerdictLine(r), "verdict: 2 blocking problems — 1 warning, 2 info");
  r.findings.clear();
  EXPECT_TRUE(r.ready());
  EXPECT_EQ(VerdictLine(r), "verdict: ready — 0 blocking, 0 warnings, 0 info");
}

TEST(PreflightRenderTest, TextGroupsByCheckOneLinePerFinding) {
  std::ostringstream out;
  RenderText(Sample(), out);
  auto lines = Lines(out.str());
  ASSERT_GE(lines.size(), 10u) << out.str();
  EXPECT_EQ(lines[0],
            "pgparity preflight: source 127.0.0.1:5432/sourcedb (PostgreSQL 14.23), target "
            "127.0.0.1:5433/targetdb (PostgreSQL 16.14)");
  EXPECT_EQ(lines[1], "publication my_publication, subscription my_subscription");
  // wal_level's two findings together, in the order of first appearance.
  EXPECT_EQ(lines[3], "wal_level");
  EXPECT_EQ(lines[4], "  info      source wal_level   logical");
  EXPECT_EQ(lines[5], "  info      x                  second of its group");
  EXPECT_EQ(lines[7], "replica_identity");
  EXPECT_EQ(lines[8],
            "  BLOCKING  public.events      no primary key — fix: ALTER TABLE public.events ADD "
            "PRIMARY KEY (...)");
  EXPECT_EQ(lines.back(), "verdict: 1 blocking problem — 1 warning, 2 info");
}

TEST(PreflightRenderTest, TextKeepsHostileNamesOnOneLine) {
  PreflightReport r;
  r.findings = {{"table_missing", Severity::kBlocking, "public.\"a\nb\"", "line1\nline2\r", "x"}};
  std::ostringstream out;
  RenderText(r, out);
  auto lines = Lines(out.str());
  // Heading (2), blank, group, one finding, blank, verdict.
  ASSERT_EQ(lines.size(), 7u) << out.str();
  EXPECT_EQ(lines[4], "  BLOCKING  public.\"a b\"  line1 line2  — fix: x");
}

TEST(PreflightRenderTest, JsonHasTheDocumentedShapeAndEscapes) {
  PreflightReport r = Sample();
  r.findings.push_back({"column_type", Severity::kBlocking, "public.\"we\"\"ird\\\"",
                        "tab\there, newline\n, quote \", unicode é ✓", ""});
  auto json = RenderJson(r);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  google::protobuf::Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &doc).ok()) << *json;
  const auto& f = doc.fields();
  ASSERT_TRUE(f.contains("ready"));
  EXPECT_FALSE(f.at("ready").bool_value());
  const auto& findings = f.at("findings").list_value().values();
  ASSERT_EQ(findings.size(), 5);
  const auto& last = findings[4].struct_value().fields();
  EXPECT_EQ(last.at("check").string_value(), "column_type");
  EXPECT_EQ(last.at("severity").string_value(), "blocking");
  EXPECT_EQ(last.at("object").string_value(), "public.\"we\"\"ird\\\"");
  EXPECT_EQ(last.at("detail").string_value(), "tab\there, newline\n, quote \", unicode é ✓");
  EXPECT_EQ(last.at("fix").string_value(), "");  // present even when empty
  const auto& summary = f.at("summary").struct_value().fields();
  EXPECT_EQ(summary.at("blocking").number_value(), 2);
  EXPECT_EQ(summary.at("warnings").number_value(), 1);
  EXPECT_EQ(summary.at("info").number_value(), 2);
  EXPECT_EQ(summary.at("source").string_value(), "127.0.0.1:5432/sourcedb");
  EXPECT_EQ(summary.at("target_version").string_value(), "16.14");
  EXPECT_EQ(summary.at("subscription").string_value(), "my_subscription");
  // Key order is the documented one.
  EXPECT_LT(json->find("\"ready\""), json->find("\"findings\""));
  EXPECT_LT(json->find("\"findings\""), json->find("\"summary\""));
}

TEST(PreflightRenderTest, JsonOfAnEmptyReadyReport) {
  auto json = RenderJson(PreflightReport{});
  ASSERT_TRUE(json.ok());
  google::protobuf::Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &doc).ok()) << *json;
  EXPECT_TRUE(doc.fields().at("ready").bool_value());
  EXPECT_EQ(doc.fields().at("findings").list_value().values_size(), 0);
  EXPECT_EQ(doc.fields().at("summary").struct_value().fields().at("blocking").number_value(), 0);
}

}  // namespace
}  // namespace pgparity::applier
