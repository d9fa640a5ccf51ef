// Hand-built frames for every pgoutput message, checked field by field, then
// the meaning checks and the round trip through Encode.
#include "pgparity/wire/pgoutput.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "pgparity/wire/copy_data.h"
#include "wire/testing/frame_builder.h"
#include "wire/testing/sample_messages.h"

namespace pgparity::wire {
namespace {

using testing::Frame;

constexpr uint64_t kLsn = 0x16B3748;
constexpr uint64_t kEndLsn = 0x16B3790;
constexpr int64_t kTime = 768'123'456'789'012;

ParseOptions Opts(int version = 4, bool in_stream = false, bool abort_info = false) {
  ParseOptions o;
  o.protocol_version = version;
  o.in_stream = in_stream;
  o.stream_abort_info = abort_info;
  return o;
}

// The parsed message if `f` parses as a T, else a test failure and nullopt.
// The result views `f`.
template <typename T>
std::optional<T> ParseAs(const Frame& f, const ParseOptions& options = Opts()) {
  Result<Message> r = Parse(f.span(), options);
  if (!r.ok()) {
    ADD_FAILURE() << r.status().ToString();
    return std::nullopt;
  }
  if (!std::holds_alternative<T>(*r)) {
    ADD_FAILURE() << "parsed as " << MessageTypeName(TypeOf(*r));
    return std::nullopt;
  }
  return std::get<T>(*std::move(r));
}

// The error message for `f`, or "OK".
std::string ErrorOf(const Frame& f, const ParseOptions& options = Opts()) {
  Result<Message> r = Parse(f.span(), options);
  return r.ok() ? "OK" : std::string(r.status().message());
}

std::vector<ColumnView> Columns(const TupleView& t) { return {t.begin(), t.end()}; }

std::string Str(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// ---------------------------------------------------------------- Begin

TEST(ParseTest, Begin) {
  Frame f;
  f.Char('B').BE64(kLsn).BE64(kTime).BE32(731);
  auto m = ParseAs<Begin>(f, Opts(1));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->final_lsn, Lsn(kLsn));
  EXPECT_EQ(m->commit_time, Timestamp(kTime));
  EXPECT_EQ(m->xid, 731u);
}

TEST(ParseTest, BeginRejectsInvalidFinalLsn) {
  Frame f;
  f.Char('B').BE64(0).BE64(kTime).BE32(731);
  EXPECT_EQ(ErrorOf(f), "Begin.final_lsn: invalid LSN 0/0 at offset 1");
}

// ---------------------------------------------------------------- Commit

TEST(ParseTest, Commit) {
  Frame f;
  f.Char('C').U8(0).BE64(kLsn).BE64(kEndLsn).BE64(kTime);
  auto m = ParseAs<Commit>(f, Opts(1));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->flags, 0);
  EXPECT_EQ(m->commit_lsn, Lsn(kLsn));
  EXPECT_EQ(m->end_lsn, Lsn(kEndLsn));
  EXPECT_EQ(m->commit_time, Timestamp(kTime));
}

TEST(ParseTest, CommitRejectsFlagsAndZeroLsns) {
  EXPECT_EQ(ErrorOf(Frame().Char('C').U8(1).BE64(kLsn).BE64(kEndLsn).BE64(kTime)),
            "Commit.flags: unknown flag bits 0x01 (allowed 0x00) at offset 1");
  EXPECT_EQ(ErrorOf(Frame().Char('C').U8(0).BE64(0).BE64(kEndLsn).BE64(kTime)),
            "Commit.commit_lsn: invalid LSN 0/0 at offset 2");
  EXPECT_EQ(ErrorOf(Frame().Char('C').U8(0).BE64(kLsn).BE64(0).BE64(kTime)),
            "Commit.end_lsn: invalid LSN 0/0 at offset 10");
}

// ---------------------------------------------------------------- Origin

TEST(ParseTest, Origin) {
  Frame f;
  f.Char('O').BE64(kLsn).Str("node_a");
  auto m = ParseAs<Origin>(f, Opts(1));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->origin_lsn, Lsn(kLsn));
  EXPECT_EQ(m->name, "node_a");
}

