#include "pgparity/mapped_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "common/testing/scratch_dir.h"
#include "pgparity/file_util.h"

namespace pgparity {
namespace {

std::string_view Text(const MappedFile& f) {
  return {reinterpret_cast<const char*>(f.bytes().data()), f.bytes().size()};
}

class MappedFileTest : public ::testing::Test {
 protected:
  testing::ScratchDir scratch_{"mapped-file"};
  const std::filesystem::path& dir_ = scratch_.path();
  std::string Path(const char* name) const { return scratch_.File(name); }
};

TEST_F(MappedFileTest, MapsTheWholeFile) {
  std::string content(3 * 4096 + 17, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(WriteFileAtomically(Path("f"), content).ok());
  auto mapped = MapFileIfExists(Path("f"));
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
  ASSERT_TRUE(mapped->has_value());
  EXPECT_EQ((*mapped)->size(), content.size());
  EXPECT_EQ(Text(**mapped), content);
}

TEST_F(MappedFileTest, NoFileIsNulloptAnEmptyOneIsEmpty) {
  auto missing = MapFileIfExists(Path("missing"));
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(WriteFileAtomically(Path("empty"), "").ok());
  auto empty = MapFileIfExists(Path("empty"));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  ASSERT_TRUE(empty->has_value());
  EXPECT_TRUE((*empty)->bytes().empty());
}

TEST_F(MappedFileTest, WhatCannotBeMappedIsAnErrorNamingIt) {
  auto dir = MapFileIfExists(dir_.string());
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kIOError) << dir.status().ToString();
  EXPECT_NE(dir.status().message().find(dir_.string()), std::string_view::npos)
      << dir.status().ToString();
}

// A checkpoint replaced while the previous one is still being loaded.
TEST_F(MappedFileTest, KeepsItsBytesWhenThePathIsReplacedAndWhenMoved) {
  ASSERT_TRUE(WriteFileAtomically(Path("f"), "old content").ok());
  auto mapped = MapFileIfExists(Path("f"));
  ASSERT_TRUE(mapped.ok() && mapped->has_value());
  ASSERT_TRUE(WriteFileAtomically(Path("f"), "new").ok());
  MappedFile moved = std::move(**mapped);
  EXPECT_TRUE((*mapped)->bytes().empty());
  EXPECT_EQ(Text(moved), "old content");
  MappedFile assigned;
  assigned = std::move(moved);
  EXPECT_EQ(Text(assigned), "old content");
}

}  // namespace
}  // namespace pgparity
