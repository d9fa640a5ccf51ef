// ChainedDigest: the definition (expected values computed independently
// from docs/digest.md: row digests with Python's hashlib, transaction
// digests and the chain with the xxHash CLI, `printf '%s' ... | xxhsum -H2`), and the restart
// property: the same stream digested in one go or by two decoders, the second resumed at a commit
// boundary, gives the same chain.
#include "pgparity/core/chained_digest.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdio>
#include <string>
#include <utility>
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
  // txn_1 = xxh128('I6:public.1:tN458d79f7165ac365020b29ec17a9e6b7' 'T1:1:6:public.1:t'
  //                 'M1:p2:hi')
  // chain_1 = xxh128('0' * 32 + '0000000000001130' + txn_1)
  // chain_2 = xxh128(chain_1 + '0000000000001330' + xxh128(''))
  EXPECT_EQ(s.chain.ToHex(), "b7489490a0da9822425e4ccd0e285596");
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
  EXPECT_EQ(chain.last_transaction_digest().ToHex(), "f702ec25ab59ce951315d9d74e650352");
  EXPECT_EQ(chain.state().chain.ToHex(), "46f37797d34793a7b243ce68bb798c85");
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
  const TxnInfo txn{700, Lsn(0x1100), wire::Timestamp(), false, Lsn()};
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

const RelationSpec kRestartRelA{16384, "public", "a", {{"id", 23, true}, {"v"}}};
const RelationSpec kRestartRelB{16385, "public", "b", {{"id", 23, true}, {"w"}}};
constexpr wire::Oid kRestartA = 16384;
constexpr wire::Oid kRestartB = 16385;
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
    f.push_back(RelationFrame(0, kRestartRelA));
    f.push_back(RelationFrame(0, kRestartRelB));
    f.push_back(InsertFrame(0x1010, kRestartA, {"1", "x"}));
    f.push_back(InsertFrame(0x1020, kRestartB, {"1", "y"}));
    f.push_back(CommitFrame(0x1100, 0x1130));
  }
  // Streamed transaction 800, first segment; its subtransaction 801 aborts.
  f.push_back(StreamStartFrame(0x2000, 800, true));
  f.push_back(RelationFrame(0, kRestartRelA, 800));
  f.push_back(InsertFrame(0x2010, kRestartA, {"10", "s"}, 800));
  f.push_back(InsertFrame(0x2020, kRestartA, {"11", "rolled back"}, 801));
  f.push_back(StreamStopFrame(0x2030));
  f.push_back(StreamAbortFrame(0x2040, 800, 801));
  if (!restarted) {
    f.push_back(BeginFrame(0x3000, 0x3100, 701));  // T2
    f.push_back(UpdateFrame(0x3010, kRestartA, OldTupleKind::kKey, {"1", "<null>"}, {"1", "x2"}));
    f.push_back(DeleteFrame(0x3020, kRestartB, OldTupleKind::kKey, {"1", "<null>"}));
    f.push_back(CommitFrame(0x3100, kBoundary));
  }
  f.push_back(StreamStartFrame(0x4000, 800, false));
  f.push_back(InsertFrame(0x4010, kRestartA, {"12", "s"}, 802));
  f.push_back(InsertFrame(0x4020, kRestartA, {"13", "s"}, 800));
  f.push_back(StreamStopFrame(0x4030));
  f.push_back(BeginFrame(0x5000, 0x5100, 702));  // T3
  if (restarted) f.push_back(RelationFrame(0, kRestartRelB));
  f.push_back(InsertFrame(0x5010, kRestartB, {"2", "z"}));
  f.push_back(CommitFrame(0x5100, 0x5130));
  f.push_back(MessageFrame(0x5200, false, "audit", "between"));
  f.push_back(StreamCommitFrame(0x6000, 0x6030, 800));
  f.push_back(BeginFrame(0x7000, 0x7100, 703));  // T4, empty
  f.push_back(CommitFrame(0x7100, 0x7130));
  f.push_back(BeginFrame(0x8000, 0x8100, 704));  // T5
  f.push_back(TruncateFrame(0x8010, {kRestartA, kRestartB}, wire::Truncate::kFlagCascade));
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
    if (i == 0) all.push_back(RelationFrame(0, kRestartRelA));
    all.push_back(InsertFrame(base + 0x10, kRestartA, {std::to_string(i), "v"}));
    if (i % 3 == 1) {
      all.push_back(
          UpdateFrame(base + 0x20, kRestartA, OldTupleKind::kNone, {}, {std::to_string(i), "w"}));
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
    if (!second.empty()) second.insert(second.begin() + 1, RelationFrame(0, kRestartRelA));
    const ChainState part1 = Digest(first);
    DecoderOptions options = V2();
    options.resume_lsn = part1.last_commit_end;
    EXPECT_EQ(Digest(second, options, part1), one_go);
  }
}

