// ChangeChecker against a real PostgreSQL target (TargetMajor(), 16 unless
// tests/matrix.sh picks another), with a shadow state fed by hand, so that
// it lags the target exactly as far as the test says: the subscription's
// applied position is a replication origin advanced by the test.
//
// The target has applied commits A, B and C (C touched no table of ours);
// the shadow holds only A. The
// rows of A's keys are read at once but compared only once the shadow
// holds B and C: compared earlier, key 1 (changed again by B) would be a
// false "differs". Then key 1 is left out of A's round (in flight) and
// compared in B's, and the one row the target really has wrong is named.
#include "pgparity/applier/audit/change_checker.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include "core/testing/stream_builder.h"
#include "pgparity/applier/catalog/publication.h"
#include "pgparity/core/relation_cache.h"
#include "support/pg_server.h"
#include "support/sql_client.h"

namespace pgparity::applier {
namespace {

using core::testing::Row;
using core::testing::Tuple;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::PgServer;
using testing::SqlClient;

struct RandomTxn;

class ChangeCheckerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new PgServer(testing::TargetMajor(), "changesdb");
    SqlClient sql(server_->Dsn());
    // The state after commits A and B below, but for id 3: the source
    // wrote 'y'.
    sql.Exec(
        "CREATE TABLE t (id int PRIMARY KEY, body text, n int);"
        "INSERT INTO t VALUES (1, 'b', 1), (2, 'c', 1), (3, 'x', 1);"
        "CREATE PUBLICATION changes_pub FOR TABLE t;");
    sql.Exec(
        "CREATE SUBSCRIPTION s CONNECTION 'dbname=nowhere' PUBLICATION p "
        "WITH (connect = false)");
    sub_oid_ = sql.Value("SELECT oid FROM pg_subscription WHERE subname = 's'");
    sql.Exec("SELECT pg_replication_origin_advance('pg_" + sub_oid_ + "', '0/400')");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  ChangeCheckerTest() {
    shadow_ = std::make_unique<ShadowState>(Specs("changes_pub"));
    shadow_->SetBasePoint(wire::Lsn(0x100));
    wire::Relation r;
    r.relid = 1;
    r.namespace_name = "public";
    r.name = "t";
    r.columns = {{1, "id", 23, -1}, {0, "body", 25, -1}, {0, "n", 23, -1}};
    relation_ = &cache_.Apply(r);
  }

  // One commit of `rows` (inserts, or updates), ending at `end`.
  void Commit(uint64_t end, core::ChangeOp op, const std::vector<Row>& rows) {
    ASSERT_TRUE(shadow_->OnBegin({}).ok());
    uint64_t lsn = end - 0x80;
    for (const Row& row : rows) {
      auto tuple = Tuple(row);
      const core::Change c{
          op, *relation_, wire::OldTupleKind::kNone, {}, tuple.view(), wire::Lsn(lsn += 8), 1, 1};
      ASSERT_TRUE(shadow_->OnChange(c).ok());
    }
    core::CommitInfo ci;
    ci.end_lsn = wire::Lsn(end);
    ASSERT_TRUE(shadow_->OnCommit(ci).ok());
  }

  // Opens a streamed transaction whose commit will end at `end`.
  void BeginStreamed(uint64_t end) {
    core::TxnInfo txn;
    txn.streamed = true;
    txn.end_lsn = wire::Lsn(end);
    ASSERT_TRUE(shadow_->OnBegin(txn).ok());
  }
  // Applies `rows` (inserts, or updates) in the open transaction.
  void Apply(core::ChangeOp op, const std::vector<Row>& rows) {
    for (const Row& row : rows) ASSERT_TRUE(ApplyStep(*shadow_, *relation_, op, row).ok());
  }
  void CommitOpen(uint64_t end) {
    core::CommitInfo ci;
    ci.end_lsn = wire::Lsn(end);
    ci.streamed = true;
    ASSERT_TRUE(shadow_->OnCommit(ci).ok());
  }