TEST(ParseTest, OriginEmptyNameVersusMissingNul) {
  auto m = ParseAs<Origin>(Frame().Char('O').BE64(0).Str(""));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "");
  EXPECT_EQ(m->origin_lsn, Lsn());  // 0/0 is what Stream Start's origin carries
  EXPECT_EQ(ErrorOf(Frame().Char('O').BE64(kLsn).Raw("node_a")),
            "Origin.name: missing NUL at offset 9");
  EXPECT_EQ(ErrorOf(Frame().Char('O').BE64(kLsn)), "Origin.name: missing NUL at offset 9");
}

// ---------------------------------------------------------------- Relation

Frame RelationFrame(bool with_xid) {
  Frame f;
  f.Char('R');
  if (with_xid) f.BE32(732);
  f.BE32(16384).Str("public").Str("orders").Char('d').BE16(3);
  f.U8(1).Str("id").BE32(23).BE32(0xFFFFFFFF);
  f.U8(0).Str("note").BE32(25).BE32(0xFFFFFFFF);
  f.U8(0).Str("price").BE32(1700).BE32(655366);
  return f;
}

TEST(ParseTest, Relation) {
  const Frame f = RelationFrame(false);
  auto m = ParseAs<Relation>(f, Opts(1));
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->xid.has_value());
  EXPECT_EQ(m->relid, 16384u);
  EXPECT_EQ(m->namespace_name, "public");
  EXPECT_EQ(m->name, "orders");
  EXPECT_EQ(m->replica_identity, ReplicaIdentity::kDefault);
  ASSERT_EQ(m->columns.size(), 3u);
  EXPECT_TRUE(m->columns[0].is_key());
  EXPECT_EQ(m->columns[0].name, "id");
  EXPECT_EQ(m->columns[0].type_oid, 23u);
  EXPECT_EQ(m->columns[0].typmod, -1);
  EXPECT_FALSE(m->columns[1].is_key());
  EXPECT_EQ(m->columns[1].name, "note");
  EXPECT_EQ(m->columns[2].name, "price");
  EXPECT_EQ(m->columns[2].type_oid, 1700u);
  EXPECT_EQ(m->columns[2].typmod, 655366);
}

TEST(ParseTest, RelationInStreamCarriesXid) {
  const Frame f = RelationFrame(true);
  auto m = ParseAs<Relation>(f, Opts(2, true));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->xid, 732u);
  EXPECT_EQ(m->relid, 16384u);
  EXPECT_EQ(m->columns.size(), 3u);
}

TEST(ParseTest, RelationPgCatalogNamespaceIsEmptyString) {
  Frame f;
  f.Char('R').BE32(1259).Str("").Str("pg_class").Char('n').BE16(0);
  auto m = ParseAs<Relation>(f);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->namespace_name, "");
  EXPECT_EQ(m->replica_identity, ReplicaIdentity::kNothing);
  EXPECT_TRUE(m->columns.empty());
}

TEST(ParseTest, RelationErrorsNameTheColumn) {
  // Column 1's name runs to the end of the frame.
  Frame f;
  f.Char('R').BE32(16384).Str("public").Str("t").Char('f').BE16(2);
  f.U8(1).Str("id").BE32(23).BE32(0xFFFFFFFF);
  f.U8(0).Raw("nameandthenmorebytes");
  // 1 + 4 + 7 + 2 + 1 + 2 = 17: column 0 at 17, its name at 18, column 1 at
  // 17 + 1 + 3 + 8 = 29, its name at 30.
  EXPECT_EQ(ErrorOf(f), "Relation.columns[1].name: missing NUL at offset 30");
}

// 'R', relid 1, "s", "t", replica identity 'd', then `ncols` (at offset 10).
Frame RelationHead(uint16_t ncols) {
  Frame f;
  f.Char('R').BE32(1).Str("s").Str("t").Char('d').BE16(ncols);
  return f;
}

