#include "corpus/inject.h"

#include <algorithm>
#include <functional>
#include <optional>

#include "corpus/quote.h"
#include "corpus/schema_ddl.h"
#include "corpus/values.h"

namespace pgparity::corpus {

namespace {

// A relation the target holds rows of `table` in (a leaf when the source
// publishes leaves), and one of its columns.
struct Spot {
  const Table* table;
  std::string relation;
  const Column* column;  // nullptr for row-level injections
};

// One kind of in-place change: which columns qualify, which rows
// ({c} is the column), the SET clause, and its parameters ($1..).
struct Change {
  std::string what;
  std::function<bool(const Column&)> column;
  std::string condition;
  std::string set;
  std::function<std::vector<Value>(const Column&)> params = [](const Column&) {
    return std::vector<Value>{};
  };
  bool condition_uses_params = false;
  bool keyed = true;
  // Which tables qualify; {r} in condition is the row's relation (a whole-row reference).
  std::function<bool(const Table&)> table = [](const Table&) { return true; };
};

struct Found {
  std::vector<Value> key;
  std::string text;  // "c=v, ..." for the log
};

bool IsKey(const Table& t, const Column& c) {
  return std::find(t.key.begin(), t.key.end(), c.name) != t.key.end();
}

// A column schema_gen.cc converted (docs/types.md); widened ones differ
// in type too but are no conversion.
bool Converted(const Column& c) {
  const bool kind = c.kind == Kind::kTimestamp || c.kind == Kind::kTimestamptz ||
                    c.kind == Kind::kReal || c.kind == Kind::kJson;
  return kind && c.source_type != c.target_type;
}

bool TextLike(Kind k) {
  return k == Kind::kText || k == Kind::kCollatedText || k == Kind::kVarcharToText ||
         k == Kind::kDomain || k == Kind::kLongText || k == Kind::kWideText;
}

class Injector {
 public:
  Injector(Session& target, const Schema& schema, Workload& workload, Rng& rng)
      : target_(target), schema_(schema), workload_(workload), rng_(rng) {}

  void Run();
  std::vector<std::string> done;

 private:
  std::vector<Spot> Spots(const Change& change);
  std::optional<Found> FindRow(const Spot& s, const std::string& condition,
                               const std::vector<Value>& params);
  bool Update(const Change& change);
  bool DeleteRow();
  bool ExtraRow();
  bool KeylessChange(bool duplicate);
  std::string Where(const Table& t, size_t first) const;