// ---------------------------------------------------------------- batching

// The definition folded at once, one transaction at a time, with records
// from AppendChangeRecord: the oracle for the batched ChainedDigest.
class ReferenceChain : public RecordingSink {
 public:
  Status OnBegin(const TxnInfo&) override {
    txn_.clear();
    return Status::OK();
  }
  Status OnChange(const Change& change) override {
    ChainedDigest::AppendChangeRecord(change, txn_);
    return Status::OK();
  }
  Status OnTruncate(const TruncateEvent& t) override {
    txn_ += "T" + std::to_string(t.flags) + ":" + std::to_string(t.relations.size()) + ":";
    for (const RelationInfo* r : t.relations)
      txn_ += std::string(r->row_digester().encoded_table());
    return Status::OK();
  }
  Status OnLogicalMessage(const LogicalMessageEvent& m) override {
    if (!m.transactional) return Status::OK();
    txn_ += "M" + std::to_string(m.prefix.size()) + ":" + std::string(m.prefix) +
            std::to_string(m.content.size()) + ":" +
            std::string(reinterpret_cast<const char*>(m.content.data()), m.content.size());
    return Status::OK();
  }
  Status OnCommit(const CommitInfo& commit) override {
    const XXH128_hash_t t = XXH3_128bits(txn_.data(), txn_.size());
    const digest::Digest128 txn{t.high64, t.low64};
    char lsn[17];
    std::snprintf(lsn, sizeof lsn, "%016llx",
                  static_cast<unsigned long long>(commit.end_lsn.value()));
    const std::string input = chain.chain.ToHex() + lsn + txn.ToHex();
    const XXH128_hash_t c = XXH3_128bits(input.data(), input.size());
    chain.chain = digest::Digest128{c.high64, c.low64};
    chain.last_commit_end = commit.end_lsn;
    ++chain.transactions;
    return Status::OK();
  }
  ChainState chain;

 private:
  std::string txn_;
};

// Reads the chain after every event: every batch is one event long.
class FlushEveryEvent : public ChangeSink {
 public:
  Status OnBegin(const TxnInfo& t) override { return Then(chain.OnBegin(t)); }
  Status OnChange(const Change& c) override {
    PGPARITY_RETURN_IF_ERROR(chain.OnChange(c));
    const ChainedDigest::RowDigests& got = chain.last_row_digests();
    // Row digests handed to a RecordSink equal RowDigester's, one at a time.
    EXPECT_EQ(got.has_new, c.op != ChangeOp::kDelete);
    EXPECT_EQ(got.has_old, c.old_kind != wire::OldTupleKind::kNone);
    if (got.has_new) {
      EXPECT_EQ(got.new_row, reference.Digest(c.new_tuple));
    }
    if (got.has_old) {
      EXPECT_EQ(got.old_row, reference.Digest(c.old_tuple));
    }
    ++changes;
    return Then(Status::OK());
  }
  Status OnTruncate(const TruncateEvent& t) override { return Then(chain.OnTruncate(t)); }
  Status OnLogicalMessage(const LogicalMessageEvent& m) override {
    return Then(chain.OnLogicalMessage(m));
  }
  Status OnCommit(const CommitInfo& c) override { return Then(chain.OnCommit(c)); }
  ChainedDigest chain;
  digest::RowDigester reference{"public", "t", std::vector<std::string>{"id", "a"}};
  size_t changes = 0;

 private:
  Status Then(Status s) {
    (void)chain.state();
    return s;
  }
};

// The definition's chain of `frames` (ReferenceChain).
ChainState ReferenceOf(const std::vector<TestFrame>& frames) {
  ReferenceChain reference;
  StreamDecoder decoder(reference, V2());
  const Status s = FeedAll(decoder, frames);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return reference.chain;
}

// The chain with every batch one event long, and the changes it saw.
std::pair<ChainState, size_t> FlushingEveryEvent(const std::vector<TestFrame>& frames) {
  FlushEveryEvent each;
  StreamDecoder decoder(each, V2());
  const Status s = FeedAll(decoder, frames);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return {each.chain.state(), each.changes};
}