  static std::vector<TableSpec> Specs(const std::string& publication) {
    auto session = conn::PgSession::Connect(server_->Dsn());
    if (!session.ok()) throw std::runtime_error(session.status().ToString());
    auto specs = LoadPublishedTables(*session, publication);
    if (!specs.ok()) throw std::runtime_error(specs.status().ToString());
    return *specs;
  }
  static ChangeChecker Checker(ShadowState& shadow, ChangeCheckOptions options) {
    auto params = conn::ConnParams::Parse(server_->Dsn());
    if (!params.ok()) throw std::runtime_error(params.status().ToString());
    return ChangeChecker(shadow, *params, *params, Subscription(), options);
  }
  // One change of `relation` in the open transaction: an insert or update
  // of `row`, or a delete of its key (the other columns "<null>").
  static Status ApplyStep(ShadowState& shadow, const core::RelationInfo& relation,
                          core::ChangeOp op, const Row& row) {
    const bool del = op == core::ChangeOp::kDelete;
    const auto tuple = Tuple(row);
    const core::Change c{op,
                         relation,
                         del ? wire::OldTupleKind::kKey : wire::OldTupleKind::kNone,
                         del ? tuple.view() : wire::TupleView{},
                         del ? wire::TupleView{} : tuple.view(),
                         wire::Lsn(0x180),
                         1,
                         1};
    return shadow.OnChange(c);
  }
  // Commits the open streamed transaction at `end`, then an empty one
  // (nothing of ours) at `then`.
  static Status CommitBoth(ShadowState& shadow, uint64_t end, uint64_t then) {
    core::CommitInfo commit;
    commit.end_lsn = wire::Lsn(end);
    commit.streamed = true;
    PGPARITY_RETURN_IF_ERROR(shadow.OnCommit(commit));
    PGPARITY_RETURN_IF_ERROR(shadow.OnBegin({}));
    commit.end_lsn = wire::Lsn(then);
    commit.streamed = false;
    return shadow.OnCommit(commit);
  }

  // What the rounds run until the cursor passes `end` (at most `max`)
  // compared and named: the divergent rows' first key values and kinds, in
  // order. None of them leaves a row in flight.
  struct Rounds {
    uint64_t compared = 0;
    std::vector<std::pair<std::string, RowDivergence>> named;
  };
  static Rounds RoundsPast(ChangeChecker& checker, uint64_t end, int max) {
    Rounds rounds;
    for (int i = 0; i < max && checker.cursor() <= wire::Lsn(end); ++i) {
      auto round = checker.RunOnce();
      if (!round.ok()) {
        ADD_FAILURE() << round.status().ToString();
        break;
      }
      rounds.compared += round->rows_compared;
      EXPECT_EQ(round->rows_in_flight, 0u);
      for (const auto& [table, row] : round->divergent) {
        rounds.named.emplace_back(*row.key[0].second, row.kind);
      }
    }
    return rounds;
  }

  ChangeChecker Checker() {
    auto params = conn::ConnParams::Parse(server_->Dsn());
    if (!params.ok()) throw std::runtime_error(params.status().ToString());
    return ChangeChecker(*shadow_, *params, *params, Subscription());
  }

  static SubscriptionInfo Subscription() {
    SubscriptionInfo sub;
    sub.oid = sub_oid_;
    sub.name = "s";  // slot_name "": no source to ask
    return sub;
  }

  // A table r (id int key, body text, n int) published alone by
  // random_pub, for random transactions: its specs, its relation (relid 2).
  const core::RelationInfo& CreateRandomTable(SqlClient& sql, std::vector<TableSpec>& specs) {
    sql.Exec(
        "CREATE TABLE r (id int PRIMARY KEY, body text, n int); "
        "CREATE PUBLICATION random_pub FOR TABLE r;");
    specs = Specs("random_pub");
    wire::Relation rel;
    rel.relid = 2;
    rel.namespace_name = "public";
    rel.name = "r";
    rel.columns = {{1, "id", 23, -1}, {0, "body", 25, -1}, {0, "n", 23, -1}};
    return cache_.Apply(rel);
  }
  // The rounds after `txn` committed (at 0/300): every key it touched
  // compared once, and exactly `expected` named, each once.
  static void ExpectExactlyTheDivergences(ChangeChecker& checker, const RandomTxn& txn,
                                          const std::map<std::string, RowDivergence>& expected);

  static PgServer* server_;
  static inline std::string sub_oid_;
  core::RelationCache cache_;
  const core::RelationInfo* relation_ = nullptr;
  std::unique_ptr<ShadowState> shadow_;
};

PgServer* ChangeCheckerTest::server_ = nullptr;

TEST_F(ChangeCheckerTest, ReadsAheadOfALaggingShadowAndComparesOnceItCaughtUp) {
  // A: the three rows; the source's id 3 is 'y'.
  Commit(0x200, core::ChangeOp::kInsert, {{"1", "a", "1"}, {"2", "c", "1"}, {"3", "y", "1"}});
  ChangeChecker checker = Checker();
  checker.set_cursor(wire::Lsn(0x100));

  // The target applied A, B and C (origin at 0/400), the shadow holds A:
  // A's rows are read, and wait.
  auto first = checker.RunOnce();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->shadow_behind);
  EXPECT_EQ(first->rows_compared, 0u);
  EXPECT_TRUE(first->divergent.empty()) << first->divergent[0].second.key[0].second.value_or("");
  EXPECT_EQ(checker.cursor(), wire::Lsn(0x100));
  EXPECT_TRUE(checker.waiting_for_shadow());
  EXPECT_FALSE(checker.WaitForShadow(steady_clock::now() + milliseconds(50)));

