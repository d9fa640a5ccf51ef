// The source's workload and the model of its keys: initial rows, then
// random DML in small transactions — inserts, updates of rows holding
// NULLs and TOAST (some leaving the TOASTed columns unchanged), partition
// key updates that move rows across partitions, deletes and re-inserts of
// the same keys, duplicate rows in keyless tables, one TRUNCATE; in the
// wide tables, values around the digest's 128-byte threshold and TOAST's
// 2 kB, updates across both either way, updates of one of several
// out-of-line values and of narrow columns only. Keys come
// from positive counters; the target's injected rows use negative ones, so
// the source never sends a key the target invented.
//
// Streamed transactions (RunStreamed): hundreds of changes in one
// transaction, more than the source database's logical_decoding_work_mem
// (seed_run.cc sets 64kB), so the walsenders stream it in blocks before it
// commits; savepoints released and rolled back (some nested), a fifth of
// them rolled back whole; meanwhile a second session commits small
// transactions, some on rows a rolled-back savepoint released.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "corpus/rng.h"
#include "corpus/schema.h"
#include "corpus/session.h"

namespace pgparity::corpus {

// A key's values in Table::key order, as text.
using Key = std::vector<std::string>;

struct TableModel {
  const Table* table = nullptr;
  std::vector<Key> live;     // rows the source has
  std::vector<Key> gone;     // deleted keys, to insert again
  std::set<int64_t> frozen;  // counter values not to touch any more (injected on the target)
  bool frozen_rows = false;  // keyless: no UPDATE/DELETE any more
  int64_t next_counter = 1;
  int64_t rows = 0;  // keyless: how many rows
};

// What the wide tables (IsWide columns) were sent, per table. Measured by
// the source after each statement, not assumed from the generator.
struct WideStats {
  int threshold_values =
      0;  // values of 126 to 130 bytes of text (127, 128, 129; bytea 126, 128, 130)
  int out_of_line_values = 0;  // values of over 2 kB stored (out of line)
  int rows_several_out = 0;    // inserted rows with 3 or more of them
  int up = 0, down = 0;        // updates taking a value's text across 128 bytes, either way
  int into_toast = 0, out_of_toast = 0;  // ... from under 2 kB stored to over it, and back
  int one_of_several = 0;  // updates of one out-of-line value of 3 or more, the others unchanged
  int narrow_only = 0;     // updates of narrow columns only, out-of-line values unchanged
};

struct WorkloadStats {
  int transactions = 0, inserts = 0, updates = 0, toast_unchanged = 0, moves = 0, deletes = 0,
      reinserts = 0, duplicates = 0, truncates = 0;
  // RunStreamed: transactions committed and rolled back, savepoints
  // rolled back, the other session's commits while one was open, and of
  // those the updates of rows a rolled-back savepoint had changed.
  int streamed = 0, streamed_rolled_back = 0, savepoints_rolled_back = 0, interleaved = 0,
      released_rows_changed = 0;
  WideStats wide[2];  // the wide table without REPLICA IDENTITY FULL, the one with
  std::string Summary() const;
  // Adds `other`'s counts (the other session's, after a streamed transaction).
  void Add(const WorkloadStats& other);
  // What the wide tables did not get at all (one line each): every seed
  // must exercise each case on both.
  std::vector<std::string> Uncovered() const;
};

class Workload {
 public:
  // `other`: a second source session for RunStreamed's interleaved commits.
  Workload(const Schema& schema, Session& source, Session& other, Rng& rng);

  // `rows` rows per table (keyless ones with some duplicates), one transaction.
  void Seed(int rows);
  // `operations` random changes in transactions of 1..6; `truncate`: one
  // TRUNCATE of the truncated table somewhere in between; `streamed`
  // streamed transactions (RunStreamed, kStreamedOperations / 2 to
  // kStreamedOperations changes each, on top) at random points.
  void Run(int operations, bool truncate, int streamed = 0);
  static constexpr int kStreamedOperations = 400;
  // Called once, halfway through the next streamed transaction, while it
  // is open (and streamed): SeedRun kills and restarts the audit there.
  void OnceMidStream(std::function<void()> hook) { mid_stream_ = std::move(hook); }
  // Called once in the next Run, between two transactions, after the
  // first commit that brings its operations to `operations` or more:
  // SeedRun kills and restarts the audit there, wherever its own work is.
  void OnceAfter(int operations, std::function<void()> hook) {
    after_operations_ = operations;
    after_ = std::move(hook);
  }
  // One streamed transaction of `operations` changes (see above); the
  // other session's commits come on top.
  void RunStreamed(int operations);
  // One row in the marker table: a report whose marker count is `phase`
  // includes every commit before it.
  void Mark(int phase);

  // The table model of `table` (schema.name), nullptr when unknown.
  TableModel* Model(const Table& table);
  const WorkloadStats& stats() const { return stats_; }

 private:
  void Operation(TableModel& m);
  void KeyedOperation(TableModel& m);
  void KeylessOperation(TableModel& m);
  void Insert(TableModel& m, const Key& key);
  void Update(TableModel& m, size_t at);
  void WideUpdate(TableModel& m, size_t at);
  Value WideInsertValue(const Column& c, int64_t profile);
  void Move(TableModel& m, size_t at);
  void Delete(TableModel& m, size_t at);
  void Truncate(TableModel& m);
  void KeylessInsert(TableModel& m, bool duplicate);
  void KeylessChange(TableModel& m, bool remove);
  Key NewKey(TableModel& m);
  // A live row's index that is not frozen, or -1; with `free_only`, also
  // not changed by the open streamed transaction (held_).
  int64_t PickLive(TableModel& m, bool free_only = false);
  // A live row a rolled-back savepoint had changed (released_), free and
  // not frozen, or -1.
  int64_t PickReleased(TableModel& m);
  bool Frozen(const TableModel& m, const Key& key) const;

  // RunStreamed's parts.
  struct Snapshot {
    std::vector<TableModel> models;
    WorkloadStats stats;
    std::set<std::pair<const Table*, Key>> held, released;
    size_t other_inserts = 0;
  };
  Snapshot Take() const;
  // Back to `s` after a rollback, keeping what the other session committed since.
  void Restore(const Snapshot& s);
  // `operations` changes, some in (nested) savepoints; `depth` of nesting.
  void Segment(int operations, int depth);
  // Small transactions on the other session, on rows the open one does not hold.
  void OtherCommits(int transactions);
  // Records a key the open streamed transaction changed (its row lock).
  void Hold(const TableModel& m, const Key& key);

  const Schema& schema_;
  Session& source_;
  Session& other_;
  Session* db_;  // the session the operations run on: source_, or other_ in OtherCommits
  Rng& rng_;
  std::vector<TableModel> models_;
  WorkloadStats stats_;
  // While a streamed transaction is open: the keys it changed (and holds
  // locks on), those a rolled-back savepoint changed (released), what the
  // other session committed meanwhile (stats, inserted keys by model).
  bool streaming_ = false;
  std::set<std::pair<const Table*, Key>> held_, released_;
  WorkloadStats other_stats_;
  std::vector<std::pair<size_t, Key>> other_inserts_;
  std::function<void()> mid_stream_;
  bool mid_stream_called_ = false;  // in the open streamed transaction
  std::function<void()> after_;
  int after_operations_ = 0;
};

}  // namespace pgparity::corpus