TEST(ParseTest, RelationRejectsBadFields) {
  EXPECT_EQ(ErrorOf(Frame().Char('R').BE32(16384).Str("s").Str("t").Char('x').BE16(0)),
            "Relation.replica_identity: unknown replica identity 'x' (0x78), expected 'd', 'n', "
            "'f' or 'i' at offset 9");
  EXPECT_EQ(ErrorOf(Frame().Char('R').BE32(0).Str("s").Str("t").Char('d').BE16(0)),
            "Relation.relid: invalid OID 0 at offset 1");
  EXPECT_EQ(ErrorOf(RelationHead(0x8000)),
            "Relation.ncols: negative column count -32768 at offset 10");
  EXPECT_EQ(
      ErrorOf(RelationHead(1665)),
      "Relation.ncols: column count 1665 exceeds MaxTupleAttributeNumber (1664) at offset 10");
  // 1000 columns announced, 10 bytes present: rejected before allocating.
  EXPECT_EQ(ErrorOf(RelationHead(1000).U8(0).Str("").BE32(23).BE32(0)),
            "Relation.ncols: 1000 columns need at least 10000 bytes, 10 left at offset 10");
  EXPECT_EQ(ErrorOf(RelationHead(1).U8(2).Str("c").BE32(23).BE32(0)),
            "Relation.columns[0].flags: unknown flag bits 0x02 (allowed 0x01) at offset 12");
  EXPECT_EQ(ErrorOf(RelationHead(1).U8(0).Str("c").BE32(0).BE32(0)),
            "Relation.columns[0].type_oid: invalid OID 0 at offset 15");
}

// ---------------------------------------------------------------- Type

TEST(ParseTest, Type) {
  Frame f;
  f.Char('Y').BE32(16390).Str("public").Str("mood");
  auto m = ParseAs<Type>(f, Opts(1));
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->xid.has_value());
  EXPECT_EQ(m->type_oid, 16390u);
  EXPECT_EQ(m->namespace_name, "public");
  EXPECT_EQ(m->name, "mood");
}

TEST(ParseTest, TypeInStream) {
  Frame f;
  f.Char('Y').BE32(733).BE32(16390).Str("").Str("mood");
  auto m = ParseAs<Type>(f, Opts(2, true));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->xid, 733u);
  EXPECT_EQ(m->type_oid, 16390u);
  EXPECT_EQ(m->namespace_name, "");
}

// ---------------------------------------------------------------- Insert

TEST(ParseTest, InsertWithEveryColumnKind) {
  Frame f;
  f.Char('I').BE32(16384).Char('N').BE16(4);
  f.Char('t').BE32(2).Raw("42").Char('n').Char('u').Char('b').BE32(2).U8(0).U8(0xFE);
  auto m = ParseAs<Insert>(f, Opts(1));
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->xid.has_value());
  EXPECT_EQ(m->relid, 16384u);
  const auto cols = Columns(m->new_tuple);
  ASSERT_EQ(cols.size(), 4u);
  EXPECT_EQ(cols[0].kind, ColumnKind::kText);
  EXPECT_EQ(cols[0].text(), "42");
  EXPECT_EQ(cols[1].kind, ColumnKind::kNull);
  EXPECT_EQ(cols[2].kind, ColumnKind::kUnchanged);
  EXPECT_EQ(cols[3].kind, ColumnKind::kBinary);
  EXPECT_EQ(Str(cols[3].data), std::string("\x00\xFE", 2));
}

TEST(ParseTest, InsertInStreamCarriesXid) {
  Frame f;
  f.Char('I').BE32(734).BE32(16384).Char('N').BE16(1).Char('t').BE32(1).Raw("7");
  auto m = ParseAs<Insert>(f, Opts(2, true));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->xid, 734u);
  EXPECT_EQ(m->relid, 16384u);
  EXPECT_EQ(m->new_tuple.size(), 1u);
  // The same bytes outside a stream are not an Insert of relation 734.
  EXPECT_EQ(ErrorOf(f, Opts(2, false)), "Insert.marker: expected 'N', got 0x00 at offset 5");
}

TEST(ParseTest, InsertRejectsBadMarkerAndXid) {
  EXPECT_EQ(ErrorOf(Frame().Char('I').BE32(16384).Char('K').BE16(0)),
            "Insert.marker: expected 'N', got 'K' (0x4B) at offset 5");
  EXPECT_EQ(ErrorOf(Frame().Char('I').BE32(0).BE32(16384).Char('N').BE16(0), Opts(2, true)),
            "Insert.xid: invalid transaction id 0 at offset 1");
  EXPECT_EQ(ErrorOf(Frame().Char('I').BE32(16384).Char('N').BE16(1).Char('z')),
            "Insert.new_tuple.columns[0].kind: unknown column kind 'z' (0x7A) at offset 8");
}

// ---------------------------------------------------------------- Update

TEST(ParseTest, UpdateWithoutOldTuple) {
  Frame f;
  f.Char('U').BE32(16384).Char('N').BE16(2).Char('t').BE32(1).Raw("1").Char('u');
  auto m = ParseAs<Update>(f, Opts(1));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->relid, 16384u);
  EXPECT_EQ(m->old_kind, OldTupleKind::kNone);
  EXPECT_TRUE(m->old_tuple.empty());
  const auto cols = Columns(m->new_tuple);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[0].text(), "1");
  EXPECT_EQ(cols[1].kind, ColumnKind::kUnchanged);
}

