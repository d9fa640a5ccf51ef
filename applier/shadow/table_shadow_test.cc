// TableShadow, ShadowState, RowKey and CopyTextRow on hand-built tuples: the
// digest arithmetic of each change kind, unchanged-TOAST resolution (from
// kept values, from a FULL old tuple, unresolved when unknown), multisets,
// anomalies, and the history/recent-changes bookkeeping.
#include "pgparity/applier/shadow/table_shadow.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/testing/stream_builder.h"
#include "pgparity/applier/scan/copy_text.h"
#include "pgparity/applier/shadow/kept_values.h"
#include "pgparity/applier/shadow/row_key.h"
#include "pgparity/applier/shadow/shadow_checkpoint.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/core/relation_cache.h"
#include "pgparity/digest/row_digest.h"
#include "shadow/testing_rows.h"
#include "shadow/testing_shadow.h"

namespace pgparity::applier {
namespace {

using core::testing::Row;  // "<null>" NULL, "<u>" unchanged TOAST
using core::testing::Tuple;
using digest::ColumnValue;
using digest::TableDigest;

using testing::ShadowTest;
using testing::Spec;
using testing::Values;

// `shadow` through its checkpoint section into a fresh table of `spec`.
void RoundTrip(const TableShadow& shadow, const TableSpec& spec, TableShadow& copy) {
  std::vector<std::byte> saved;
  wire::ByteWriter out(saved);
  EncodeTableSection(shadow, out);
  wire::ByteReader in(saved);
  const Status loaded = ParseTableSection(in, copy);
  ASSERT_TRUE(loaded.ok()) << loaded.ToString();
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(copy.spec().partitions, spec.partitions);
}

TEST_F(ShadowTest, InsertAddsDeleteSubtractsUpdateDoesBoth) {
  ASSERT_TRUE(Insert({"1", "a", "10"}).ok());
  ASSERT_TRUE(Insert({"2", "<null>", "20"}).ok());
  TableDigest expect;
  expect.Add(D({"1", "a", "10"}));
  expect.Add(D({"2", "<null>", "20"}));
  EXPECT_EQ(shadow_.digest(), expect);

  ASSERT_TRUE(Update({"1", "b", "11"}).ok());
  expect.Remove(D({"1", "a", "10"}));
  expect.Add(D({"1", "b", "11"}));
  EXPECT_EQ(shadow_.digest(), expect);
  EXPECT_EQ(touched_.size(), 1u);

  ASSERT_TRUE(Delete({"2", "<null>", "<null>"}).ok());
  expect.Remove(D({"2", "<null>", "20"}));
  EXPECT_EQ(shadow_.digest(), expect);
  EXPECT_EQ(shadow_.digest().rows, 1);
  EXPECT_EQ(shadow_.anomalies(), 0u);
}

TEST_F(ShadowTest, KeyChangeMovesTheRow) {
  ASSERT_TRUE(Insert({"1", "a", "10"}).ok());
  ASSERT_TRUE(Change(core::ChangeOp::kUpdate, wire::OldTupleKind::kKey, {"1", "<null>", "<null>"},
                     {"5", "a", "10"})
                  .ok());
  std::string key;
  const Row row{"5", "a", "10"};
  shadow_.KeyOf(Values(row), key);
  ASSERT_TRUE(shadow_.Find(key).has_value());
  EXPECT_EQ(*shadow_.Find(key), D({"5", "a", "10"}));
  EXPECT_EQ(shadow_.digest().rows, 1);
  EXPECT_EQ(touched_.size(), 2u);  // old and new key
}

TEST_F(ShadowTest, UnchangedToastComesFromTheKeptValueOfABigRow) {
  const std::string big(300, 'x');  // over kSidecarRowBytes: kept
  ASSERT_TRUE(Insert({"1", big, "10"}).ok());
  ASSERT_TRUE(Update({"1", "<u>", "11"}).ok());
  TableDigest expect;
  expect.Add(D({"1", big, "11"}));
  EXPECT_EQ(shadow_.digest(), expect);
  EXPECT_EQ(shadow_.unresolved_rows(), 0u);
  // Twice in a row: the kept value survives its own use.
  ASSERT_TRUE(Update({"1", "<u>", "12"}).ok());
  expect = {};
  expect.Add(D({"1", big, "12"}));
  EXPECT_EQ(shadow_.digest(), expect);
}

TEST_F(ShadowTest, UnknownUnchangedToastIsUnresolvedNeverGuessed) {
  ASSERT_TRUE(Insert({"1", "short", "10"}).ok());  // too small to keep
  ASSERT_TRUE(Update({"1", "<u>", "11"}).ok());
  EXPECT_EQ(shadow_.unresolved_rows(), 1u);
  EXPECT_EQ(shadow_.digest().rows, 0);  // out of the digest
  // Rewritten whole: resolved again.
  ASSERT_TRUE(Update({"1", "new", "12"}).ok());
  EXPECT_EQ(shadow_.unresolved_rows(), 0u);
  TableDigest expect;
  expect.Add(D({"1", "new", "12"}));
  EXPECT_EQ(shadow_.digest(), expect);
}

// Regression (corpus seeds 3001, 3002, 3021, 3026): with toast_tuple_target
// = 128 PostgreSQL moves values of far smaller rows out of line, and a value
// stays out of line when the rest of its row shrinks.
class SmallToastTargetTest : public ShadowTest {
 protected:
  SmallToastTargetTest()
      : ShadowTest('d', true, true, [](TableSpec& s) {
          s.toastable = {false, true, true};  // n holds text here
          s.toast_tuple_target = 128;
        }) {}
};

TEST_F(SmallToastTargetTest, KeepsValuesOfSmallRowsAndOfRowsThatShrank) {
  const std::string note(40, 'n');  // 45 bytes of text: past 128 / 8
  ASSERT_TRUE(Insert({"1", "<null>", note}).ok());
  ASSERT_TRUE(Update({"1", "b", "<u>"}).ok());
  EXPECT_EQ(shadow_.unresolved_rows(), 0u);
  // A row that shrank below the threshold after a change with 'u' keeps
  // its values: the unchanged value is still out of line.
  const std::string big(3000, 'x');
  ASSERT_TRUE(Insert({"2", big, "short"}).ok());
  ASSERT_TRUE(Update({"2", "<null>", "<u>"}).ok());  // 7 bytes of text now
  ASSERT_TRUE(Update({"2", "<null>", "<u>"}).ok());
  EXPECT_EQ(shadow_.unresolved_rows(), 0u);
  TableDigest expect;
  expect.Add(D({"1", "b", note}));
  expect.Add(D({"2", "<null>", "short"}));
  EXPECT_EQ(shadow_.digest(), expect);
}

// Digest definition 2: a wide value (over 128 bytes of text) is kept as
// its 16-byte MD5, and every 'u' of it resolves exactly from that — one of
// several unchanged, both unchanged, and values crossing the threshold
// either way.
TEST_F(SmallToastTargetTest, WideValuesResolveFromTheirKeptHash) {
  const std::string a(1 << 20, 'a'), b(300, 'b'), c(129, 'c');
  const std::string at_threshold(digest::kWideValueBytes, 't');
  ASSERT_TRUE(Insert({"1", a, b}).ok());
  ASSERT_TRUE(Update({"1", "<u>", "changed"}).ok());  // one of two unchanged
  TableDigest expect;
  expect.Add(D({"1", a, "changed"}));
  EXPECT_EQ(shadow_.digest(), expect);
  ASSERT_TRUE(Update({"1", "<u>", "<u>"}).ok());  // both
  EXPECT_EQ(shadow_.digest(), expect);
  ASSERT_TRUE(Update({"1", at_threshold, "<u>"}).ok());  // wide -> not
  ASSERT_TRUE(Update({"1", "<u>", c}).ok());
  expect = {};
  expect.Add(D({"1", at_threshold, c}));
  EXPECT_EQ(shadow_.digest(), expect);
  ASSERT_TRUE(Update({"1", c + "!", "<u>"}).ok());  // not -> wide, and c kept hashed
  ASSERT_TRUE(Update({"1", "<u>", "<u>"}).ok());
  expect = {};
  expect.Add(D({"1", c + "!", c}));
  EXPECT_EQ(shadow_.digest(), expect);
  EXPECT_EQ(shadow_.unresolved_rows(), 0u);
  // Through a checkpoint: the kept hashes come back and still resolve.
  TableShadow copy(spec_);
  RoundTrip(shadow_, spec_, copy);
  ASSERT_TRUE(Update({"1", "<u>", "last"}).ok());
  std::vector<std::string> touched;
  const wire::TupleBuilder t = Tuple({"1", "<u>", "last"});
  ASSERT_TRUE(copy.Apply(core::Change{core::ChangeOp::kUpdate,
                                      *relation_,
                                      wire::OldTupleKind::kNone,
                                      {},
                                      t.view(),
                                      wire::Lsn(0x2000),
                                      8,
                                      8},
                         touched)
                  .ok());
  expect = {};
  expect.Add(D({"1", c + "!", "last"}));
  EXPECT_EQ(shadow_.digest(), expect);
  EXPECT_EQ(copy.digest(), expect);
  // A row never seen whole still cannot be resolved: never guessed.
  ASSERT_TRUE(Update({"2", "<u>", "x"}).ok());
  EXPECT_EQ(shadow_.unresolved_rows(), 1u);
}

// A wide, TOASTed key column left unchanged ('u') while another key column
// changes: taken from the old key pgoutput sends, not from kept values
// (which never hold the key), so it is never hashed into the key.
class WideKeyTest : public ShadowTest {
 protected:
  WideKeyTest()
      : ShadowTest('d', true, false, [](TableSpec& s) {
          s.key_positions = {0, 2};
          s.toastable = {true, true, false};
        }) {}
};

TEST_F(WideKeyTest, AnUnchangedWideKeyColumnComesFromTheOldKey) {
  const std::string key(300, 'k'), body(1000, 'b');
  ASSERT_TRUE(Insert({key, body, "1"}).ok());
  ASSERT_TRUE(Change(core::ChangeOp::kUpdate, wire::OldTupleKind::kKey, {key, "<null>", "1"},
                     {"<u>", "<u>", "2"})
                  .ok());
  EXPECT_EQ(shadow_.unresolved_rows(), 0u);
  EXPECT_EQ(shadow_.anomalies(), 0u);
  TableDigest expect;
  expect.Add(D({key, body, "2"}));
  EXPECT_EQ(shadow_.digest(), expect);
  std::string moved;
  const Row now{key, body, "2"};
  shadow_.KeyOf(Values(now), moved);
  EXPECT_TRUE(shadow_.Find(moved).has_value()) << "the row is under its full key";
}

// What a row costs does not depend on how wide its values are.
TEST_F(SmallToastTargetTest, MemoryPerRowDoesNotGrowWithTheValues) {
  auto bytes_for = [&](size_t width) {
    TableShadow shadow(spec_);
    const std::string value(width, 'v');
    std::vector<std::string> ids;
    for (int i = 0; i < 100; ++i) ids.push_back(std::to_string(i));
    for (const std::string& id : ids) {
      const Row row{id, value, value};
      shadow.AddScannedRow(Values(row));
    }
    return shadow.MemoryBytes();
  };
  const size_t narrow = bytes_for(200), wide = bytes_for(100'000);
  EXPECT_EQ(narrow, wide);
  EXPECT_LE(wide / 100, 128u) << "bytes per row, two wide values each";
}

TEST(KeptValuesTest, EncodesEachKindAndRefusesDamage) {
  const std::string wide(1000, 'w');
  const std::vector<ColumnValue> values{ColumnValue::Value("k"), ColumnValue::Null(),
                                        ColumnValue::Value("short"), ColumnValue::Value(wide)};
  const size_t positions[] = {1, 2, 3};
  std::string kept;
  EncodeKeptValues(values, positions, kept);
  EXPECT_EQ(kept.size(), 1u + 7u + 17u);
  std::vector<std::string> read;
  ASSERT_TRUE(KeptValuesReader(kept, 3)
                  .ForEach([&](size_t, const ColumnValue& v) {
                    read.push_back(std::string(1, static_cast<char>(v.kind)) + std::string(v.text));
                  })
                  .ok());
  EXPECT_EQ(read, (std::vector<std::string>{"N", "Vshort", "H" + digest::Md5(wide).ToHex()}));
  auto refused = [](std::string_view bytes, size_t count) {
    return !KeptValuesReader(bytes, count).ForEach([](size_t, const ColumnValue&) {}).ok();
  };
  EXPECT_TRUE(refused(kept, 2));                             // bytes left over
  EXPECT_TRUE(refused(kept, 4));                             // an entry missing
  EXPECT_TRUE(refused(kept.substr(0, kept.size() - 1), 3));  // a cut MD5
  EXPECT_TRUE(refused(std::string("V\x05"
                                  "ab"),
                      1));                                                    // a cut value
  EXPECT_TRUE(refused(std::string("V\x81\x01") + std::string(129, 'x'), 1));  // too long to keep
  EXPECT_TRUE(refused("X", 1));                                               // unknown kind
}

TEST_F(ShadowTest, ContradictionsAreAnomalies) {
  ASSERT_TRUE(Delete({"9", "<null>", "<null>"}).ok());
  EXPECT_EQ(shadow_.anomalies(), 1u);
  ASSERT_TRUE(Insert({"1", "a", "1"}).ok());
  ASSERT_TRUE(Insert({"1", "b", "2"}).ok());
  EXPECT_EQ(shadow_.anomalies(), 2u);
  EXPECT_EQ(shadow_.digest().rows, 1);
  EXPECT_FALSE(shadow_.first_anomaly().empty());
  // The second insert's row replaced the first, in the map and the sum.
  std::string one;
  EncodeIntegerKey(1, one);
  EXPECT_EQ(shadow_.Find(one), D({"1", "b", "2"}));
  digest::TableDigest only_b;
  only_b.Add(D({"1", "b", "2"}));
  EXPECT_EQ(shadow_.digest(), only_b);
}

// A key is in one place — a row or unresolved, never both: an insert of a
// key that is unresolved, or an update that moves an unresolved row onto a
// key the shadow holds, replaces it, as an anomaly.
TEST_F(ShadowTest, AKeyIsARowOrUnresolvedNeverBoth) {
  std::string one, two;
  EncodeIntegerKey(1, one);
  EncodeIntegerKey(2, two);
  ASSERT_TRUE(Insert({"1", "a", "1"}).ok());
  ASSERT_TRUE(Update({"1", "<u>", "2"}).ok());  // short: nothing kept
  ASSERT_TRUE(shadow_.IsUnresolved(one));
  ASSERT_TRUE(Insert({"1", "b", "3"}).ok());
  EXPECT_FALSE(shadow_.IsUnresolved(one));
  EXPECT_EQ(shadow_.Find(one), D({"1", "b", "3"}));
  EXPECT_EQ(shadow_.anomalies(), 1u);
  // Row 1 unresolved again, then moved onto key 2, which the shadow holds.
  ASSERT_TRUE(Insert({"2", "c", "4"}).ok());
  ASSERT_TRUE(Update({"1", "<u>", "5"}).ok());
  ASSERT_TRUE(Change(core::ChangeOp::kUpdate, wire::OldTupleKind::kKey, {"1", "<null>", "<null>"},
                     {"2", "<u>", "6"})
                  .ok());
  EXPECT_TRUE(shadow_.IsUnresolved(two));
  EXPECT_EQ(shadow_.Find(two), std::nullopt);
  EXPECT_EQ(shadow_.anomalies(), 2u);
  EXPECT_EQ(shadow_.digest(), TableDigest());
}

TEST_F(ShadowTest, BootstrapRowsAndTruncate) {
  const Row row{"1", "a", "<null>"};
  shadow_.AddScannedRow(Values(row));
  TableDigest expect;
  expect.Add(D({"1", "a", "<null>"}));
  EXPECT_EQ(shadow_.digest(), expect);
  shadow_.Truncate();
  EXPECT_EQ(shadow_.digest(), TableDigest());
}

// The same arithmetic with the key kept as a RowKey (a non-integer key),
// and integer-looking keys that are not canonical.
class RowKeyShadowTest : public ShadowTest {
 protected:
  RowKeyShadowTest() : ShadowTest('d', true, false) {}
};

TEST_F(RowKeyShadowTest, SameArithmeticWithRowKeys) {
  const std::string big(300, 'y');
  ASSERT_TRUE(Insert({"a-long-text-key-over-15-bytes", big, "1"}).ok());
  ASSERT_TRUE(Insert({"k", "v", "2"}).ok());
  ASSERT_TRUE(Update({"a-long-text-key-over-15-bytes", "<u>", "3"}).ok());
  ASSERT_TRUE(Delete({"k", "<null>", "<null>"}).ok());
  TableDigest expect;
  expect.Add(D({"a-long-text-key-over-15-bytes", big, "3"}));
  EXPECT_EQ(shadow_.digest(), expect);
  EXPECT_EQ(shadow_.anomalies(), 0u);
  TableShadow copy(spec_);
  RoundTrip(shadow_, spec_, copy);
  EXPECT_EQ(copy.digest(), shadow_.digest());
}

TEST_F(ShadowTest, IntegerKeysOfEveryShapeAndACheckpointRoundTrip) {
  for (const char* k : {"0", "-1", "9223372036854775807", "-9223372036854775808", "42"}) {
    ASSERT_TRUE(Insert({k, "v", "1"}).ok()) << k;
  }
  ASSERT_TRUE(Delete({"-1", "<null>", "<null>"}).ok());
  EXPECT_EQ(shadow_.digest().rows, 4);
  EXPECT_EQ(shadow_.anomalies(), 0u);
  size_t seen = 0;
  shadow_.ForEachRow([&](std::string_view key, const digest::Digest128&) {
    EXPECT_TRUE(shadow_.Find(key).has_value()) << key;
    ++seen;
  });
  EXPECT_EQ(seen, 4u);
  TableShadow copy(spec_);
  RoundTrip(shadow_, spec_, copy);
  EXPECT_EQ(copy.digest(), shadow_.digest());
}

class FullShadowTest : public ShadowTest {
 protected:
  FullShadowTest() : ShadowTest('f', false) {}
};

TEST_F(FullShadowTest, MultisetCountsDuplicatesAndTakesToastFromTheOldRow) {
  ASSERT_TRUE(Insert({"1", "a", "1"}).ok());
  ASSERT_TRUE(Insert({"1", "a", "1"}).ok());  // a duplicate counts twice
  EXPECT_EQ(shadow_.digest().rows, 2);
  EXPECT_EQ(shadow_.Count(D({"1", "a", "1"})), 2);
  ASSERT_TRUE(
      Change(core::ChangeOp::kUpdate, wire::OldTupleKind::kFull, {"1", "a", "1"}, {"1", "<u>", "2"})
          .ok());
  TableDigest expect;
  expect.Add(D({"1", "a", "1"}));
  expect.Add(D({"1", "a", "2"}));
  EXPECT_EQ(shadow_.digest(), expect);
  ASSERT_TRUE(Change(core::ChangeOp::kDelete, wire::OldTupleKind::kFull, {"1", "a", "1"}, {}).ok());
  expect.Remove(D({"1", "a", "1"}));
  EXPECT_EQ(shadow_.digest(), expect);
  EXPECT_EQ(shadow_.anomalies(), 0u);
  // Without the old row there is nothing to identify it by.
  EXPECT_FALSE(Delete({"1", "<null>", "<null>"}).ok());
}

// public.t's Relation message (Spec()'s columns) in `cache`.
const core::RelationInfo& RelationOfT(core::RelationCache& cache) {
  wire::Relation r;
  r.relid = 1;
  r.namespace_name = "public";
  r.name = "t";
  r.columns = {{1, "id", 23, -1}, {0, "body", 25, -1}, {0, "n", 23, -1}};
  return cache.Apply(r);
}

// One change of public.t without an old tuple (an insert, or an update
// that keeps the key), at `lsn`.
Status ApplyToT(ShadowState& state, const core::RelationInfo& rel, core::ChangeOp op,
                const Row& row, uint64_t lsn) {
  auto t = Tuple(row);
  core::Change c{op, rel, wire::OldTupleKind::kNone, {}, t.view(), wire::Lsn(lsn), 1, 1};
  return state.OnChange(c);
}

TEST(ShadowStateTest, HistoryAndRecentChangesFollowCommits) {
  std::vector<TableSpec> specs{Spec()};
  ShadowState state(specs);
  state.SetBasePoint(wire::Lsn(0x100));
  core::RelationCache cache;
  const core::RelationInfo& rel = RelationOfT(cache);
  auto commit = [&](uint64_t end, const Row& row) {
    ASSERT_TRUE(state.OnBegin({}).ok());
    ASSERT_TRUE(ApplyToT(state, rel, core::ChangeOp::kInsert, row, end - 8).ok());
    core::CommitInfo ci;
    ci.end_lsn = wire::Lsn(end);
    ASSERT_TRUE(state.OnCommit(ci).ok());
  };
  commit(0x200, {"1", "a", "1"});
  commit(0x300, {"2", "b", "2"});
  auto lk = state.Lock();
  EXPECT_EQ(state.last_commit_end(), wire::Lsn(0x300));
  EXPECT_EQ(state.StateAt(wire::Lsn(0x100))[0].rows, 0);
  EXPECT_EQ(state.StateAt(wire::Lsn(0x250))[0].rows, 1);
  EXPECT_EQ(state.StateAt(wire::Lsn(0x300))[0].rows, 2);
  int commits = 0;
  state.ForEachCommit(
      wire::Lsn(0x200), wire::Lsn(0x300), [](auto, auto, auto) {}, [&](wire::Lsn) { ++commits; });
  EXPECT_EQ(commits, 1);
  bool truncated = false;
  EXPECT_EQ(state.ChangedAfter(0, wire::Lsn(0x200), truncated).size(), 1u);
  EXPECT_EQ(state.ChangedAfter(0, wire::Lsn(0x100), truncated).size(), 2u);
  state.Prune(wire::Lsn(0x200));
  EXPECT_EQ(state.StateAt(wire::Lsn(0x200))[0].rows, 1);
  EXPECT_EQ(state.StateAt(wire::Lsn(0x300))[0].rows, 2);
  EXPECT_EQ(state.ChangedAfter(0, wire::Lsn(0x100), truncated).size(), 1u);
}

// A streamed transaction's key touches, read while it is open (its end
// known from the Begin), are the ones its commit keeps, in the same order.
TEST(ShadowStateTest, KeyTouchesOfAStreamedTransactionAreTheSameOpenAndCommitted) {
  std::vector<TableSpec> specs{Spec()};
  ShadowState state(specs);
  state.SetBasePoint(wire::Lsn(0x100));
  core::RelationCache cache;
  const core::RelationInfo& rel = RelationOfT(cache);
  ASSERT_TRUE(state.OnBegin({}).ok());
  ASSERT_TRUE(ApplyToT(state, rel, core::ChangeOp::kInsert, {"1", "a", "1"}, 0x1f0).ok());
  core::CommitInfo ci;
  ci.end_lsn = wire::Lsn(0x200);
  ASSERT_TRUE(state.OnCommit(ci).ok());
  core::TxnInfo txn;
  txn.streamed = true;
  txn.end_lsn = wire::Lsn(0x400);
  ASSERT_TRUE(state.OnBegin(txn).ok());
  ASSERT_TRUE(ApplyToT(state, rel, core::ChangeOp::kInsert, {"2", "b", "1"}, 0x300).ok());
  ASSERT_TRUE(ApplyToT(state, rel, core::ChangeOp::kInsert, {"3", "c", "1"}, 0x308).ok());
  ASSERT_TRUE(ApplyToT(state, rel, core::ChangeOp::kUpdate, {"2", "d", "1"}, 0x310).ok());
  const auto keys = [&](wire::Lsn end, size_t from, size_t max) {
    std::vector<std::pair<size_t, std::string>> out;
    auto lk = state.Lock();
    const size_t n = state.KeyTouchesOf(end, from, max, out);
    EXPECT_EQ(n, out.size());
    std::vector<std::string> ids;
    for (const auto& [t, k] : out) ids.push_back(DecodeKey(k, 1).at(0).value_or("<null>"));
    return ids;
  };
  {
    auto lk = state.Lock();
    EXPECT_EQ(state.open_commit_end(), wire::Lsn(0x400));
  }
  const std::vector<std::string> open_all = keys(wire::Lsn(0x400), 0, 100);
  EXPECT_EQ(open_all, (std::vector<std::string>{"2", "3", "2"}));
  EXPECT_EQ(keys(wire::Lsn(0x400), 1, 1), std::vector<std::string>{"3"});
  ci.end_lsn = wire::Lsn(0x400);
  ci.streamed = true;
  ASSERT_TRUE(state.OnCommit(ci).ok());
  auto lk = state.Lock();
  EXPECT_FALSE(state.open_commit_end().valid());
  lk.unlock();
  EXPECT_EQ(keys(wire::Lsn(0x400), 0, 100), open_all);
  EXPECT_EQ(keys(wire::Lsn(0x400), 2, 100), std::vector<std::string>{"2"});
  EXPECT_TRUE(keys(wire::Lsn(0x300), 0, 100).empty());  // no commit ends there
  lk.lock();
  EXPECT_FALSE(state.TouchedBetween(wire::Lsn(0x201), wire::Lsn(0x400)));
  EXPECT_TRUE(state.TouchedBetween(wire::Lsn(0x200), wire::Lsn(0x400)));
  EXPECT_TRUE(state.TouchedBetween(wire::Lsn(0x201), wire::Lsn(0x401)));
}

// KeysChanged against the commits as the test made them: random commits
// insert and update random keys (a key often several times, in one commit
// and across), then random windows [lo, hi) with random caps give each
// key changed in the window once, whole commits only, and stop at the
// first commit boundary at or past the cap of touches.
// Integer keys are deduplicated by value, others by a set: both checked.
void CheckKeysChanged(bool integer_key) {
  std::vector<TableSpec> specs{Spec('d', true, integer_key)};
  ShadowState state(specs);
  state.SetBasePoint(wire::Lsn(0x100));
  core::RelationCache cache;
  const core::RelationInfo& rel = RelationOfT(cache);
  std::mt19937_64 rng(4242);
  std::set<int> held;
  std::vector<std::pair<uint64_t, std::vector<int>>> commits;  // end, keys changed
  for (uint64_t end = 0x200; end < 0x200 + 0x100 * 200; end += 0x100) {
    ASSERT_TRUE(state.OnBegin({}).ok());
    std::vector<int> keys;
    for (size_t n = 1 + rng() % 6; n > 0; --n) {
      const int k = static_cast<int>(rng() % 300);
      const bool update = held.contains(k);
      const Row row{std::to_string(k), "v" + std::to_string(rng() % 1000), "1"};
      ASSERT_TRUE(ApplyToT(state, rel, update ? core::ChangeOp::kUpdate : core::ChangeOp::kInsert,
                           row, end - 8)
                      .ok());
      held.insert(k);
      keys.push_back(k);
    }
    core::CommitInfo ci;
    ci.end_lsn = wire::Lsn(end);
    ASSERT_TRUE(state.OnCommit(ci).ok());
    commits.emplace_back(end, std::move(keys));
  }
  const auto key_of = [](int k) {
    std::string key;
    EncodeIntegerKey(k, key);
    return key;
  };
  auto lk = state.Lock();
  for (int round = 0; round < 500; ++round) {
    const uint64_t lo = 0x100 + rng() % (0x100 * 202), hi = lo + rng() % (0x100 * 60);
    const size_t cap = 1 + rng() % 80;
    std::set<std::string> want;
    wire::Lsn want_up_to(hi);
    size_t touches = 0;
    for (const auto& [end, keys] : commits) {
      if (end < lo || end >= hi) continue;
      if (touches >= cap) {
        want_up_to = wire::Lsn(end);
        break;
      }
      for (int k : keys) want.insert(key_of(k));
      touches += keys.size();
    }
    wire::Lsn up_to;
    const auto got = state.KeysChanged(wire::Lsn(lo), wire::Lsn(hi), cap, up_to);
    std::set<std::string> got_keys;
    for (const auto& [table, key] : got) {
      EXPECT_EQ(table, 0u);
      EXPECT_TRUE(got_keys.insert(key).second) << "a key twice, round " << round;
    }
    ASSERT_EQ(got_keys, want) << "integer key " << integer_key << ", round " << round << " [" << lo
                              << ", " << hi << ") cap " << cap;
    EXPECT_EQ(up_to, want_up_to) << "round " << round;
  }
}

TEST(ShadowStateTest, KeysChangedGivesEachKeyOfTheWindowOnceInWholeCommits) {
  CheckKeysChanged(true);
}
TEST(ShadowStateTest, KeysChangedGivesEachKeyOnceWhenTheKeyIsNotAnInteger) {
  CheckKeysChanged(false);
}

// Under a memory limit, a table that grows by streamed commits (not by the
// bootstrap) moves to the row store at a 1,024-commit check, and the
// changes after the move keep the same digest as an unlimited shadow's.
TEST(ShadowStateTest, ATableGrownByCommitsSpillsWhileStreaming) {
  const auto dir =
      std::filesystem::path(::testing::TempDir()) / ("stream-spill-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ShadowState limited({Spec()});
  limited.SetMemoryLimit(MemoryBudget{1 << 20}, dir);
  ASSERT_TRUE(limited.SpillPlanned().ok());
  EXPECT_FALSE(limited.table(0).spilled());  // estimated empty
  ShadowState unlimited({Spec()});
  core::RelationCache cache;
  const core::RelationInfo& rel = RelationOfT(cache);
  for (ShadowState* state : {&limited, &unlimited}) {
    state->SetBasePoint(wire::Lsn(0x100));
    for (int i = 0; i < 40000; ++i) {
      const Row row{std::to_string(i % 30000), "v" + std::to_string(i), "1"};
      auto t = Tuple(row);
      ASSERT_TRUE(state->OnBegin({}).ok());
      const bool update = i >= 30000;
      core::Change c{update ? core::ChangeOp::kUpdate : core::ChangeOp::kInsert,
                     rel,
                     wire::OldTupleKind::kNone,
                     {},
                     t.view(),
                     wire::Lsn(0x200 + 16 * i),
                     1,
                     1};
      ASSERT_TRUE(state->OnChange(c).ok());
      core::CommitInfo ci;
      ci.end_lsn = wire::Lsn(0x208 + 16 * i);
      ASSERT_TRUE(state->OnCommit(ci).ok());
    }
  }
  EXPECT_TRUE(limited.table(0).spilled());
  EXPECT_EQ(limited.table(0).digest(), unlimited.table(0).digest());
  EXPECT_EQ(limited.table(0).anomalies(), 0u) << limited.table(0).first_anomaly();
  EXPECT_EQ(limited.table(0).Find("V3:123"), unlimited.table(0).Find("V3:123"));
  EXPECT_TRUE(limited.spill_status().ok());
}

// Regression (corpus seed 3024, a per-change extra_on_target): a checker
// that looks between two changes of one transaction sees the table already
// moved, so the open transaction's keys count as changed after everything.
TEST(ShadowStateTest, TheOpenTransactionsKeysAreChangedAfterEveryCommit) {
  ShadowState state({Spec()});
  state.SetBasePoint(wire::Lsn(0x100));
  core::RelationCache cache;
  const core::RelationInfo& rel = RelationOfT(cache);
  auto t = Tuple({"7", "a", "1"});
  ASSERT_TRUE(state.OnBegin({}).ok());
  core::Change c{core::ChangeOp::kInsert,
                 rel,
                 wire::OldTupleKind::kNone,
                 {},
                 t.view(),
                 wire::Lsn(0x180),
                 1,
                 1};
  ASSERT_TRUE(state.OnChange(c).ok());
  {
    auto lk = state.Lock();
    bool truncated = false;
    const auto keys = state.ChangedAfter(0, state.last_commit_end(), truncated);
    EXPECT_EQ(keys.size(), 1u);
    EXPECT_FALSE(truncated);
  }
  core::CommitInfo ci;
  ci.end_lsn = wire::Lsn(0x200);
  ASSERT_TRUE(state.OnCommit(ci).ok());
  auto lk = state.Lock();
  bool truncated = false;
  EXPECT_TRUE(state.ChangedAfter(0, wire::Lsn(0x200), truncated).empty());
}

TEST(ShadowStateTest, RejectsATableWhoseColumnsChanged) {
  ShadowState state({Spec()});
  wire::Relation r;
  r.relid = 1;
  r.namespace_name = "public";
  r.name = "t";
  r.columns = {{1, "id", 23, -1}, {0, "body", 25, -1}};
  core::RelationCache cache;
  const core::RelationInfo& rel = cache.Apply(r);
  auto t = Tuple({"1", "a"});
  ASSERT_TRUE(state.OnBegin({}).ok());
  core::Change c{
      core::ChangeOp::kInsert, rel, wire::OldTupleKind::kNone, {}, t.view(), wire::Lsn(1), 1, 1};
  Status s = state.OnChange(c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("public.t"), std::string_view::npos) << s.ToString();
}

TEST(RowKeyTest, InlineAndHeapKeysRoundTrip) {
  for (size_t n : {0, 1, 15, 16, 100}) {
    std::string bytes(n, 'k');
    RowKey k(bytes);
    EXPECT_EQ(k.view(), bytes);
    RowKey copy = k;
    RowKey moved = std::move(copy);
    EXPECT_EQ(moved, k);
    EXPECT_EQ(k.heap_bytes(), n > 15 ? n : 0);
  }
  std::string enc;
  const Row row{"12", "<null>", "a:b"};
  EncodeKey(Values(row), std::vector<size_t>{0, 1, 2}, enc);
  EXPECT_EQ(enc, "V2:12NV3:a:b");
  auto back = DecodeKey(enc, 3);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0], "12");
  EXPECT_FALSE(back[1].has_value());
  EXPECT_EQ(back[2], "a:b");
  EXPECT_TRUE(DecodeKey("V9:1", 1).empty());
}

// ParseIntegerKey accepts exactly EncodeIntegerKey's strings: every
// integer of every length and sign round-trips, and a string derived from
// one (a character changed, added or removed; a length with a leading
// zero; "-0"; one past the int64 range; ...) is accepted only when it is
// itself the encoding of the integer parsed. The oracle is the encoder.
TEST(RowKeyTest, IntegerKeysParseExactlyTheCanonicalEncodings) {
  std::mt19937_64 rng(20261206);
  std::vector<int64_t> values = {0,
                                 1,
                                 -1,
                                 9,
                                 10,
                                 -10,
                                 std::numeric_limits<int64_t>::max(),
                                 std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max() / 10,
                                 999999999999999999,
                                 -999999999999999999,
                                 1000000000000000000};
  for (int i = 0; i < 2000; ++i) {
    const int digits = static_cast<int>(rng() % 19);  // magnitudes of every length
    int64_t v = static_cast<int64_t>(rng() >> 1);
    for (int d = 0; d < digits; ++d) v /= 10;
    values.push_back(rng() % 2 == 0 ? v : -v);
  }
  const std::string alphabet = "0123456789-+:V x";
  size_t accepted_derived = 0;
  for (const int64_t v : values) {
    std::string enc;
    EncodeIntegerKey(v, enc);
    int64_t back = 0;
    ASSERT_TRUE(ParseIntegerKey(enc, back)) << enc;
    ASSERT_EQ(back, v) << enc;
    std::vector<std::string> derived = {enc.substr(0, enc.size() - 1),
                                        enc + "0",
                                        "V0" + enc.substr(1),
                                        "V1:-0",
                                        "V19:9223372036854775808",
                                        "V20:-9223372036854775809",
                                        "V3:+12",
                                        "V",
                                        "V1:"};
    for (int m = 0; m < 12; ++m) {
      std::string d = enc;
      const size_t at = rng() % d.size();
      switch (rng() % 3) {
        case 0:
          d[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          d.insert(d.begin() + static_cast<std::ptrdiff_t>(at), alphabet[rng() % alphabet.size()]);
          break;
        default:
          d.erase(at, 1);
      }
      derived.push_back(std::move(d));
    }
    for (const std::string& d : derived) {
      int64_t parsed = 0;
      if (!ParseIntegerKey(d, parsed)) continue;
      std::string again;
      EncodeIntegerKey(parsed, again);
      EXPECT_EQ(again, d) << "accepted a string that is not the encoding of " << parsed;
      ++accepted_derived;
    }
  }
  EXPECT_GT(accepted_derived, 100u) << "the derived strings include valid encodings too";
}

TEST(CopyTextRowTest, SplitsUnescapesAndTellsNullFromEmpty) {
  CopyTextRow row;
  ASSERT_TRUE(row.Parse("1\t\\N\t\ta\\tb\\\\c\\nd\n", 4).ok());
  auto v = row.values();
  EXPECT_EQ(v[0].text, "1");
  EXPECT_EQ(v[1].kind, ColumnValue::Kind::kNull);
  EXPECT_EQ(v[2].kind, ColumnValue::Kind::kValue);
  EXPECT_EQ(v[2].text, "");
  EXPECT_EQ(v[3].text, "a\tb\\c\nd");
  EXPECT_TRUE(row.Parse("1\t2", 3).IsCorruption());
  EXPECT_TRUE(row.Parse("1\\", 1).IsCorruption());
  // The word NULL is a value.
  ASSERT_TRUE(row.Parse("NULL", 1).ok());
  EXPECT_EQ(row.values()[0].kind, ColumnValue::Kind::kValue);
}

TEST(CopyTextRowTest, ARowOfNoColumnsIsAnEmptyLine) {
  CopyTextRow row;
  ASSERT_TRUE(row.Parse("1\n", 1).ok());
  ASSERT_TRUE(row.Parse("\n", 0).ok());
  EXPECT_TRUE(row.values().empty());
  // An empty line is one empty value where one column is expected.
  ASSERT_TRUE(row.Parse("\n", 1).ok());
  EXPECT_EQ(row.values()[0].text, "");
  EXPECT_TRUE(row.Parse("a\n", 0).IsCorruption());
}

}  // namespace
}  // namespace pgparity::applier
