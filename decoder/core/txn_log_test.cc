#include "txn_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace pgparity::core::internal {
namespace {

namespace fs = std::filesystem;

std::span<const std::byte> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// "subxid:body@start" per entry, in replay order.
std::vector<std::string> Contents(TxnLog& log) {
  std::vector<std::string> out;
  const Status s = log.Replay([&](const LogEntry& e) {
    out.push_back(std::to_string(e.subxid) + ":" +
                  std::string(reinterpret_cast<const char*>(e.body.data()), e.body.size()) + "@" +
                  e.wal_start.ToString());
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

class TxnLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("txn_log_test_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Add(TxnLog& log, wire::Xid subxid, const std::string& body) {
    ++lsn_;
    log.Append(subxid, wire::Lsn(lsn_), wire::Lsn(lsn_), Bytes(body));
  }

  size_t FilesInDir() const {
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }

  fs::path dir_;
  uint64_t lsn_ = 0;
};

TEST_F(TxnLogTest, InMemoryOrderAndAccounting) {
  TxnLog log(700, dir_ / "log");
  Add(log, 700, "a");
  Add(log, 701, "bb");
  Add(log, 700, "ccc");
  EXPECT_EQ(log.entries(), 3u);
  EXPECT_EQ(log.memory_bytes(), 6 + 3 * TxnLog::kEntryOverhead);
  EXPECT_FALSE(log.has_file());
  EXPECT_EQ(Contents(log), (std::vector<std::string>{"700:a@0/1", "701:bb@0/2", "700:ccc@0/3"}));
  EXPECT_EQ(FilesInDir(), 0u);
}

TEST_F(TxnLogTest, SpillThenAppendReplaysFileThenMemory) {
  TxnLog log(700, dir_ / "log");
  Add(log, 700, "one");
  Add(log, 701, "two");
  ASSERT_TRUE(log.Spill().ok());
  EXPECT_EQ(log.memory_bytes(), 0u);
  EXPECT_TRUE(log.has_file());
  EXPECT_EQ(log.file_bytes(), 2 * (4 + TxnLog::kEntryHeaderSize) + 6);
  Add(log, 702, "three");
  ASSERT_TRUE(log.Spill().ok());
  Add(log, 700, "four");
  EXPECT_EQ(log.entries(), 4u);
  EXPECT_EQ(Contents(log), (std::vector<std::string>{"700:one@0/1", "701:two@0/2", "702:three@0/3",
                                                     "700:four@0/4"}));
  EXPECT_EQ(FilesInDir(), 1u);
  log.Discard();
  EXPECT_EQ(FilesInDir(), 0u);
  EXPECT_EQ(log.entries(), 0u);
}

TEST_F(TxnLogTest, DestructorRemovesTheFile) {
  {
    TxnLog log(700, dir_ / "log");
    Add(log, 700, "x");
    ASSERT_TRUE(log.Spill().ok());
    EXPECT_EQ(FilesInDir(), 1u);
  }
  EXPECT_EQ(FilesInDir(), 0u);
}

TEST_F(TxnLogTest, TruncateInMemory) {
  TxnLog log(700, dir_ / "log");
  Add(log, 700, "a");
  Add(log, 701, "b");
  Add(log, 701, "c");
  Add(log, 700, "d");  // (not a shape PostgreSQL produces: see below)
  const size_t mem = log.memory_bytes();
  auto r = log.TruncateAtSubxact(701);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entries_dropped, 3u);
  EXPECT_EQ(r->later_subxacts_dropped, 0u);
  EXPECT_EQ(log.memory_bytes(), mem - 3 - 3 * TxnLog::kEntryOverhead);
  Add(log, 702, "e");
  EXPECT_EQ(Contents(log), (std::vector<std::string>{"700:a@0/1", "702:e@0/5"}));
}

TEST_F(TxnLogTest, TruncateOfUnknownSubxactDropsNothing) {
  TxnLog log(700, dir_ / "log");
  Add(log, 700, "a");
  auto r = log.TruncateAtSubxact(999);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entries_dropped, 0u);
  EXPECT_EQ(log.entries(), 1u);
}

TEST_F(TxnLogTest, TruncateReportsLaterSubxacts) {
  TxnLog log(700, dir_ / "log");
  Add(log, 700, "a");
  Add(log, 701, "b");
  Add(log, 702, "c");  // a child of 701
  Add(log, 703, "d");  // a grandchild
  auto r = log.TruncateAtSubxact(701);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entries_dropped, 3u);
  EXPECT_EQ(r->later_subxacts_dropped, 2u);
  // 702 and 703 are forgotten: aborting them now drops nothing.
  Add(log, 700, "e");
  EXPECT_EQ(log.TruncateAtSubxact(702)->entries_dropped, 0u);
  EXPECT_EQ(Contents(log), (std::vector<std::string>{"700:a@0/1", "700:e@0/5"}));
}

