// StreamDecoder on hand-built frames: transactions, the relation cache,
// streamed transactions (commit, abort, subtransaction abort, interleaving,
// spilling), protocol violations, resuming, and the LSN watermarks.
#include "pgparity/core/stream_decoder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/testing/stream_builder.h"

namespace pgparity::core {
namespace {

namespace fs = std::filesystem;
using namespace pgparity::core::testing;  // NOLINT: test helpers
using wire::Lsn;
using wire::OldTupleKind;
using Events = std::vector<std::string>;

const RelationSpec kRelA{16384, "public", "a", {{"id", 23, true}, {"v"}}};
const RelationSpec kRelA3{16384, "public", "a", {{"id", 23, true}, {"v"}, {"extra"}}};
const RelationSpec kRelB{
    16385, "public", "b", {{"id", 23, true}, {"w"}}, wire::ReplicaIdentity::kFull};
constexpr wire::Oid kA = 16384;
constexpr wire::Oid kB = 16385;

DecoderOptions V(int protocol_version = 2) {
  DecoderOptions o;
  o.protocol_version = protocol_version;
  return o;
}

// Decodes `frames` with `options`; the events, or a test failure.
Events Decode(const std::vector<TestFrame>& frames, DecoderOptions options = V()) {
  RecordingSink sink;
  StreamDecoder decoder(sink, std::move(options));
  const Status s = FeedAll(decoder, frames);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(decoder.idle());
  return sink.events;
}

// The status of the first frame that fails.
Status DecodeError(const std::vector<TestFrame>& frames, DecoderOptions options = V()) {
  RecordingSink sink;
  StreamDecoder decoder(sink, std::move(options));
  return FeedAll(decoder, frames);
}

// ---------------------------------------------------------------- transactions

TEST(StreamDecoderTest, NormalTransaction) {
  RecordingSink sink;
  StreamDecoder decoder(sink, V(1));
  EXPECT_TRUE(decoder.idle());
  EXPECT_EQ(decoder.last_commit_end(), Lsn());

  ASSERT_TRUE(FeedAll(decoder, {BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelA),
                                InsertFrame(0x1010, kA, {"1", "x"}),
                                InsertFrame(0x1020, kA, {"2", "<null>"})})
                  .ok());
  EXPECT_FALSE(decoder.idle());
  EXPECT_TRUE(decoder.in_transaction());
  EXPECT_EQ(decoder.last_commit_end(), Lsn());

  ASSERT_TRUE(FeedAll(decoder, {CommitFrame(0x1100, 0x1130)}).ok());
  EXPECT_EQ(sink.events, (Events{
                             "BEGIN xid=700 commit=0/1100",
                             "I public.a lsn=0/1010 xid=700/700 new=(1,x)",
                             "I public.a lsn=0/1020 xid=700/700 new=(2,<null>)",
                             "COMMIT xid=700 commit=0/1100 end=0/1130 changes=2 truncates=0 "
                             "messages=0",
                         }));
  EXPECT_TRUE(decoder.idle());
  EXPECT_EQ(decoder.last_commit_end(), Lsn(0x1130));
  EXPECT_EQ(decoder.stats().frames, 5u);
  EXPECT_EQ(decoder.stats().transactions, 1u);
  EXPECT_EQ(decoder.stats().changes, 2u);
}

TEST(StreamDecoderTest, EmptyTransactionIsDelivered) {
  RecordingSink sink;
  StreamDecoder decoder(sink, V(1));
  ASSERT_TRUE(FeedAll(decoder, {BeginFrame(0x1000, 0x1100, 700), CommitFrame(0x1100, 0x1130),
                                BeginFrame(0x1200, 0x1300, 701), CommitFrame(0x1300, 0x1330)})
                  .ok());
  EXPECT_EQ(sink.events,
            (Events{"BEGIN xid=700 commit=0/1100",
                    "COMMIT xid=700 commit=0/1100 end=0/1130 changes=0 truncates=0 messages=0",
                    "BEGIN xid=701 commit=0/1300",
                    "COMMIT xid=701 commit=0/1300 end=0/1330 changes=0 truncates=0 messages=0"}));
  EXPECT_EQ(decoder.last_commit_end(), Lsn(0x1330));
}

TEST(StreamDecoderTest, OriginRightAfterBegin) {
  EXPECT_EQ(Decode({BeginFrame(0x1000, 0x1100, 700), OriginFrame(0x1000, "node1", 0x99),
                    CommitFrame(0x1100, 0x1130)},
                   V(1))
                .size(),
            2u);
}

TEST(StreamDecoderTest, RelationReplacedMidTransaction) {
  RecordingSink sink;
  StreamDecoder decoder(sink, V(1));
  ASSERT_TRUE(FeedAll(decoder, {BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelA),
                                InsertFrame(0x1010, kA, {"1", "x"})})
                  .ok());
  const RelationInfo* before = decoder.relations().Find(kA);
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(before->column_count(), 2u);

  // ALTER TABLE ... ADD COLUMN in the same transaction: a new Relation.
  ASSERT_TRUE(FeedAll(decoder, {RelationFrame(0, kRelA3), InsertFrame(0x1020, kA, {"2", "y", "z"}),
                                CommitFrame(0x1100, 0x1130)})
                  .ok());
  const RelationInfo* after = decoder.relations().Find(kA);
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->column_count(), 3u);
  EXPECT_EQ(after->columns()[2].name, "extra");
  EXPECT_EQ(sink.events[2], "I public.a lsn=0/1020 xid=700/700 new=(2,y,z)");

  // A tuple of the old width no longer fits.
  const Status s =
      FeedAll(decoder, {BeginFrame(0x1200, 0x1300, 701), InsertFrame(0x1210, kA, {"3", "w"})});
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(),
            "LSN 0/1210: Insert: new tuple has 2 columns, relation public.a (16384) has 3");
}