TEST(ParseTest, UpdateWithKeyOldTuple) {
  Frame f;
  f.Char('U').BE32(16384);
  f.Char('K').BE16(2).Char('t').BE32(1).Raw("1").Char('n');  // 'n': not part of the key
  f.Char('N').BE16(2).Char('t').BE32(1).Raw("2").Char('t').BE32(3).Raw("new");
  auto m = ParseAs<Update>(f, Opts(1));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->old_kind, OldTupleKind::kKey);
  const auto old_cols = Columns(m->old_tuple);
  ASSERT_EQ(old_cols.size(), 2u);
  EXPECT_EQ(old_cols[0].text(), "1");
  EXPECT_EQ(old_cols[1].kind, ColumnKind::kNull);
  const auto new_cols = Columns(m->new_tuple);
  ASSERT_EQ(new_cols.size(), 2u);
  EXPECT_EQ(new_cols[0].text(), "2");
  EXPECT_EQ(new_cols[1].text(), "new");
}

TEST(ParseTest, UpdateWithFullOldTuple) {
  Frame f;
  f.Char('U').BE32(16384);
  f.Char('O').BE16(2).Char('t').BE32(1).Raw("1").Char('t').BE32(3).Raw("old");
  f.Char('N').BE16(2).Char('t').BE32(1).Raw("1").Char('n');
  auto m = ParseAs<Update>(f, Opts(1));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->old_kind, OldTupleKind::kFull);
  EXPECT_EQ(Columns(m->old_tuple)[1].text(), "old");
  EXPECT_EQ(Columns(m->new_tuple)[1].kind, ColumnKind::kNull);
}

TEST(ParseTest, UpdateInStream) {
  Frame f;
  f.Char('U').BE32(735).BE32(16384).Char('K').BE16(1).Char('t').BE32(1).Raw("1");
  f.Char('N').BE16(1).Char('t').BE32(1).Raw("2");
  auto m = ParseAs<Update>(f, Opts(2, true));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->xid, 735u);
  EXPECT_EQ(m->old_kind, OldTupleKind::kKey);
}

TEST(ParseTest, UpdateRejectsBadMarkers) {
  EXPECT_EQ(ErrorOf(Frame().Char('U').BE32(16384).Char('X').BE16(0)),
            "Update.marker: expected 'K', 'O' or 'N', got 'X' (0x58) at offset 5");
  EXPECT_EQ(ErrorOf(Frame().Char('U').BE32(16384).Char('K').BE16(0).Char('O').BE16(0)),
            "Update.new_marker: expected 'N', got 'O' (0x4F) at offset 8");
  EXPECT_EQ(ErrorOf(Frame().Char('U').BE32(16384).Char('K').BE16(0)),
            "Update.new_marker: need 1 bytes at offset 8, 0 left");
  EXPECT_EQ(ErrorOf(Frame().Char('U').BE32(16384).Char('O').BE16(1).Char('q')),
            "Update.old_tuple.columns[0].kind: unknown column kind 'q' (0x71) at offset 8");
}

// ---------------------------------------------------------------- Delete

TEST(ParseTest, DeleteWithKey) {
  Frame f;
  f.Char('D').BE32(16384).Char('K').BE16(2).Char('t').BE32(2).Raw("42").Char('n');
  auto m = ParseAs<Delete>(f, Opts(1));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->relid, 16384u);
  EXPECT_EQ(m->old_kind, OldTupleKind::kKey);
  EXPECT_EQ(Columns(m->old_tuple)[0].text(), "42");
}

TEST(ParseTest, DeleteWithFullOldRow) {
  Frame f;
  f.Char('D').BE32(16384).Char('O').BE16(2).Char('t').BE32(2).Raw("42").Char('t').BE32(1).Raw("x");
  auto m = ParseAs<Delete>(f, Opts(1));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->old_kind, OldTupleKind::kFull);
  EXPECT_EQ(Columns(m->old_tuple)[1].text(), "x");
}

TEST(ParseTest, DeleteInStream) {
  Frame f;
  f.Char('D').BE32(736).BE32(16384).Char('K').BE16(1).Char('t').BE32(2).Raw("42");
  auto m = ParseAs<Delete>(f, Opts(2, true));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->xid, 736u);
}

