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
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/testing/stream_builder.h"
#include "pgparity/applier/shadow/dirty_rows.h"
#include "pgparity/applier/shadow/shadow_checkpoint.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/core/relation_cache.h"
#include "shadow/testing_rows.h"

namespace pgparity::applier {
namespace {

using core::testing::Row;  // "<null>" NULL, "<u>" unchanged TOAST
using core::testing::Tuple;
using testing::Values;

// public.t (id int PK, body text, n int) and public.s (k text PK, body
// text): bodies over 16 bytes are big (their values kept); public.bag (v
// text), REPLICA IDENTITY FULL, no key.
TableSpec KeyedSpec(const char* name, bool integer_key) {
  TableSpec s;
  s.schema = "public";
  s.name = name;
  s.columns = {integer_key ? "id" : "k", "body", "n"};
  s.key_positions = {0};
  s.integer_key = integer_key;
  s.toastable = {!integer_key, true, false};
  s.toast_tuple_target = 128;
  return s;
}
TableSpec BagSpec() {
  TableSpec s;
  s.schema = "public";
  s.name = "bag";
  s.columns = {"v"};
  s.toastable = {true};
  s.replica_identity = 'f';
  return s;
}
std::vector<TableSpec> Specs() { return {KeyedSpec("t", true), KeyedSpec("s", false), BagSpec()}; }

const CheckpointMeta kMeta{"slot", "pub", "1"};

// Everything a table holds, sorted: what a correct restore must give back.
struct Parts {
  std::vector<std::pair<std::string, std::string>> rows, kept;
  std::vector<std::string> unresolved;
  std::vector<std::pair<std::string, int64_t>> multiset;
  digest::TableDigest digest;
  uint64_t anomalies = 0;
  std::string first_anomaly;
  bool operator==(const Parts&) const = default;
};

Parts PartsOf(const TableShadow& t) {
  Parts p;
  t.ForEachKeyedRow([&](std::string_view k, const digest::Digest128& d) {
    p.rows.emplace_back(std::string(k), d.ToHex());
  });
  t.ForEachKeptRow([&](std::string_view k, std::string_view v) {
    p.kept.emplace_back(std::string(k), std::string(v));
  });
  t.ForEachUnresolved([&](std::string_view k) { p.unresolved.emplace_back(k); });
  t.ForEachMultisetEntry(
      [&](const digest::Digest128& d, int64_t n) { p.multiset.emplace_back(d.ToHex(), n); });
  std::sort(p.rows.begin(), p.rows.end());
  std::sort(p.kept.begin(), p.kept.end());
  std::sort(p.unresolved.begin(), p.unresolved.end());
  std::sort(p.multiset.begin(), p.multiset.end());
  p.digest = t.digest();
  p.anomalies = t.anomalies();
  p.first_anomaly = t.first_anomaly();
  return p;
}

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
  RandomSource(ShadowState& state, uint32_t seed) : state_(state), rng_(seed) {
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
      const Row row{"v" + std::to_string(Uniform(0, 40))};
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
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  // Keys from a small range, so that they repeat: updates, deletes,
  // inserts of keys there already (anomalies) all happen.
  std::string Key(size_t table) {
    const int id = Uniform(1, 120);
    return table == 0 ? std::to_string(id) : "k" + std::to_string(id);
  }
  // NULL, short, or big (kept).
  std::string Body() {
    switch (Uniform(0, 4)) {
      case 0:
        return "<null>";
      case 1:
      case 2:
        return "b" + std::to_string(Uniform(0, 9999));
      default:
        return std::string(20 + Uniform(0, 20), static_cast<char>('a' + Uniform(0, 25)));
    }
  }
  Row KeyedRow(std::string key) { return {std::move(key), Body(), std::to_string(Uniform(0, 99))}; }

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
      const Row row{"v" + std::to_string(Uniform(0, 40))};
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
  std::mt19937 rng_;
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

  // A checkpoint of `state` at `lsn` against base_; true when a delta.
  bool Checkpoint(ShadowState& state, uint64_t lsn) {
    auto lk = state.Lock();
    auto prepared = PrepareCheckpoint(state, wire::Lsn(lsn), kMeta, path_, base_);
    EXPECT_TRUE(prepared.ok()) << prepared.status().ToString();
    EXPECT_TRUE(CommitCheckpoint(*prepared).ok());
    if (prepared->base) base_ = prepared->base;
    return !prepared->base;
  }

  // Reads the state directory into a fresh ShadowState and compares it
  // with `live`.
  void ExpectRestores(const ShadowState& live, uint64_t lsn) {
    ShadowState back(Specs());
    back.TrackDirtyRows();
    CheckpointMeta meta;
    std::optional<CheckpointBase> base;
    auto at = ReadCheckpoint(path_, back, meta, &base);
    ASSERT_TRUE(at.ok()) << at.status().ToString();
    ASSERT_TRUE(at->has_value());
    EXPECT_EQ(**at, wire::Lsn(lsn));
    EXPECT_EQ(back.base_point(), wire::Lsn(lsn));
    ASSERT_TRUE(base.has_value());
    EXPECT_EQ(base->lsn, base_->lsn);
    EXPECT_EQ(base->checksum, base_->checksum);
    auto lk = live.Lock();
    for (size_t i = 0; i < live.table_count(); ++i) {
      EXPECT_TRUE(PartsOf(back.table(i)) == PartsOf(live.table(i)))
          << live.table(i).qualified_name() << " at " << wire::Lsn(lsn).ToString();
      EXPECT_EQ(back.dirty_rows().whole(i), live.dirty_rows().whole(i));
      EXPECT_EQ(DirtyKeys(back.dirty_rows(), i), DirtyKeys(live.dirty_rows(), i));
    }
  }

  std::filesystem::path dir_;
  std::string path_;
  std::optional<CheckpointBase> base_;
};

TEST_F(ShadowDeltaTest, EveryCheckpointReadsBackAsTheLiveState) {
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    base_.reset();
    std::filesystem::remove(DeltaPath(path_));
    ShadowState live(Specs());
    live.TrackDirtyRows();
    RandomSource source(live, seed);
    source.Scan();
    live.SetBasePoint(wire::Lsn(0x1000));
    ASSERT_FALSE(Checkpoint(live, 0x1000));  // the first is a full one
    uint64_t lsn = 0x1000;
    int deltas = 0, fulls = 0;
    for (int round = 0; round < 40; ++round) {
      const int commits = 1 + round % 4;
      for (int c = 0; c < commits; ++c) {
        lsn += 0x100;
        source.Commit(lsn);
      }
      (Checkpoint(live, lsn) ? deltas : fulls)++;
      ExpectRestores(live, lsn);
      if (HasFailure()) return;
    }
    // Both kinds, or the test proves less than it says.
    EXPECT_GE(deltas, 10);
    EXPECT_GE(fulls, 2);
  }
}

TEST_F(ShadowDeltaTest, ADeltaOfAnOlderFullCheckpointIsIgnored) {
  ShadowState live(Specs());
  live.TrackDirtyRows();
  RandomSource source(live, 42);
  source.Scan();
  live.SetBasePoint(wire::Lsn(0x1000));
  ASSERT_FALSE(Checkpoint(live, 0x1000));
  source.Commit(0x1100);
  ASSERT_TRUE(Checkpoint(live, 0x1100));
  std::string stale;
  {
    std::ifstream in(DeltaPath(path_), std::ios::binary);
    stale.assign(std::istreambuf_iterator<char>(in), {});
  }
  // A full checkpoint, then a crash before the delta was removed.
  source.Commit(0x1200);
  base_.reset();
  ASSERT_FALSE(Checkpoint(live, 0x1200));
  EXPECT_FALSE(std::filesystem::exists(DeltaPath(path_)));
  {
    std::ofstream out(DeltaPath(path_), std::ios::binary | std::ios::trunc);
    out << stale;
  }
  ExpectRestores(live, 0x1200);
}

TEST_F(ShadowDeltaTest, ADamagedDeltaIsRefusedWithTheFix) {
  ShadowState live(Specs());
  live.TrackDirtyRows();
  RandomSource source(live, 7);
  source.Scan();
  live.SetBasePoint(wire::Lsn(0x1000));
  ASSERT_FALSE(Checkpoint(live, 0x1000));
  source.Commit(0x1100);
  ASSERT_TRUE(Checkpoint(live, 0x1100));
  std::string bytes;
  {
    std::ifstream in(DeltaPath(path_), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] ^= 0x01;
  {
    std::ofstream out(DeltaPath(path_), std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  ShadowState back(Specs());
  CheckpointMeta meta;
  auto at = ReadCheckpoint(path_, back, meta);
  ASSERT_FALSE(at.ok());
  EXPECT_TRUE(at.status().IsCorruption()) << at.status().ToString();
  EXPECT_NE(at.status().message().find("shadow.ckpt.delta is damaged"), std::string_view::npos)
      << at.status().ToString();
  EXPECT_NE(at.status().message().find("remove the state directory"), std::string_view::npos);
}

TEST_F(ShadowDeltaTest, MoreChangedKeysThanTrackedMakeAFullCheckpoint) {
  ShadowState live(Specs());
  live.TrackDirtyRows();
  RandomSource source(live, 3);
  source.Scan();
  live.SetBasePoint(wire::Lsn(0x1000));
  ASSERT_FALSE(Checkpoint(live, 0x1000));
  live.dirty_rows().Enable(2);  // two keys at most
  uint64_t lsn = 0x1000;
  while (!live.dirty_rows().overflowed()) source.Commit(lsn += 0x100);
  EXPECT_EQ(live.dirty_rows().keys(), 0u);
  EXPECT_FALSE(Checkpoint(live, lsn));
  EXPECT_FALSE(live.dirty_rows().overflowed());
  ExpectRestores(live, lsn);
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
