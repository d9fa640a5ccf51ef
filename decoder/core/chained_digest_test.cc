// ChainedDigest: the definition (expected values computed independently,
// with Python's hashlib, from docs/digest.md), and the restart property: the
// same stream digested in one go or by two decoders, the second resumed at a
// commit boundary, gives the same chain.
#include "pgparity/core/chained_digest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/testing/stream_builder.h"
#include "pgparity/core/stream_decoder.h"

namespace pgparity::core {
namespace {

using namespace pgparity::core::testing;  // NOLINT: test helpers
using wire::Lsn;
using wire::OldTupleKind;

const RelationSpec kRelT{16384, "public", "t", {{"id", 23, true}, {"a"}}};
constexpr wire::Oid kT = 16384;

DecoderOptions V2() {
  DecoderOptions o;
  o.protocol_version = 2;
  return o;
}

ChainState Digest(const std::vector<TestFrame>& frames, DecoderOptions options = V2(),
                  ChainState resume = {}) {
  ChainedDigest chain(resume);
  StreamDecoder decoder(chain, options);
  const Status s = FeedAll(decoder, frames);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return chain.state();
}

// The records of a transaction's changes as ChainedDigest hashes them.
class RecordSink : public RecordingSink {
 public:
  Status OnChange(const Change& change) override {
    std::string r;
    ChainedDigest::AppendChangeRecord(change, r);
    records.push_back(r);
    return Status::OK();
  }
  std::vector<std::string> records;
};

TEST(ChainedDigestTest, ChangeRecords) {
  RecordSink sink;
  StreamDecoder decoder(sink, V2());
  ASSERT_TRUE(
      FeedAll(decoder, {BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelT),
                        InsertFrame(0x1010, kT, {"1", "x y"}),
                        UpdateFrame(0x1020, kT, OldTupleKind::kKey, {"1", "<null>"}, {"1", "z"}),
                        UpdateFrame(0x1030, kT, OldTupleKind::kNone, {}, {"2", "<u>"}),
                        DeleteFrame(0x1040, kT, OldTupleKind::kFull, {"1", "z"}),
                        CommitFrame(0x1100, 0x1130)})
          .ok());
  EXPECT_EQ(sink.records, (std::vector<std::string>{
                              // md5('6:public.1:t1:aV3:x y2:idV1:1')
                              "I6:public.1:tN458d79f7165ac365020b29ec17a9e6b7",
                              // md5('6:public.1:t1:aN2:idV1:1'), md5('6:public.1:t1:aV1:z2:idV1:1')
                              "U6:public.1:tK784e1cf6e8eff5370415e74f74086d6aN"
                              "e991d4b48f2289fa96604c093e7b80bc",
                              // md5('6:public.1:t1:aU2:idV1:2')
                              "U6:public.1:t-Ndb958199b794ea3a7bbd16cb04bf36f0",
                              "D6:public.1:tOe991d4b48f2289fa96604c093e7b80bc",
                          }));
}

TEST(ChainedDigestTest, ChainDefinition) {
  const ChainState s = Digest({
      BeginFrame(0x1000, 0x1100, 700),
      RelationFrame(0, kRelT),
      InsertFrame(0x1010, kT, {"1", "x y"}),
      TruncateFrame(0x1020, {kT}, wire::Truncate::kFlagCascade),
      MessageFrame(0x1030, true, "p", "hi"),
      CommitFrame(0x1100, 0x1130),
      MessageFrame(0x1140, false, "ignored", "not chained"),  // belongs to no transaction
      BeginFrame(0x1200, 0x1300, 701),
      CommitFrame(0x1300, 0x1330),
  });
  // txn_1 = md5('I6:public.1:tN458d79f7165ac365020b29ec17a9e6b7' 'T1:1:6:public.1:t' 'M1:p2:hi')
  // chain_1 = md5('0' * 32 + '0000000000001130' + txn_1)
  // chain_2 = md5(chain_1 + '0000000000001330' + md5(''))
  EXPECT_EQ(s.chain.ToHex(), "e1e0862c868ec6a627b964581e9aea61");
  EXPECT_EQ(s.last_commit_end, Lsn(0x1330));
  EXPECT_EQ(s.transactions, 2u);
}

TEST(ChainedDigestTest, FirstTransactionDigest) {
  ChainedDigest chain;
  StreamDecoder decoder(chain, V2());
  ASSERT_TRUE(FeedAll(decoder, {BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelT),
                                InsertFrame(0x1010, kT, {"1", "x y"}),
                                TruncateFrame(0x1020, {kT}, wire::Truncate::kFlagCascade),
                                MessageFrame(0x1030, true, "p", "hi"), CommitFrame(0x1100, 0x1130)})
                  .ok());
  EXPECT_EQ(chain.last_transaction_digest().ToHex(), "afb9f5b464573b73bacd38c63105bfd5");
  EXPECT_EQ(chain.state().chain.ToHex(), "da070e48b1238a2396a9d037b1335789");
}