  // B: id 1 becomes 'b'; C: nothing of ours. From another thread while the
  // checker waits.
  std::thread stream([&] {
    std::this_thread::sleep_for(milliseconds(100));
    Commit(0x300, core::ChangeOp::kUpdate, {{"1", "b", "1"}});
    EXPECT_FALSE(checker.WaitForShadow(steady_clock::now()));  // not before C
    Commit(0x400, core::ChangeOp::kInsert, {});
  });
  const bool caught_up = checker.WaitForShadow(steady_clock::now() + std::chrono::seconds(10));
  stream.join();
  ASSERT_TRUE(caught_up);

  // A's round: id 1 in flight (B changed it), ids 2 and 3 compared; then
  // B's round read and compared at once: id 1.
  auto second = checker.RunOnce();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->rows_compared, 3u);
  EXPECT_EQ(second->rows_in_flight, 1u);
  ASSERT_EQ(second->divergent.size(), 1u);
  EXPECT_EQ(second->divergent[0].first, "public.t");
  EXPECT_EQ(second->divergent[0].second.kind, RowDivergence::kDiffers);
  ASSERT_EQ(second->divergent[0].second.key.size(), 1u);
  EXPECT_EQ(second->divergent[0].second.key[0].second, "3");
  EXPECT_EQ(second->from, wire::Lsn(0x100));
  EXPECT_EQ(second->to, wire::Lsn(0x400));
  EXPECT_EQ(checker.cursor(), wire::Lsn(0x400));
  EXPECT_FALSE(checker.waiting_for_shadow());
}

// A streamed transaction the target applied (its commit at 0/300, the
// origin at 0/400): its keys are read in chunks while the shadow applies
// it, and its round, once it committed, reads only what is left — key 1
// again (changed after its chunk was read) — and compares each key once.
TEST_F(ChangeCheckerTest, ReadsAStreamedTransactionsKeysWhileTheShadowAppliesIt) {
  ChangeChecker checker = Checker(*shadow_, {.ahead_chunk_keys = 2});
  checker.set_cursor(wire::Lsn(0x100));
  BeginStreamed(0x300);
  Apply(core::ChangeOp::kInsert, {{"1", "a", "1"}});
  auto one = checker.RunOnce();  // fewer keys than a chunk: nothing read
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_FALSE(one->capped);
  EXPECT_EQ(checker.keys_read_while_applied(), 0u);

  Apply(core::ChangeOp::kInsert, {{"2", "c", "1"}});
  auto chunk = checker.RunOnce();  // ids 1 and 2 read while the transaction is open
  ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
  EXPECT_TRUE(chunk->capped);
  EXPECT_EQ(chunk->rows_compared, 0u);
  EXPECT_EQ(checker.keys_read_while_applied(), 2u);
  EXPECT_EQ(checker.cursor(), wire::Lsn(0x100));

  Apply(core::ChangeOp::kUpdate, {{"1", "b", "1"}});
  Apply(core::ChangeOp::kInsert, {{"3", "y", "1"}});  // 'x' on the target
  CommitOpen(0x300);
  Commit(0x400, core::ChangeOp::kInsert, {});  // nothing of ours: the origin's 0/400
  const Rounds rounds = RoundsPast(checker, 0x300, 3);
  std::vector<std::string> divergent;
  for (const auto& [key, kind] : rounds.named) {
    EXPECT_EQ(kind, RowDivergence::kDiffers);  // read after its commit, not missing
    divergent.push_back(key);
  }
  EXPECT_GT(checker.cursor(), wire::Lsn(0x300));
  EXPECT_EQ(rounds.compared, 3u);
  EXPECT_EQ(divergent, std::vector<std::string>{"3"});
  EXPECT_EQ(checker.keys_read_while_applied(), 2u);
}

// A random transaction of inserts, updates and deletes of `keys` keys: its
// changes, the keys it touched and its result.
struct RandomTxn {
  struct Step {
    core::ChangeOp op;
    Row row;
  };
  std::vector<Step> steps;
  std::set<int> touched;
  std::map<int, std::string> result;  // key -> body

