// Early preparation of streamed changes (prepared_changes.h) against the
// replay alone: random streamed transactions — inserts, updates with and
// without unchanged TOAST values, key changes, deletes, a table without
// key; subtransactions rolled back, whole transactions aborted, two
// transactions interleaved, plain ones between, Relation messages again
// after each abort as pgoutput sends them — decoded by a real StreamDecoder
// into one ShadowState with early delivery off and into others with it on
// (with room for everything, and with room for a few changes). Every table
// must end the same part by part, and the commits' touched keys the same.
#include "pgparity/applier/shadow/prepared_changes.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/testing/stream_builder.h"
#include "pgparity/applier/shadow/memory_limit.h"
#include "pgparity/applier/shadow/row_key.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/core/stream_decoder.h"
#include "pgparity/digest/md5_batch.h"
#include "shadow/testing_rows.h"
#include "shadow/testing_shadow.h"

namespace pgparity::applier {
namespace {

using namespace core::testing;  // NOLINT: frame builders
using testing::PartsOf;
using testing::Values;

// testing::MixedSpecs() as the stream describes them.
const RelationSpec kPreparedRels[3] = {
    {100, "public", "t", {{"id", 23, true}, {"body"}, {"n", 23}}},
    {101, "public", "s", {{"id", 25, true}, {"body"}, {"n", 23}}},
    {102, "public", "bag", {{"id"}, {"body"}, {"n", 23}}, wire::ReplicaIdentity::kFull}};

class RandomStreamedFrames {
 public:
  explicit RandomStreamedFrames(uint32_t seed) : rows_(seed, 80) {}

  std::vector<TestFrame> Frames(int transactions) {
    for (int i = 0; i < transactions; ++i) {
      if (Uniform(0, 3) == 0) {
        Plain(static_cast<wire::Xid>(500 + i));
      } else {
        Streamed(static_cast<wire::Xid>(1000 + 2 * i));
      }
    }
    return std::move(frames_);
  }

 private:
  int Uniform(int lo, int hi) { return rows_.Uniform(lo, hi); }
  uint64_t Next() { return lsn_ += 0x10; }
  std::string Key(size_t t) { return rows_.Key(t); }
  Row KeyedRow(std::string key) { return rows_.KeyedRow(std::move(key)); }
  Row BagRow() { return rows_.BagRow(); }

  // One change of subtransaction `xid` (nullopt: a plain transaction's).
  void Change(std::optional<wire::Xid> xid) {
    using Old = wire::OldTupleKind;
    if (Uniform(0, 4) == 0) {
      const Row row = BagRow();
      frames_.push_back(Uniform(0, 1) == 0 ? InsertFrame(Next(), 102, row, xid)
                                           : DeleteFrame(Next(), 102, Old::kFull, row, xid));
      return;
    }
    const size_t t = static_cast<size_t>(Uniform(0, 1));
    const wire::Oid relid = kPreparedRels[t].relid;
    const std::string key = Key(t);
    const Row key_only{key, "<null>", "<null>"};
    switch (Uniform(0, 4)) {
      case 0:
        frames_.push_back(InsertFrame(Next(), relid, KeyedRow(key), xid));
        break;
      case 1:  // unchanged TOAST: prepared only at the replay
        frames_.push_back(UpdateFrame(Next(), relid, Old::kNone, {},
                                      {key, "<u>", std::to_string(Uniform(0, 9))}, xid));
        break;
      case 2:  // the key changes
        frames_.push_back(UpdateFrame(Next(), relid, Old::kKey, key_only, KeyedRow(Key(t)), xid));
        break;
      case 3:
        frames_.push_back(DeleteFrame(Next(), relid, Old::kKey, key_only, xid));
        break;
      default:
        frames_.push_back(UpdateFrame(Next(), relid, Old::kNone, {}, KeyedRow(key), xid));
    }
  }

  void Describe(std::optional<wire::Xid> xid) {
    for (const RelationSpec& r : kPreparedRels) frames_.push_back(RelationFrame(0, r, xid));
  }

  void Plain(wire::Xid xid) {
    const uint64_t begin = Next();
    const size_t at = frames_.size();
    Describe(std::nullopt);
    for (int i = Uniform(1, 4); i > 0; --i) Change(std::nullopt);
    const uint64_t commit = Next();
    // Begin carries the commit's LSN (final_lsn).
    frames_.insert(frames_.begin() + static_cast<ptrdiff_t>(at), BeginFrame(begin, commit, xid));
    frames_.push_back(CommitFrame(commit, Next()));
  }

  // A streamed transaction in blocks, a plain one between two of them;
  // subtransactions (the newest) rolled back now and then; 1 in 6 aborted.
  void Streamed(wire::Xid xid) {
    wire::Xid sub = xid * 1000;
    bool first = true, describe = true;
    for (int block = Uniform(1, 4); block > 0; --block) {
      frames_.push_back(StreamStartFrame(Next(), xid, first));
      first = false;
      if (describe) Describe(xid);
      describe = false;
      for (int i = Uniform(1, 12); i > 0; --i) {
        if (Uniform(0, 3) == 0) ++sub;
        Change(Uniform(0, 2) == 0 ? xid : sub);
      }
      frames_.push_back(StreamStopFrame(Next()));
      if (Uniform(0, 2) == 0) {
        frames_.push_back(StreamAbortFrame(Next(), xid, sub++));
        describe = true;  // pgoutput describes every relation again
      }
      if (Uniform(0, 3) == 0) Plain(xid + 1);
    }
    if (Uniform(0, 5) == 0) {
      frames_.push_back(StreamAbortFrame(Next(), xid, xid));
      return;
    }
    const uint64_t commit = Next();
    frames_.push_back(StreamCommitFrame(commit, Next(), xid));
  }