TEST(StreamDecoderTest, TypeMessagesFillTheTypeCache) {
  RecordingSink sink;
  StreamDecoder decoder(sink, V(1));
  ASSERT_TRUE(
      FeedAll(decoder, {BeginFrame(0x1000, 0x1100, 700), TypeFrame(0, 16500, "public", "mood"),
                        RelationFrame(0, kRelA), CommitFrame(0x1100, 0x1130)})
          .ok());
  ASSERT_NE(decoder.relations().FindType(16500), nullptr);
  EXPECT_EQ(decoder.relations().FindType(16500)->name, "mood");
}

TEST(StreamDecoderTest, UpdatesAndDeletesWithAndWithoutOldTuples) {
  const Events events = Decode(
      {BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelA),
       UpdateFrame(0x1010, kA, OldTupleKind::kKey, {"1", "<null>"}, {"7", "y"}),
       UpdateFrame(0x1020, kA, OldTupleKind::kNone, {}, {"2", "<u>"}), RelationFrame(0, kRelB),
       UpdateFrame(0x1030, kB, OldTupleKind::kFull, {"5", "a"}, {"5", "b"}),
       DeleteFrame(0x1040, kA, OldTupleKind::kKey, {"7", "<null>"}),
       DeleteFrame(0x1050, kB, OldTupleKind::kFull, {"5", "b"}), CommitFrame(0x1100, 0x1130)},
      V(1));
  EXPECT_EQ(events,
            (Events{"BEGIN xid=700 commit=0/1100",
                    "U public.a lsn=0/1010 xid=700/700 old=K(1,<null>) new=(7,y)",
                    "U public.a lsn=0/1020 xid=700/700 new=(2,<u>)",
                    "U public.b lsn=0/1030 xid=700/700 old=O(5,a) new=(5,b)",
                    "D public.a lsn=0/1040 xid=700/700 old=K(7,<null>)",
                    "D public.b lsn=0/1050 xid=700/700 old=O(5,b)",
                    "COMMIT xid=700 commit=0/1100 end=0/1130 changes=5 truncates=0 messages=0"}));
}

TEST(StreamDecoderTest, OldTupleOfTheWrongWidth) {
  const Status s = DecodeError({BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelA),
                                UpdateFrame(0x1010, kA, OldTupleKind::kKey, {"1"}, {"7", "y"})},
                               V(1));
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(),
            "LSN 0/1010: Update: old tuple has 1 columns, relation public.a (16384) has 2");
}

TEST(StreamDecoderTest, TruncateWithCascadeAndRestartIdentity) {
  const Events events =
      Decode({BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelA), RelationFrame(0, kRelB),
              TruncateFrame(0x1010, {kA, kB},
                            wire::Truncate::kFlagCascade | wire::Truncate::kFlagRestartIdentity),
              TruncateFrame(0x1020, {kB}, wire::Truncate::kFlagCascade),
              TruncateFrame(0x1030, {kA}, 0), CommitFrame(0x1100, 0x1130)},
             V(1));
  EXPECT_EQ(events,
            (Events{"BEGIN xid=700 commit=0/1100",
                    "TRUNCATE public.a public.b cascade=1 restart=1 lsn=0/1010 xid=700/700",
                    "TRUNCATE public.b cascade=1 restart=0 lsn=0/1020 xid=700/700",
                    "TRUNCATE public.a cascade=0 restart=0 lsn=0/1030 xid=700/700",
                    "COMMIT xid=700 commit=0/1100 end=0/1130 changes=0 truncates=3 messages=0"}));
}

TEST(StreamDecoderTest, TruncateOfAnUnknownRelation) {
  const Status s = DecodeError({BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelA),
                                TruncateFrame(0x1010, {kA, 99999}, 0)},
                               V(1));
  EXPECT_EQ(s.ToString(),
            "Schema changed: LSN 0/1010: Truncate: relation 99999 was not described by a Relation "
            "message (SELECT 99999::regclass on the source names it; a PostgreSQL 14 walsender "
            "does this after ALTER PUBLICATION ... SET (publish_via_partition_root), which "
            "changes the tables published)");
}

TEST(StreamDecoderTest, LogicalMessagesTransactionalAndNot) {
  const Events events =
      Decode({MessageFrame(0x0900, false, "audit", "outside"), BeginFrame(0x1000, 0x1100, 700),
              MessageFrame(0x1010, true, "app", "inside"), CommitFrame(0x1100, 0x1130),
              MessageFrame(0x1200, false, "audit", "after")},
             V(1));
  EXPECT_EQ(events,
            (Events{"MSG nontx lsn=0/900 prefix=audit content=outside xid=0/0",
                    "BEGIN xid=700 commit=0/1100",
                    "MSG tx lsn=0/1010 prefix=app content=inside xid=700/700",
                    "COMMIT xid=700 commit=0/1100 end=0/1130 changes=0 truncates=0 messages=1",
                    "MSG nontx lsn=0/1200 prefix=audit content=after xid=0/0"}));

  EXPECT_EQ(DecodeError({MessageFrame(0x1010, true, "app", "x")}).ToString(),
            "Corruption: LSN 0/1010: Message: outside any transaction (no Begin or Stream Start "
            "before it)");
  EXPECT_EQ(
      DecodeError({BeginFrame(0x1000, 0x1100, 700), MessageFrame(0x1010, false, "a", "x")})
          .ToString(),
      "Corruption: LSN 0/1010: Message: non-transactional message inside transaction xid 700");
}

// ---------------------------------------------------------------- streamed transactions