  static RandomTxn Make(std::mt19937_64& rng, int keys = 30) {
    const auto uniform = [&](int lo, int hi) {
      return std::uniform_int_distribution<int>(lo, hi)(rng);
    };
    RandomTxn txn;
    for (int i = uniform(1, 60); i > 0; --i) {
      const int key = uniform(1, keys);
      const std::string k = std::to_string(key);
      txn.touched.insert(key);
      auto& result = txn.result;
      if (!result.contains(key)) {
        result[key] = std::string(1, static_cast<char>('a' + uniform(0, 25)));
        txn.steps.push_back({core::ChangeOp::kInsert, {k, result[key], "1"}});
      } else if (uniform(0, 2) == 0) {
        result.erase(key);
        txn.steps.push_back({core::ChangeOp::kDelete, {k, "<null>", "<null>"}});
      } else {
        result[key] = std::string(1, static_cast<char>('a' + uniform(0, 25)));
        txn.steps.push_back({core::ChangeOp::kUpdate, {k, result[key], "1"}});
      }
    }
    return txn;
  }
};

// The rows (an SQL VALUES list) of a target holding `txn`'s result but for
// random divergences in touched keys, which `expected` gets by key; and a
// row of a key the transaction did not touch.
std::string TargetValues(const RandomTxn& txn, std::mt19937_64& rng,
                         std::map<std::string, RowDivergence>& expected) {
  std::string rows;
  const auto add = [&](int key, const std::string& body) {
    rows += (rows.empty() ? "(" : ",(") + std::to_string(key) + ",'" + body + "',1)";
  };
  for (const int key : txn.touched) {
    const int dice = std::uniform_int_distribution<int>(0, 9)(rng);
    const auto held = txn.result.find(key);
    if (held != txn.result.end() && dice < 2) {
      add(key, held->second + "x");
      expected[std::to_string(key)] = RowDivergence::kDiffers;
    } else if (held != txn.result.end() && dice < 3) {
      expected[std::to_string(key)] = RowDivergence::kMissingOnTarget;
    } else if (held != txn.result.end()) {
      add(key, held->second);
    } else if (dice < 2) {
      add(key, "extra");
      expected[std::to_string(key)] = RowDivergence::kExtraOnTarget;
    }
  }
  add(1000 + std::uniform_int_distribution<int>(0, 5)(rng), "untouched");
  return rows;
}

// Table r on the target: `txn`'s result with random divergences
// (TargetValues); returns them by key.
std::map<std::string, RowDivergence> FillTarget(SqlClient& sql, const RandomTxn& txn,
                                                std::mt19937_64& rng) {
  std::map<std::string, RowDivergence> expected;
  sql.Exec("TRUNCATE r; INSERT INTO r VALUES " + TargetValues(txn, rng, expected));
  return expected;
}

// The replay of a streamed transaction whose commit ends at 0/300
// (CommitBoth) begins.
Status BeginStreamedAt300(ShadowState& shadow) {
  core::TxnInfo begin;
  begin.streamed = true;
  begin.end_lsn = wire::Lsn(0x300);
  return shadow.OnBegin(begin);
}

void ChangeCheckerTest::ExpectExactlyTheDivergences(
    ChangeChecker& checker, const RandomTxn& txn,
    const std::map<std::string, RowDivergence>& expected) {
  const Rounds rounds = RoundsPast(checker, 0x300, 4);
  std::map<std::string, RowDivergence> named;
  for (const auto& [key, kind] : rounds.named) {
    EXPECT_TRUE(named.emplace(key, kind).second) << "named twice";
  }
  EXPECT_GT(checker.cursor(), wire::Lsn(0x300));
  EXPECT_EQ(rounds.compared, txn.touched.size());
  EXPECT_EQ(named, expected);
}

// Random streamed transactions whose result the target holds with random
// divergences, read ahead in random chunk sizes by rounds at random points
// of the replay (the commit at 0/300, the origin at 0/400): every key a
// transaction touched is compared once, and exactly the divergences in
// those keys are named, with their kind — known by construction, not from
// digests; rows of untouched keys are never named.
TEST_F(ChangeCheckerTest, RandomStreamedTransactionsFindExactlyTheDivergencesTheyTouched) {
  SqlClient sql(server_->Dsn());
  std::vector<TableSpec> specs;
  const core::RelationInfo& relation = CreateRandomTable(sql, specs);
  uint64_t read_while_applied = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const RandomTxn txn = RandomTxn::Make(rng);
    const std::map<std::string, RowDivergence> expected = FillTarget(sql, txn, rng);
    ShadowState shadow(specs);
    shadow.SetBasePoint(wire::Lsn(0x100));
    const size_t chunk = std::uniform_int_distribution<size_t>(1, 8)(rng);
    ChangeChecker checker = Checker(shadow, {.ahead_chunk_keys = chunk});
    checker.set_cursor(wire::Lsn(0x100));
    ASSERT_TRUE(BeginStreamedAt300(shadow).ok());
    for (const RandomTxn::Step& step : txn.steps) {
      ASSERT_TRUE(ApplyStep(shadow, relation, step.op, step.row).ok());
      if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
        auto round = checker.RunOnce();
        ASSERT_TRUE(round.ok()) << round.status().ToString();
        EXPECT_EQ(round->rows_compared, 0u);  // nothing before the commit
      }
    }
    ASSERT_TRUE(CommitBoth(shadow, 0x300, 0x400).ok());
    ExpectExactlyTheDivergences(checker, txn, expected);
    read_while_applied += checker.keys_read_while_applied();
  }
  EXPECT_GT(read_while_applied, 100u) << "the transactions' keys were not read while applied";
  sql.Exec("DROP PUBLICATION random_pub; DROP TABLE r;");
}