TEST(ChainedDigestTest, EveryDifferenceChangesTheChain) {
  auto frames = [](const std::string& value, uint64_t end) {
    return std::vector<TestFrame>{BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelT),
                                  InsertFrame(0x1010, kT, {"1", value}), CommitFrame(0x1100, end)};
  };
  const ChainState base = Digest(frames("x", 0x1130));
  EXPECT_NE(Digest(frames("y", 0x1130)).chain, base.chain);  // a value
  EXPECT_NE(Digest(frames("x", 0x1138)).chain, base.chain);  // the commit position
  EXPECT_EQ(Digest(frames("x", 0x1130)).chain, base.chain);
}

TEST(ChainedDigestTest, ATransactionDeliveredTwiceIsRefused) {
  ChainedDigest chain;
  const TxnInfo txn{700, Lsn(0x1100), wire::Timestamp(), false};
  CommitInfo commit;
  commit.xid = 700;
  commit.commit_lsn = Lsn(0x1100);
  commit.end_lsn = Lsn(0x1130);
  ASSERT_TRUE(chain.OnBegin(txn).ok());
  ASSERT_TRUE(chain.OnCommit(commit).ok());
  ASSERT_TRUE(chain.OnBegin(txn).ok());
  const Status s = chain.OnCommit(commit);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("delivered twice"), std::string_view::npos) << s.ToString();
  EXPECT_EQ(chain.state().transactions, 1u);
}

TEST(ChainedDigestTest, AnAbandonedTransactionLeavesNoTrace) {
  const std::vector<TestFrame> txn = {BeginFrame(0x1000, 0x1100, 700), RelationFrame(0, kRelT),
                                      InsertFrame(0x1010, kT, {"1", "x"}),
                                      CommitFrame(0x1100, 0x1130)};
  const ChainState whole = Digest(txn);

  ChainedDigest chain;
  {
    // The connection breaks before the Commit arrives.
    StreamDecoder cut(chain, V2());
    ASSERT_TRUE(FeedAll(cut, {txn[0], txn[1], txn[2]}).ok());
  }
  chain.AbandonTransaction();
  StreamDecoder again(chain, V2());
  ASSERT_TRUE(FeedAll(again, txn).ok());
  EXPECT_EQ(chain.state(), whole);
}

TEST(ChainedDigestTest, ChangesOutsideATransactionAreRefused) {
  ChainedDigest chain;
  CommitInfo commit;
  commit.end_lsn = Lsn(0x10);
  EXPECT_EQ(chain.OnCommit(commit).code(), Status::Code::kFailedPrecondition);
}

// ---------------------------------------------------------------- restart

const RelationSpec kRelA{16384, "public", "a", {{"id", 23, true}, {"v"}}};
const RelationSpec kRelB{16385, "public", "b", {{"id", 23, true}, {"w"}}};
constexpr wire::Oid kA = 16384;
constexpr wire::Oid kB = 16385;
constexpr uint64_t kBoundary = 0x3130;  // T2's commit end

// The stream one walsender session sends. `restarted`: the session that
// starts after the consumer confirmed kBoundary -- the server decodes again
// from the slot's restart_lsn, skips transactions that committed before
// kBoundary, streams the still-open transaction 800 again from its first
// segment, and sends Relation messages again before each relation's first
// use in that session.
std::vector<TestFrame> Session(bool restarted) {
  std::vector<TestFrame> f;
  if (!restarted) {
    f.push_back(BeginFrame(0x1000, 0x1100, 700));  // T1
    f.push_back(RelationFrame(0, kRelA));
    f.push_back(RelationFrame(0, kRelB));
    f.push_back(InsertFrame(0x1010, kA, {"1", "x"}));
    f.push_back(InsertFrame(0x1020, kB, {"1", "y"}));
    f.push_back(CommitFrame(0x1100, 0x1130));
  }
  // Streamed transaction 800, first segment; its subtransaction 801 aborts.
  f.push_back(StreamStartFrame(0x2000, 800, true));
  f.push_back(RelationFrame(0, kRelA, 800));
  f.push_back(InsertFrame(0x2010, kA, {"10", "s"}, 800));
  f.push_back(InsertFrame(0x2020, kA, {"11", "rolled back"}, 801));
  f.push_back(StreamStopFrame(0x2030));
  f.push_back(StreamAbortFrame(0x2040, 800, 801));
  if (!restarted) {
    f.push_back(BeginFrame(0x3000, 0x3100, 701));  // T2
    f.push_back(UpdateFrame(0x3010, kA, OldTupleKind::kKey, {"1", "<null>"}, {"1", "x2"}));
    f.push_back(DeleteFrame(0x3020, kB, OldTupleKind::kKey, {"1", "<null>"}));
    f.push_back(CommitFrame(0x3100, kBoundary));
  }
  f.push_back(StreamStartFrame(0x4000, 800, false));
  f.push_back(InsertFrame(0x4010, kA, {"12", "s"}, 802));
  f.push_back(InsertFrame(0x4020, kA, {"13", "s"}, 800));
  f.push_back(StreamStopFrame(0x4030));
  f.push_back(BeginFrame(0x5000, 0x5100, 702));  // T3
  if (restarted) f.push_back(RelationFrame(0, kRelB));
  f.push_back(InsertFrame(0x5010, kB, {"2", "z"}));
  f.push_back(CommitFrame(0x5100, 0x5130));
  f.push_back(MessageFrame(0x5200, false, "audit", "between"));
  f.push_back(StreamCommitFrame(0x6000, 0x6030, 800));
  f.push_back(BeginFrame(0x7000, 0x7100, 703));  // T4, empty
  f.push_back(CommitFrame(0x7100, 0x7130));
  f.push_back(BeginFrame(0x8000, 0x8100, 704));  // T5
  f.push_back(TruncateFrame(0x8010, {kA, kB}, wire::Truncate::kFlagCascade));
  f.push_back(MessageFrame(0x8020, true, "app", "done"));
  f.push_back(CommitFrame(0x8100, 0x8130));
  return f;
}

