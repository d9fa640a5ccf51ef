// The shadow beyond --memory-limit: StoredTable's layout in a real RocksDB
// store; a randomized differential test — the same changes applied to a
// table in memory, to one spilled at a random step, and to a plain model of
// the rows (the oracle: a std::map of the rows and their digests computed
// on their own) — for integer keys, text keys and tables without key; and
// ShadowState's spill planning, growth spills and the checkpoint of a
// spilled state (the store checkpoint it names, a later state not leaking
// in, the damage messages).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pgparity/applier/shadow/memory_limit.h"
#include "pgparity/applier/shadow/row_store.h"
#include "pgparity/applier/shadow/shadow_checkpoint.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/applier/shadow/stored_table.h"
#include "shadow/testing_shadow.h"

namespace pgparity::applier {
namespace {

namespace fs = std::filesystem;
using digest::Digest128;
using digest::TableDigest;
using testing::Row;
using testing::ShadowTest;
using testing::Values;

// ctest runs each test in a process of its own, two at a time: the pid
// keeps their stores apart (RocksDB locks its directory).
fs::path FreshDir(const std::string& name) {
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("spill-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

std::unique_ptr<RowStore> NewStore(const std::string& name) {
  auto store = RowStore::Create(FreshDir(name), 8 << 20);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(*store);
}

std::string IntKey(int64_t v) {
  std::string k;
  EncodeIntegerKey(v, k);
  return k;
}

TEST(StoredTableTest, IntegerKeysInNumericOrderOthersAsBytes) {
  auto store = NewStore("order");
  StoredTable t(*store, 3, /*integer_key=*/true);
  StoredTable other(*store, 4, true);  // same store, another table
  const std::vector<int64_t> keys{INT64_MIN, -1000, -1, 0, 3, 1000000, INT64_MAX};
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) t.Put(IntKey(*it), Digest128{1, 2}, "");
  t.Put("V2:01", Digest128{3, 4}, "kept");  // not canonical: kept as bytes
  other.Put(IntKey(5), Digest128{5, 6}, "");
  std::vector<std::string> seen;
  t.ForEachRow(
      [&](std::string_view k, const Digest128&, std::string_view) { seen.emplace_back(k); });
  std::vector<std::string> expect;
  for (int64_t k : keys) expect.push_back(IntKey(k));
  expect.push_back("V2:01");
  EXPECT_EQ(seen, expect);
  seen.clear();
  t.ForEachIntegerRowIn(-1000, 4, [&](std::string_view k, const Digest128&, std::string_view) {
    seen.emplace_back(k);
  });
  EXPECT_EQ(seen, (std::vector<std::string>{IntKey(-1000), IntKey(-1), IntKey(0), IntKey(3)}));
  EXPECT_EQ(t.rows(), 8u);
  EXPECT_EQ(t.kept_rows(), 1u);
  std::string kept;
  ASSERT_EQ(t.Find("V2:01", &kept), (Digest128{3, 4}));
  EXPECT_EQ(kept, "kept");
  EXPECT_EQ(t.Take(IntKey(0)), (Digest128{1, 2}));
  EXPECT_FALSE(t.Find(IntKey(0)).has_value());
  EXPECT_EQ(t.rows(), 7u);
  t.Clear();
  EXPECT_EQ(t.rows(), 0u);
  EXPECT_FALSE(t.Find(IntKey(3)).has_value());
  EXPECT_EQ(other.Find(IntKey(5)), (Digest128{5, 6}));  // untouched by the other's Clear
}

TEST(StoredTableTest, MembersCountAndBulkRowsAreReadBack) {
  auto store = NewStore("members");
  StoredTable t(*store, 0, false);
  EXPECT_TRUE(t.AddCount(Digest128{7, 7}, 2));
  EXPECT_TRUE(t.AddCount(Digest128{7, 7}, 1));
  EXPECT_FALSE(t.AddCount(Digest128{8, 8}, -1));  // not there
  EXPECT_EQ(t.Count(Digest128{7, 7}), 3);
  EXPECT_TRUE(t.AddCount(Digest128{7, 7}, -3));
  EXPECT_EQ(t.Count(Digest128{7, 7}), 0);
  EXPECT_EQ(t.members(), 0u);
  // A bulk load's rows are pending until a read or Flush; a read sees them.
  for (int i = 0; i < 50000; ++i) t.PutNew("K" + std::to_string(i), Digest128{0, uint64_t(i)}, "");
  EXPECT_EQ(t.Find("K49999"), (Digest128{0, 49999}));
  t.Recount();
  EXPECT_EQ(t.rows(), 50000u);
}

// ---- The differential test.

// The shadow under test in memory and spilled, and the model: every change
// goes to all three. The oracle is the model: its rows' digests are
// computed by RowDigester on their own (ShadowTest::D).
class SpillDifferentialTest : public ShadowTest,
                              public ::testing::WithParamInterface<std::tuple<char, bool, bool>> {
 protected:
  SpillDifferentialTest()
      : ShadowTest(std::get<0>(GetParam()), std::get<1>(GetParam()), std::get<2>(GetParam())),
        spilled_(std::make_unique<TableShadow>(spec_)),
        store_(NewStore("diff")) {}

  bool keyed() const { return spec_.keyed(); }

  // Applies the change to shadow_ (ShadowTest) and to the spilled one.
  void Both(core::ChangeOp op, wire::OldTupleKind old_kind, const Row& old_row,
            const Row& new_row) {
    ASSERT_TRUE(Change(op, old_kind, old_row, new_row).ok());
    const std::vector<std::string> in_memory = touched_;
    ASSERT_TRUE(Change(op, old_kind, old_row, new_row, spilled_.get()).ok());
    EXPECT_EQ(touched_, in_memory);
  }

  std::unique_ptr<TableShadow> spilled_;
  std::unique_ptr<RowStore> store_;
};

std::string Body(std::mt19937& rng) {
  // Short, NULL, or big (kept: an unchanged TOAST value can follow).
  switch (rng() % 4) {
    case 0:
      return "<null>";
    case 1:
      return std::string(300 + rng() % 50, static_cast<char>('a' + rng() % 26));
    default:
      return "b" + std::to_string(rng() % 1000);
  }
}

TEST_P(SpillDifferentialTest, SameDigestsRowsAndAnswersAsInMemoryAndAsTheModel) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    std::mt19937 rng(seed);
    std::map<std::string, Row> model;  // keyed: key text -> row
    std::multiset<Row> bag;            // without key
    shadow_.Truncate();
    spilled_ = std::make_unique<TableShadow>(spec_);
    const int spill_at = static_cast<int>(rng() % 400);
    for (int step = 0; step < 600; ++step) {
      if (step == spill_at) spilled_->SpillTo(*store_, seed);
      const std::string id =
          (spec_.integer_key ? "" : "k") + std::to_string(static_cast<int>(rng() % 120) - 20);
      const Row fresh{id, Body(rng), std::to_string(rng() % 100)};
      const int op = static_cast<int>(rng() % 10);
      if (!keyed()) {
        if (op < 6 || bag.empty()) {
          Both(core::ChangeOp::kInsert, wire::OldTupleKind::kNone, {}, fresh);
          bag.insert(fresh);
        } else {
          auto it = std::next(bag.begin(), static_cast<long>(rng() % bag.size()));
          const Row old = *it;
          bag.erase(it);
          if (op < 8) {
            Both(core::ChangeOp::kDelete, wire::OldTupleKind::kFull, old, {});
          } else {
            Both(core::ChangeOp::kUpdate, wire::OldTupleKind::kFull, old, fresh);
            bag.insert(fresh);
          }
        }
        continue;
      }
      auto it = model.find(id);
      if (it == model.end()) {
        Both(core::ChangeOp::kInsert, wire::OldTupleKind::kNone, {}, fresh);
        model[id] = fresh;
      } else if (op < 3) {
        Both(core::ChangeOp::kDelete, wire::OldTupleKind::kKey, {id, "<null>", "<null>"}, {});
        model.erase(it);
      } else if (op < 5 && !model.contains(id + "0")) {  // the key changes
        const Row moved{id + "0", it->second[1], fresh[2]};
        Both(core::ChangeOp::kUpdate, wire::OldTupleKind::kKey, {id, "<null>", "<null>"}, moved);
        model.erase(it);
        model[moved[0]] = moved;
      } else if (op < 8 && it->second[1].size() >= 300) {  // body unchanged (TOAST)
        Both(core::ChangeOp::kUpdate, wire::OldTupleKind::kNone, {}, {id, "<u>", fresh[2]});
        it->second[2] = fresh[2];
      } else {
        Both(core::ChangeOp::kUpdate, wire::OldTupleKind::kNone, {}, fresh);
        it->second = fresh;
      }
    }
    ASSERT_TRUE(spilled_->spilled());
    TableDigest expect;
    for (const auto& [k, row] : model) expect.Add(D(row));
    for (const Row& row : bag) expect.Add(D(row));
    EXPECT_EQ(shadow_.digest(), expect) << "seed " << seed;
    EXPECT_EQ(spilled_->digest(), expect) << "seed " << seed;
    EXPECT_EQ(spilled_->anomalies(), 0u) << spilled_->first_anomaly();
    EXPECT_EQ(spilled_->unresolved_rows(), 0u);
    std::map<std::string, Digest128> a, b;
    shadow_.ForEachKeyedRow([&](std::string_view k, const Digest128& d) { a[std::string(k)] = d; });
    spilled_->ForEachKeyedRow(
        [&](std::string_view k, const Digest128& d) { b[std::string(k)] = d; });
    EXPECT_EQ(a, b) << "seed " << seed;
    EXPECT_EQ(spilled_->keyed_rows(), model.size());
    EXPECT_EQ(spilled_->kept_rows(), shadow_.kept_rows());
    for (const auto& [k, row] : model) {
      std::string key;
      shadow_.KeyOf(Values(row), key);
      EXPECT_EQ(spilled_->Find(key), D(row)) << k;
    }
    for (const Row& row : bag) EXPECT_EQ(spilled_->Count(D(row)), shadow_.Count(D(row)));
    EXPECT_TRUE(spilled_->FinishRestore().ok());
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, SpillDifferentialTest,
                         ::testing::Values(std::make_tuple('d', true, true),    // integer key
                                           std::make_tuple('d', true, false),   // text key
                                           std::make_tuple('f', false, false))  // no key
);

// ---- ShadowState: planning, growth, the checkpoint of a spilled state.

std::vector<TableSpec> TwoTables(double estimated_big) {
  TableSpec big = testing::Spec();
  big.name = "big";
  big.estimated_rows = estimated_big;
  TableSpec grows = testing::Spec();
  grows.name = "grows";
  grows.estimated_rows = 10;  // wrong: it gets 100,000
  return {big, grows};
}

void Fill(ShadowState& state, int from, int to) {
  for (int i = from; i < to; ++i) {
    const Row row{std::to_string(i), "body " + std::to_string(i), std::to_string(i % 7)};
    state.table(0).AddScannedRow(Values(row));
    state.table(1).AddScannedRow(Values(row));
  }
}

TEST(SpillStateTest, PlansFromEstimatesSpillsWhatGrowsAndKeepsTheDigests) {
  ShadowState limited(TwoTables(100000));
  limited.SetMemoryLimit(MemoryBudget{1 << 20}, FreshDir("plan") / "store");
  ASSERT_TRUE(limited.SpillPlanned().ok());
  EXPECT_TRUE(limited.table(0).spilled());  // 100,000 x 48 bytes > 512 KiB
  EXPECT_FALSE(limited.table(1).spilled());
  ShadowState unlimited(TwoTables(100000));
  Fill(limited, 0, 100000);
  Fill(unlimited, 0, 100000);
  EXPECT_TRUE(limited.table(1).spilled());  // past its share while scanned
  EXPECT_EQ(limited.spilled_tables(), 2u);
  ASSERT_TRUE(limited.spill_status().ok());
  limited.SetBasePoint(wire::Lsn(0x100));
  for (size_t t = 0; t < 2; ++t) {
    EXPECT_EQ(limited.table(t).digest(), unlimited.table(t).digest());
    EXPECT_EQ(limited.table(t).keyed_rows(), 100000u);
    EXPECT_TRUE(limited.table(t).FinishRestore().ok());
  }
  EXPECT_LT(limited.table(0).MapBytes(), size_t{1} << 20);
}

// Tables each smaller than one growth check (65,536 rows) that do not fit
// together: planned from their estimates, and — when the estimates are
// wrong — spilled at the end of their scans. Before, neither happened and
// the maps passed the limit.
std::vector<TableSpec> SmallTables(int n, double estimated) {
  std::vector<TableSpec> specs;
  for (int i = 0; i < n; ++i) {
    specs.push_back(testing::Spec());
    specs.back().name = "small" + std::to_string(i);
    specs.back().estimated_rows = estimated;
  }
  return specs;
}

TEST(SpillStateTest, SmallTablesThatDoNotFitTogetherArePlannedToSpill) {
  ShadowState limited(SmallTables(4, 20000));  // 4 x 20,000 x 48 bytes: 3.7 MiB
  limited.SetMemoryLimit(MemoryBudget{1 << 20}, FreshDir("small-plan") / "store");
  ASSERT_TRUE(limited.SpillPlanned().ok());
  EXPECT_EQ(limited.spilled_tables(), 4u);  // 20,000 x 48 bytes alone pass 512 KiB
}

TEST(SpillStateTest, SmallTablesSpillWhenTheirScansEnd) {
  ShadowState limited(SmallTables(4, -1));  // never analyzed: nothing planned
  limited.SetMemoryLimit(MemoryBudget{1 << 20}, FreshDir("small-scan") / "store");
  ASSERT_TRUE(limited.SpillPlanned().ok());
  EXPECT_EQ(limited.spilled_tables(), 0u);
  for (size_t t = 0; t < 4; ++t) {
    for (int i = 0; i < 20000; ++i) {
      const Row row{std::to_string(i), "body " + std::to_string(i), std::to_string(i % 7)};
      limited.table(t).AddScannedRow(Values(row));
    }
    limited.table(t).ScanEnded();
  }
  ASSERT_TRUE(limited.spill_status().ok());
  EXPECT_GE(limited.spilled_tables(), 3u);
  size_t in_memory = 0;
  for (size_t t = 0; t < 4; ++t)
    in_memory += limited.table(t).spilled() ? 0 : limited.table(t).MapBytes();
  EXPECT_LE(in_memory, size_t{1} << 19) << "the maps' half of the limit";
  limited.SetBasePoint(wire::Lsn(0x100));
  for (size_t t = 0; t < 4; ++t) EXPECT_EQ(limited.table(t).keyed_rows(), 20000u);
}

TEST(SpillStateTest, ACheckpointHoldsTheStoreAsOfItsLsnAndNothingLater) {
  const fs::path dir = FreshDir("ckpt");
  fs::create_directories(dir);
  const std::string path = (dir / "shadow.ckpt").string();
  // What a crash during an earlier checkpoint left: removed by the next.
  fs::create_directories(dir / "store.00000000000000aa");
  ShadowState live(TwoTables(100000));
  live.SetMemoryLimit(MemoryBudget{1 << 20}, dir / "store");
  ASSERT_TRUE(live.SpillPlanned().ok());
  Fill(live, 0, 70000);
  live.SetBasePoint(wire::Lsn(0x200));
  const TableDigest at_checkpoint = live.table(0).digest();
  const TableDigest grows_at_checkpoint = live.table(1).digest();
  {
    auto lk = live.Lock();
    ASSERT_TRUE(WriteCheckpoint(live, wire::Lsn(0x200), {"slot", "pub", ""}, path).ok());
  }
  EXPECT_TRUE(fs::exists(dir / "store.0000000000000200"));
  EXPECT_FALSE(fs::exists(dir / "store.00000000000000aa"));
  Fill(live, 70000, 90000);  // after the checkpoint: must not come back

  ShadowState back(TwoTables(100000));
  back.SetMemoryLimit(MemoryBudget{1 << 20}, dir / "store-resumed");
  CheckpointMeta meta;
  auto lsn = ReadCheckpoint(path, back, meta);
  ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
  EXPECT_EQ(**lsn, wire::Lsn(0x200));
  EXPECT_TRUE(back.table(0).spilled());
  EXPECT_EQ(back.table(0).digest(), at_checkpoint);
  EXPECT_EQ(back.table(0).keyed_rows(), 70000u);
  EXPECT_TRUE(back.table(0).Find(IntKey(69999)).has_value());
  EXPECT_FALSE(back.table(0).Find(IntKey(70000)).has_value());
  EXPECT_EQ(back.table(1).digest(), grows_at_checkpoint);
  // The resumed store is a copy: writing it leaves the checkpoint intact.
  Fill(back, 70000, 70001);
  ShadowState again(TwoTables(100000));
  again.SetMemoryLimit(MemoryBudget{1 << 20}, dir / "store-again");
  ASSERT_TRUE(ReadCheckpoint(path, again, meta).ok());
  EXPECT_EQ(again.table(0).digest(), at_checkpoint);

  // A checkpoint whose store is gone is refused, the fix named.
  fs::remove_all(dir / "store.0000000000000200");
  ShadowState lost(TwoTables(100000));
  lost.SetMemoryLimit(MemoryBudget{1 << 20}, dir / "store-lost");
  auto refused = ReadCheckpoint(path, lost, meta);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("remove the state directory"), std::string::npos)
      << refused.status().ToString();
}

TEST(MemoryLimitTest, ParsesSizesAndRefusesOthers) {
  EXPECT_EQ(*ParseByteSize("256MiB"), size_t{256} << 20);
  EXPECT_EQ(*ParseByteSize("1GiB"), size_t{1} << 30);
  EXPECT_EQ(*ParseByteSize("512MB"), size_t{512000000});
  EXPECT_EQ(*ParseByteSize("100k"), size_t{100000});
  EXPECT_EQ(*ParseByteSize("4096"), size_t{4096});
  EXPECT_EQ(*ParseByteSize("0"), size_t{0});
  for (const char* bad : {"", "MiB", "12 MiB", "-1", "1.5GiB", "10XB", "99999999999999999999"}) {
    auto r = ParseByteSize(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("e.g. 256MiB"), std::string::npos);
  }
  EXPECT_GT(DefaultMemoryLimit(), size_t{0});
  EXPECT_LE(DefaultMemoryLimit(), size_t{1} << 30);
  EXPECT_EQ(MemoryBudget{size_t{256} << 20}.maps(), size_t{128} << 20);
  EXPECT_EQ(MemoryBudget{size_t{256} << 20}.store_cache(), size_t{64} << 20);
  // The two eighths: read-ahead, and a spilled table's rows compared.
  EXPECT_EQ(MemoryBudget{size_t{256} << 20}.read_ahead(), size_t{32} << 20);
  EXPECT_EQ(MemoryBudget{size_t{256} << 20}.row_comparison(), size_t{32} << 20);
  EXPECT_EQ(MemoryBudget{size_t{1} << 20}.row_comparison(), size_t{4} << 20);
  EXPECT_EQ(MemoryBudget{0}.row_comparison(), size_t{0});
}

}  // namespace
}  // namespace pgparity::applier