  Session& target_;
  const Schema& schema_;
  Workload& workload_;
  Rng& rng_;
  int64_t next_reserved_ = -1000;
};

std::vector<Spot> Injector::Spots(const Change& change) {
  std::vector<Spot> out;
  for (const auto& t : schema_.tables) {
    if (t.keyless() == change.keyed || !change.table(t)) continue;
    for (const auto& rel : PublishedNames(schema_, t)) {
      for (const auto& c : t.columns) {
        if (c.generated.empty() && !IsKey(t, c) && change.column(c)) out.push_back({&t, rel, &c});
      }
    }
  }
  Shuffle(rng_, out);
  return out;
}

std::string Injector::Where(const Table& t, size_t first) const {
  std::string out;
  for (size_t i = 0; i < t.key.size(); ++i) {
    out += (i ? " AND " : "") + QuoteIdent(t.key[i]) + " = $" + std::to_string(first + i);
  }
  return out;
}

// A row of the spot's relation meeting `condition` that nothing froze yet.
std::optional<Found> Injector::FindRow(const Spot& s, const std::string& condition,
                                       const std::vector<Value>& params) {
  const Table& t = *s.table;
  std::string keys;
  for (const auto& k : t.key) keys += (keys.empty() ? "" : ", ") + QuoteIdent(k);
  const auto rows = target_.Query("SELECT " + keys + " FROM " + QuoteTable(t.schema, s.relation) +
                                      " WHERE (" + condition + ") AND " + QuoteIdent(t.counter) +
                                      " > 0 ORDER BY " + keys + " LIMIT 100",
                                  params);
  TableModel* model = workload_.Model(t);
  std::vector<Found> candidates;
  for (const auto& r : rows) {
    Found f{r, ""};
    for (size_t i = 0; i < t.key.size(); ++i) {
      f.text += (i ? ", " : "") + t.key[i] + "=" + r[i].value_or("NULL");
      if (t.key[i] == t.counter && model->frozen.count(std::stoll(*r[i]))) f.key.clear();
    }
    if (!f.key.empty()) candidates.push_back(std::move(f));
  }
  if (candidates.empty()) return std::nullopt;
  Found f = Pick(rng_, candidates);
  const auto counter = std::find(t.key.begin(), t.key.end(), t.counter) - t.key.begin();
  model->frozen.insert(std::stoll(*f.key[static_cast<size_t>(counter)]));
  return f;
}

// The first spot (random order) with a row meeting the change's
// condition, changed.
bool Injector::Update(const Change& change) {
  for (const auto& s : Spots(change)) {
    const std::string c = QuoteIdent(s.column->name), r = QuoteIdent(s.relation);
    auto subst = [&](std::string sql) {
      for (size_t p; (p = sql.find("{c}")) != std::string::npos;) sql.replace(p, 3, c);
      for (size_t p; (p = sql.find("{r}")) != std::string::npos;) sql.replace(p, 3, r);
      return sql;
    };
    auto values = change.params(*s.column);
    auto row = FindRow(s, subst(change.condition),
                       change.condition_uses_params ? values : std::vector<Value>{});
    if (!row) continue;
    const size_t first = values.size() + 1;
    values.insert(values.end(), row->key.begin(), row->key.end());
    target_.Exec("UPDATE " + QuoteTable(s.table->schema, s.relation) + " SET " + subst(change.set) +
                     " WHERE " + Where(*s.table, first),
                 values);
    done.push_back(change.what + ": " + s.table->schema + "." + s.relation + " " + row->text +
                   " column " + s.column->name);
    return true;
  }
  return false;
}

std::vector<Change> Changes(Rng& rng) {
  auto nullable_text = [](const Column& c) { return c.nullable && TextLike(c.kind); };
  auto nullable = [](const Column& c) { return c.nullable; };
  auto kinds = [](Kind a, Kind b) {
    return [a, b](const Column& c) { return c.kind == a || c.kind == b; };
  };
  auto text = [](const Column& c) { return TextLike(c.kind); };
  auto bytea = [](const Column& c) {
    return c.kind == Kind::kBytea || c.kind == Kind::kWideBytea || c.kind == Kind::kLongBytea;
  };
  // The changed value is stored inline: a row under 1.5 kB of text stays
  // under TOAST's 2 kB threshold stored, and without toast_tuple_target =
  // 128 the toaster moves nothing of such a row out of line.
  auto untoasted = [](const Table& t) { return !t.toast_target; };
  const std::string small_row = "octet_length({r}::text) < 1500";
  // One ASCII character of a text replaced by another: the same byte length.
  const std::string at = "1 + $1 % char_length({c})";
  const std::string ascii_at = "octet_length(substr({c}, " + at + ", 1)) = 1";
  const std::string one_character = "{c} = overlay({c} placing CASE WHEN substr({c}, " + at +
                                    ", 1) = 'Q' THEN 'R' ELSE 'Q' END from " + at + " for 1)";
  auto value = [&rng](const Column& c) { return std::vector<Value>{RandomNonNull(rng, c.kind)}; };
  auto number = [&rng](int64_t lo, int64_t hi) {
    return [&rng, lo, hi](const Column&) {
      return std::vector<Value>{std::to_string(Uniform(rng, lo, hi))};
    };
  };
  // One-dimensional arrays; from their own lower bound (values.cc's
  // IntArray makes others than 1).
  const std::string element = "{c}[array_lower({c}, 1) + $1 % cardinality({c})]";
  const std::string one_dimension = "array_ndims({c}) = 1";
  auto converted = [](Kind k) {
    return [k](const Column& c) { return c.kind == k && Converted(c); };
  };
  auto converted_time = [](const Column& c) {
    return Converted(c) && (c.kind == Kind::kTimestamp || c.kind == Kind::kTimestamptz);
  };
  return {
      {"NULL -> ''", nullable_text, "{c} IS NULL", "{c} = ''"},
      {"'' -> NULL", nullable_text, "{c} = ''", "{c} = NULL"},
      {"NULL -> value", nullable, "{c} IS NULL", "{c} = $1", value},
      {"value -> NULL", nullable, "{c} IS NOT NULL", "{c} = NULL"},
      {"one character of a TOASTed text", kinds(Kind::kLongText, Kind::kWideText),
       "length({c}) > 2000",
       "{c} = overlay({c} placing CASE WHEN substr({c}, $1, 1) = 'Q' THEN 'R' ELSE 'Q' END "
       "from $1 for 1)",
       number(1, 2000)},
      {"one byte of a TOASTed bytea", kinds(Kind::kLongBytea, Kind::kWideBytea),
       "length({c}) > 2000", "{c} = set_byte({c}, $1, (get_byte({c}, $1) + 1) % 256)",
       number(0, 1999)},
      // Wide values (over the digest's 128 bytes of text) that are not
      // TOASTed, and texts right at the threshold (128: a value, 129: a
      // hash under digest definition 2), one byte changed.
      {"one character of a wide inline text", text,
       "octet_length({c}) BETWEEN 129 AND 1000 AND " + ascii_at + " AND " + small_row,
       one_character, number(0, 999), true, true, untoasted},
      {"one byte of a wide inline bytea", bytea, "length({c}) BETWEEN 64 AND 500 AND " + small_row,
       "{c} = set_byte({c}, $1 % length({c}), (get_byte({c}, $1 % length({c})) + 1) % 256)",
       number(0, 999), false, true, untoasted},
      {"one character of a text of 128 or 129 bytes", text,
       "octet_length({c}) IN (128, 129) AND " + ascii_at, one_character, number(0, 999), true},
      {"an int array element", kinds(Kind::kIntArray, Kind::kIntArray), one_dimension,
       element + " = coalesce(" + element + ", 0) + 1", number(0, 9)},
      // The same elements from index 0: '[0:2]={1,2,3}' is another value
      // than '{1,2,3}' (array equality compares the bounds too).
      {"an int array's lower bound", kinds(Kind::kIntArray, Kind::kIntArray),
       one_dimension + " AND array_lower({c}, 1) = 1",
       "{c} = ('[0:' || (cardinality({c}) - 1) || ']=' || {c}::text)::int4[]"},
      {"a text array element", kinds(Kind::kTextArray, Kind::kWideTextArray), one_dimension,
       element + " = coalesce(" + element + ", '') || 'x'", number(0, 9)},
      // Converted columns: a difference the rule must see (one microsecond,
      // a double real cannot hold), one it must not (a double that rounds
      // to the same real), and any value; json -> jsonb ones are not
      // compared, so whatever changes there is no difference to report.
      {"another value in a converted column", Converted, "{c}::text IS DISTINCT FROM $1::text",
       "{c} = $1", value, true},
      {"one microsecond on a converted timestamp", converted_time, "isfinite({c})",
       "{c} = {c} + interval '1 microsecond'"},
      {"a double outside real's range", converted(Kind::kReal), "{c} IS DISTINCT FROM -1e300",
       "{c} = -1e300"},
      {"a double in its last digits (the same real)", converted(Kind::kReal),
       "{c} <> 0 AND {c}::text NOT IN ('NaN', 'Infinity', '-Infinity')", "{c} = {c} * (1 - 1e-12)"},
      // As text: json has no equality operator.
      {"another value", [](const Column&) { return true; }, "{c}::text IS DISTINCT FROM $1::text",
       "{c} = $1", value, true},
  };
}

// A keyed table's relations, in random order.
std::vector<Spot> KeyedRelations(const Schema& schema, Rng& rng, bool leaves_ok) {
  std::vector<Spot> out;
  for (const auto& t : schema.tables) {
    if (t.keyless()) continue;
    const auto names = PublishedNames(schema, t);
    if (!leaves_ok && names.size() > 1) continue;
    for (const auto& rel : names) out.push_back({&t, rel, nullptr});
  }
  Shuffle(rng, out);
  return out;
}

bool Injector::DeleteRow() {
  for (const auto& s : KeyedRelations(schema_, rng_, true)) {
    auto row = FindRow(s, "true", {});
    if (!row) continue;
    target_.Exec(
        "DELETE FROM " + QuoteTable(s.table->schema, s.relation) + " WHERE " + Where(*s.table, 1),
        row->key);
    done.push_back("deleted row: " + s.table->schema + "." + s.relation + " " + row->text);
    return true;
  }
  return false;
}

// A row with a reserved (negative) counter: the source never sends it.
bool Injector::ExtraRow() {
  const auto spots = KeyedRelations(schema_, rng_, false);
  if (spots.empty()) return false;
  const Table& t = *spots.front().table;
  std::string cols, placeholders, text;
  std::vector<Value> params;
  for (const auto& c : t.columns) {
    if (!c.generated.empty()) continue;
    if (c.name == t.counter) {
      params.push_back(std::to_string(next_reserved_--));
    } else {
      params.push_back(IsKey(t, c) ? Value(RandomNonNull(rng_, c.kind)) : RandomValue(rng_, c));
    }
    if (IsKey(t, c)) text += (text.empty() ? "" : ", ") + c.name + "=" + *params.back();
    cols += (cols.empty() ? "" : ", ") + QuoteIdent(c.name);
    placeholders += (placeholders.empty() ? "$" : ", $") + std::to_string(params.size());
  }
  target_.Exec("INSERT INTO " + QuoteTable(t.schema, t.name) + " (" + cols + ") VALUES (" +
                   placeholders + ")",
               params);
  done.push_back("extra row: " + t.schema + "." + t.name + " " + text);
  return true;
}

// A table without a key: one row changed (one missing + one extra) or
// duplicated (one extra).
bool Injector::KeylessChange(bool duplicate) {
  std::vector<const Table*> tables;
  for (const auto& t : schema_.tables) {
    if (t.keyless()) tables.push_back(&t);
  }
  if (tables.empty()) return false;
  const Table& t = *Pick(rng_, tables);
  const std::string rel = QuoteTable(t.schema, t.name);
  const int64_t rows = std::stoll(*target_.Scalar("SELECT count(*) FROM " + rel));
  if (rows == 0) return false;
  const Value offset = std::to_string(Uniform(rng_, 0, rows - 1));
  const std::string nth = "(SELECT r.ctid FROM " + rel +
                          " AS r ORDER BY r::text COLLATE \"C\", r.ctid LIMIT 1 OFFSET $1)";
  std::vector<const Column*> cols;
  std::string list;
  for (const auto& c : t.columns) {
    cols.push_back(&c);
    list += (list.empty() ? "" : ", ") + QuoteIdent(c.name);
  }
  workload_.Model(t)->frozen_rows = true;
  if (duplicate) {
    target_.Exec("INSERT INTO " + rel + (list.empty() ? "" : " (" + list + ")") + " SELECT " +
                     list + " FROM " + rel + " WHERE ctid = " + nth,
                 {offset});
    done.push_back("duplicated row (no key): " + t.schema + "." + t.name + " row #" + *offset);
    return true;
  }
  if (cols.empty()) {  // a table of no columns: one row fewer
    target_.Exec("DELETE FROM " + rel + " WHERE ctid = " + nth, {offset});
    done.push_back("deleted row (no key, no columns): " + t.schema + "." + t.name + " row #" +
                   *offset);
    return true;
  }
  const Column& c = *Pick(rng_, cols);
  const Value v = RandomNonNull(rng_, c.kind);
  target_.Exec("UPDATE " + rel + " SET " + QuoteIdent(c.name) + " = $2 WHERE ctid = " + nth +
                   " AND " + QuoteIdent(c.name) + "::text IS DISTINCT FROM $3::text",
               {offset, v, v});
  done.push_back("changed row (no key): " + t.schema + "." + t.name + " row #" + *offset +
                 " column " + c.name);
  return true;
}

void Injector::Run() {
  const auto changes = Changes(rng_);
  for (const auto& c : changes) Update(c);
  DeleteRow();
  ExtraRow();
  KeylessChange(false);
  if (Chance(rng_, 0.5)) KeylessChange(true);
  // A few more, anywhere.
  for (int64_t i = Uniform(rng_, 1, 3); i > 0; --i) {
    const int64_t dice = Uniform(rng_, 0, 3);
    if (dice == 3) {
      DeleteRow();
    } else {
      Update(changes[dice == 0 ? 2 : dice == 1 ? 3 : changes.size() - 1]);
    }
  }
}

}  // namespace

std::vector<std::string> InjectDivergences(Session& target, const Schema& schema,
                                           Workload& workload, Rng& rng) {
  Injector injector(target, schema, workload, rng);
  injector.Run();
  return injector.done;
}

}  // namespace pgparity::corpus