TEST(StreamDecoderTest, StreamedTransactionDeliveredAtStreamCommit) {
  RecordingSink sink;
  StreamDecoder decoder(sink, V(2));
  ASSERT_TRUE(
      FeedAll(decoder, {StreamStartFrame(0x2000, 800, true), OriginFrame(0x2000, "n1"),
                        RelationFrame(0, kRelA, 800), InsertFrame(0x2010, kA, {"1", "a"}, 800),
                        InsertFrame(0x2020, kA, {"2", "b"}, 801),
                        MessageFrame(0x2025, true, "app", "m", 801), StreamStopFrame(0x2030)})
          .ok());
  EXPECT_TRUE(sink.events.empty());
  EXPECT_FALSE(decoder.idle());
  EXPECT_FALSE(decoder.in_stream_block());
  EXPECT_EQ(decoder.open_streamed_transactions(), 1u);
  EXPECT_GT(decoder.buffered_bytes(), 0u);
  // The streamed Relation is not applied yet.
  EXPECT_EQ(decoder.relations().Find(kA), nullptr);

  ASSERT_TRUE(FeedAll(decoder, {StreamStartFrame(0x2100, 800, false),
                                UpdateFrame(0x2110, kA, OldTupleKind::kKey, {"1", "<null>"},
                                            {"1", "c"}, 800),
                                StreamStopFrame(0x2120)})
                  .ok());
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(decoder.last_commit_end(), Lsn());

  ASSERT_TRUE(FeedAll(decoder, {StreamCommitFrame(0x2200, 0x2230, 800)}).ok());
  EXPECT_EQ(sink.events,
            (Events{"BEGIN xid=800 commit=0/2200 streamed end=0/2230",
                    "I public.a lsn=0/2010 xid=800/800 new=(1,a)",
                    "I public.a lsn=0/2020 xid=800/801 new=(2,b)",
                    "MSG tx lsn=0/2025 prefix=app content=m xid=800/801",
                    "U public.a lsn=0/2110 xid=800/800 old=K(1,<null>) new=(1,c)",
                    "COMMIT xid=800 commit=0/2200 end=0/2230 changes=3 truncates=0 messages=1 "
                    "streamed"}));
  EXPECT_TRUE(decoder.idle());
  EXPECT_EQ(decoder.open_streamed_transactions(), 0u);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  EXPECT_EQ(decoder.last_commit_end(), Lsn(0x2230));
  EXPECT_EQ(decoder.stats().streamed_transactions, 1u);
  EXPECT_EQ(decoder.stats().stream_blocks, 2u);
  ASSERT_NE(decoder.relations().Find(kA), nullptr);
}

TEST(StreamDecoderTest, StreamedTransactionAbortedWhole) {
  RecordingSink sink;
  StreamDecoder decoder(sink, V(2));
  ASSERT_TRUE(FeedAll(decoder, {StreamStartFrame(0x2000, 800, true), RelationFrame(0, kRelA, 800),
                                InsertFrame(0x2010, kA, {"1", "a"}, 800),
                                InsertFrame(0x2020, kA, {"2", "b"}, 801), StreamStopFrame(0x2030),
                                StreamAbortFrame(0x2100, 800, 800)})
                  .ok());
  EXPECT_TRUE(sink.events.empty());
  EXPECT_TRUE(decoder.idle());
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  EXPECT_EQ(decoder.last_commit_end(), Lsn());
  EXPECT_EQ(decoder.stats().streamed_aborts, 1u);
  // Its Relation never reached the cache.
  EXPECT_EQ(decoder.relations().Find(kA), nullptr);

  const Status s = FeedAll(decoder, {StreamCommitFrame(0x2200, 0x2230, 800)});
  EXPECT_EQ(s.ToString(),
            "Corruption: LSN 0/2230: StreamCommit: xid 800 has no open streamed transaction (no "
            "Stream Start)");
}

TEST(StreamDecoderTest, SubtransactionAbortDropsOnlyItsChanges) {
  // BEGIN; INSERT 1; SAVEPOINT s1; INSERT 2, 3; ROLLBACK TO s1;
  // SAVEPOINT s2; INSERT 5; RELEASE s2; INSERT 4; COMMIT
  const Events events = Decode({
      StreamStartFrame(0x2000, 800, true),
      RelationFrame(0, kRelA, 800),
      InsertFrame(0x2010, kA, {"1", "top"}, 800),
      InsertFrame(0x2020, kA, {"2", "s1"}, 801),
      InsertFrame(0x2030, kA, {"3", "s1"}, 801),
      StreamStopFrame(0x2040),
      StreamAbortFrame(0x2050, 800, 801),
      StreamStartFrame(0x2100, 800, false),
      InsertFrame(0x2110, kA, {"5", "s2"}, 802),
      InsertFrame(0x2120, kA, {"4", "top"}, 800),
      StreamStopFrame(0x2130),
      StreamCommitFrame(0x2200, 0x2230, 800),
  });
  EXPECT_EQ(events,
            (Events{"BEGIN xid=800 commit=0/2200 streamed end=0/2230",
                    "I public.a lsn=0/2010 xid=800/800 new=(1,top)",
                    "I public.a lsn=0/2110 xid=800/802 new=(5,s2)",
                    "I public.a lsn=0/2120 xid=800/800 new=(4,top)",
                    "COMMIT xid=800 commit=0/2200 end=0/2230 changes=3 truncates=0 messages=0 "
                    "streamed"}));
}

