#include "pgparity/wire/tuple.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wire/testing/frame_builder.h"

namespace pgparity::wire {
namespace {

using testing::Frame;

std::string Text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

TEST(TupleViewTest, ReadsEveryColumnKind) {
  Frame f;
  f.BE16(5);
  f.Char('t').BE32(2).Raw("42");
  f.Char('n');
  f.Char('u');
  f.Char('b').BE32(3).U8(0).U8(1).U8(0xFF);
  f.Char('t').BE32(0);
  ByteReader r(f.span());
  Result<TupleView> t = TupleView::Read(r, "Insert.new_tuple");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(r.empty());
  ASSERT_EQ(t->size(), 5u);

  std::vector<ColumnView> cols(t->begin(), t->end());
  ASSERT_EQ(cols.size(), 5u);
  EXPECT_EQ(cols[0].kind, ColumnKind::kText);
  EXPECT_EQ(cols[0].text(), "42");
  EXPECT_EQ(cols[1].kind, ColumnKind::kNull);
  EXPECT_TRUE(cols[1].data.empty());
  EXPECT_FALSE(cols[1].has_data());
  EXPECT_EQ(cols[2].kind, ColumnKind::kUnchanged);  // unchanged TOAST: not NULL
  EXPECT_TRUE(cols[2].data.empty());
  EXPECT_EQ(cols[3].kind, ColumnKind::kBinary);
  ASSERT_EQ(cols[3].data.size(), 3u);
  EXPECT_EQ(cols[3].data[2], std::byte{0xFF});
  EXPECT_EQ(cols[4].kind, ColumnKind::kText);
  EXPECT_TRUE(cols[4].has_data());
  EXPECT_EQ(cols[4].text(), "");  // empty text is not NULL

  // Views point into the frame.
  EXPECT_EQ(cols[0].data.data(), f.span().data() + 2 + 5);
}

TEST(TupleViewTest, ForEachColumnVisitsInOrder) {
  Frame f;
  f.BE16(3).Char('t').BE32(1).Raw("a").Char('n').Char('t').BE32(2).Raw("bc");
  ByteReader r(f.span());
  TupleView t = *TupleView::Read(r, "t");
  std::string seen;
  t.ForEachColumn([&](const ColumnView& c) {
    seen += c.kind == ColumnKind::kNull ? std::string("<null>") : std::string(c.text());
    seen += ',';
  });
  EXPECT_EQ(seen, "a,<null>,bc,");
}

TEST(TupleViewTest, EmptyTuple) {
  Frame f;
  f.BE16(0);
  ByteReader r(f.span());
  TupleView t = *TupleView::Read(r, "t");
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.begin(), t.end());
  const TupleView default_constructed;
  EXPECT_EQ(default_constructed.begin(), default_constructed.end());
}

TEST(TupleViewTest, StopsAtItsEnd) {
  Frame f;
  f.BE16(1).Char('n').Char('N').Raw("rest");
  ByteReader r(f.span());
  TupleView t = *TupleView::Read(r, "t");
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(r.offset(), 3u);
  EXPECT_EQ(t.column_bytes().size(), 1u);
}

struct BadTuple {
  const char* name;
  Frame frame;
  const char* message;
};

TEST(TupleViewTest, RejectsMalformedTuples) {
  const std::vector<BadTuple> cases = {
      {"unknown kind", Frame().BE16(2).Char('n').Char('x'),
       "U.new_tuple.columns[1].kind: unknown column kind 'x' (0x78) at offset 3"},
      {"kind zero", Frame().BE16(1).U8(0),
       "U.new_tuple.columns[0].kind: unknown column kind 0x00 at offset 2"},
      {"negative ncols", Frame().BE16(0xFFFF),
       "U.new_tuple.ncols: negative column count -1 at offset 0"},
      {"too many columns", Frame().BE16(1665),
       "U.new_tuple.ncols: column count 1665 exceeds MaxTupleAttributeNumber (1664) at offset 0"},
      {"fewer columns than ncols", Frame().BE16(3).Char('n').Char('n'),
       "U.new_tuple.columns[2].kind: need 1 bytes at offset 4, 0 left"},
      {"negative length", Frame().BE16(1).Char('t').BE32(0xFFFFFFFF),
       "U.new_tuple.columns[0].length: negative length -1 at offset 3"},
      {"length past the end", Frame().BE16(1).Char('b').BE32(10).Raw("abc"),
       "U.new_tuple.columns[0].data: need 10 bytes at offset 7, 3 left"},
      {"truncated length", Frame().BE16(1).Char('t').U8(0).U8(0),
       "U.new_tuple.columns[0].length: need 4 bytes at offset 3, 2 left"},
      {"truncated ncols", Frame().U8(0), "U.new_tuple.ncols: need 2 bytes at offset 0, 1 left"},
  };
  for (const BadTuple& c : cases) {
    ByteReader r(c.frame.span());
    Result<TupleView> t = TupleView::Read(r, "U.new_tuple");
    ASSERT_FALSE(t.ok()) << c.name;
    EXPECT_TRUE(t.status().IsCorruption()) << c.name;
    EXPECT_EQ(t.status().message(), c.message) << c.name;
  }
}

TEST(TupleViewTest, AcceptsMaxColumns) {
  Frame f;
  f.BE16(kMaxTupleColumns);
  for (int i = 0; i < kMaxTupleColumns; ++i) f.Char('u');
  ByteReader r(f.span());
  Result<TupleView> t = TupleView::Read(r, "t");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->size(), 1664u);
}

TEST(TupleBuilderTest, BuildsWhatReadParses) {
  TupleBuilder b;
  const std::byte bin[] = {std::byte{0}, std::byte{0x80}};
  b.AddText("hi").AddNull().AddUnchanged().AddBinary(bin);
  EXPECT_EQ(b.size(), 4u);
  std::vector<std::byte> wire;
  ByteWriter w(wire);
  b.view().EncodeTo(w);

  Frame expected;
  expected.BE16(4).Char('t').BE32(2).Raw("hi").Char('n').Char('u').Char('b').BE32(2).U8(0).U8(0x80);
  EXPECT_EQ(wire, expected.bytes());

  ByteReader r(wire);
  TupleView t = *TupleView::Read(r, "t");
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(Text(t.column_bytes()), Text(b.view().column_bytes()));

  b.Clear();
  EXPECT_TRUE(b.view().empty());
}

}  // namespace
}  // namespace pgparity::wire