  testing::RandomRows rows_;
  uint64_t lsn_ = 0x10000;
  std::vector<TestFrame> frames_;
};

// A ShadowState bootstrapped with the same rows each time.
std::unique_ptr<ShadowState> Bootstrapped() {
  auto state = std::make_unique<ShadowState>(testing::MixedSpecs());
  for (int i = 1; i <= 40; ++i) {
    const Row row{std::to_string(i), std::string(i % 3 == 0 ? 30 : 3, 'b'), "1"};
    state->table(0).AddScannedRow(Values(row));
    const Row srow{"k" + std::to_string(i), "b", "2"};
    state->table(1).AddScannedRow(Values(srow));
  }
  const Row bag{"v1", "x", "1"};
  for (int i = 0; i < 10; ++i) state->table(2).AddScannedRow(Values(bag));
  state->SetBasePoint(wire::Lsn(0x100));
  return state;
}

TEST(PreparedChangesTest, EarlyPreparationEndsInTheStateTheReplayAloneGives) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::vector<TestFrame> frames = RandomStreamedFrames(seed).Frames(30);
    auto run = [&](bool early, size_t prepared_limit) {
      auto state = Bootstrapped();
      state->SetPreparedLimit(prepared_limit);
      core::DecoderOptions options;
      options.protocol_version = 2;
      options.deliver_streamed_changes_early = early;
      core::StreamDecoder decoder(*state, options);
      const Status fed = FeedAll(decoder, frames);
      EXPECT_TRUE(fed.ok()) << fed.ToString();
      return state;
    };
    const auto replayed = run(false, MemoryBudget().prepared_changes());
    const auto prepared = run(true, MemoryBudget().prepared_changes());
    const auto some = run(true, 600);
    EXPECT_EQ(replayed->changes_applied_prepared(), 0u);
    EXPECT_GT(prepared->changes_applied_prepared(), 0u);
    EXPECT_LT(some->changes_applied_prepared(), prepared->changes_applied_prepared());
    wire::Lsn to;
    const auto keys =
        replayed->KeysChanged(wire::Lsn(0x100), wire::Lsn(~uint64_t{0} >> 1), ~size_t{0}, to);
    for (const ShadowState* other : {prepared.get(), some.get()}) {
      EXPECT_EQ(other->changes(), replayed->changes());
      for (size_t t = 0; t < 3; ++t) {
        EXPECT_TRUE(PartsOf(other->table(t)) == PartsOf(replayed->table(t))) << "table " << t;
      }
      wire::Lsn other_to;
      EXPECT_EQ(
          other->KeysChanged(wire::Lsn(0x100), wire::Lsn(~uint64_t{0} >> 1), ~size_t{0}, other_to),
          keys);
    }
  }
}

// Digests computed in batches reach their own changes: rows of two
// transactions encoded into md5() as TableShadow::Prepare does, many
// batches of them, some hashed at once, one transaction's first changes
// taken while more are added, the other's last ones taken back: every
// change taken has the MD5 of its own row.
TEST(PreparedChangesTest, BatchedDigestsReachTheirOwnChanges) {
  PreparedChanges prepared(size_t{1} << 30);
  std::mt19937 rng(20261206);
  std::map<std::pair<wire::Xid, uint64_t>, digest::Digest128> want;
  std::map<wire::Xid, std::vector<uint64_t>> entries;
  std::vector<std::string> keys;
  uint64_t entry = 0;
  const auto add = [&](int count) {
    for (int i = 0; i < count; ++i) {
      const wire::Xid xid = rng() % 2 == 0 ? 10 : 20;
      ++entry;
      keys.emplace_back();
      EncodeIntegerKey(static_cast<int64_t>(entry), keys.back());
      TableShadow::PreparedChange c{
          core::ChangeOp::kInsert, wire::Lsn(entry), keys.back(), keys.back(), {}, {}};
      size_t message = digest::RowDigester::kHashedNow;
      const std::string row = "row " + std::to_string(entry) + std::string(rng() % 300, 'x');
      if (rng() % 10 == 0) {
        c.digest = digest::Md5(row);  // hashed at once
      } else {
        message = prepared.md5().Add(row);
      }
      ASSERT_TRUE(prepared.Add(xid, entry, 0, c, message));
      want[{xid, entry}] = digest::Md5(row);
      entries[xid].push_back(entry);
    }
  };
  const auto take = [&](wire::Xid xid, size_t count) {
    std::vector<uint64_t>& e = entries[xid];
    for (size_t i = 0; i < count && !e.empty(); ++i) {
      const uint64_t at = e.front();
      e.erase(e.begin());
      const auto c = prepared.Take(xid, at, 0, core::ChangeOp::kInsert, wire::Lsn(at));
      ASSERT_TRUE(c.has_value()) << at;
      EXPECT_EQ(c->digest, (want[{xid, at}])) << "entry " << at;
    }
  };
  add(6000);  // several batches of Md5Batch::kComputeBytes
  take(10, 1500);
  add(6000);
  const uint64_t cut = entries[20][entries[20].size() / 2];
  prepared.Truncate(20, cut);
  std::erase_if(entries[20], [cut](uint64_t e) { return e >= cut; });
  add(100);  // waiting when the rest are taken
  take(10, ~size_t{0});
  take(20, ~size_t{0});
}

}  // namespace
}  // namespace pgparity::applier