TEST(StreamDecoderTest, NestedSubtransactionsAbortChildrenFirst) {
  // SAVEPOINT a (801); INSERT; SAVEPOINT b (802); INSERT; RELEASE b;
  // INSERT (801 again); ROLLBACK TO a: the abort record lists 802, so the
  // server sends Stream Abort 802, then 801. A released sibling (803) and
  // the top-level changes survive.
  RecordingSink sink;
  StreamDecoder decoder(sink, V(2));
  ASSERT_TRUE(FeedAll(decoder,
                      {
                          StreamStartFrame(0x2000, 800, true),
                          RelationFrame(0, kRelA, 800),
                          InsertFrame(0x2010, kA, {"1", "top"}, 800),
                          InsertFrame(0x2020, kA, {"2", "a"}, 801),
                          InsertFrame(0x2030, kA, {"3", "b"}, 802),
                          InsertFrame(0x2040, kA, {"4", "a"}, 801),
                          StreamStopFrame(0x2050),
                          StreamAbortFrame(0x2060, 800, 802),
                          StreamAbortFrame(0x2060, 800, 801),
                          StreamStartFrame(0x2100, 800, false),
                          InsertFrame(0x2110, kA, {"5", "c"}, 803),
                          InsertFrame(0x2120, kA, {"6", "top"}, 800),
                          StreamStopFrame(0x2130),
                          // An empty subtransaction's abort: nothing to drop.
                          StreamAbortFrame(0x2140, 800, 804),
                          StreamCommitFrame(0x2200, 0x2230, 800),
                      })
                  .ok());
  EXPECT_EQ(sink.events,
            (Events{"BEGIN xid=800 commit=0/2200 streamed end=0/2230",
                    "I public.a lsn=0/2010 xid=800/800 new=(1,top)",
                    "I public.a lsn=0/2110 xid=800/803 new=(5,c)",
                    "I public.a lsn=0/2120 xid=800/800 new=(6,top)",
                    "COMMIT xid=800 commit=0/2200 end=0/2230 changes=3 truncates=0 messages=0 "
                    "streamed"}));
  EXPECT_EQ(decoder.stats().subxact_aborts, 2u);
}

TEST(StreamDecoderTest, TwoInterleavedStreamedTransactions) {
  const Events events = Decode({
      StreamStartFrame(0x2000, 800, true),
      RelationFrame(0, kRelA, 800),
      InsertFrame(0x2010, kA, {"1", "s800"}, 800),
      StreamStopFrame(0x2020),
      StreamStartFrame(0x2100, 900, true),
      RelationFrame(0, kRelB, 900),
      InsertFrame(0x2110, kB, {"1", "s900"}, 900),
      StreamStopFrame(0x2120),
      // A small transaction commits in between.
      BeginFrame(0x2200, 0x2300, 950),
      RelationFrame(0, kRelA),
      InsertFrame(0x2210, kA, {"9", "t950"}),
      CommitFrame(0x2300, 0x2330),
      StreamStartFrame(0x2400, 800, false),
      InsertFrame(0x2410, kA, {"2", "s800"}, 801),
      StreamStopFrame(0x2420),
      StreamStartFrame(0x2500, 900, false),
      InsertFrame(0x2510, kB, {"2", "s900"}, 900),
      StreamStopFrame(0x2520),
      StreamCommitFrame(0x2600, 0x2630, 900),
      StreamCommitFrame(0x2700, 0x2730, 800),
  });
  EXPECT_EQ(events,
            (Events{"BEGIN xid=950 commit=0/2300", "I public.a lsn=0/2210 xid=950/950 new=(9,t950)",
                    "COMMIT xid=950 commit=0/2300 end=0/2330 changes=1 truncates=0 messages=0",
                    "BEGIN xid=900 commit=0/2600 streamed end=0/2630",
                    "I public.b lsn=0/2110 xid=900/900 new=(1,s900)",
                    "I public.b lsn=0/2510 xid=900/900 new=(2,s900)",
                    "COMMIT xid=900 commit=0/2600 end=0/2630 changes=2 truncates=0 messages=0 "
                    "streamed",
                    "BEGIN xid=800 commit=0/2700 streamed end=0/2730",
                    "I public.a lsn=0/2010 xid=800/800 new=(1,s800)",
                    "I public.a lsn=0/2410 xid=800/801 new=(2,s800)",
                    "COMMIT xid=800 commit=0/2700 end=0/2730 changes=2 truncates=0 messages=0 "
                    "streamed"}));
}

TEST(StreamDecoderTest, StreamedRelationIsInvisibleToTransactionsCommittedMeanwhile) {
  RecordingSink sink;
  StreamDecoder decoder(sink, V(2));
  ASSERT_TRUE(FeedAll(decoder,
                      {
                          BeginFrame(0x1000, 0x1100, 700),
                          RelationFrame(0, kRelA),
                          InsertFrame(0x1010, kA, {"1", "x"}),
                          CommitFrame(0x1100, 0x1130),
                          // The streamed transaction adds a column.
                          StreamStartFrame(0x2000, 800, true),
                          RelationFrame(0, kRelA3, 800),
                          InsertFrame(0x2010, kA, {"10", "s", "e"}, 800),
                          StreamStopFrame(0x2020),
                      })
                  .ok());
  // Meanwhile another transaction writes with the old definition.
  ASSERT_TRUE(FeedAll(decoder, {BeginFrame(0x2100, 0x2200, 701),
                                InsertFrame(0x2110, kA, {"2", "old"}), CommitFrame(0x2200, 0x2230)})
                  .ok());
  EXPECT_EQ(decoder.relations().Find(kA)->column_count(), 2u);

  // The streamed commit applies the new definition, which stays.
  ASSERT_TRUE(
      FeedAll(decoder, {StreamCommitFrame(0x2300, 0x2330, 800), BeginFrame(0x2400, 0x2500, 702),
                        InsertFrame(0x2410, kA, {"3", "new", "col"}), CommitFrame(0x2500, 0x2530)})
          .ok());
  EXPECT_EQ(decoder.relations().Find(kA)->column_count(), 3u);
  EXPECT_EQ(
      sink.events,
      (Events{"BEGIN xid=700 commit=0/1100", "I public.a lsn=0/1010 xid=700/700 new=(1,x)",
              "COMMIT xid=700 commit=0/1100 end=0/1130 changes=1 truncates=0 messages=0",
              "BEGIN xid=701 commit=0/2200", "I public.a lsn=0/2110 xid=701/701 new=(2,old)",
              "COMMIT xid=701 commit=0/2200 end=0/2230 changes=1 truncates=0 messages=0",
              "BEGIN xid=800 commit=0/2300 streamed end=0/2330",
              "I public.a lsn=0/2010 xid=800/800 new=(10,s,e)",
              "COMMIT xid=800 commit=0/2300 end=0/2330 changes=1 truncates=0 messages=0 "
              "streamed",
              "BEGIN xid=702 commit=0/2500", "I public.a lsn=0/2410 xid=702/702 new=(3,new,col)",
              "COMMIT xid=702 commit=0/2500 end=0/2530 changes=1 truncates=0 messages=0"}));
}