TEST(ParseTest, DeleteRejectsNewTupleMarker) {
  EXPECT_EQ(ErrorOf(Frame().Char('D').BE32(16384).Char('N').BE16(0)),
            "Delete.marker: expected 'K' or 'O', got 'N' (0x4E) at offset 5");
}

// ---------------------------------------------------------------- Truncate

TEST(ParseTest, TruncateFlags) {
  for (const int flags : {0, 1, 2, 3}) {
    Frame f;
    f.Char('T').BE32(2).U8(static_cast<uint8_t>(flags)).BE32(16384).BE32(16390);
    auto m = ParseAs<Truncate>(f, Opts(1));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->cascade(), (flags & 1) != 0);
    EXPECT_EQ(m->restart_identity(), (flags & 2) != 0);
    EXPECT_EQ(m->relids, (std::vector<Oid>{16384, 16390}));
  }
}

TEST(ParseTest, TruncateInStream) {
  Frame f;
  f.Char('T').BE32(737).BE32(1).U8(0).BE32(16384);
  auto m = ParseAs<Truncate>(f, Opts(2, true));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->xid, 737u);
  EXPECT_EQ(m->relids, std::vector<Oid>{16384});
}

TEST(ParseTest, TruncateRejectsBadCountsAndFlags) {
  EXPECT_EQ(ErrorOf(Frame().Char('T').BE32(1).U8(4).BE32(16384)),
            "Truncate.flags: unknown flag bits 0x04 (allowed 0x03) at offset 5");
  EXPECT_EQ(ErrorOf(Frame().Char('T').BE32(0x80000000).U8(0)),
            "Truncate.nrels: negative relation count -2147483648 at offset 1");
  // A huge count with few bytes is rejected before anything is allocated.
  EXPECT_EQ(ErrorOf(Frame().Char('T').BE32(0x7FFFFFFF).U8(0).BE32(16384)),
            "Truncate.nrels: 2147483647 relations need 8589934588 bytes, 4 left at offset 1");
  EXPECT_EQ(ErrorOf(Frame().Char('T').BE32(2).U8(0).BE32(16384).BE32(0)),
            "Truncate.relids[1]: invalid OID 0 at offset 10");
}

// ---------------------------------------------------------------- Message

TEST(ParseTest, TransactionalMessage) {
  Frame f;
  f.Char('M').U8(1).BE64(kLsn).Str("pgparity").BE32(5).Raw("hello");
  auto m = ParseAs<LogicalMessage>(f, Opts(1));
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->xid.has_value());
  EXPECT_TRUE(m->transactional());
  EXPECT_EQ(m->lsn, Lsn(kLsn));
  EXPECT_EQ(m->prefix, "pgparity");
  EXPECT_EQ(Str(m->content), "hello");
}

TEST(ParseTest, NonTransactionalMessageWithEmptyContent) {
  Frame f;
  f.Char('M').U8(0).BE64(kLsn).Str("").BE32(0);
  auto m = ParseAs<LogicalMessage>(f);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->transactional());
  EXPECT_EQ(m->prefix, "");
  EXPECT_TRUE(m->content.empty());
}

TEST(ParseTest, MessageInStreamWithBinaryContent) {
  Frame f;
  f.Char('M').BE32(738).U8(1).BE64(kLsn).Str("p").BE32(3).U8(0).U8(1).U8(0);
  auto m = ParseAs<LogicalMessage>(f, Opts(2, true));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->xid, 738u);
  EXPECT_EQ(Str(m->content), std::string("\0\1\0", 3));
}

TEST(ParseTest, MessageRejectsBadFields) {
  EXPECT_EQ(ErrorOf(Frame().Char('M').U8(2).BE64(kLsn).Str("p").BE32(0)),
            "Message.flags: unknown flag bits 0x02 (allowed 0x01) at offset 1");
  EXPECT_EQ(ErrorOf(Frame().Char('M').U8(0).BE64(kLsn).Str("p").BE32(0xFFFFFFFF)),
            "Message.content_length: negative length -1 at offset 12");
  EXPECT_EQ(ErrorOf(Frame().Char('M').U8(0).BE64(kLsn).Str("p").BE32(10).Raw("abc")),
            "Message.content: need 10 bytes at offset 16, 3 left");
  EXPECT_EQ(ErrorOf(Frame().Char('M').U8(0).BE64(kLsn).Raw("prefix")),
            "Message.prefix: missing NUL at offset 10");
}

