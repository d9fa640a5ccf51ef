// Delta checkpoints (shadow_checkpoint.h, dirty_rows.h) against an oracle
// that knows nothing of their format: a ShadowState moved by random commits
// (inserts, updates with and without unchanged TOAST values, key changes,
// deletes, truncates, over a table with an integer key, one with a text key
// and one without key) is checkpointed — a full checkpoint, then deltas
// until a quarter of its rows changed, then a full one again — and after
// every checkpoint read back into a fresh ShadowState, which must hold the
// same state part by part (rows, kept values, unresolved keys, multiset,
// totals, sorted) and the same changed rows, so that the deltas written
// after a restart are complete too.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/testing/stream_builder.h"
#include "pgparity/applier/shadow/dirty_rows.h"
#include "pgparity/applier/shadow/shadow_checkpoint.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/core/relation_cache.h"
#include "shadow/testing_files.h"
#include "shadow/testing_rows.h"
#include "shadow/testing_shadow.h"

namespace pgparity::applier {
namespace {

using core::testing::Row;  // "<null>" NULL, "<u>" unchanged TOAST
using core::testing::Tuple;
using testing::PartsOf;
using testing::ReadBytes;
using testing::Values;
using testing::WriteBytes;

const CheckpointMeta kDeltaMeta{"slot", "pub", "1"};

std::vector<std::string> DirtyKeys(const DirtyRows& dirty, size_t table) {
  std::vector<std::string> keys;
  for (const RowKey& k : dirty.keys(table)) keys.emplace_back(k.view());
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Random commits applied to a ShadowState through its ChangeSink, as the
// stream would.
class RandomSource {
 public:
  RandomSource(ShadowState& state, uint32_t seed) : state_(state), rows_(seed, 120) {
    for (size_t i = 0; i < 3; ++i) {
      wire::Relation r;
      r.relid = 100 + static_cast<uint32_t>(i);
      r.namespace_name = "public";
      const TableSpec& spec = state.table(i).spec();
      r.name = spec.name;
      if (!spec.keyed()) r.replica_identity = wire::ReplicaIdentity::kFull;
      for (size_t c = 0; c < spec.columns.size(); ++c) {
        r.columns.push_back({spec.keyed() && c == 0 ? uint8_t{1} : uint8_t{0}, spec.columns[c],
                             c == 0 && spec.integer_key ? 23u : 25u, -1});
      }
      rel_[i] = &cache_.Apply(r);
    }
  }

  // The bootstrap's rows: keys 1..60 of t, k1..k40 of s, 30 rows of bag.
  void Scan() {
    for (int i = 1; i <= 60; ++i) {
      const Row row = KeyedRow(std::to_string(i));
      state_.table(0).AddScannedRow(Values(row));
    }
    for (int i = 1; i <= 40; ++i) {
      const Row row = KeyedRow("k" + std::to_string(i));
      state_.table(1).AddScannedRow(Values(row));
    }
    for (int i = 0; i < 30; ++i) {
      const Row row = BagRow();
      state_.table(2).AddScannedRow(Values(row));
    }
  }

  // One commit of 1 to 6 changes, ending at `end`.
  void Commit(uint64_t end) {
    ASSERT_TRUE(state_.OnBegin({}).ok());
    const int changes = Uniform(1, 6);
    for (int i = 0; i < changes; ++i) ASSERT_TRUE(OneChange(end).ok());
    core::CommitInfo ci;
    ci.end_lsn = wire::Lsn(end);
    ASSERT_TRUE(state_.OnCommit(ci).ok());
  }

 private:
  int Uniform(int lo, int hi) { return rows_.Uniform(lo, hi); }
  std::string Key(size_t table) { return rows_.Key(table); }
  Row KeyedRow(std::string key) { return rows_.KeyedRow(std::move(key)); }
  Row BagRow() { return rows_.BagRow(); }

  Status Apply(size_t table, core::ChangeOp op, wire::OldTupleKind old_kind, const Row& old_row,
               const Row& new_row, uint64_t lsn) {
    const wire::TupleBuilder o = Tuple(old_row), n = Tuple(new_row);
    const core::Change c{op,
                         *rel_[table],
                         old_kind,
                         old_kind == wire::OldTupleKind::kNone ? wire::TupleView{} : o.view(),
                         op == core::ChangeOp::kDelete ? wire::TupleView{} : n.view(),
                         wire::Lsn(lsn),
                         1,
                         1};
    return state_.OnChange(c);
  }

  Status OneChange(uint64_t lsn) {
    using Op = core::ChangeOp;
    using Old = wire::OldTupleKind;
    const int what = Uniform(0, 99);
    if (what < 3) {  // TRUNCATE of one table
      const core::RelationInfo* r = rel_[static_cast<size_t>(Uniform(0, 2))];
      core::TruncateEvent e;
      e.relations = std::span<const core::RelationInfo* const>(&r, 1);
      return state_.OnTruncate(e);
    }
    if (what < 25) {  // the table without key: an insert or a delete
      const Row row = BagRow();
      return Uniform(0, 1) == 0 ? Apply(2, Op::kInsert, Old::kNone, {}, row, lsn)
                                : Apply(2, Op::kDelete, Old::kFull, row, {}, lsn);
    }
    const size_t table = static_cast<size_t>(Uniform(0, 1));
    const std::string key = Key(table);
    const Row key_only{key, "<null>", "<null>"};
    switch (Uniform(0, 4)) {
      case 0:
        return Apply(table, Op::kInsert, Old::kNone, {}, KeyedRow(key), lsn);
      case 1:  // an unchanged TOAST value: resolved from kept values, or not
        return Apply(table, Op::kUpdate, Old::kNone, {},
                     {key, "<u>", std::to_string(Uniform(0, 99))}, lsn);
      case 2:  // the key changes
        return Apply(table, Op::kUpdate, Old::kKey, key_only, KeyedRow(Key(table)), lsn);
      case 3:
        return Apply(table, Op::kDelete, Old::kKey, key_only, {}, lsn);
      default:
        return Apply(table, Op::kUpdate, Old::kNone, {}, KeyedRow(key), lsn);
    }
  }

  ShadowState& state_;
  testing::RandomRows rows_;
  core::RelationCache cache_;
  const core::RelationInfo* rel_[3] = {};
};

class ShadowDeltaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::path(::testing::TempDir()) /
        ("delta-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "shadow.ckpt").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // live_: bootstrapped by source_ (random, from `seed`), tracking its
  // changed rows, its first checkpoint (a full one) at 0x1000.
  void Start(uint32_t seed) {
    base_.reset();
    std::filesystem::remove(DeltaPath(path_));
    source_.reset();
    live_ = std::make_unique<ShadowState>(testing::MixedSpecs());
    live_->TrackDirtyRows();
    source_ = std::make_unique<RandomSource>(*live_, seed);
    source_->Scan();
    live_->SetBasePoint(wire::Lsn(0x1000));
    EXPECT_FALSE(Checkpoint(0x1000));
  }

  // A checkpoint of live_ at `lsn` against base_; true when a delta.
  bool Checkpoint(uint64_t lsn) {
    auto lk = live_->Lock();
    auto prepared = PrepareCheckpoint(*live_, wire::Lsn(lsn), kDeltaMeta, path_, base_);
    EXPECT_TRUE(prepared.ok()) << prepared.status().ToString();
    EXPECT_TRUE(CommitCheckpoint(*prepared).ok());
    if (prepared->base) base_ = prepared->base;
    return !prepared->base;
  }

  // Reads the state directory into a fresh ShadowState and compares it
  // with live_.
  void ExpectRestores(uint64_t lsn) {
    ShadowState back(testing::MixedSpecs());
    back.TrackDirtyRows();
    CheckpointMeta meta;
    std::optional<CheckpointBase> base;
    auto files = ReadCheckpointFiles(path_);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    // What a restart checks before the rows load says what they will be.
    auto head = PeekCheckpoint(*files, path_);
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    ASSERT_TRUE(head->has_value());
    auto at = LoadCheckpoint(*files, path_, back, meta, &base);
    ASSERT_TRUE(at.ok()) << at.status().ToString();
    ASSERT_TRUE(at->has_value());
    EXPECT_EQ(**at, wire::Lsn(lsn));
    EXPECT_EQ((*head)->lsn, wire::Lsn(lsn));
    EXPECT_EQ((*head)->meta.slot, meta.slot);
    EXPECT_EQ((*head)->full.lsn, base_->lsn);
    EXPECT_EQ((*head)->full.checksum, base_->checksum);
    EXPECT_EQ(back.base_point(), wire::Lsn(lsn));
    ASSERT_TRUE(base.has_value());
    EXPECT_EQ(base->lsn, base_->lsn);
    EXPECT_EQ(base->checksum, base_->checksum);
    auto lk = live_->Lock();
    for (size_t i = 0; i < live_->table_count(); ++i) {
      EXPECT_TRUE(PartsOf(back.table(i)) == PartsOf(live_->table(i)))
          << live_->table(i).qualified_name() << " at " << wire::Lsn(lsn).ToString();
      EXPECT_EQ(back.dirty_rows().whole(i), live_->dirty_rows().whole(i));
      EXPECT_EQ(DirtyKeys(back.dirty_rows(), i), DirtyKeys(live_->dirty_rows(), i));
    }
  }

  std::filesystem::path dir_;
  std::string path_;
  std::optional<CheckpointBase> base_;
  std::unique_ptr<ShadowState> live_;
  std::unique_ptr<RandomSource> source_;
};

TEST_F(ShadowDeltaTest, EveryCheckpointReadsBackAsTheLiveState) {
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Start(seed);
    uint64_t lsn = 0x1000;
    int deltas = 0, fulls = 0;
    for (int round = 0; round < 40; ++round) {
      const int commits = 1 + round % 4;
      for (int c = 0; c < commits; ++c) source_->Commit(lsn += 0x100);
      (Checkpoint(lsn) ? deltas : fulls)++;
      ExpectRestores(lsn);
      if (HasFailure()) return;
    }
    // Both kinds, or the test proves less than it says.
    EXPECT_GE(deltas, 10);
    EXPECT_GE(fulls, 2);
  }
}

TEST_F(ShadowDeltaTest, ADeltaOfAnOlderFullCheckpointIsIgnored) {
  Start(42);
  source_->Commit(0x1100);
  ASSERT_TRUE(Checkpoint(0x1100));
  const std::string stale = ReadBytes(DeltaPath(path_));
  // A full checkpoint, then a crash before the delta was removed.
  source_->Commit(0x1200);
  base_.reset();
  ASSERT_FALSE(Checkpoint(0x1200));
  EXPECT_FALSE(std::filesystem::exists(DeltaPath(path_)));
  WriteBytes(DeltaPath(path_), stale);
  ExpectRestores(0x1200);
}

TEST_F(ShadowDeltaTest, ADamagedDeltaIsRefusedWithTheFix) {
  Start(7);
  source_->Commit(0x1100);
  ASSERT_TRUE(Checkpoint(0x1100));
  std::string bytes = ReadBytes(DeltaPath(path_));
  bytes[bytes.size() / 2] ^= 0x01;
  WriteBytes(DeltaPath(path_), bytes);
  ShadowState back(testing::MixedSpecs());
  CheckpointMeta meta;
  auto at = ReadCheckpoint(path_, back, meta);
  ASSERT_FALSE(at.ok());
  EXPECT_TRUE(at.status().IsCorruption()) << at.status().ToString();
  EXPECT_NE(at.status().message().find("shadow.ckpt.delta is damaged"), std::string_view::npos)
      << at.status().ToString();
  EXPECT_NE(at.status().message().find("remove the state directory"), std::string_view::npos);
  // Found before the rows load, too.
  auto files = ReadCheckpointFiles(path_);
  ASSERT_TRUE(files.ok());
  auto head = PeekCheckpoint(*files, path_);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.status().ToString(), at.status().ToString());
}

TEST_F(ShadowDeltaTest, MoreChangedKeysThanTrackedMakeAFullCheckpoint) {
  Start(3);
  live_->dirty_rows().Enable(2);  // two keys at most
  uint64_t lsn = 0x1000;
  while (!live_->dirty_rows().overflowed()) source_->Commit(lsn += 0x100);
  EXPECT_EQ(live_->dirty_rows().keys(), 0u);
  EXPECT_FALSE(Checkpoint(lsn));
  EXPECT_FALSE(live_->dirty_rows().overflowed());
  ExpectRestores(lsn);
}

TEST(DirtyRowsTest, TracksKeysUntilItsBoundThenOverflows) {
  DirtyRows dirty(2);
  dirty.Mark(0, "a");  // not enabled: nothing
  EXPECT_EQ(dirty.keys(), 0u);
  dirty.Enable(3);
  dirty.Mark(0, "a");
  dirty.Mark(0, "a");
  dirty.Mark(1, "b");
  EXPECT_EQ(dirty.keys(), 2u);
  dirty.MarkWhole(1);  // a truncate: its keys are covered
  EXPECT_TRUE(dirty.whole(1));
  EXPECT_EQ(dirty.keys(), 1u);
  dirty.Mark(0, "c");
  dirty.Mark(0, "d");
  dirty.Mark(0, "e");
  EXPECT_TRUE(dirty.overflowed());
  EXPECT_EQ(dirty.keys(), 0u);
  EXPECT_FALSE(dirty.whole(1));
  dirty.Clear();
  EXPECT_FALSE(dirty.overflowed());
  dirty.Mark(0, "f");
  EXPECT_EQ(dirty.keys(), 1u);
}

}  // namespace
}  // namespace pgparity::applier