TEST(StreamDecoderTest, StreamedTruncateAndMessagesReplayInOrder) {
  const Events events = Decode({
      StreamStartFrame(0x2000, 800, true),
      RelationFrame(0, kRelA, 800),
      RelationFrame(0, kRelB, 800),
      TruncateFrame(0x2010, {kA, kB}, wire::Truncate::kFlagCascade, 800),
      MessageFrame(0x2020, true, "p", "c", 801),
      InsertFrame(0x2030, kB, {"1", "w"}, 801),
      StreamStopFrame(0x2040),
      StreamCommitFrame(0x2100, 0x2130, 800),
  });
  EXPECT_EQ(events,
            (Events{"BEGIN xid=800 commit=0/2100 streamed end=0/2130",
                    "TRUNCATE public.a public.b cascade=1 restart=0 lsn=0/2010 xid=800/800",
                    "MSG tx lsn=0/2020 prefix=p content=c xid=800/801",
                    "I public.b lsn=0/2030 xid=800/801 new=(1,w)",
                    "COMMIT xid=800 commit=0/2100 end=0/2130 changes=1 truncates=1 messages=1 "
                    "streamed"}));
}

TEST(StreamDecoderTest, ErrorsFoundAtReplayNameBothLsns) {
  const Status s = DecodeError({
      StreamStartFrame(0x2000, 800, true),
      InsertFrame(0x2010, kA, {"1", "a"}, 800),  // no Relation for it
      StreamStopFrame(0x2020),
      StreamCommitFrame(0x2100, 0x2130, 800),
  });
  EXPECT_TRUE(s.IsSchemaChanged()) << s.ToString();
  EXPECT_TRUE(s.message().starts_with(
      "LSN 0/2130: StreamCommit: xid 800: replaying its streamed messages: LSN 0/2010: Insert: "
      "relation 16384 was not described by a Relation message (SELECT 16384::regclass"))
      << s.ToString();
}

// ---------------------------------------------------------------- spilling

// Two interleaved streamed transactions with subtransaction aborts, a whole
// abort of a third, and plain transactions between them: enough to spill
// several times with a small bound.
std::vector<TestFrame> BigStreamedWorkload() {
  std::vector<TestFrame> f;
  uint64_t lsn = 0x10000;
  auto next = [&] { return lsn += 0x10; };
  // A plain transaction: Begin, the given changes' frames, Commit.
  auto plain = [&](wire::Xid xid, const Row& row) {
    const uint64_t begin = next();
    const uint64_t insert = next();
    const uint64_t commit = next();
    const uint64_t end = next();
    f.push_back(BeginFrame(begin, commit, xid));
    if (xid == 700) f.push_back(RelationFrame(0, kRelA));
    f.push_back(InsertFrame(insert, kA, row));
    f.push_back(CommitFrame(commit, end));
  };
  plain(700, {"0", "first"});
  for (int segment = 0; segment < 6; ++segment) {
    for (const wire::Xid top : {800u, 900u}) {
      f.push_back(StreamStartFrame(next(), top, segment == 0));
      if (segment == 0) f.push_back(RelationFrame(0, top == 800 ? kRelA3 : kRelB, top));
      for (int i = 0; i < 25; ++i) {
        const wire::Xid sub = top + 1 + static_cast<wire::Xid>(segment);
        const std::string id = std::to_string(segment * 100 + i);
        const std::string payload(40 + i, static_cast<char>('a' + segment));
        if (top == 800) {
          f.push_back(InsertFrame(next(), kA, {id, payload, "<u>"}, i < 10 ? top : sub));
        } else {
          f.push_back(InsertFrame(next(), kB, {id, payload}, i < 10 ? top : sub));
        }
      }
      f.push_back(StreamStopFrame(next()));
    }
    // Roll back a subtransaction of each (segment 1's in 800; segments 2's
    // and 4's in 900): some of them lie in spilled parts of the logs.
    if (segment == 1) f.push_back(StreamAbortFrame(next(), 800, 802));
    if (segment == 2 || segment == 4) {
      f.push_back(StreamAbortFrame(next(), 900, 900 + 1 + static_cast<wire::Xid>(segment)));
    }
    // A plain transaction, with the original definition of a.
    plain(1000 + static_cast<wire::Xid>(segment), {std::to_string(9000 + segment), "plain"});
  }
  // A third streamed transaction, spilled and then aborted whole.
  f.push_back(StreamStartFrame(next(), 990, true));
  f.push_back(RelationFrame(0, kRelB, 990));
  for (int i = 0; i < 30; ++i) {
    f.push_back(InsertFrame(next(), kB, {std::to_string(i), std::string(100, 'z')}, 990));
  }
  f.push_back(StreamStopFrame(next()));
  f.push_back(StreamAbortFrame(next(), 990, 990));
  uint64_t commit = next();
  f.push_back(StreamCommitFrame(commit, next(), 900));
  commit = next();
  f.push_back(StreamCommitFrame(commit, next(), 800));
  return f;
}

class SpillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("spill_test_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  size_t FilesInDir() const {
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }

  fs::path dir_;
};