// Small transactions, one of 2,000 rows (several batches inside it), an
// update with an old key, a delete, truncates and messages between.
std::vector<TestFrame> MixedStream() {
  std::vector<TestFrame> f;
  uint64_t lsn = 0x10000;
  f.push_back(BeginFrame(lsn, lsn + 0x80, 700));
  f.push_back(RelationFrame(0, kRelT));
  f.push_back(CommitFrame(lsn + 0x80, lsn + 0x90));
  for (int t = 0; t < 700; ++t) {
    lsn += 0x100000;
    const uint64_t commit = lsn + 0xfff00;
    f.push_back(BeginFrame(lsn, commit, 701 + t));
    const int rows = t == 300 ? 2000 : t % 5;
    for (int r = 0; r < rows; ++r) {
      const std::string id = std::to_string(t * 10000 + r);
      f.push_back(InsertFrame(lsn + 0x10 + r, kT, {id, std::string(r % 97, 'v')}));
    }
    if (t % 7 == 1) {
      f.push_back(
          UpdateFrame(lsn + 0x90000, kT, OldTupleKind::kKey, {"5", "<null>"}, {"6", "<u>"}));
    }
    if (t % 11 == 2) f.push_back(DeleteFrame(lsn + 0x90001, kT, OldTupleKind::kFull, {"6", "z"}));
    if (t % 13 == 3) f.push_back(TruncateFrame(lsn + 0x90002, {kT}, 0));
    if (t % 17 == 4) f.push_back(MessageFrame(lsn + 0x90003, true, "p", std::to_string(t)));
    f.push_back(CommitFrame(commit, commit + 0x30));
  }
  return f;
}

TEST(ChainedDigestBatchTest, BatchedEqualsTheDefinitionFoldedAtOnce) {
  const std::vector<TestFrame> frames = MixedStream();
  const ChainState reference = ReferenceOf(frames);
  EXPECT_EQ(reference.transactions, 701u);
  EXPECT_EQ(Digest(frames), reference);

  const auto [each, changes] = FlushingEveryEvent(frames);
  EXPECT_EQ(each, reference);
  EXPECT_GT(changes, 2000u);
}

// Thousands of empty transactions in a row: folded in batches too (the
// pending list stays bounded), and the chain is the definition's.
TEST(ChainedDigestBatchTest, ManyEmptyTransactions) {
  std::vector<TestFrame> frames;
  for (uint64_t i = 0; i < 5000; ++i) {
    const uint64_t lsn = 0x10000 + 0x100 * i;
    frames.push_back(BeginFrame(lsn, lsn + 0x80, 700 + static_cast<wire::Xid>(i)));
    frames.push_back(CommitFrame(lsn + 0x80, lsn + 0x90));
  }
  const ChainState reference = ReferenceOf(frames);
  EXPECT_EQ(reference.transactions, 5000u);
  EXPECT_EQ(Digest(frames), reference);
}

// A row with a 16 MB value (hashed by itself, docs/digest.md) between
// batched ones.
TEST(ChainedDigestBatchTest, ARowWithAWideValueKeepsItsPlace) {
  const std::string big(size_t{16} << 20, 'q');
  const std::vector<TestFrame> frames = {
      BeginFrame(0x1000, 0x1100, 700),
      RelationFrame(0, kRelT),
      InsertFrame(0x1010, kT, {"1", "a"}),
      InsertFrame(0x1020, kT, {"2", big}),
      UpdateFrame(0x1030, kT, OldTupleKind::kFull, {"2", big}, {"2", "b"}),
      InsertFrame(0x1040, kT, {"3", "c"}),
      CommitFrame(0x1100, 0x1130)};
  const ChainState reference = ReferenceOf(frames);
  EXPECT_EQ(Digest(frames), reference);
  const auto [each, changes] = FlushingEveryEvent(frames);
  EXPECT_EQ(each, reference);
  EXPECT_EQ(changes, 4u);
}

TEST(ChainedDigestBatchTest, AbandoningATransactionLargerThanABatch) {
  std::vector<TestFrame> big = {BeginFrame(0x1000, 0x900000, 700), RelationFrame(0, kRelT)};
  for (int r = 0; r < 1000; ++r) {
    big.push_back(InsertFrame(0x1010 + r, kT, {std::to_string(r), "x"}));
  }
  big.push_back(CommitFrame(0x900000, 0x900030));
  const ChainState whole = Digest(big);

  ChainedDigest chain;
  {
    StreamDecoder cut(chain, V2());  // breaks after 600 rows: two batches folded
    ASSERT_TRUE(FeedAll(cut, std::vector<TestFrame>(big.begin(), big.begin() + 602)).ok());
  }
  chain.AbandonTransaction();
  StreamDecoder again(chain, V2());
  ASSERT_TRUE(FeedAll(again, big).ok());
  EXPECT_EQ(chain.state(), whole);
}

}  // namespace
}  // namespace pgparity::core
