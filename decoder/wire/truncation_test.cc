// Every valid sample frame, cut at every prefix length, must give a clean
// Corruption error naming an offset: never a crash, never a success. Run
// under -fsanitize=address,undefined to catch any out-of-bounds read.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "pgparity/wire/copy_data.h"
#include "pgparity/wire/pgoutput.h"
#include "wire/testing/sample_messages.h"

namespace pgparity::wire {
namespace {

// Parses `bytes` as the sample says (pgoutput message, or CopyData frame
// whose XLogData body is then parsed too).
Status ParseLikeSample(const testing::Sample& s, std::span<const std::byte> bytes) {
  if (!s.copy_data) return Parse(bytes, s.options).status();
  Result<CopyMessage> frame = ParseCopyData(bytes);
  if (!frame.ok()) return std::move(frame).status();
  if (const auto* x = std::get_if<XLogData>(&*frame)) return Parse(x->body, s.options).status();
  return Status::OK();
}

TEST(TruncationTest, EveryPrefixOfEveryFrameFailsCleanly) {
  int cuts = 0;
  for (const testing::Sample& s : testing::SampleMessages()) {
    ASSERT_TRUE(ParseLikeSample(s, s.bytes).ok()) << s.name;
    for (size_t len = 0; len < s.bytes.size(); ++len) {
      // A copy of exactly `len` bytes, so ASan sees any read past the cut.
      const std::vector<std::byte> cut(s.bytes.begin(), s.bytes.begin() + len);
      const Status st = ParseLikeSample(s, cut);
      ASSERT_FALSE(st.ok()) << s.name << " cut at " << len;
      EXPECT_TRUE(st.IsCorruption()) << s.name << " cut at " << len << ": " << st.ToString();
      if (len > 0) {
        EXPECT_NE(st.message().find("at offset"), std::string_view::npos)
            << s.name << " cut at " << len << ": " << st.ToString();
      }
      ++cuts;
    }
  }
  EXPECT_GT(cuts, 1000);
}

TEST(TruncationTest, EveryFramePlusOneByteIsLeftover) {
  for (const testing::Sample& s : testing::SampleMessages()) {
    std::vector<std::byte> longer = s.bytes;
    longer.push_back(std::byte{0});
    const Status st = ParseLikeSample(s, longer);
    if (s.name == "copy_xlogdata_insert") {
      // The extra byte lands in the XLogData body: the Insert has leftovers.
      EXPECT_EQ(st.message(), "Insert: 1 unexpected bytes at offset " +
                                  std::to_string(s.bytes.size() - XLogData::kHeaderSize));
      continue;
    }
    ASSERT_FALSE(st.ok()) << s.name;
    EXPECT_NE(st.message().find("1 unexpected bytes at offset " + std::to_string(s.bytes.size())),
              std::string_view::npos)
        << s.name << ": " << st.ToString();
  }
}

TEST(TruncationTest, SingleByteCorruptionNeverCrashes) {
  // Not every flipped byte is an error (a changed LSN is still an LSN); the
  // point is that none crashes, and whatever parses re-encodes to itself.
  for (const testing::Sample& s : testing::SampleMessages()) {
    if (s.copy_data) continue;
    for (size_t i = 0; i < s.bytes.size(); ++i) {
      for (const unsigned v : {0x00u, 0x01u, 0x7Fu, 0x80u, 0xFFu}) {
        std::vector<std::byte> bytes = s.bytes;
        bytes[i] = static_cast<std::byte>(v);
        Result<Message> r = Parse(bytes, s.options);
        if (!r.ok()) continue;
        std::vector<std::byte> again;
        Encode(*r, again);
        EXPECT_EQ(again, bytes) << s.name << " byte " << i << " = " << v;
      }
    }
  }
}

// The decoder's hot path never accepts what Parse rejects, and where it
// accepts, it reads what Parse reads: every sample, every prefix of it and
// every single-byte corruption, both in and out of stream blocks. Both run
// the same parse body (one reader policy each), so this guards the two
// dispatches around it and the reuse of one HotMessage.
TEST(TruncationTest, ParseHotAcceptsOnlyWhatParseAcceptsAndAgrees) {
  int accepted = 0;
  for (const testing::Sample& s : testing::SampleMessages()) {
    if (s.copy_data) continue;
    std::vector<std::vector<std::byte>> variants;
    for (size_t len = 0; len <= s.bytes.size(); ++len) {
      variants.emplace_back(s.bytes.begin(), s.bytes.begin() + len);
    }
    for (size_t i = 0; i < s.bytes.size(); ++i) {
      for (const unsigned v : {0x00u, 0x01u, 0x7Fu, 0x80u, 0xFFu}) {
        variants.push_back(s.bytes);
        variants.back()[i] = static_cast<std::byte>(v);
      }
    }
    for (const std::vector<std::byte>& bytes : variants) {
      HotMessage h;
      if (!ParseHot(bytes, s.options.in_stream, h)) continue;
      ++accepted;
      Result<Message> m = Parse(bytes, s.options);
      ASSERT_TRUE(m.ok()) << s.name
                          << ": ParseHot accepted what Parse rejects: " << m.status().ToString();
      ASSERT_EQ(TypeOf(*m), h.type) << s.name;
      std::vector<std::byte> from_parse;
      Encode(*m, from_parse);
      Message hot;
      switch (h.type) {
        case MessageType::kBegin:
          hot = h.begin;
          break;
        case MessageType::kCommit:
          hot = h.commit;
          break;
        case MessageType::kInsert:
          hot = h.insert;
          break;
        case MessageType::kUpdate:
          hot = h.update;
          break;
        default:
          hot = h.del;
          break;
      }
      std::vector<std::byte> from_hot;
      Encode(hot, from_hot);
      EXPECT_EQ(from_hot, from_parse) << s.name;
    }
  }
  EXPECT_GT(accepted, 10);
}

}  // namespace
}  // namespace pgparity::wire