TEST_F(SpillTest, TinyMemoryBoundGivesTheSameOutputAndLeavesNoFiles) {
  const std::vector<TestFrame> frames = BigStreamedWorkload();

  RecordingSink reference;
  StreamDecoder in_memory(reference, V(2));
  ASSERT_TRUE(FeedAll(in_memory, frames).ok());
  EXPECT_EQ(in_memory.stats().spills, 0u);
  EXPECT_EQ(in_memory.stats().streamed_transactions, 2u);
  EXPECT_EQ(in_memory.stats().subxact_aborts, 3u);
  ASSERT_GT(reference.events.size(), 200u);

  for (const size_t bound : {size_t{1}, size_t{700}, size_t{5000}}) {
    SCOPED_TRACE("max_buffered_bytes = " + std::to_string(bound));
    DecoderOptions options = V(2);
    options.max_buffered_bytes = bound;
    options.spill_dir = dir_;
    RecordingSink sink;
    StreamDecoder decoder(sink, options);
    size_t most_files = 0;
    for (const TestFrame& f : frames) {
      ASSERT_TRUE(decoder.Feed(f.start, f.end, f.body).ok());
      EXPECT_LE(decoder.buffered_bytes(), bound);
      most_files = std::max(most_files, FilesInDir());
    }
    EXPECT_EQ(sink.events, reference.events);
    EXPECT_GT(decoder.stats().spills, 0u);
    EXPECT_GT(decoder.stats().spilled_bytes, 0u);
    EXPECT_GE(most_files, 2u);  // both long transactions were on disk at once
    EXPECT_TRUE(decoder.idle());
    EXPECT_EQ(FilesInDir(), 0u);
  }
}

TEST_F(SpillTest, DestructionRemovesOpenSpillFiles) {
  {
    DecoderOptions options = V(2);
    options.max_buffered_bytes = 1;
    options.spill_dir = dir_;
    RecordingSink sink;
    StreamDecoder decoder(sink, options);
    ASSERT_TRUE(
        FeedAll(decoder, {StreamStartFrame(0x2000, 800, true), RelationFrame(0, kRelA, 800),
                          InsertFrame(0x2010, kA, {"1", "a"}, 800), StreamStopFrame(0x2020)})
            .ok());
    EXPECT_EQ(FilesInDir(), 1u);
    EXPECT_EQ(decoder.buffered_bytes(), 0u);
  }
  EXPECT_EQ(FilesInDir(), 0u);
}

TEST_F(SpillTest, UnwritableSpillDirectoryStopsTheDecoder) {
  DecoderOptions options = V(2);
  options.max_buffered_bytes = 1;
  options.spill_dir = dir_ / "does-not-exist";
  RecordingSink sink;
  StreamDecoder decoder(sink, options);
  const Status s =
      FeedAll(decoder, {StreamStartFrame(0x2000, 800, true), RelationFrame(0x2001, kRelA, 800)});
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_EQ(s.message().substr(0, 12), "LSN 0/2001: ");
}

// ---------------------------------------------------------------- early delivery

// Records early changes by (xid, entry), takes back what OnStreamTruncated
// drops, and checks every replayed streamed change against its early twin.
class EarlySink : public RecordingSink {
 public:
  Status OnStreamedChange(const Change& c) override {
    auto& entries = early[c.xid];
    EXPECT_TRUE(entries.empty() || entries.rbegin()->first < c.stream_entry);
    entries[c.stream_entry] = Text(c);
    ++delivered_early;
    return Status::OK();
  }
  void OnStreamTruncated(wire::Xid xid, uint64_t kept) override {
    auto it = early.find(xid);
    if (it == early.end()) return;
    it->second.erase(it->second.lower_bound(kept), it->second.end());
    if (kept == 0) early.erase(it);
  }
  Status OnChange(const Change& c) override {
    if (c.stream_entry != Change::kNotStreamed) {
      auto it = early.find(c.xid);
      const bool found = it != early.end() && it->second.count(c.stream_entry) > 0;
      if (found) {
        EXPECT_EQ(it->second[c.stream_entry], Text(c));
        ++matched;
      } else {
        ++late_only;
      }
    }
    return RecordingSink::OnChange(c);
  }
  std::string Text(const Change& c) const {
    return std::string(1, static_cast<char>(c.op)) + c.relation.QualifiedName() + " " +
           c.lsn.ToString() + " " + std::to_string(c.subxid) + " " +
           (c.op == ChangeOp::kDelete ? TupleText(c.old_tuple) : TupleText(c.new_tuple));
  }

  std::map<wire::Xid, std::map<uint64_t, std::string>> early;
  uint64_t delivered_early = 0, matched = 0, late_only = 0;
};

TEST_F(SpillTest, EarlyChangesAreTheReplayedOnesAndAbortsTakeThemBack) {
  const std::vector<TestFrame> frames = BigStreamedWorkload();
  RecordingSink reference;
  StreamDecoder plain(reference, V(2));
  ASSERT_TRUE(FeedAll(plain, frames).ok());
  for (const size_t bound : {kDefaultMaxBufferedBytes, size_t{700}}) {
    SCOPED_TRACE("max_buffered_bytes = " + std::to_string(bound));
    DecoderOptions options = V(2);
    options.max_buffered_bytes = bound;
    options.spill_dir = dir_;
    options.deliver_streamed_changes_early = true;
    EarlySink sink;
    StreamDecoder decoder(sink, options);
    ASSERT_TRUE(FeedAll(decoder, frames).ok());
    // The same delivery; each replayed streamed change had its early twin,
    // and nothing early is left: aborted ones were taken back, committed
    // ones released at the end of their replay.
    EXPECT_EQ(sink.events, reference.events);
    EXPECT_GT(sink.matched, 100u);
    EXPECT_EQ(sink.late_only, 0u);
    EXPECT_GT(sink.delivered_early, sink.matched);  // the aborted ones too
    EXPECT_EQ(decoder.stats().early_changes, sink.delivered_early);
    EXPECT_TRUE(sink.early.empty());
  }
}

