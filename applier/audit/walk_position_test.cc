// WalkPosition's file: what is written reads back, a file from elsewhere
// or a damaged one is refused with what is wrong, no file is no position.
#include "pgparity/applier/audit/walk_position.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace pgparity::applier {
namespace {

TEST(WalkPositionTest, WhatIsWrittenReadsBack) {
  for (const WalkPosition& p :
       {WalkPosition{"public.pgbench_accounts", 40001}, WalkPosition{"s.t", std::nullopt},
        WalkPosition{"public.big", INT64_MIN}}) {
    auto back = ParseWalkPosition(RenderWalkPosition(p));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, p);
  }
}

TEST(WalkPositionTest, AnythingElseIsRefusedWithWhatIsWrong) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "not a JSON object"},
      {"[1]", "not a JSON object"},
      {R"({"format": 2, "table": "t"})", "format"},
      {R"({"format": 1})", "no table"},
      {R"({"format": 1, "table": ""})", "no table"},
      {R"({"format": 1, "table": "t", "next_from": "12"})", "not an integer"},
      {R"({"format": 1, "table": "t", "next_from": 1.5})", "not an integer"},
  };
  for (const auto& [text, why] : cases) {
    auto p = ParseWalkPosition(text);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_NE(p.status().message().find(why), std::string::npos)
        << text << ": " << p.status().ToString();
  }
}

TEST(WalkPositionTest, TheFileIsReplacedAndADamagedOneNamesTheFix) {
  const auto dir =
      std::filesystem::path(::testing::TempDir()) / ("walk-position-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "rolling.json").string();
  auto none = ReadWalkPosition(path);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(WriteWalkPosition(path, {"public.a", 7}).ok());
  ASSERT_TRUE(WriteWalkPosition(path, {"public.b", std::nullopt}).ok());
  auto read = ReadWalkPosition(path);
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ(**read, (WalkPosition{"public.b", std::nullopt}));
  std::ofstream(path) << "{\"format\": 1, \"tab";
  auto damaged = ReadWalkPosition(path);
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find(path), std::string::npos);
  EXPECT_NE(damaged.status().message().find("remove it"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pgparity::applier
