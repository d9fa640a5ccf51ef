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
#pragma once

#include <cstdint>
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
  WideStats wide[2];  // the wide table without REPLICA IDENTITY FULL, the one with
  std::string Summary() const;
  // What the wide tables did not get at all (one line each): every seed
  // must exercise each case on both.
  std::vector<std::string> Uncovered() const;
};

class Workload {
 public:
  Workload(const Schema& schema, Session& source, Rng& rng);

  // `rows` rows per table (keyless ones with some duplicates), one transaction.
  void Seed(int rows);
  // `operations` random changes in transactions of 1..6; `truncate`: one
  // TRUNCATE of the truncated table somewhere in between.
  void Run(int operations, bool truncate);
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
  // A live row's index that is not frozen, or -1.
  int64_t PickLive(TableModel& m);

  const Schema& schema_;
  Session& source_;
  Rng& rng_;
  std::vector<TableModel> models_;
  WorkloadStats stats_;
};

}  // namespace pgparity::corpus
