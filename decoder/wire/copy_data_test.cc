#include "pgparity/wire/copy_data.h"

#include <gtest/gtest.h>

#include <array>
#include <variant>

#include "pgparity/wire/pgoutput.h"
#include "wire/testing/frame_builder.h"

namespace pgparity::wire {
namespace {

using testing::Frame;

TEST(CopyDataTest, XLogDataCarriesAPgoutputBody) {
  Frame f;
  f.Char('w').BE64(0x16B3748).BE64(0x16B3790).BE64(1000);
  f.Char('B').BE64(0x16B3790).BE64(999).BE32(731);
  Result<CopyMessage> r = ParseCopyData(f.span());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto* x = std::get_if<XLogData>(&*r);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->wal_start, Lsn(0x16B3748));
  EXPECT_EQ(x->wal_end, Lsn(0x16B3790));
  EXPECT_EQ(x->send_time, Timestamp(1000));
  EXPECT_EQ(x->body.data(), f.span().data() + XLogData::kHeaderSize);
  ASSERT_EQ(x->body.size(), 21u);
  Result<Message> body = Parse(x->body, ParseOptions{});
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(std::get<Begin>(*body).xid, 731u);
}

TEST(CopyDataTest, XLogDataWithZeroLsnsAndEmptyBody) {
  // Relation/Type frames can carry 0/0; an empty body is for Parse to reject.
  Frame f;
  f.Char('w').BE64(0).BE64(0).BE64(0);
  Result<CopyMessage> r = ParseCopyData(f.span());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::get<XLogData>(*r).body.empty());
  EXPECT_EQ(ParseCopyData(Frame().Char('w').BE64(0).BE64(0).span()).status().message(),
            "XLogData.send_time: need 8 bytes at offset 17, 0 left");
}

TEST(CopyDataTest, PrimaryKeepaliveIsExactly18Bytes) {
  Frame f;
  f.Char('k').BE64(0x16B3790).BE64(1234).U8(1);
  ASSERT_EQ(f.size(), PrimaryKeepalive::kSize);
  Result<CopyMessage> r = ParseCopyData(f.span());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& k = std::get<PrimaryKeepalive>(*r);
  EXPECT_EQ(k.wal_end, Lsn(0x16B3790));
  EXPECT_EQ(k.send_time, Timestamp(1234));
  EXPECT_TRUE(k.reply_requested);

  EXPECT_FALSE(
      std::get<PrimaryKeepalive>(*ParseCopyData(Frame().Char('k').BE64(1).BE64(2).U8(0).span()))
          .reply_requested);
  EXPECT_EQ(ParseCopyData(Frame().Char('k').BE64(1).BE64(2).U8(0).U8(0).span()).status().message(),
            "PrimaryKeepalive: 1 unexpected bytes at offset 18");
  EXPECT_EQ(ParseCopyData(Frame().Char('k').BE64(1).BE64(2).span()).status().message(),
            "PrimaryKeepalive.reply_requested: need 1 bytes at offset 17, 0 left");
  EXPECT_EQ(ParseCopyData(Frame().Char('k').BE64(1).BE64(2).U8(7).span()).status().message(),
            "PrimaryKeepalive.reply_requested: expected 0 or 1, got 0x07 at offset 17");
}

TEST(CopyDataTest, RejectsEmptyAndUnknownFrames) {
  EXPECT_EQ(ParseCopyData(Frame().span()).status().message(),
            "empty CopyData message: no type byte at offset 0");
  Result<CopyMessage> r = ParseCopyData(Frame().Char('r').span());
  EXPECT_TRUE(r.status().IsNotSupported());
  EXPECT_EQ(r.status().message(), "unknown CopyData message type 'r' (0x72) at offset 0");
}

TEST(CopyDataTest, StandbyStatusUpdateBytes) {
  std::array<std::byte, StandbyStatusUpdate::kSize> buf;
  EncodeStandbyStatusUpdate(
      StandbyStatusUpdate{Lsn(0x10), Lsn(0x20), Lsn(0x30), Timestamp(-5), true}, buf);
  Frame expected;
  expected.Char('r').BE64(0x10).BE64(0x20).BE64(0x30).BE64(static_cast<uint64_t>(-5)).U8(1);
  EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.end()), expected.bytes());

  Result<StandbyStatusUpdate> back = ParseStandbyStatusUpdate(buf);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->written, Lsn(0x10));
  EXPECT_EQ(back->flushed, Lsn(0x20));
  EXPECT_EQ(back->applied, Lsn(0x30));
  EXPECT_EQ(back->client_time, Timestamp(-5));
  EXPECT_TRUE(back->reply_requested);

  EXPECT_EQ(ParseStandbyStatusUpdate(Frame().Char('k').span()).status().message(),
            "StandbyStatusUpdate.type: expected 'r', got 'k' (0x6B) at offset 0");
  for (size_t len = 0; len < buf.size(); ++len) {
    EXPECT_FALSE(ParseStandbyStatusUpdate(std::span(buf).first(len)).ok()) << len;
  }
}

TEST(CopyDataTest, EncodersRoundTrip) {
  std::vector<std::byte> body = Frame().Char('E').bytes();
  std::vector<std::byte> out;
  EncodeXLogData(XLogData{Lsn(1), Lsn(2), Timestamp(3), body}, out);
  EXPECT_EQ(out, Frame().Char('w').BE64(1).BE64(2).BE64(3).Char('E').bytes());

  out.clear();
  EncodePrimaryKeepalive(PrimaryKeepalive{Lsn(9), Timestamp(8), false}, out);
  EXPECT_EQ(out, Frame().Char('k').BE64(9).BE64(8).U8(0).bytes());
}

}  // namespace
}  // namespace pgparity::wire
