#include "pgparity/wire/byte_reader.h"

#include <gtest/gtest.h>

#include "pgparity/wire/byte_writer.h"
#include "wire/testing/frame_builder.h"

namespace pgparity::wire {
namespace {

using testing::Frame;

TEST(ByteReaderTest, ReadsBigEndianIntegers) {
  Frame f;
  f.U8(0xAB).BE16(0x1234).BE32(0xDEADBEEF).BE64(0x0102030405060708);
  ByteReader r(f.span());
  EXPECT_EQ(*r.ReadU8(), 0xAB);
  EXPECT_EQ(*r.ReadBE16(), 0x1234);
  EXPECT_EQ(*r.ReadBE32(), 0xDEADBEEFu);
  EXPECT_EQ(*r.ReadBE64(), 0x0102030405060708u);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.offset(), 15u);
  EXPECT_TRUE(r.ExpectEnd().ok());
}

TEST(ByteReaderTest, ShortReadFailsWithoutMoving) {
  Frame f;
  f.U8(1).U8(2).U8(3);
  ByteReader r(f.span());
  ASSERT_TRUE(r.ReadU8().ok());
  Result<uint32_t> v = r.ReadBE32();
  ASSERT_FALSE(v.ok());
  EXPECT_TRUE(v.status().IsCorruption());
  EXPECT_EQ(v.status().message(), "need 4 bytes at offset 1, 2 left");
  EXPECT_EQ(r.offset(), 1u);
  EXPECT_EQ(*r.ReadBE16(), 0x0203);
  EXPECT_FALSE(r.ReadU8().ok());
  EXPECT_FALSE(r.ReadBE64().ok());
}

TEST(ByteReaderTest, CStrings) {
  Frame f;
  f.Str("public").Str("").Raw("abc");
  ByteReader r(f.span());
  EXPECT_EQ(*r.ReadCString(), "public");
  EXPECT_EQ(*r.ReadCString(), "");  // an empty string is one NUL
  EXPECT_EQ(r.offset(), 8u);
  Result<std::string_view> missing = r.ReadCString();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "missing NUL at offset 8");
  EXPECT_EQ(r.remaining(), 3u);
}

TEST(ByteReaderTest, CStringAtEndOfData) {
  ByteReader r(std::span<const std::byte>{});
  EXPECT_EQ(r.ReadCString().status().message(), "missing NUL at offset 0");
}

TEST(ByteReaderTest, ReadBytesIsAViewIntoTheBuffer) {
  Frame f;
  f.Raw("hello world");
  ByteReader r(f.span());
  Result<std::span<const std::byte>> hello = r.ReadBytes(5);
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(hello->data(), f.span().data());
  EXPECT_EQ(hello->size(), 5u);
  EXPECT_EQ(r.ReadBytes(0)->size(), 0u);
  EXPECT_EQ(r.ReadBytes(7).status().message(), "need 7 bytes at offset 5, 6 left");
  EXPECT_EQ(r.rest().size(), 6u);
}

TEST(ByteReaderTest, HugeLengthDoesNotOverflow) {
  Frame f;
  f.Raw("ab");
  ByteReader r(f.span());
  ASSERT_TRUE(r.ReadU8().ok());
  EXPECT_FALSE(r.ReadBytes(SIZE_MAX).ok());
  EXPECT_FALSE(r.ReadBytes(SIZE_MAX - 1).ok());
  EXPECT_EQ(r.remaining(), 1u);
}

TEST(ByteReaderTest, BaseOffsetShiftsReportedOffsets) {
  Frame f;
  f.U8(1);
  ByteReader r(f.span(), 25);
  EXPECT_EQ(r.offset(), 25u);
  EXPECT_EQ(r.ReadBE16().status().message(), "need 2 bytes at offset 25, 1 left");
}

TEST(ByteReaderTest, ExpectEndReportsLeftovers) {
  Frame f;
  f.U8(1).U8(2).U8(3);
  ByteReader r(f.span());
  ASSERT_TRUE(r.ReadU8().ok());
  EXPECT_EQ(r.ExpectEnd().message(), "2 unexpected bytes at offset 1");
}

TEST(ByteReaderTest, UncheckedReadsMatchChecked) {
  Frame f;
  f.U8(7).BE16(0xBEEF).BE32(0x01020304).BE64(0xFFFFFFFFFFFFFFFE).Raw("xy");
  ByteReader r(f.span());
  EXPECT_EQ(r.ReadU8Unchecked(), 7);
  EXPECT_EQ(r.ReadBE16Unchecked(), 0xBEEF);
  EXPECT_EQ(r.ReadBE32Unchecked(), 0x01020304u);
  EXPECT_EQ(r.ReadBE64Unchecked(), 0xFFFFFFFFFFFFFFFEu);
  EXPECT_EQ(r.ReadBytesUnchecked(2).size(), 2u);
  EXPECT_TRUE(r.empty());
}

TEST(ByteWriterTest, WritesWhatTheReaderReads) {
  std::vector<std::byte> buf;
  ByteWriter w(buf);
  w.PutU8(0xAB);
  w.PutBE16(0x1234);
  w.PutBE32(0xDEADBEEF);
  w.PutBE64(0x0102030405060708);
  w.PutCString("ns");
  w.PutCString("");
  Frame expected;
  expected.U8(0xAB).BE16(0x1234).BE32(0xDEADBEEF).BE64(0x0102030405060708).Str("ns").Str("");
  EXPECT_EQ(buf, expected.bytes());
  EXPECT_EQ(w.size(), buf.size());
}

TEST(ByteReaderTest, BE64PrefixedStrings) {
  std::vector<std::byte> buf;
  ByteWriter w(buf);
  w.PutBE64Prefixed("public.t");
  w.PutBE64Prefixed("");
  w.PutBE64Prefixed(std::string_view("a\0b", 3));  // any bytes, NULs too
  Frame expected;
  expected.BE64(8).Raw("public.t").BE64(0).BE64(3).U8('a').U8(0).U8('b');
  EXPECT_EQ(buf, expected.bytes());
  ByteReader r(buf);
  EXPECT_EQ(*r.ReadBE64Prefixed(), "public.t");
  EXPECT_EQ(*r.ReadBE64Prefixed(), "");
  EXPECT_EQ(*r.ReadBE64Prefixed(), std::string_view("a\0b", 3));
  EXPECT_TRUE(r.empty());
}

TEST(ByteReaderTest, BE64PrefixedFailsWithoutMoving) {
  Frame f;
  f.U8(9).BE64(5).Raw("abc");
  ByteReader r(f.span());
  ASSERT_TRUE(r.ReadU8().ok());
  EXPECT_EQ(r.ReadBE64Prefixed().status().message(), "need 5 bytes at offset 9, 3 left");
  EXPECT_EQ(r.offset(), 1u);
  // A length that cannot fit (a damaged file) does not overflow.
  Frame huge;
  huge.BE64(UINT64_MAX).Raw("x");
  ByteReader h(huge.span());
  EXPECT_FALSE(h.ReadBE64Prefixed().ok());
  EXPECT_EQ(h.offset(), 0u);
  // Too short for the length itself.
  Frame short_length;
  short_length.BE32(0);
  ByteReader s(short_length.span());
  EXPECT_EQ(s.ReadBE64Prefixed().status().message(), "need 8 bytes at offset 0, 4 left");
}

}  // namespace
}  // namespace pgparity::wire