TEST(ChainedDigestRestartTest, OneGoEqualsTwoDecodersResumedAtACommitBoundary) {
  const std::vector<TestFrame> all = Session(false);
  const ChainState one_go = Digest(all);
  EXPECT_EQ(one_go.transactions, 6u);
  EXPECT_EQ(one_go.last_commit_end, Lsn(0x8130));

  // First consumer: up to and including T2's commit, then killed. What it
  // persisted with its last confirmed commit: the chain state.
  ChainState saved;
  Lsn confirmed;
  {
    ChainedDigest chain;
    StreamDecoder decoder(chain, V2());
    for (const TestFrame& f : all) {
      ASSERT_TRUE(decoder.Feed(f.start, f.end, f.body).ok());
      if (f.end == Lsn(kBoundary)) break;
    }
    confirmed = decoder.last_commit_end();
    saved = chain.state();
    EXPECT_FALSE(decoder.idle());  // transaction 800 is still open
  }
  ASSERT_EQ(confirmed, Lsn(kBoundary));
  EXPECT_EQ(saved.last_commit_end, Lsn(kBoundary));
  EXPECT_EQ(saved.transactions, 2u);

  // Second consumer: the server resends from the confirmed position.
  DecoderOptions options = V2();
  options.resume_lsn = confirmed;
  const ChainState resumed = Digest(Session(true), options, saved);
  EXPECT_EQ(resumed, one_go);

  // Even if the server sent everything again, resume_lsn keeps each
  // transaction delivered once.
  const ChainState resent_all = Digest(all, options, saved);
  EXPECT_EQ(resent_all, one_go);

  // Without resume_lsn the chain refuses the repeated transactions.
  ChainedDigest chain(saved);
  StreamDecoder decoder(chain, V2());
  const Status s = FeedAll(decoder, all);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
}

TEST(ChainedDigestRestartTest, EveryCommitBoundaryGivesTheSameChain) {
  // Sequential transactions only: the restarted session is exactly the
  // frames after the boundary (plus the Relation messages re-sent).
  std::vector<TestFrame> all;
  std::vector<uint64_t> ends;
  for (int i = 0; i < 8; ++i) {
    const uint64_t base = 0x10000 + 0x1000 * static_cast<uint64_t>(i);
    all.push_back(BeginFrame(base, base + 0x100, 700 + static_cast<wire::Xid>(i)));
    if (i == 0) all.push_back(RelationFrame(0, kRelA));
    all.push_back(InsertFrame(base + 0x10, kA, {std::to_string(i), "v"}));
    if (i % 3 == 1) {
      all.push_back(
          UpdateFrame(base + 0x20, kA, OldTupleKind::kNone, {}, {std::to_string(i), "w"}));
    }
    all.push_back(CommitFrame(base + 0x100, base + 0x130));
    ends.push_back(base + 0x130);
  }
  const ChainState one_go = Digest(all);
  for (const uint64_t boundary : ends) {
    SCOPED_TRACE("boundary " + Lsn(boundary).ToString());
    std::vector<TestFrame> first;
    std::vector<TestFrame> second;
    bool after = false;
    for (const TestFrame& f : all) {
      (after ? second : first).push_back(f);
      if (f.end == Lsn(boundary)) after = true;
    }
    if (!second.empty()) second.insert(second.begin() + 1, RelationFrame(0, kRelA));
    const ChainState part1 = Digest(first);
    DecoderOptions options = V2();
    options.resume_lsn = part1.last_commit_end;
    EXPECT_EQ(Digest(second, options, part1), one_go);
  }
}

}  // namespace
}  // namespace pgparity::core