// The same random transactions compared by two checkers of one shadow:
// one on a single thread, one in parts of a few keys on 2 to 4 threads
// (ChangeCheckOptions::compare_threads). Both compare every key once and
// name exactly the divergences, the same ones in the same order.
TEST_F(ChangeCheckerTest, ComparesInPartsOnSeveralThreadsWhatOneThreadDoes) {
  SqlClient sql(server_->Dsn());
  std::vector<TableSpec> specs;
  const core::RelationInfo& relation = CreateRandomTable(sql, specs);
  size_t named = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const auto uniform = [&](int lo, int hi) {
      return static_cast<size_t>(std::uniform_int_distribution<int>(lo, hi)(rng));
    };
    const RandomTxn txn = RandomTxn::Make(rng, 300);
    const std::map<std::string, RowDivergence> expected = FillTarget(sql, txn, rng);
    ShadowState shadow(specs);
    shadow.SetBasePoint(wire::Lsn(0x100));
    ChangeChecker one = Checker(shadow, {.compare_threads = 1});
    ChangeChecker many =
        Checker(shadow, {.compare_threads = uniform(2, 4), .compare_part_keys = uniform(1, 40)});
    one.set_cursor(wire::Lsn(0x100));
    many.set_cursor(wire::Lsn(0x100));
    ASSERT_TRUE(BeginStreamedAt300(shadow).ok());
    for (const RandomTxn::Step& step : txn.steps) {
      ASSERT_TRUE(ApplyStep(shadow, relation, step.op, step.row).ok());
    }
    ASSERT_TRUE(CommitBoth(shadow, 0x300, 0x400).ok());
    const Rounds on_one = RoundsPast(one, 0x300, 4);
    const Rounds on_many = RoundsPast(many, 0x300, 4);
    EXPECT_EQ(on_one.compared, txn.touched.size());
    EXPECT_EQ(on_many.compared, on_one.compared);
    EXPECT_EQ(on_many.named, on_one.named);
    EXPECT_EQ(on_one.named.size(), expected.size());
    named += on_many.named.size();
  }
  EXPECT_GT(named, 20u) << "too few divergences to tell the orders apart";
  sql.Exec("DROP PUBLICATION random_pub; DROP TABLE r;");
}

// One change of a streamed transaction (xid 7) as the decoder gives it,
// early (OnStreamedChange) or at the replay: entry `entry` of its log.
Status StreamedStep(ShadowState& shadow, const core::RelationInfo& relation,
                    const RandomTxn::Step& step, uint64_t entry, bool early) {
  const bool del = step.op == core::ChangeOp::kDelete;
  const auto tuple = Tuple(step.row);
  const core::Change c{step.op,
                       relation,
                       del ? wire::OldTupleKind::kKey : wire::OldTupleKind::kNone,
                       del ? tuple.view() : wire::TupleView{},
                       del ? wire::TupleView{} : tuple.view(),
                       wire::Lsn(0x180 + 8 * entry),
                       7,
                       7,
                       entry};
  return early ? shadow.OnStreamedChange(c) : shadow.OnChange(c);
}

