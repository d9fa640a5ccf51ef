#include "pgparity/file_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/testing/scratch_dir.h"

namespace pgparity {
namespace {

std::string Read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class FileUtilTest : public ::testing::Test {
 protected:
  testing::ScratchDir scratch_{"file-util"};
  const std::filesystem::path& dir_ = scratch_.path();
};

TEST_F(FileUtilTest, WritesThenReplacesLeavingNoTemporaryFile) {
  const std::string path = (dir_ / "report.json").string();
  ASSERT_TRUE(WriteFileAtomically(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomically(path, std::string(100000, 'x'), 0600).ok());
  EXPECT_EQ(Read(path), std::string(100000, 'x'));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1u);
}

TEST_F(FileUtilTest, MissingDirectoryIsAnIOErrorNamingThePathAndTheFix) {
  const std::string path = (dir_ / "no" / "such" / "report.json").string();
  Status s = WriteFileAtomically(path, "x");
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_NE(s.message().find(path), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find("check the directory exists"), std::string_view::npos);
}

TEST_F(FileUtilTest, RenameOntoADirectoryFailsAndCleansUp) {
  const std::string path = (dir_ / "taken").string();
  std::filesystem::create_directories(path + "/inside");
  Status s = WriteFileAtomically(path, "x");
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("cannot rename to " + path), std::string_view::npos) << s.ToString();
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1u);  // only the directory: the temporary file is gone
}

TEST_F(FileUtilTest, ReadFileIfExistsReadsWhatWasWrittenAndNothingForNoFile) {
  const std::string path = (dir_ / "state").string();
  Result<std::optional<std::string>> none = ReadFileIfExists(path);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  std::string content(200000, '\0');  // more than one read, with NUL bytes
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(WriteFileAtomically(path, content).ok());
  Result<std::optional<std::string>> read = ReadFileIfExists(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->value(), content);
}

TEST_F(FileUtilTest, ReadFileIfExistsOfADirectoryIsAnIOErrorNamingIt) {
  Result<std::optional<std::string>> read = ReadFileIfExists(dir_.string());
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kIOError);
  EXPECT_NE(read.status().message().find(dir_.string()), std::string_view::npos);
}

}  // namespace
}  // namespace pgparity
