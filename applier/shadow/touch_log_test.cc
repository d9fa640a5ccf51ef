// TouchLog: lookup newest first, TRUNCATE matching every key, the open
// transaction invisible until its commit, eviction of the oldest touches
// and the memory bound; and ShadowState's hooks filling it.
#include "pgparity/applier/shadow/touch_log.h"

#include <gtest/gtest.h>

#include <string>

#include "core/testing/stream_builder.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/core/relation_cache.h"

namespace pgparity::applier {
namespace {

wire::Lsn L(uint64_t v) { return wire::Lsn(v); }

void CommitAt(TouchLog& log, uint64_t lsn) {
  log.Commit(static_cast<wire::Xid>(lsn), L(lsn), L(lsn + 1), wire::Timestamp(int64_t(lsn)));
}

TEST(TouchLogTest, NewestFirstAndOnlyTheKeyAsked) {
  TouchLog log(100);
  log.Stage(0, "k1", 'I');
  log.Stage(0, "k2", 'I');
  CommitAt(log, 10);
  log.Stage(0, "k1", 'U');
  log.Stage(1, "k1", 'D');  // another table
  CommitAt(log, 20);
  auto t = log.RecentTouches(0, "k1", 5);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].op, 'U');
  EXPECT_EQ(t[0].commit_lsn, L(20));
  EXPECT_EQ(t[0].end_lsn, L(21));
  EXPECT_EQ(t[0].xid, 20u);
  EXPECT_EQ(t[1].op, 'I');
  EXPECT_EQ(t[1].commit_time, wire::Timestamp(10));
  EXPECT_EQ(log.RecentTouches(0, "k1", 1).size(), 1u);
  EXPECT_TRUE(log.RecentTouches(0, "nope", 5).empty());
  EXPECT_EQ(log.RecentTouches(1, "k1", 5).size(), 1u);
}

TEST(TouchLogTest, OpenTransactionIsNotListedUntilItCommits) {
  TouchLog log(100);
  log.Stage(0, "k", 'I');
  EXPECT_TRUE(log.RecentTouches(0, "k", 5).empty());
  CommitAt(log, 7);
  ASSERT_EQ(log.RecentTouches(0, "k", 5).size(), 1u);
}

TEST(TouchLogTest, TruncateTouchesEveryKeyOfItsTable) {
  TouchLog log(100);
  log.Stage(0, "k", 'I');
  CommitAt(log, 1);
  log.Stage(0, "", 'T');
  CommitAt(log, 2);
  auto t = log.RecentTouches(0, "k", 5);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].op, 'T');
  EXPECT_TRUE(log.RecentTouches(1, "k", 5).empty());
}

TEST(TouchLogTest, OldestTouchesFallOut) {
  TouchLog log(3);
  for (uint64_t i = 0; i < 5; ++i) {
    log.Stage(0, "k" + std::to_string(i), 'I');
    CommitAt(log, 10 * (i + 1));
  }
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(log.logged(), 5u);
  EXPECT_TRUE(log.RecentTouches(0, "k0", 5).empty());
  EXPECT_TRUE(log.RecentTouches(0, "k1", 5).empty());
  for (int i = 2; i < 5; ++i) {
    auto t = log.RecentTouches(0, "k" + std::to_string(i), 5);
    ASSERT_EQ(t.size(), 1u) << i;
    EXPECT_EQ(t[0].commit_lsn, L(10 * (i + 1)));
  }
}

TEST(TouchLogTest, TransactionLargerThanTheRingKeepsItsLastTouches) {
  TouchLog log(2);
  log.Stage(0, "a", 'I');
  log.Stage(0, "b", 'I');
  log.Stage(0, "c", 'I');
  CommitAt(log, 5);
  EXPECT_TRUE(log.RecentTouches(0, "a", 5).empty());
  ASSERT_EQ(log.RecentTouches(0, "c", 5).size(), 1u);
  EXPECT_EQ(log.RecentTouches(0, "b", 5)[0].commit_lsn, L(5));
}

TEST(TouchLogTest, MemoryStaysBoundedByTheCapacity) {
  TouchLog log(1000);
  const std::string long_key(100, 'x');
  for (uint64_t i = 0; i < 20000; ++i) {
    log.Stage(i % 3, long_key, 'U');
    if (i % 10 == 9) CommitAt(log, i);
  }
  EXPECT_EQ(log.size(), 1000u);
  const size_t per_touch = sizeof(RowTouch) + 2 * long_key.size() + 1;
  EXPECT_LE(log.MemoryBytes(), 1000 * per_touch);
  EXPECT_GE(log.MemoryBytes(), 1000 * sizeof(RowTouch));
  log.Reset(10);
  EXPECT_EQ(log.size(), 0u);
  EXPECT_EQ(log.capacity(), 10u);
}

