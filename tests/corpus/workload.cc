#include "corpus/workload.h"

#include <algorithm>

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

std::string WorkloadStats::Summary() const {
  return std::to_string(transactions) + " transactions: " + std::to_string(inserts) + " inserts, " +
         std::to_string(updates) + " updates (" + std::to_string(toast_unchanged) +
         " leaving TOAST unchanged), " + std::to_string(moves) + " partition moves, " +
         std::to_string(deletes) + " deletes, " + std::to_string(reinserts) + " re-inserts, " +
         std::to_string(duplicates) + " duplicate rows, " + std::to_string(truncates) +
         " truncates";
}

Workload::Workload(const Schema& schema, Session& source, Rng& rng)
    : schema_(schema), source_(source), rng_(rng) {
  for (const auto& t : schema_.tables) {
    TableModel m;
    m.table = &t;
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

int64_t Workload::PickLive(TableModel& m) {
  const auto counter =
      std::find(m.table->key.begin(), m.table->key.end(), m.table->counter) - m.table->key.begin();
  for (int attempt = 0; attempt < 10 && !m.live.empty(); ++attempt) {
    const auto at = Uniform(rng_, 0, static_cast<int64_t>(m.live.size()) - 1);
    if (!m.frozen.count(
            std::stoll(m.live[static_cast<size_t>(at)][static_cast<size_t>(counter)]))) {
      return at;
    }
  }
  return -1;
}

void Workload::Insert(TableModel& m, const Key& key) {
  const auto cols = Writable(*m.table, true);
  std::vector<Value> params;
  std::string placeholders;
  for (const auto* c : cols) {
    const auto k = std::find(m.table->key.begin(), m.table->key.end(), c->name);
    params.push_back(k != m.table->key.end()
                         ? Value(key[static_cast<size_t>(k - m.table->key.begin())])
                         : RandomValue(rng_, *c));
    placeholders += (placeholders.empty() ? "" : ", ") + Param(params.size());
  }
  source_.Exec(
      "INSERT INTO " + Rel(*m.table) + " (" + ColumnList(cols) + ") VALUES (" + placeholders + ")",
      params);
  m.live.push_back(key);
  ++stats_.inserts;
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
  source_.Exec("UPDATE " + Rel(*m.table) + " SET " + set + " WHERE " + WhereKey(*m.table, first),
               params);
  ++stats_.updates;
}

// A new partition key value: the row moves to another partition (mostly).
void Workload::Move(TableModel& m, size_t at) {
  const Table& t = *m.table;
  const auto pos = static_cast<size_t>(
      std::find(t.key.begin(), t.key.end(), t.partitioning.column) - t.key.begin());
  const Column* c = t.Find(t.partitioning.column);
  Key& key = m.live[at];
  std::string value = RandomNonNull(rng_, c->kind);
  while (value == key[pos]) value = RandomNonNull(rng_, c->kind);
  std::vector<Value> params{value};
  params.insert(params.end(), key.begin(), key.end());
  source_.Exec("UPDATE " + Rel(t) + " SET " + QuoteIdent(t.partitioning.column) + " = $1 WHERE " +
                   WhereKey(t, 2),
               params);
  key[pos] = value;
  ++stats_.moves;
}

void Workload::Delete(TableModel& m, size_t at) {
  const Key key = m.live[at];
  source_.Exec("DELETE FROM " + Rel(*m.table) + " WHERE " + WhereKey(*m.table, 1),
               std::vector<Value>(key.begin(), key.end()));
  SwapRemove(m.live, at);
  m.gone.push_back(key);
  ++stats_.deletes;
}

void Workload::Truncate(TableModel& m) {
  source_.Exec("TRUNCATE " + Rel(*m.table));
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
    Update(m, static_cast<size_t>(at));
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
  if (duplicate && m.rows > 0) {
    source_.Exec("INSERT INTO " + Rel(*m.table) + " (" + ColumnList(cols) + ") SELECT " +
                     ColumnList(cols) + " FROM " + Rel(*m.table) +
                     " WHERE ctid = " + NthRowCtid(*m.table, 1),
                 {std::to_string(Uniform(rng_, 0, m.rows - 1))});
    ++stats_.duplicates;
  } else {
    std::vector<Value> params;
    std::string placeholders;
    for (const auto* c : cols) {
      params.push_back(RandomValue(rng_, *c));
      placeholders += (placeholders.empty() ? "" : ", ") + Param(params.size());
    }
    source_.Exec("INSERT INTO " + Rel(*m.table) + " (" + ColumnList(cols) + ") VALUES (" +
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
    source_.Exec("DELETE FROM " + Rel(*m.table) + " WHERE ctid = " + NthRowCtid(*m.table, 1),
                 {offset});
    --m.rows;
    ++stats_.deletes;
    return;
  }
  const auto cols = Writable(*m.table, true);
  const Column& c = *Pick(rng_, cols);
  source_.Exec("UPDATE " + Rel(*m.table) + " SET " + QuoteIdent(c.name) +
                   " = $2 WHERE ctid = " + NthRowCtid(*m.table, 1),
               {offset, RandomValue(rng_, c)});
  ++stats_.updates;
}

void Workload::KeylessOperation(TableModel& m) {
  const int64_t dice = Uniform(rng_, 0, 99);
  if (dice < 40 || m.frozen_rows) {
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

void Workload::Seed(int rows) {
  source_.Exec("BEGIN");
  for (auto& m : models_) {
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

void Workload::Run(int operations, bool truncate) {
  const int64_t truncate_at = truncate ? Uniform(rng_, 0, operations - 1) : -1;
  for (int done = 0; done < operations;) {
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
  }
}

void Workload::Mark(int phase) {
  source_.Exec("INSERT INTO public." + std::string(kMarkerTable) + " VALUES ($1)",
               {std::to_string(phase)});
}

}  // namespace pgparity::corpus