// The same random transactions and divergences, now streamed with the
// decoder's early delivery while rounds run, the target's applied bound
// (the origin at 0/400) past their commit: keys are read while they
// stream. On the way, a rolled back savepoint takes back random changes
// whose keys may have been read; random changes are not delivered early
// (a full bound, a relation described outside the stream); and random
// ones come early but are not the replay's at their place (as a change the
// replay finds of a table not tracked), so the replay confirms only part
// of what was read. Every key the transaction touched is still compared
// once, and exactly its divergences named.
TEST_F(ChangeCheckerTest,
       RandomStreamedTransactionsReadWhileTheyStreamFindExactlyTheirDivergences) {
  SqlClient sql(server_->Dsn());
  std::vector<TableSpec> specs;
  const core::RelationInfo& relation = CreateRandomTable(sql, specs);
  uint64_t streamed = 0, used = 0, seeds_with_rollback_after_read = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const auto uniform = [&](int lo, int hi) {
      return std::uniform_int_distribution<int>(lo, hi)(rng);
    };
    // Keys mostly touched once, so that a key read for another change's
    // touch cannot stand in for it.
    const RandomTxn txn = RandomTxn::Make(rng, 300);
    const RandomTxn rolled_back = RandomTxn::Make(rng, 300);  // its first few changes
    const std::map<std::string, RowDivergence> expected = FillTarget(sql, txn, rng);
    ShadowState shadow(specs);
    shadow.SetBasePoint(wire::Lsn(0x100));
    ChangeChecker checker = Checker(
        shadow, {.ahead_chunk_keys = static_cast<size_t>(uniform(1, 6)), .stream_lead_bytes = 0});
    checker.set_cursor(wire::Lsn(0x100));
    const auto maybe_round = [&] {
      if (uniform(0, 2) != 0) return;
      auto round = checker.RunOnce();
      ASSERT_TRUE(round.ok()) << round.status().ToString();
      EXPECT_EQ(round->rows_compared, 0u);  // nothing before the commit
    };
    // The stream: txn's first `cut` changes, the rolled back ones, then
    // the rest of txn; each of txn's changes entry entries[i] of the log.
    const size_t cut = uniform(0, static_cast<int>(txn.steps.size()));
    const size_t ghosts = std::min<size_t>(rolled_back.steps.size(), uniform(0, 12));
    std::vector<uint64_t> entries;
    uint64_t next_entry = 0;
    for (size_t i = 0; i <= txn.steps.size(); ++i) {
      if (i == cut) {
        const uint64_t read_before = checker.keys_read_while_streamed();
        for (size_t g = 0; g < ghosts; ++g) {
          ASSERT_TRUE(
              StreamedStep(shadow, relation, rolled_back.steps[g], next_entry + g, true).ok());
          maybe_round();
        }
        if (checker.keys_read_while_streamed() > read_before) ++seeds_with_rollback_after_read;
        shadow.OnStreamTruncated(7, next_entry);
      }
      if (i == txn.steps.size()) break;
      if (uniform(0, 9) == 0) {  // early, and not the replay's
        const auto& other = rolled_back.steps[uniform(0, int(rolled_back.steps.size()) - 1)];
        ASSERT_TRUE(StreamedStep(shadow, relation, other, next_entry++, true).ok());
      }
      entries.push_back(next_entry++);
      if (uniform(0, 7) != 0) {
        ASSERT_TRUE(StreamedStep(shadow, relation, txn.steps[i], entries[i], true).ok());
      }
      maybe_round();
    }
    core::TxnInfo begin;
    begin.xid = 7;
    begin.streamed = true;
    begin.end_lsn = wire::Lsn(0x300);
    begin.streamed_entries = next_entry;
    ASSERT_TRUE(shadow.OnBegin(begin).ok());
    for (size_t i = 0; i < txn.steps.size(); ++i) {
      ASSERT_TRUE(StreamedStep(shadow, relation, txn.steps[i], entries[i], false).ok());
      maybe_round();
    }
    ASSERT_TRUE(CommitBoth(shadow, 0x300, 0x400).ok());
    shadow.OnStreamTruncated(7, 0);  // replayed: gone
    ExpectExactlyTheDivergences(checker, txn, expected);
    streamed += checker.keys_read_while_streamed();
    used += checker.keys_read_while_streamed_used();
  }
  EXPECT_GT(used, 200u) << "the keys read while streaming were not used";
  EXPECT_GT(streamed, used) << "no keys read while streaming were read again";
  EXPECT_GT(seeds_with_rollback_after_read, 5u);
  sql.Exec("DROP PUBLICATION random_pub; DROP TABLE r;");
}

