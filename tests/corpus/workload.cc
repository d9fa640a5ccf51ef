#include "corpus/workload.h"

#include <algorithm>
#include <utility>

#include "corpus/quote.h"
#include "corpus/schema_ddl.h"
#include "corpus/values.h"

namespace pgparity::corpus {

namespace {

std::string Rel(const Table& t) { return QuoteTable(t.schema, t.name); }

std::string Param(size_t n) { return "$" + std::to_string(n); }

// "k1" = $first AND "k2" = $first+1 ...
std::string WhereKey(const Table& t, size_t first) {
  std::string out;
  for (size_t i = 0; i < t.key.size(); ++i) {
    out += (i ? " AND " : "") + QuoteIdent(t.key[i]) + " = " + Param(first + i);
  }
  return out;
}

// Columns a statement may write: generated ones are computed.
std::vector<const Column*> Writable(const Table& t, bool with_key) {
  std::vector<const Column*> out;
  for (const auto& c : t.columns) {
    const bool key = std::find(t.key.begin(), t.key.end(), c.name) != t.key.end();
    if (c.generated.empty() && (with_key || !key)) out.push_back(&c);
  }
  return out;
}

bool Long(const Column& c) { return c.kind == Kind::kLongText || c.kind == Kind::kLongBytea; }

// The wide columns (IsWide) a statement may write, in column order.
std::vector<const Column*> WideColumns(const Table& t) {
  auto cols = Writable(t, false);
  std::erase_if(cols, [](const Column* c) { return !IsWide(c->kind); });
  return cols;
}

// Each of `cols`' text bytes and stored bytes: a select list.
std::string Sizes(const std::vector<const Column*>& cols) {
  std::string out;
  for (const auto* c : cols) {
    const std::string q = QuoteIdent(c->name);
    out += std::string(out.empty() ? "" : ", ") + "octet_length(" + q + "::text), pg_column_size(" +
           q + ")";
  }
  return out;
}

// One value's sizes from a Sizes() row: text bytes (-1 for NULL) and
// whether it is stored out of line: over 2 kB stored, incompressible
// (values.h), so always TOASTed out of line.
struct Size {
  int64_t text = -1;
  bool out_of_line = false;
};

Size SizeAt(const Row& row, size_t i) {
  Size s;
  if (row[2 * i]) s.text = std::stoll(*row[2 * i]);
  if (row[2 * i + 1]) s.out_of_line = std::stoll(*row[2 * i + 1]) > 2000;
  return s;
}

bool AtThreshold(int64_t text) { return text >= 126 && text <= 130; }

std::string ColumnList(const std::vector<const Column*>& cols) {
  std::string out;
  for (const auto* c : cols) out += (out.empty() ? "" : ", ") + QuoteIdent(c->name);
  return out;
}

// The n-th row of a keyless table in a content order: with duplicates,
// which of the equal rows is hit does not matter.
std::string NthRowCtid(const Table& t, size_t param) {
  return "(SELECT r.ctid FROM " + Rel(t) + " AS r ORDER BY r::text COLLATE \"C\", r.ctid LIMIT 1 " +
         "OFFSET " + Param(param) + ")";
}

template <typename T>
void SwapRemove(std::vector<T>& v, size_t at) {
  std::swap(v[at], v.back());
  v.pop_back();
}

}  // namespace

namespace {

// Each counter of the wide tables with its name.
std::vector<std::pair<const char*, int>> WideCounters(const WideStats& w) {
  return {{"values at 126..130 bytes of text", w.threshold_values},
          {"values out of line", w.out_of_line_values},
          {"rows inserted with 3+ out of line", w.rows_several_out},
          {"updates across 128 bytes upward", w.up},
          {"updates across 128 bytes downward", w.down},
          {"updates into TOAST", w.into_toast},
          {"updates out of TOAST", w.out_of_toast},
          {"updates of one of 3+ out-of-line values", w.one_of_several},
          {"updates of narrow columns only (TOAST unchanged)", w.narrow_only}};
}

const char* kWideNames[] = {"wide table", "wide table with REPLICA IDENTITY FULL"};

}  // namespace

std::string WorkloadStats::Summary() const {
  std::string out = std::to_string(transactions) + " transactions: " + std::to_string(inserts) +
                    " inserts, " + std::to_string(updates) + " updates (" +
                    std::to_string(toast_unchanged) + " leaving TOAST unchanged), " +
                    std::to_string(moves) + " partition moves, " + std::to_string(deletes) +
                    " deletes, " + std::to_string(reinserts) + " re-inserts, " +
                    std::to_string(duplicates) + " duplicate rows, " + std::to_string(truncates) +
                    " truncates; streamed: " + std::to_string(streamed) + " committed, " +
                    std::to_string(streamed_rolled_back) + " rolled back, " +
                    std::to_string(savepoints_rolled_back) + " savepoints rolled back, " +
                    std::to_string(interleaved) + " other commits while one was open, with " +
                    std::to_string(released_rows_changed) + " updates of rows a rollback released";
  for (int i = 0; i < 2; ++i) {
    out += std::string("; ") + kWideNames[i] + ":";
    for (const auto& [name, n] : WideCounters(wide[i]))
      out += " " + std::to_string(n) + " " + name + ",";
    out.pop_back();
  }
  return out;
}

void WorkloadStats::Add(const WorkloadStats& o) {
  transactions += o.transactions;
  inserts += o.inserts;
  updates += o.updates;
  toast_unchanged += o.toast_unchanged;
  moves += o.moves;
  deletes += o.deletes;
  reinserts += o.reinserts;
  duplicates += o.duplicates;
  truncates += o.truncates;
  streamed += o.streamed;
  streamed_rolled_back += o.streamed_rolled_back;
  savepoints_rolled_back += o.savepoints_rolled_back;
  interleaved += o.interleaved;
  released_rows_changed += o.released_rows_changed;
  for (int i = 0; i < 2; ++i) {
    WideStats& w = wide[i];
    const WideStats& v = o.wide[i];
    w.threshold_values += v.threshold_values;
    w.out_of_line_values += v.out_of_line_values;
    w.rows_several_out += v.rows_several_out;
    w.up += v.up;
    w.down += v.down;
    w.into_toast += v.into_toast;
    w.out_of_toast += v.out_of_toast;
    w.one_of_several += v.one_of_several;
    w.narrow_only += v.narrow_only;
  }
}

std::vector<std::string> WorkloadStats::Uncovered() const {
  std::vector<std::string> out;
  for (int i = 0; i < 2; ++i) {
    for (const auto& [name, n] : WideCounters(wide[i])) {
      if (n == 0) out.push_back(std::string(kWideNames[i]) + ": no " + name);
    }
  }
  return out;
}

Workload::Workload(const Schema& schema, Session& source, Session& other, Rng& rng)
    : schema_(schema), source_(source), other_(other), db_(&source), rng_(rng) {
  for (const auto& t : schema_.tables) {
    TableModel m;
    m.table = &t;
    m.frozen_rows = t.append_only;
    m.next_counter = t.first_key;
    models_.push_back(std::move(m));
  }
}

TableModel* Workload::Model(const Table& table) {
  for (auto& m : models_) {
    if (m.table->schema == table.schema && m.table->name == table.name) return &m;
  }
  return nullptr;
}

Key Workload::NewKey(TableModel& m) {
  Key key;
  for (const auto& name : m.table->key) {
    const Column* c = m.table->Find(name);
    key.push_back(c->kind == Kind::kCounter ? std::to_string(m.next_counter++)
                                            : RandomNonNull(rng_, c->kind));
  }
  return key;
}

bool Workload::Frozen(const TableModel& m, const Key& key) const {
  const auto counter =
      std::find(m.table->key.begin(), m.table->key.end(), m.table->counter) - m.table->key.begin();
  return m.frozen.count(std::stoll(key[static_cast<size_t>(counter)])) != 0;
}

int64_t Workload::PickLive(TableModel& m, bool free_only) {
  for (int attempt = 0; attempt < 10 && !m.live.empty(); ++attempt) {
    const auto at = Uniform(rng_, 0, static_cast<int64_t>(m.live.size()) - 1);
    const Key& key = m.live[static_cast<size_t>(at)];
    if (!Frozen(m, key) && !(free_only && held_.count({m.table, key}))) return at;
  }
  return -1;
}

int64_t Workload::PickReleased(TableModel& m) {
  std::vector<int64_t> free;
  for (const auto& [table, key] : released_) {
    if (table != m.table || held_.count({table, key}) || Frozen(m, key)) continue;
    const auto found = std::find(m.live.begin(), m.live.end(), key);
    if (found != m.live.end()) free.push_back(found - m.live.begin());
  }
  return free.empty() ? -1 : Pick(rng_, free);
}

// A wide column's value in a row of `profile`: 0..2 every wide value out
// of line, 3..4 every one inline and the row small (under 1.5 kB of text:
// never TOASTed), else each its own random width, sometimes NULL.
Value Workload::WideInsertValue(const Column& c, int64_t profile) {
  if (profile <= 2) return WideValue(rng_, c.kind, Width::kOutOfLine);
  if (profile <= 4) {
    static const std::vector<Width> inline_widths{Width::kShort, Width::k127, Width::k128,
                                                  Width::k129, Width::kInline};
    return WideValue(rng_, c.kind, Pick(rng_, inline_widths), 300);
  }
  if (c.nullable && Chance(rng_, 0.1)) return std::nullopt;
  return WideValue(rng_, c.kind, RandomWidth(rng_));
}

void Workload::Insert(TableModel& m, const Key& key) {
  const auto cols = Writable(*m.table, true);
  const auto wide = WideColumns(*m.table);
  const int64_t profile = wide.empty() ? -1 : Uniform(rng_, 0, 9);
  std::vector<Value> params;
  std::string placeholders;
  for (const auto* c : cols) {
    const auto k = std::find(m.table->key.begin(), m.table->key.end(), c->name);
    params.push_back(k != m.table->key.end()
                         ? Value(key[static_cast<size_t>(k - m.table->key.begin())])
                     : IsWide(c->kind) ? WideInsertValue(*c, profile)
                                       : RandomValue(rng_, *c));
    placeholders += (placeholders.empty() ? "" : ", ") + Param(params.size());
  }
  const std::string sql =
      "INSERT INTO " + Rel(*m.table) + " (" + ColumnList(cols) + ") VALUES (" + placeholders + ")";
  if (wide.empty()) {
    db_->Exec(sql, params);
  } else {
    const Row row = db_->Query(sql + " RETURNING " + Sizes(wide), params).at(0);
    WideStats& ws = stats_.wide[m.table->identity == Identity::kFull ? 1 : 0];
    int out = 0;
    for (size_t i = 0; i < wide.size(); ++i) {
      const Size size = SizeAt(row, i);
      ws.threshold_values += AtThreshold(size.text);
      out += size.out_of_line;
    }
    ws.out_of_line_values += out;
    ws.rows_several_out += out >= 3;
  }
  m.live.push_back(key);
  Hold(m, key);
  ++stats_.inserts;
}

// An update of a wide table, one of: one wide value to a random width; narrow
// columns only (pgoutput sends every out-of-line value as 'u'); one wide
// value across 128 bytes of text, either way; one across TOAST, either way
// (the last two with a narrow column now and then); else Update's.
void Workload::WideUpdate(TableModel& m, size_t at) {
  const Table& t = *m.table;
  const auto wide = WideColumns(t);
  auto narrow = Writable(t, false);
  std::erase_if(narrow, [](const Column* c) { return IsWide(c->kind) || Long(*c); });
  const int64_t dice = Uniform(rng_, 0, 99);
  if (dice >= 95 || wide.empty()) return Update(m, at);
  const Key& key = m.live[at];
  const Row before =
      (*db_)
          .Query("SELECT " + Sizes(wide) + " FROM " + Rel(t) + " WHERE " + WhereKey(t, 1),
                 std::vector<Value>(key.begin(), key.end()))
          .at(0);
  std::vector<std::pair<const Column*, Value>> set;
  size_t changed = wide.size();  // the wide column changed; none
  if (dice >= 25 && dice < 45 && !narrow.empty()) {
    Shuffle(rng_, narrow);
    for (int64_t n = Uniform(rng_, 1, std::min<int64_t>(2, narrow.size())); n > 0; --n) {
      set.emplace_back(narrow[static_cast<size_t>(n - 1)],
                       RandomValue(rng_, *narrow[static_cast<size_t>(n - 1)]));
    }
  } else {
    changed = static_cast<size_t>(Uniform(rng_, 0, static_cast<int64_t>(wide.size()) - 1));
    const Size now = SizeAt(before, changed);
    Width width = Width::kOutOfLine;
    if (dice < 45) {
      width = RandomWidth(rng_);
    } else if (dice < 70) {
      width = now.text > 128
                  ? Pick(rng_, std::vector<Width>{Width::kShort, Width::k127, Width::k128})
                  : Pick(rng_, std::vector<Width>{Width::k129, Width::kInline, Width::kOutOfLine});
    } else if (now.out_of_line) {
      width =
          Pick(rng_, std::vector<Width>{Width::kShort, Width::k128, Width::k129, Width::kInline});
    }
    set.emplace_back(wide[changed], WideValue(rng_, wide[changed]->kind, width));
    if (dice >= 45 && !narrow.empty() && Chance(rng_, 0.3)) {
      const Column* c = Pick(rng_, narrow);
      set.emplace_back(c, RandomValue(rng_, *c));
    }
  }
  std::vector<Value> params;
  std::string assignments;
  for (const auto& [c, v] : set) {
    params.push_back(v);
    assignments +=
        (assignments.empty() ? "" : ", ") + QuoteIdent(c->name) + " = " + Param(params.size());
  }
  const size_t first = params.size() + 1;
  params.insert(params.end(), key.begin(), key.end());
  const auto after = db_->Query("UPDATE " + Rel(t) + " SET " + assignments + " WHERE " +
                                    WhereKey(t, first) + " RETURNING " + Sizes(wide),
                                params);
  WideStats& ws = stats_.wide[t.identity == Identity::kFull ? 1 : 0];
  int others_out = 0;
  for (size_t i = 0; i < wide.size(); ++i)
    others_out += i != changed && SizeAt(before, i).out_of_line;
  if (changed == wide.size()) {
    ws.narrow_only += others_out > 0;
  } else {
    const Size was = SizeAt(before, changed), is = SizeAt(after.at(0), changed);
    ws.up += was.text >= 0 && was.text <= 128 && is.text > 128;
    ws.down += was.text > 128 && is.text >= 0 && is.text <= 128;
    ws.into_toast += was.text >= 0 && !was.out_of_line && is.out_of_line;
    ws.out_of_toast += was.out_of_line && is.text >= 0 && !is.out_of_line;
    ws.one_of_several += was.out_of_line && others_out >= 2;
  }
  if (others_out > 0) ++stats_.toast_unchanged;
  Hold(m, key);
  ++stats_.updates;
}

void Workload::Update(TableModel& m, size_t at) {
  auto cols = Writable(*m.table, false);
  const bool has_long = std::any_of(cols.begin(), cols.end(), [](auto* c) { return Long(*c); });
  if (has_long && Chance(rng_, 0.5)) {
    // The TOASTed columns stay unchanged: pgoutput sends them as 'u'.
    std::erase_if(cols, [](auto* c) { return Long(*c); });
    ++stats_.toast_unchanged;
  }
  if (cols.empty()) return;
  Shuffle(rng_, cols);
  cols.resize(static_cast<size_t>(Uniform(rng_, 1, std::min<int64_t>(3, cols.size()))));
  std::vector<Value> params;
  std::string set;
  for (const auto* c : cols) {
    params.push_back(RandomValue(rng_, *c));
    set += (set.empty() ? "" : ", ") + QuoteIdent(c->name) + " = " + Param(params.size());
  }
  const Key& key = m.live[at];
  const size_t first = params.size() + 1;
  params.insert(params.end(), key.begin(), key.end());
  db_->Exec("UPDATE " + Rel(*m.table) + " SET " + set + " WHERE " + WhereKey(*m.table, first),
            params);
  Hold(m, key);
  ++stats_.updates;
}

// A new partition key value: the row moves to another partition (mostly).
void Workload::Move(TableModel& m, size_t at) {
  const Table& t = *m.table;
  const auto pos = static_cast<size_t>(
      std::find(t.key.begin(), t.key.end(), t.partitioning.column) - t.key.begin());
  const Column* c = t.Find(t.partitioning.column);
  Key& key = m.live[at];
  Hold(m, key);
  std::string value = RandomNonNull(rng_, c->kind);
  while (value == key[pos]) value = RandomNonNull(rng_, c->kind);
  std::vector<Value> params{value};
  params.insert(params.end(), key.begin(), key.end());
  db_->Exec("UPDATE " + Rel(t) + " SET " + QuoteIdent(t.partitioning.column) + " = $1 WHERE " +
                WhereKey(t, 2),
            params);
  key[pos] = value;
  Hold(m, key);
  ++stats_.moves;
}

void Workload::Delete(TableModel& m, size_t at) {
  const Key key = m.live[at];
  db_->Exec("DELETE FROM " + Rel(*m.table) + " WHERE " + WhereKey(*m.table, 1),
            std::vector<Value>(key.begin(), key.end()));
  Hold(m, key);
  SwapRemove(m.live, at);
  m.gone.push_back(key);
  ++stats_.deletes;
}

void Workload::Truncate(TableModel& m) {
  db_->Exec("TRUNCATE " + Rel(*m.table));
  m.gone.insert(m.gone.end(), m.live.begin(), m.live.end());
  m.live.clear();
  m.rows = 0;
  ++stats_.truncates;
}

void Workload::KeyedOperation(TableModel& m) {
  const int64_t dice = Uniform(rng_, 0, 99);
  const int64_t at = PickLive(m);
  // A partitioned table trades updates for partition moves.
  const bool moves = m.table->partitioned();
  if (dice < 30 || at < 0) {
    Insert(m, NewKey(m));
  } else if (dice < (moves ? 47 : 72)) {
    if (WideColumns(*m.table).empty()) {
      Update(m, static_cast<size_t>(at));
    } else {
      WideUpdate(m, static_cast<size_t>(at));
    }
  } else if (dice < 72) {
    Move(m, static_cast<size_t>(at));
  } else if (dice < 82) {
    Delete(m, static_cast<size_t>(at));
  } else if (dice < 92 && !m.gone.empty()) {
    // An old key again, later (its delete and this insert in other commits).
    const auto g = static_cast<size_t>(Uniform(rng_, 0, static_cast<int64_t>(m.gone.size()) - 1));
    const Key key = m.gone[g];
    SwapRemove(m.gone, g);
    Insert(m, key);
    ++stats_.reinserts;
  } else {
    // Delete and insert the same key in one transaction.
    const Key key = m.live[static_cast<size_t>(at)];
    Delete(m, static_cast<size_t>(at));
    m.gone.pop_back();
    Insert(m, key);
    ++stats_.reinserts;
  }
}

void Workload::KeylessInsert(TableModel& m, bool duplicate) {
  const auto cols = Writable(*m.table, true);
  // A table of no columns takes no column list: "()" is a syntax error.
  const std::string list = cols.empty() ? "" : " (" + ColumnList(cols) + ")";
  if (duplicate && m.rows > 0) {
    db_->Exec("INSERT INTO " + Rel(*m.table) + list + " SELECT " + ColumnList(cols) + " FROM " +
                  Rel(*m.table) + " WHERE ctid = " + NthRowCtid(*m.table, 1),
              {std::to_string(Uniform(rng_, 0, m.rows - 1))});
    ++stats_.duplicates;
  } else if (cols.empty()) {
    db_->Exec("INSERT INTO " + Rel(*m.table) + " DEFAULT VALUES");
  } else {
    std::vector<Value> params;
    std::string placeholders;
    for (const auto* c : cols) {
      params.push_back(RandomValue(rng_, *c));
      placeholders += (placeholders.empty() ? "" : ", ") + Param(params.size());
    }
    db_->Exec("INSERT INTO " + Rel(*m.table) + " (" + ColumnList(cols) + ") VALUES (" +
                  placeholders + ")",
              params);
  }
  ++m.rows;
  ++stats_.inserts;
}

void Workload::KeylessChange(TableModel& m, bool remove) {
  if (m.rows == 0) return KeylessInsert(m, false);
  const Value offset = std::to_string(Uniform(rng_, 0, m.rows - 1));
  if (remove) {
    db_->Exec("DELETE FROM " + Rel(*m.table) + " WHERE ctid = " + NthRowCtid(*m.table, 1),
              {offset});
    --m.rows;
    ++stats_.deletes;
    return;
  }
  const auto cols = Writable(*m.table, true);
  if (cols.empty()) return KeylessChange(m, true);  // nothing to update
  const Column& c = *Pick(rng_, cols);
  db_->Exec("UPDATE " + Rel(*m.table) + " SET " + QuoteIdent(c.name) +
                " = $2 WHERE ctid = " + NthRowCtid(*m.table, 1),
            {offset, RandomValue(rng_, c)});
  ++stats_.updates;
}

void Workload::KeylessOperation(TableModel& m) {
  const int64_t dice = Uniform(rng_, 0, 99);
  if (m.frozen_rows) {
    KeylessInsert(m, dice >= 80);
  } else if (dice < 40) {
    KeylessInsert(m, false);
  } else if (dice < 55) {
    KeylessInsert(m, true);
  } else {
    KeylessChange(m, dice >= 82);
  }
}

void Workload::Operation(TableModel& m) {
  if (m.table->keyless()) {
    KeylessOperation(m);
  } else {
    KeyedOperation(m);
  }
}

namespace {

// The bulk table's rows (Table::bulk_rows), made by the server: a NULL in
// every column now and then, as values.cc makes them.
std::string BulkSeedSql(const Table& t) {
  const std::string id = QuoteIdent(t.counter);
  return "INSERT INTO " + Rel(t) + " (" + id + ", " + QuoteIdent("n") + ", " + QuoteIdent("Text") +
         ", " + QuoteIdent("Zeit") +
         ") SELECT g, CASE WHEN g % 5 <> 0 THEN (g * 7919) % 100003 END, CASE WHEN g % 7 <> 0 "
         "THEN md5(g::text) END, CASE WHEN g % 6 <> 0 THEN timestamptz '2024-01-01 00:00:00+00' "
         "+ g * interval '37 seconds' END FROM generate_series(1, $1) AS g";
}

}  // namespace

void Workload::Seed(int rows) {
  source_.Exec("BEGIN");
  for (auto& m : models_) {
    if (m.table->bulk_rows > 0) {
      source_.Exec(BulkSeedSql(*m.table), {std::to_string(m.table->bulk_rows)});
      for (int i = 1; i <= m.table->bulk_rows; ++i) m.live.push_back({std::to_string(i)});
      m.next_counter = m.table->bulk_rows + 1;
      stats_.inserts += m.table->bulk_rows;
      continue;
    }
    for (int i = 0; i < rows; ++i) {
      if (m.table->keyless()) {
        KeylessInsert(m, Chance(rng_, 0.2));
      } else {
        Insert(m, NewKey(m));
      }
    }
  }
  source_.Exec("COMMIT");
  ++stats_.transactions;
}

void Workload::Run(int operations, bool truncate, int streamed) {
  const int64_t truncate_at = truncate ? Uniform(rng_, 0, operations - 1) : -1;
  std::vector<int64_t> streamed_at;
  for (int i = 0; i < streamed; ++i) streamed_at.push_back(Uniform(rng_, 0, operations - 1));
  std::sort(streamed_at.begin(), streamed_at.end());
  for (int done = 0; done < operations;) {
    if (!streamed_at.empty() && done >= streamed_at.front()) {
      streamed_at.erase(streamed_at.begin());
      RunStreamed(static_cast<int>(Uniform(rng_, kStreamedOperations / 2, kStreamedOperations)));
      continue;
    }
    source_.Exec("BEGIN");
    for (int64_t n = Uniform(rng_, 1, 6); n > 0 && done < operations; --n, ++done) {
      if (done == truncate_at) {
        for (auto& m : models_) {
          if (m.table->truncated) Truncate(m);
        }
      }
      Operation(Pick(rng_, models_));
    }
    source_.Exec("COMMIT");
    ++stats_.transactions;
    if (after_ && done >= after_operations_) std::exchange(after_, {})();
  }
}

void Workload::Hold(const TableModel& m, const Key& key) {
  if (streaming_ && db_ == &source_) held_.insert({m.table, key});
}

Workload::Snapshot Workload::Take() const {
  return Snapshot{models_, stats_, held_, released_, other_inserts_.size()};
}

void Workload::Restore(const Snapshot& s) {
  for (size_t i = 0; i < models_.size(); ++i) {
    models_[i].live = s.models[i].live;
    models_[i].gone = s.models[i].gone;
    models_[i].rows = s.models[i].rows;  // next_counter stays: keys are never used twice
  }
  for (size_t j = s.other_inserts; j < other_inserts_.size(); ++j) {
    auto& [i, key] = other_inserts_[j];
    if (models_[i].table->keyless()) {
      ++models_[i].rows;
    } else {
      models_[i].live.push_back(key);
    }
  }
  // What the rolled-back changes sent is gone; how the transaction was
  // built is kept.
  const WorkloadStats now = stats_;
  stats_ = s.stats;
  stats_.savepoints_rolled_back = now.savepoints_rolled_back;
  stats_.interleaved = now.interleaved;
  held_ = s.held;
}

void Workload::Segment(int operations, int depth) {
  for (int left = operations; left > 0;) {
    const int n = static_cast<int>(std::min<int64_t>(left, Uniform(rng_, 15, 60)));
    // 0-3 plain, 4-5 a savepoint released, 6 one with savepoints inside,
    // released, 7-8 a savepoint rolled back, 9 one with savepoints inside,
    // rolled back.
    const int64_t kind = depth < 2 ? Uniform(rng_, 0, 9) : 0;
    if (kind < 4) {
      for (int i = 0; i < n; ++i) Operation(Pick(rng_, models_));
    } else {
      const std::string name = "s" + std::to_string(depth);
      const Snapshot at = Take();
      source_.Exec("SAVEPOINT " + name);
      if (kind == 6 || kind == 9) {
        Segment(n, depth + 1);
      } else {
        for (int i = 0; i < n; ++i) Operation(Pick(rng_, models_));
      }
      if (kind >= 7) {
        source_.Exec("ROLLBACK TO SAVEPOINT " + name);
        for (const auto& k : held_) {
          if (!at.held.count(k)) released_.insert(k);
        }
        Restore(at);
        ++stats_.savepoints_rolled_back;
      }
      source_.Exec("RELEASE SAVEPOINT " + name);
    }
    left -= n;
    if (Chance(rng_, 0.5)) OtherCommits(static_cast<int>(Uniform(rng_, 1, 3)));
    if (depth == 0 && mid_stream_ && !mid_stream_called_ && left <= operations / 2) {
      mid_stream_called_ = true;  // a hook set again waits for the next transaction
      std::exchange(mid_stream_, {})();
    }
  }
}

void Workload::OtherCommits(int transactions) {
  db_ = &other_;
  std::swap(stats_, other_stats_);
  for (int t = 0; t < transactions; ++t) {
    other_.Exec("BEGIN");
    for (int64_t n = Uniform(rng_, 1, 4); n > 0; --n) {
      TableModel& m = Pick(rng_, models_);
      const size_t index = static_cast<size_t>(&m - models_.data());
      if (m.table->keyless()) {  // inserts only: the open transaction may hold any row
        KeylessInsert(m, Chance(rng_, 0.2));
        other_inserts_.emplace_back(index, Key{});
        continue;
      }
      // Half the time a row a rolled-back savepoint had changed, when one is free.
      int64_t at = Chance(rng_, 0.5) ? PickReleased(m) : -1;
      if (at >= 0) {
        ++stats_.released_rows_changed;
      } else if (Chance(rng_, 0.5)) {
        at = PickLive(m, true);
      }
      if (at < 0) {
        Insert(m, NewKey(m));
        other_inserts_.emplace_back(index, m.live.back());
      } else if (WideColumns(*m.table).empty()) {
        Update(m, static_cast<size_t>(at));
      } else {
        WideUpdate(m, static_cast<size_t>(at));
      }
    }
    other_.Exec("COMMIT");
    ++stats_.transactions;
  }
  std::swap(stats_, other_stats_);
  db_ = &source_;
  stats_.interleaved += transactions;
}

void Workload::RunStreamed(int operations) {
  const Snapshot before = Take();
  streaming_ = true;
  mid_stream_called_ = false;
  source_.Exec("BEGIN");
  Segment(operations, 0);
  if (Chance(rng_, 0.2)) {
    source_.Exec("ROLLBACK");
    Restore(before);
    ++stats_.streamed_rolled_back;
  } else {
    source_.Exec("COMMIT");
    ++stats_.streamed;
  }
  ++stats_.transactions;
  streaming_ = false;
  held_.clear();
  released_.clear();
  other_inserts_.clear();
  stats_.Add(other_stats_);
  other_stats_ = WorkloadStats{};
}

void Workload::Mark(int phase) {
  source_.Exec("INSERT INTO public." + std::string(kMarkerTable) + " VALUES ($1)",
               {std::to_string(phase)});
}

}  // namespace pgparity::corpus