TEST_F(TxnLogTest, TruncateInsideTheFile) {
  TxnLog log(700, dir_ / "log");
  Add(log, 700, "a");
  Add(log, 701, "b");
  ASSERT_TRUE(log.Spill().ok());
  Add(log, 701, "c");
  Add(log, 701, "d");
  auto r = log.TruncateAtSubxact(701);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entries_dropped, 3u);
  EXPECT_EQ(log.memory_bytes(), 0u);
  EXPECT_EQ(log.file_bytes(), 4 + TxnLog::kEntryHeaderSize + 1);
  Add(log, 702, "e");
  ASSERT_TRUE(log.Spill().ok());
  Add(log, 700, "f");
  EXPECT_EQ(Contents(log), (std::vector<std::string>{"700:a@0/1", "702:e@0/5", "700:f@0/6"}));
  // A subxact that starts in a later spill is found in the file too.
  EXPECT_EQ(log.TruncateAtSubxact(702)->entries_dropped, 2u);
  EXPECT_EQ(Contents(log), (std::vector<std::string>{"700:a@0/1"}));
}

TEST_F(TxnLogTest, TruncateAtTheVeryFirstEntryEmptiesTheFile) {
  TxnLog log(700, dir_ / "log");
  Add(log, 701, "a");
  Add(log, 701, "b");
  ASSERT_TRUE(log.Spill().ok());
  EXPECT_EQ(log.TruncateAtSubxact(701)->entries_dropped, 2u);
  EXPECT_EQ(log.entries(), 0u);
  EXPECT_EQ(log.file_bytes(), 0u);
  EXPECT_TRUE(Contents(log).empty());
}

TEST_F(TxnLogTest, LargeEntriesCrossReadBuffers) {
  TxnLog log(700, dir_ / "log");
  std::vector<std::string> expected;
  for (int i = 0; i < 7; ++i) {
    std::string body(300'000 + i, static_cast<char>('a' + i));  // 2+ MiB in total
    Add(log, 700 + i % 2, body);
    expected.push_back(std::to_string(700 + i % 2) + ":" + body + "@" + wire::Lsn(lsn_).ToString());
    if (i % 3 == 0) {
      ASSERT_TRUE(log.Spill().ok());
    }
  }
  EXPECT_EQ(Contents(log), expected);
}

TEST_F(TxnLogTest, ReplayStopsAtTheFirstError) {
  TxnLog log(700, dir_ / "log");
  Add(log, 700, "a");
  ASSERT_TRUE(log.Spill().ok());
  Add(log, 700, "b");
  int calls = 0;
  const Status s = log.Replay([&](const LogEntry&) {
    ++calls;
    return Status::Corruption("bad");
  });
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(calls, 1);
}

TEST_F(TxnLogTest, SpillIntoAMissingDirectoryIsAnIOError) {
  TxnLog log(700, dir_ / "missing" / "log");
  Add(log, 700, "a");
  const Status s = log.Spill();
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_NE(s.message().find("create"), std::string_view::npos) << s.ToString();
  // The entry is still there, in memory.
  EXPECT_EQ(log.entries(), 1u);
  EXPECT_EQ(Contents(log), (std::vector<std::string>{"700:a@0/1"}));
}

}  // namespace
}  // namespace pgparity::core::internal