// Keys read while a transaction streams, its commit (0/500) not applied on
// the target then (the origin at 0/400, a backlog of other commits): at
// its commit those reads do not count, and the rows are read again — they
// were the rows before it, and would otherwise be named as divergent.
TEST_F(ChangeCheckerTest, KeysReadWhileStreamingBeforeTheTargetAppliedTheCommitAreReadAgain) {
  ChangeChecker checker = Checker(*shadow_, {.ahead_chunk_keys = 1, .stream_lead_bytes = 0});
  checker.set_cursor(wire::Lsn(0x100));
  const std::vector<RandomTxn::Step> steps{{core::ChangeOp::kUpdate, {"1", "b2", "1"}},
                                           {core::ChangeOp::kUpdate, {"2", "c2", "1"}}};
  for (uint64_t i = 0; i < steps.size(); ++i) {
    ASSERT_TRUE(StreamedStep(*shadow_, *relation_, steps[i], i, true).ok());
  }
  for (int i = 0; i < 3; ++i) {  // the first reads the commits before it (none)
    auto round = checker.RunOnce();
    ASSERT_TRUE(round.ok()) << round.status().ToString();
  }
  EXPECT_EQ(checker.keys_read_while_streamed(), 2u);
  SqlClient sql(server_->Dsn());
  sql.Exec("UPDATE t SET body = body || '2' WHERE id IN (1, 2)");
  sql.Exec("SELECT pg_replication_origin_advance('pg_" + sub_oid_ + "', '0/600')");
  core::TxnInfo begin;
  begin.xid = 7;
  begin.streamed = true;
  begin.end_lsn = wire::Lsn(0x500);
  ASSERT_TRUE(shadow_->OnBegin(begin).ok());
  for (uint64_t i = 0; i < steps.size(); ++i) {
    ASSERT_TRUE(StreamedStep(*shadow_, *relation_, steps[i], i, false).ok());
  }
  ASSERT_TRUE(CommitBoth(*shadow_, 0x500, 0x600).ok());
  const Rounds rounds = RoundsPast(checker, 0x500, 4);
  sql.Exec("UPDATE t SET body = left(body, 1) WHERE id IN (1, 2)");
  sql.Exec("SELECT pg_replication_origin_advance('pg_" + sub_oid_ + "', '0/400')");
  EXPECT_GT(checker.cursor(), wire::Lsn(0x500));
  EXPECT_EQ(rounds.compared, 2u);
  EXPECT_TRUE(rounds.named.empty())
      << rounds.named.size() << " named, first " << rounds.named[0].first;
  EXPECT_EQ(checker.keys_read_while_streamed_used(), 0u);
}

// The target's applied commits (the origin at 0/400) do not lead what
// pgparity's stream received by more than the lead (a live target, not a
// backlog): a streaming transaction's commit, beyond what was received,
// cannot be applied yet, and nothing of it is read while it streams.
TEST_F(ChangeCheckerTest, ReadsNothingWhileStreamingWhenTheTargetIsNotAheadOfTheStream) {
  const RandomTxn::Step step{core::ChangeOp::kUpdate, {"1", "b", "1"}};
  ASSERT_TRUE(StreamedStep(*shadow_, *relation_, step, 0, true).ok());
  const auto early_reads = [&](ChangeChecker& checker) {
    for (int i = 0; i < 3; ++i) {
      auto round = checker.RunOnce();
      EXPECT_TRUE(round.ok()) << round.status().ToString();
    }
    return checker.keys_read_while_streamed();
  };
  // Received 0/100: a lead of 0x300 bytes, under the default 16 MiB.
  ChangeChecker by_default = Checker(*shadow_, {.ahead_chunk_keys = 1});
  by_default.set_cursor(wire::Lsn(0x100));
  by_default.set_stream_received(wire::Lsn(0x100));
  EXPECT_EQ(early_reads(by_default), 0u);
  // No lead needed, but none there: received 0/400.
  ChangeChecker no_lead = Checker(*shadow_, {.ahead_chunk_keys = 1, .stream_lead_bytes = 0});
  no_lead.set_cursor(wire::Lsn(0x100));
  no_lead.set_stream_received(wire::Lsn(0x400));
  EXPECT_EQ(early_reads(no_lead), 0u);
  // A lead: read.
  ChangeChecker led = Checker(*shadow_, {.ahead_chunk_keys = 1, .stream_lead_bytes = 0});
  led.set_cursor(wire::Lsn(0x100));
  led.set_stream_received(wire::Lsn(0x100));
  EXPECT_EQ(early_reads(led), 1u);
  shadow_->OnStreamTruncated(7, 0);  // aborted
}

// Its commit not yet applied on the target (the origin at 0/400): nothing
// of a streamed transaction is read while the shadow applies it.
TEST_F(ChangeCheckerTest, ReadsNothingOfAStreamedTransactionTheTargetHasNotApplied) {
  ChangeChecker checker = Checker(*shadow_, {.ahead_chunk_keys = 1});
  checker.set_cursor(wire::Lsn(0x100));
  BeginStreamed(0x500);
  Apply(core::ChangeOp::kInsert, {{"1", "b", "1"}, {"2", "c", "1"}});
  for (int i = 0; i < 3; ++i) {  // the first reads the commits before it (none)
    auto round = checker.RunOnce();
    ASSERT_TRUE(round.ok()) << round.status().ToString();
    EXPECT_FALSE(round->capped);
  }
  EXPECT_EQ(checker.keys_read_while_applied(), 0u);
  CommitOpen(0x500);
}