TEST(StreamDecoderTest, OnlyChangesOfRelationsTheStreamDescribedComeEarly) {
  // Relation a described before the stream (by a plain transaction): its
  // streamed change comes only at the replay; b, described in the stream,
  // comes early too. The decoder destroyed with a transaction open
  // releases what was delivered early of it.
  DecoderOptions options = V(2);
  options.deliver_streamed_changes_early = true;
  EarlySink sink;
  {
    StreamDecoder decoder(sink, options);
    ASSERT_TRUE(
        FeedAll(decoder, {BeginFrame(0x1000, 0x1100, 700), RelationFrame(0x1010, kRelA),
                          CommitFrame(0x1100, 0x1130), StreamStartFrame(0x2000, 800, true),
                          InsertFrame(0x2010, kA, {"1", "a"}, 800), RelationFrame(0, kRelB, 800),
                          InsertFrame(0x2020, kB, {"2", "b"}, 800), StreamStopFrame(0x2030),
                          StreamCommitFrame(0x2100, 0x2130, 800),
                          StreamStartFrame(0x2200, 801, true), RelationFrame(0, kRelB, 801),
                          InsertFrame(0x2210, kB, {"3", "b"}, 801), StreamStopFrame(0x2220)})
            .ok());
    EXPECT_EQ(sink.matched, 1u);
    EXPECT_EQ(sink.late_only, 1u);
    ASSERT_EQ(sink.early.size(), 1u);
    EXPECT_EQ(sink.early.begin()->first, 801u);
  }
  EXPECT_TRUE(sink.early.empty());
}

// ---------------------------------------------------------------- protocol violations

TEST(StreamDecoderViolationTest, CommitWithoutBegin) {
  const Status s = DecodeError({CommitFrame(0x1100, 0x1130)});
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "LSN 0/1130: Commit: no open transaction (Commit without Begin)");
}

TEST(StreamDecoderViolationTest, ChangeOutsideATransaction) {
  EXPECT_EQ(DecodeError({InsertFrame(0x1010, kA, {"1", "x"})}).ToString(),
            "Corruption: LSN 0/1010: Insert: outside any transaction (no Begin or Stream Start "
            "before it)");
  EXPECT_EQ(DecodeError({RelationFrame(0x1010, kRelA)}).ToString(),
            "Corruption: LSN 0/1010: Relation: outside any transaction (no Begin or Stream Start "
            "before it)");
  // Between a Stream Stop and the next Stream Start is outside, too.
  EXPECT_EQ(DecodeError({StreamStartFrame(0x2000, 800, true), StreamStopFrame(0x2010),
                         TruncateFrame(0x2020, {kA}, 0)})
                .ToString(),
            "Corruption: LSN 0/2020: Truncate: outside any transaction (no Begin or Stream Start "
            "before it)");
}

TEST(StreamDecoderViolationTest, StreamStopWithoutStart) {
  EXPECT_EQ(DecodeError({StreamStopFrame(0x2030)}).ToString(),
            "Corruption: LSN 0/2030: StreamStop: no open stream block (Stream Stop without Stream "
            "Start)");
  EXPECT_EQ(DecodeError({StreamStartFrame(0x2000, 800, true), StreamStopFrame(0x2010),
                         StreamStopFrame(0x2020)})
                .ToString(),
            "Corruption: LSN 0/2020: StreamStop: no open stream block (Stream Stop without Stream "
            "Start)");
}

TEST(StreamDecoderViolationTest, CommitLsnMismatch) {
  const Status s = DecodeError({BeginFrame(0x1000, 0x1100, 700), CommitFrame(0x1101, 0x1130)});
  EXPECT_EQ(s.ToString(),
            "Corruption: LSN 0/1130: Commit: commit_lsn 0/1101 does not match Begin's final_lsn "
            "0/1100 (xid 700)");
}

TEST(StreamDecoderViolationTest, BeginInsideATransactionOrStreamBlock) {
  EXPECT_EQ(
      DecodeError({BeginFrame(0x1000, 0x1100, 700), BeginFrame(0x1010, 0x1200, 701)}).ToString(),
      "Corruption: LSN 0/1010: Begin: transaction xid 700 (final_lsn 0/1100) is still open "
      "(Begin inside a transaction)");
  EXPECT_EQ(
      DecodeError({StreamStartFrame(0x2000, 800, true), BeginFrame(0x2010, 0x2100, 701)})
          .ToString(),
      "Corruption: LSN 0/2010: Begin: inside the stream block of xid 800 (Begin before Stream "
      "Stop)");
}

TEST(StreamDecoderViolationTest, StreamStartPairing) {
  EXPECT_EQ(DecodeError({BeginFrame(0x1000, 0x1100, 700), StreamStartFrame(0x1010, 800, true)})
                .ToString(),
            "Corruption: LSN 0/1010: StreamStart: inside transaction xid 700 (Stream Start before "
            "Commit)");
  EXPECT_EQ(DecodeError({StreamStartFrame(0x2000, 800, true), StreamStartFrame(0x2010, 900, true)})
                .ToString(),
            "Corruption: LSN 0/2010: StreamStart: inside the stream block of xid 800 (Stream Start "
            "without Stream Stop)");
  EXPECT_EQ(DecodeError({StreamStartFrame(0x2000, 800, true), StreamStopFrame(0x2010),
                         StreamStartFrame(0x2020, 800, true)})
                .ToString(),
            "Corruption: LSN 0/2020: StreamStart: first segment of xid 800, which is already open "
            "(a second first segment)");
  EXPECT_EQ(DecodeError({StreamStartFrame(0x2000, 800, false)}).ToString(),
            "Corruption: LSN 0/2000: StreamStart: next segment of xid 800, which has no open "
            "streamed transaction (no first segment)");
}

TEST(StreamDecoderViolationTest, StreamCommitAndAbortPlacement) {
  EXPECT_EQ(
      DecodeError({StreamStartFrame(0x2000, 800, true), StreamCommitFrame(0x2100, 0x2130, 800)})
          .ToString(),
      "Corruption: LSN 0/2130: StreamCommit: inside the stream block of xid 800 (Stream "
      "Commit before Stream Stop)");
  EXPECT_EQ(DecodeError({StreamAbortFrame(0x2100, 800, 801)}).ToString(),
            "Corruption: LSN 0/2100: StreamAbort: xid 800 has no open streamed transaction (no "
            "Stream Start)");
  EXPECT_EQ(
      DecodeError({BeginFrame(0x1000, 0x1100, 700), StreamAbortFrame(0x1010, 800, 800)}).ToString(),
      "Corruption: LSN 0/1010: StreamAbort: inside transaction xid 700");
}

