#include "pgparity/record/record_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace pgparity::record {
namespace {

class RecordFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("pgparity-record-test-" + std::to_string(getpid()) + ".pb"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
};

TEST_F(RecordFileTest, WritesAndReadsBackInOrder) {
  {
    auto w = RecordFileWriter::Create(path_);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    v1::Record header;
    header.mutable_header()->set_slot("s");
    ASSERT_TRUE((*w)->Write(header).ok());
    for (int i = 0; i < 1000; ++i) {
      v1::Record r;
      r.mutable_change()->set_lsn(i);
      r.mutable_change()->set_relation("public.t");
      ASSERT_TRUE((*w)->Write(r).ok());
    }
    ASSERT_TRUE((*w)->Close().ok());
    EXPECT_EQ((*w)->records_written(), 1001u);
  }
  auto r = RecordFileReader::Open(path_);
  ASSERT_TRUE(r.ok());
  auto first = (*r)->Next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->header().slot(), "s");
  for (int i = 0; i < 1000; ++i) {
    auto next = (*r)->Next();
    ASSERT_TRUE(next.ok() && next->has_value());
    EXPECT_EQ((*next)->change().lsn(), static_cast<uint64_t>(i));
  }
  auto end = (*r)->Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST_F(RecordFileTest, TornTailIsACorruptionAfterTheCompleteRecords) {
  {
    auto w = RecordFileWriter::Create(path_);
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 3; ++i) {
      v1::Record r;
      r.mutable_change()->set_relation(std::string(100, 'x'));
      ASSERT_TRUE((*w)->Write(r).ok());
    }
  }
  std::filesystem::resize_file(path_, std::filesystem::file_size(path_) - 10);
  auto r = RecordFileReader::Open(path_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->Next().ok());
  EXPECT_TRUE((*r)->Next().ok());
  auto torn = (*r)->Next();
  ASSERT_FALSE(torn.ok());
  EXPECT_TRUE(torn.status().IsCorruption());
  EXPECT_NE(torn.status().ToString().find("record 3"), std::string::npos);
}

TEST_F(RecordFileTest, MissingFileIsAClearError) {
  auto r = RecordFileReader::Open("/nonexistent/dir/x.pb");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("/nonexistent/dir/x.pb"), std::string::npos);
}

}  // namespace
}  // namespace pgparity::record