// ---------------------------------------------------------------- Streams

TEST(ParseTest, StreamStart) {
  auto first = ParseAs<StreamStart>(Frame().Char('S').BE32(740).U8(1), Opts(2));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->xid, 740u);
  EXPECT_TRUE(first->first_segment);
  auto next = ParseAs<StreamStart>(Frame().Char('S').BE32(740).U8(0), Opts(2));
  ASSERT_TRUE(next);
  EXPECT_FALSE(next->first_segment);
}

TEST(ParseTest, StreamStartRejects) {
  EXPECT_EQ(ErrorOf(Frame().Char('S').BE32(740).U8(2)),
            "StreamStart.first_segment: expected 0 or 1, got 0x02 at offset 5");
  EXPECT_EQ(ErrorOf(Frame().Char('S').BE32(0).U8(1)),
            "StreamStart.xid: invalid transaction id 0 at offset 1");
  EXPECT_EQ(ErrorOf(Frame().Char('S').BE32(740).U8(1), Opts(1)),
            "StreamStart: needs protocol version 2, stream uses 1, at offset 0");
}

TEST(ParseTest, StreamStop) {
  EXPECT_TRUE(ParseAs<StreamStop>(Frame().Char('E'), Opts(2)));
  EXPECT_EQ(ErrorOf(Frame().Char('E').U8(0)), "StreamStop: 1 unexpected bytes at offset 1");
}

TEST(ParseTest, StreamCommit) {
  Frame f;
  f.Char('c').BE32(740).U8(0).BE64(kLsn).BE64(kEndLsn).BE64(kTime);
  auto m = ParseAs<StreamCommit>(f, Opts(2));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->xid, 740u);
  EXPECT_EQ(m->commit_lsn, Lsn(kLsn));
  EXPECT_EQ(m->end_lsn, Lsn(kEndLsn));
  EXPECT_EQ(m->commit_time, Timestamp(kTime));
  EXPECT_EQ(ErrorOf(Frame().Char('c').BE32(740).U8(8).BE64(kLsn).BE64(kEndLsn).BE64(kTime)),
            "StreamCommit.flags: unknown flag bits 0x08 (allowed 0x00) at offset 5");
}

TEST(ParseTest, StreamAbortWithoutAbortInfo) {
  Frame f;
  f.Char('A').BE32(740).BE32(741);
  auto m = ParseAs<StreamAbort>(f, Opts(2));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->xid, 740u);
  EXPECT_EQ(m->subxid, 741u);
  EXPECT_FALSE(m->abort_info.has_value());
  // Parsed as if it had the v4 fields: too short.
  EXPECT_EQ(ErrorOf(f, Opts(4, false, true)),
            "StreamAbort.abort_lsn: need 8 bytes at offset 9, 0 left");
}

TEST(ParseTest, StreamAbortWithAbortInfo) {
  Frame f;
  f.Char('A').BE32(740).BE32(740).BE64(kEndLsn).BE64(kTime);
  auto m = ParseAs<StreamAbort>(f, Opts(4, false, true));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->subxid, 740u);
  ASSERT_TRUE(m->abort_info.has_value());
  EXPECT_EQ(m->abort_info->abort_lsn, Lsn(kEndLsn));
  EXPECT_EQ(m->abort_info->abort_time, Timestamp(kTime));
  // Without the option the v4 fields are leftovers.
  EXPECT_EQ(ErrorOf(f, Opts(4)), "StreamAbort: 16 unexpected bytes at offset 9");
}

TEST(ParseTest, StreamAbortRejectsInvalidSubxid) {
  EXPECT_EQ(ErrorOf(Frame().Char('A').BE32(740).BE32(0)),
            "StreamAbort.subxid: invalid transaction id 0 at offset 5");
}

// ---------------------------------------------------------------- Two-phase

TEST(ParseTest, BeginPrepare) {
  Frame f;
  f.Char('b').BE64(kLsn).BE64(kEndLsn).BE64(kTime).BE32(750).Str("gid-750");
  auto m = ParseAs<BeginPrepare>(f, Opts(3));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->prepare_lsn, Lsn(kLsn));
  EXPECT_EQ(m->end_lsn, Lsn(kEndLsn));
  EXPECT_EQ(m->prepare_time, Timestamp(kTime));
  EXPECT_EQ(m->xid, 750u);
  EXPECT_EQ(m->gid, "gid-750");
  EXPECT_EQ(ErrorOf(f, Opts(2)),
            "BeginPrepare: needs protocol version 3, stream uses 2, at offset 0");
}