TEST(StreamDecoderViolationTest, CommitsMustMoveForward) {
  EXPECT_EQ(DecodeError({BeginFrame(0x1000, 0x1100, 700), CommitFrame(0x1100, 0x1100)}).ToString(),
            "Corruption: LSN 0/1100: Commit: end_lsn 0/1100 is not after commit_lsn 0/1100");
  EXPECT_EQ(DecodeError({BeginFrame(0x1000, 0x1100, 700), CommitFrame(0x1100, 0x1130),
                         BeginFrame(0x0f00, 0x1000, 701), CommitFrame(0x1000, 0x1030)})
                .ToString(),
            "Corruption: LSN 0/1030: Commit: commit_lsn 0/1000 is before the end of the previous "
            "commit 0/1130 (commits out of order)");
}

TEST(StreamDecoderViolationTest, OriginOnlyRightAfterBeginOrStreamStart) {
  EXPECT_EQ(DecodeError({OriginFrame(0x1000, "n")}).ToString(),
            "Corruption: LSN 0/1000: Origin: not right after Begin or Stream Start");
  EXPECT_EQ(DecodeError({BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelA),
                         OriginFrame(0x1000, "n")})
                .ToString(),
            "Corruption: LSN 0/1000: Origin: not right after Begin or Stream Start");
}

TEST(StreamDecoderViolationTest, ParseErrorsNameTheLsn) {
  TestFrame f = InsertFrame(0x1010, kA, {"1", "x"});
  f.body.pop_back();
  const Status s = DecodeError({BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelA), f});
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message().substr(0, 18), "LSN 0/1010: Insert") << s.ToString();
}

TEST(StreamDecoderViolationTest, StreamMessagesNeedProtocolVersion2) {
  const Status s = DecodeError({StreamStartFrame(0x2000, 800, true)}, V(1));
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message().substr(0, 24), "LSN 0/2000: StreamStart:") << s.ToString();
}

TEST(StreamDecoderViolationTest, TwoPhaseIsNotSupported) {
  const TestFrame f = At(0x3000, wire::BeginPrepare{Lsn(0x3100), Lsn(0x3130),
                                                    wire::Timestamp(kCommitTime), 700, "gid"});
  const Status s = DecodeError({f}, V(3));
  EXPECT_TRUE(s.IsNotSupported());
  EXPECT_TRUE(s.message().starts_with("LSN 0/3000: BeginPrepare: two-phase transactions are "))
      << s.ToString();
}

TEST(StreamDecoderViolationTest, InvalidOptions) {
  const Status s = DecodeError({BeginFrame(0x1000, 0x1100, 700)}, V(0));
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST(StreamDecoderViolationTest, TheFirstErrorIsSticky) {
  RecordingSink sink;
  StreamDecoder decoder(sink, V(1));
  const TestFrame commit = CommitFrame(0x1100, 0x1130);
  ASSERT_TRUE(decoder.Feed(commit.start, commit.end, commit.body).IsCorruption());
  const TestFrame begin = BeginFrame(0x1200, 0x1300, 701);
  const Status s = decoder.Feed(begin.start, begin.end, begin.body);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "decoder stopped by an earlier error: Corruption: LSN 0/1130: Commit: no open "
            "transaction (Commit without Begin)");
}

TEST(StreamDecoderViolationTest, SinkErrorsStopTheDecoder) {
  RecordingSink sink;
  sink.fail_at = 1;  // the first change
  StreamDecoder decoder(sink, V(1));
  const Status s =
      FeedAll(decoder, {BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelA),
                        InsertFrame(0x1010, kA, {"1", "x"}), CommitFrame(0x1100, 0x1130)});
  EXPECT_EQ(s.ToString(), "IO error: sink failed");
  EXPECT_EQ(decoder.last_commit_end(), Lsn());
}

// ---------------------------------------------------------------- resuming

TEST(StreamDecoderTest, ResumeLsnSkipsWhatWasDeliveredBefore) {
  const std::vector<TestFrame> frames = {
      BeginFrame(0x1000, 0x1100, 700),
      RelationFrame(0, kRelA),
      InsertFrame(0x1010, kA, {"1", "x"}),
      CommitFrame(0x1100, 0x1130),
      StreamStartFrame(0x1200, 800, true),
      RelationFrame(0, kRelB, 800),
      InsertFrame(0x1210, kB, {"1", "s"}, 800),
      StreamStopFrame(0x1220),
      MessageFrame(0x1250, false, "p", "old"),
      StreamCommitFrame(0x1300, 0x1330, 800),  // confirmed before the restart
      BeginFrame(0x1400, 0x1500, 701),
      InsertFrame(0x1410, kA, {"2", "y"}),  // relies on the skipped Relation
      CommitFrame(0x1500, 0x1530),
  };
  DecoderOptions options = V(2);
  options.resume_lsn = Lsn(0x1330);
  RecordingSink sink;
  StreamDecoder decoder(sink, options);
  EXPECT_EQ(decoder.last_commit_end(), Lsn(0x1330));
  ASSERT_TRUE(FeedAll(decoder, frames).ok());
  EXPECT_EQ(sink.events,
            (Events{"BEGIN xid=701 commit=0/1500", "I public.a lsn=0/1410 xid=701/701 new=(2,y)",
                    "COMMIT xid=701 commit=0/1500 end=0/1530 changes=1 truncates=0 messages=0"}));
  EXPECT_EQ(decoder.stats().skipped_transactions, 2u);
  EXPECT_EQ(decoder.last_commit_end(), Lsn(0x1530));
}

}  // namespace
}  // namespace pgparity::core