// At most max_waiting_keys keys wait: beyond them a round reads nothing
// until the shadow catches up — and then everything is compared in order.
TEST_F(ChangeCheckerTest, ReadsNoMoreThanTheWaitingCapAhead) {
  Commit(0x200, core::ChangeOp::kInsert, {{"1", "b", "1"}, {"2", "c", "1"}});
  auto params = conn::ConnParams::Parse(server_->Dsn());
  ASSERT_TRUE(params.ok());
  ChangeChecker checker(*shadow_, *params, *params, Subscription(),
                        {.max_keys_per_round = 1, .max_waiting_keys = 1});
  checker.set_cursor(wire::Lsn(0x100));
  auto first = checker.RunOnce();  // reads commit A's two keys (a commit is never cut)
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->capped || first->shadow_behind);
  EXPECT_TRUE(checker.waiting_for_shadow());
  Commit(0x280, core::ChangeOp::kInsert, {{"3", "y", "1"}});
  auto second = checker.RunOnce();  // the cap: nothing compared, nothing more read
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->shadow_behind);
  EXPECT_EQ(second->rows_compared, 0u);
  Commit(0x300, core::ChangeOp::kUpdate, {{"1", "b", "1"}});
  Commit(0x400, core::ChangeOp::kInsert, {});
  uint64_t compared = 0;
  std::vector<std::string> divergent;
  for (int i = 0; i < 5 && checker.cursor() < wire::Lsn(0x400); ++i) {
    auto round = checker.RunOnce();
    ASSERT_TRUE(round.ok()) << round.status().ToString();
    compared += round->rows_compared;
    for (const auto& [table, row] : round->divergent) divergent.push_back(*row.key[0].second);
  }
  EXPECT_EQ(checker.cursor(), wire::Lsn(0x400));
  // A: id 2 (id 1 in flight); the commit at 0/280: id 3, 'x' on the
  // target; B: id 1.
  EXPECT_EQ(compared, 3u);
  EXPECT_EQ(divergent, std::vector<std::string>{"3"});
}

// The target applied every commit the shadow holds, and its subscriber
// confirmed a later position (a keepalive's, nothing committed between):
// the round takes the shadow's commits and says it stopped short only for
// want of the stream's position; once the stream publishes it, the cursor
// reaches the subscriber's.
TEST_F(ChangeCheckerTest, StopsShortOfTheSubscribersFlushUntilTheStreamSaysItGotThere) {
  SqlClient sql(server_->Dsn());
  sql.Exec("SELECT pg_create_logical_replication_slot('short_slot', 'pgoutput')");
  const wire::Lsn flush =
      *wire::Lsn::Parse(sql.Value("SELECT confirmed_flush_lsn FROM pg_replication_slots "
                                  "WHERE slot_name = 'short_slot'"));
  Commit(0x200, core::ChangeOp::kInsert, {{"1", "b", "1"}, {"2", "c", "1"}, {"3", "y", "1"}});
  Commit(0x400, core::ChangeOp::kInsert, {});  // the origin's 0/400
  auto params = conn::ConnParams::Parse(server_->Dsn());
  ASSERT_TRUE(params.ok());
  SubscriptionInfo sub = Subscription();
  sub.slot_name = "short_slot";
  ChangeChecker checker(*shadow_, *params, *params, sub);
  checker.set_cursor(wire::Lsn(0x100));

  auto first = checker.RunOnce();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->shadow_behind);
  EXPECT_FALSE(first->capped);
  EXPECT_TRUE(first->stream_short);
  EXPECT_EQ(first->rows_compared, 3u);
  EXPECT_EQ(checker.cursor(), wire::Lsn(0x401));

  auto again = checker.RunOnce();  // nothing new: still short
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->stream_short);
  EXPECT_EQ(checker.cursor(), wire::Lsn(0x401));

  checker.set_decoded_before(wire::Lsn(flush.value() + 1));  // the keepalive, published
  auto last = checker.RunOnce();
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_FALSE(last->stream_short);
  EXPECT_FALSE(last->shadow_behind);
  EXPECT_EQ(checker.cursor(), wire::Lsn(flush.value() + 1));
  sql.Exec("SELECT pg_drop_replication_slot('short_slot')");
}

}  // namespace
}  // namespace pgparity::applier