TEST(ParseTest, PrepareAndStreamPrepareShareTheLayout) {
  for (const char type : {'P', 'p'}) {
    Frame f;
    f.Char(type).U8(0).BE64(kLsn).BE64(kEndLsn).BE64(kTime).BE32(750).Str("gid");
    Result<Message> r = Parse(f.span(), Opts(3));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const PrepareData* m = type == 'P' ? static_cast<const PrepareData*>(std::get_if<Prepare>(&*r))
                                       : std::get_if<StreamPrepare>(&*r);
    ASSERT_NE(m, nullptr) << type;
    EXPECT_EQ(m->prepare_lsn, Lsn(kLsn));
    EXPECT_EQ(m->end_lsn, Lsn(kEndLsn));
    EXPECT_EQ(m->prepare_time, Timestamp(kTime));
    EXPECT_EQ(m->xid, 750u);
    EXPECT_EQ(m->gid, "gid");
  }
  EXPECT_EQ(ErrorOf(Frame().Char('P').U8(0).BE64(kLsn).BE64(kEndLsn).BE64(kTime).BE32(0).Str("g")),
            "Prepare.xid: invalid transaction id 0 at offset 26");
  EXPECT_EQ(ErrorOf(Frame().Char('p').U8(1).BE64(kLsn).BE64(kEndLsn).BE64(kTime).BE32(1).Str("g")),
            "StreamPrepare.flags: unknown flag bits 0x01 (allowed 0x00) at offset 1");
}

TEST(ParseTest, CommitPrepared) {
  Frame f;
  f.Char('K').U8(0).BE64(kLsn).BE64(kEndLsn).BE64(kTime).BE32(750).Str("gid-750");
  auto m = ParseAs<CommitPrepared>(f, Opts(3));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->commit_lsn, Lsn(kLsn));
  EXPECT_EQ(m->end_lsn, Lsn(kEndLsn));
  EXPECT_EQ(m->commit_time, Timestamp(kTime));
  EXPECT_EQ(m->xid, 750u);
  EXPECT_EQ(m->gid, "gid-750");
}

TEST(ParseTest, RollbackPrepared) {
  Frame f;
  f.Char('r').U8(0).BE64(kLsn).BE64(kEndLsn).BE64(kTime).BE64(kTime + 1).BE32(750).Str("");
  auto m = ParseAs<RollbackPrepared>(f, Opts(3));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->prepare_end_lsn, Lsn(kLsn));
  EXPECT_EQ(m->rollback_end_lsn, Lsn(kEndLsn));
  EXPECT_EQ(m->prepare_time, Timestamp(kTime));
  EXPECT_EQ(m->rollback_time, Timestamp(kTime + 1));
  EXPECT_EQ(m->gid, "");
  EXPECT_EQ(
      ErrorOf(Frame().Char('r').U8(0).BE64(kLsn).BE64(kEndLsn).BE64(kTime).BE64(kTime).BE32(750)),
      "RollbackPrepared.gid: missing NUL at offset 38");
}

// ---------------------------------------------------------------- General

TEST(ParseTest, RejectsEmptyAndUnknown) {
  EXPECT_EQ(ErrorOf(Frame()), "empty pgoutput message: no type byte at offset 0");
  Result<Message> r = Parse(Frame().Char('Z').BE32(1).span(), Opts());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotSupported());
  EXPECT_EQ(r.status().message(), "unknown pgoutput message type 'Z' (0x5A) at offset 0");
  EXPECT_EQ(ErrorOf(Frame().U8(0)), "unknown pgoutput message type 0x00 at offset 0");
}

TEST(ParseTest, RejectsLeftoverBytes) {
  EXPECT_EQ(ErrorOf(Frame().Char('B').BE64(kLsn).BE64(kTime).BE32(731).U8(0).U8(0)),
            "Begin: 2 unexpected bytes at offset 21");
  EXPECT_EQ(ErrorOf(Frame().Char('I').BE32(16384).Char('N').BE16(0).Char('x')),
            "Insert: 1 unexpected bytes at offset 8");
}