// A ShadowState of one table t(id int key, n int), fed one change at a time.
class ShadowTouches : public ::testing::Test {
 protected:
  ShadowTouches() : state_({Spec()}) {
    state_.SetBasePoint(L(0x100));
    wire::Relation r;
    r.relid = 1;
    r.namespace_name = "public";
    r.name = "t";
    r.columns = {{1, "id", 23, -1}, {0, "n", 23, -1}};
    rel_ = &cache_.Apply(r);  // as table_shadow_test's RelationOfT
  }
  static TableSpec Spec() {
    TableSpec spec;
    spec.schema = "public";
    spec.name = "t";
    spec.columns = {"id", "n"};
    spec.key_positions = {0};
    spec.integer_key = true;
    spec.toastable = {false, false};
    return spec;
  }
  void Change(core::ChangeOp op, uint64_t lsn, const core::testing::Row& row) {
    auto t = core::testing::Tuple(row);
    const bool del = op == core::ChangeOp::kDelete;
    core::Change c{op,
                   *rel_,
                   del ? wire::OldTupleKind::kKey : wire::OldTupleKind::kNone,
                   del ? t.view() : wire::TupleView{},
                   del ? wire::TupleView{} : t.view(),
                   L(lsn),
                   42,
                   42};
    ASSERT_TRUE(state_.OnChange(c).ok());
  }
  void Truncate(uint64_t lsn) {
    const core::RelationInfo* rels[] = {rel_};
    core::TruncateEvent e;
    e.relations = rels;
    e.lsn = L(lsn);
    ASSERT_TRUE(state_.OnTruncate(e).ok());
  }
  void Commit(uint64_t end) {
    core::CommitInfo ci;
    ci.xid = 42;
    ci.commit_lsn = L(end - 4);
    ci.end_lsn = L(end);
    ASSERT_TRUE(state_.OnCommit(ci).ok());
  }
  std::string Key(const char* id) {
    std::string key;
    const std::vector<digest::ColumnValue> values{digest::ColumnValue::Value(id),
                                                  digest::ColumnValue::Null()};
    state_.table(0).KeyOf(values, key);
    return key;
  }
  std::string Ops(const char* id) {
    auto lk = state_.Lock();
    std::string ops;
    for (const RowTouch& t : state_.RecentTouches(0, Key(id), 10)) ops += t.op;
    return ops;
  }

  core::RelationCache cache_;
  const core::RelationInfo* rel_ = nullptr;
  ShadowState state_;
};

// ShadowState's hooks: every change is logged with its commit, Prune leaves
// the log alone.
TEST_F(ShadowTouches, EachChangeIsLoggedWithItsCommit) {
  const auto commit = [&](core::ChangeOp op, uint64_t end, const core::testing::Row& row) {
    ASSERT_TRUE(state_.OnBegin({}).ok());
    Change(op, end - 8, row);
    Commit(end);
  };
  commit(core::ChangeOp::kInsert, 0x200, {"7", "1"});
  commit(core::ChangeOp::kUpdate, 0x300, {"7", "2"});
  commit(core::ChangeOp::kDelete, 0x400, {"7", "<null>"});
  auto lk = state_.Lock();
  state_.Prune(L(0x400));
  auto t = state_.RecentTouches(0, Key("7"), 3);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].op, 'D');
  EXPECT_EQ(t[0].end_lsn, L(0x400));
  EXPECT_EQ(t[1].op, 'U');
  EXPECT_EQ(t[2].op, 'I');
  EXPECT_EQ(t[2].commit_lsn, L(0x1fc));
  EXPECT_EQ(t[2].xid, 42u);
  EXPECT_GT(state_.TouchLogBytes(), 0u);
}

// The touches go to the log at the commit, in the transaction's order with
// its truncates among them; of a transaction larger than the log only the
// last ones, and nothing of an open one.
TEST_F(ShadowTouches, ATransactionLargerThanTheLogLeavesItsLastTouchesInOrder) {
  state_.SetTouchLogCapacity(4);
  core::TxnInfo txn;
  txn.streamed = true;
  txn.streamed_entries = 6;
  ASSERT_TRUE(state_.OnBegin(txn).ok());
  Change(core::ChangeOp::kInsert, 0x200, {"1", "1"});
  Change(core::ChangeOp::kInsert, 0x208, {"2", "1"});
  Truncate(0x210);
  Change(core::ChangeOp::kInsert, 0x218, {"3", "1"});
  Change(core::ChangeOp::kUpdate, 0x220, {"3", "2"});
  EXPECT_EQ(Ops("3"), "");  // not committed
  Commit(0x300);
  // Touches I1 I2 T I3 U3: the first fell out, T matches every key.
  EXPECT_EQ(Ops("1"), "T");
  EXPECT_EQ(Ops("2"), "TI");
  EXPECT_EQ(Ops("3"), "UIT");
}

}  // namespace
}  // namespace pgparity::applier
