#include "pgparity/record/record_sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "pgparity/record/record_file.h"

namespace pgparity::record {
namespace {

class RecordSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("pgparity-record-sink-test-" + std::to_string(getpid()) + ".pb"))
                .string();
    header_.set_format_version(kRecordFormatVersion);
    header_.set_slot("s");
    header_.set_system_identifier("7");
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
  v1::Header header_;
};

TEST_F(RecordSinkTest, ContinuesARecordingOfItsOwnFormat) {
  {
    auto sink = RecordSink::Create(path_, header_);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    ASSERT_TRUE((*sink)->Close().ok());
  }
  auto resumed = RecordSink::Resume(path_, header_);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_FALSE((*resumed)->resume_point().valid());
}

// A recording whose chain is the older MD5 definition cannot be continued
// with XXH3-128 links: one file, one chain definition.
TEST_F(RecordSinkTest, RefusesToContinueAnOlderFormat) {
  {
    v1::Header old = header_;
    old.set_format_version(1);
    auto sink = RecordSink::Create(path_, old);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  auto resumed = RecordSink::Resume(path_, header_);
  ASSERT_FALSE(resumed.ok());
  EXPECT_EQ(resumed.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(resumed.status().message().find("record format 1"), std::string_view::npos)
      << resumed.status().ToString();
  EXPECT_NE(resumed.status().message().find("choose another --out"), std::string_view::npos);
}

}  // namespace
}  // namespace pgparity::record