TEST(ParseTest, ValidatesOptions) {
  const Frame f = Frame().Char('E');
  EXPECT_EQ(ErrorOf(f, Opts(0)), "ParseOptions.protocol_version 0 is outside 1..4");
  EXPECT_EQ(ErrorOf(f, Opts(5)), "ParseOptions.protocol_version 5 is outside 1..4");
  EXPECT_EQ(ErrorOf(f, Opts(1, true)), "ParseOptions.in_stream needs protocol version 2 or later");
  EXPECT_EQ(ErrorOf(f, Opts(3, false, true)),
            "ParseOptions.stream_abort_info needs protocol version 4 or later");
  EXPECT_TRUE(Parse(f.span(), Opts(0)).status().IsInvalidArgument());
}

TEST(ParseTest, ErrorsAreCorruptionAndTakeAnLsnPrefix) {
  Result<Message> r = Parse(Frame().Char('O').BE64(1).Raw("x").span(), Opts());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_EQ(r.status().WithPrefix("LSN " + Lsn(kLsn).ToString()).ToString(),
            "Corruption: LSN 0/16B3748: Origin.name: missing NUL at offset 9");
}

TEST(MessageTypeTest, NamesAndTypeOf) {
  EXPECT_EQ(MessageTypeName(MessageType::kStreamAbort), "StreamAbort");
  EXPECT_EQ(MessageTypeName(static_cast<MessageType>('?')), "Unknown");
  EXPECT_EQ(TypeOf(Message(Insert{})), MessageType::kInsert);
  EXPECT_EQ(TypeOf(Message(StreamPrepare{})), MessageType::kStreamPrepare);
  EXPECT_EQ(static_cast<char>(MessageType::kCommitPrepared), 'K');
}

// ---------------------------------------------------------------- Round trip

class RoundTripTest : public ::testing::TestWithParam<testing::Sample> {};

TEST_P(RoundTripTest, ParseThenEncodeGivesTheSameBytes) {
  const testing::Sample& s = GetParam();
  std::span<const std::byte> body = s.bytes;
  if (s.copy_data) {
    Result<CopyMessage> frame = ParseCopyData(s.bytes);
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    std::vector<std::byte> again;
    if (const auto* x = std::get_if<XLogData>(&*frame)) {
      EncodeXLogData(*x, again);
      body = x->body;
    } else {
      EncodePrimaryKeepalive(std::get<PrimaryKeepalive>(*frame), again);
      body = {};
    }
    EXPECT_EQ(again, s.bytes);
    if (body.empty()) return;
  }
  Result<Message> parsed = Parse(body, s.options);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  std::vector<std::byte> again;
  Encode(*parsed, again);
  EXPECT_TRUE(std::ranges::equal(again, body));
}

INSTANTIATE_TEST_SUITE_P(Samples, RoundTripTest, ::testing::ValuesIn(testing::SampleMessages()),
                         [](const auto& info) { return info.param.name; });

TEST(RoundTripTest, SamplesCoverEveryMessageType) {
  std::string seen;
  for (const auto& s : testing::SampleMessages()) {
    if (!s.copy_data) seen += static_cast<char>(s.bytes[0]);
  }
  for (const char type : std::string("BCORYIUDTMSEcAbPKrp")) {
    EXPECT_NE(seen.find(type), std::string::npos) << type;
  }
}

TEST(EncodeTest, EncoderMatchesHandBuiltFrames) {
  std::vector<std::byte> out;
  TupleBuilder t;
  t.AddText("42").AddNull();
  Encode(Update{735, 16384, OldTupleKind::kKey, t.view(), t.view()}, out);
  Frame f;
  f.Char('U').BE32(735).BE32(16384);
  f.Char('K').BE16(2).Char('t').BE32(2).Raw("42").Char('n');
  f.Char('N').BE16(2).Char('t').BE32(2).Raw("42").Char('n');
  EXPECT_EQ(out, f.bytes());

  out.clear();
  Encode(StreamAbort{740, 741, StreamAbort::AbortInfo{Lsn(kLsn), Timestamp(kTime)}}, out);
  EXPECT_EQ(out, Frame().Char('A').BE32(740).BE32(741).BE64(kLsn).BE64(kTime).bytes());

  out.clear();
  Encode(Truncate{std::nullopt, 3, {1, 2}}, out);
  EXPECT_EQ(out, Frame().Char('T').BE32(2).U8(3).BE32(1).BE32(2).bytes());
}

}  // namespace
}  // namespace pgparity::wire
