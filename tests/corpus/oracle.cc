#include "corpus/oracle.h"

#include <map>

#include "corpus/oracle_types.h"

namespace pgparity::corpus {

namespace {

// Identifier quoting written out here again: the oracle shares no code
// with what it checks.
std::string Ident(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

struct Published {
  std::string schema, name;
  // Compared: not dropped, not generated (never published), not a
  // json -> jsonb column; attnum order.
  std::vector<std::string> columns;
  std::vector<ReadRule> rules;          // how the target reads each of columns
  std::vector<size_t> key;              // positions in columns
  std::vector<TypeChangeSeen> changes;  // every published column whose type differs
};

const std::string kRelation =
    "(SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = $1 AND c.relname = $2)";

// Column name -> format_type of the relation schema.name on `db`.
std::map<std::string, std::string> ColumnTypes(Session& db, const std::string& schema,
                                               const std::string& name) {
  std::map<std::string, std::string> out;
  for (const auto& c : db.Query("SELECT attname::text, format_type(atttypid, atttypmod) FROM "
                                "pg_attribute WHERE attrelid = " +
                                    kRelation +
                                    " AND attnum > 0 AND NOT attisdropped AND "
                                    "attgenerated = '' ORDER BY attnum",
                                {schema, name})) {
    out.emplace(*c[0], *c[1]);
  }
  return out;
}

// The published columns, each with the rule its target type calls for.
void ReadColumns(Session& source, Session& target, Published& p) {
  const auto target_types = ColumnTypes(target, p.schema, p.name);
  for (const auto& c : source.Query("SELECT attname::text, format_type(atttypid, atttypmod) "
                                    "FROM pg_attribute WHERE attrelid = " +
                                        kRelation +
                                        " AND attnum > 0 AND NOT attisdropped AND "
                                        "attgenerated = '' ORDER BY attnum",
                                    {p.schema, p.name})) {
    const auto t = target_types.find(*c[0]);
    const ReadRule rule = t == target_types.end() ? ReadRule::kText : RuleFor(*c[1], t->second);
    if (t != target_types.end() && t->second != *c[1]) {
      p.changes.push_back({*c[0], *c[1], t->second, rule});
    }
    if (rule == ReadRule::kNotCompared) continue;
    p.columns.push_back(*c[0]);
    p.rules.push_back(rule);
  }
}

// The key: the identity index with REPLICA IDENTITY USING INDEX, else the
// primary key (also under FULL); in column order, as pgparity prints it.
void ReadKey(Session& source, Published& p) {
  const auto key = source.Query(
      "SELECT a.attname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
      "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
      "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
      "WHERE i.indrelid = " +
          kRelation +
          " AND CASE WHEN c.relreplident = 'i' THEN i.indisreplident ELSE i.indisprimary END "
          "ORDER BY k.ord",
      {p.schema, p.name});
  for (size_t i = 0; i < p.columns.size(); ++i) {
    for (const auto& k : key) {
      if (p.columns[i] == *k[0]) p.key.push_back(i);
    }
  }
}

std::vector<Published> PublishedTables(Session& source, Session& target,
                                       const std::string& publication) {
  std::vector<Published> out;
  for (const auto& row : source.Query("SELECT schemaname::text, tablename::text FROM "
                                      "pg_publication_tables WHERE pubname = $1 ORDER BY "
                                      "schemaname::text COLLATE \"C\", tablename::text "
                                      "COLLATE \"C\"",
                                      {publication})) {
    Published p{*row[0], *row[1], {}, {}, {}, {}};
    ReadColumns(source, target, p);
    ReadKey(source, p);
    out.push_back(std::move(p));
  }
  return out;
}

// FROM ONLY but for a partitioned table (whose partitions hold its rows):
// an inheritance parent's children are tables of their own.
std::string FromOnly(Session& db, const Published& p) {
  const auto kind =
      db.Query("SELECT relkind::text FROM pg_class WHERE oid = " + kRelation, {p.schema, p.name});
  const bool partitioned = !kind.empty() && kind[0][0] && *kind[0][0] == "p";
  return std::string(" FROM ") + (partitioned ? "" : "ONLY ") + Ident(p.schema) + "." +
         Ident(p.name);
}

// The source reads its columns as they are; the target by the rules of
// docs/types.md, the source's default TimeZone as $1 when a rule needs it.
std::vector<Row> ReadRows(Session& db, const Published& p, const std::string* source_timezone) {
  std::string cols;
  bool zone = false;
  for (size_t i = 0; i < p.columns.size(); ++i) {
    const ReadRule rule = source_timezone ? p.rules[i] : ReadRule::kText;
    zone |= rule == ReadRule::kAtTimeZone;
    cols += (cols.empty() ? "" : ", ") + TargetRead(Ident(p.columns[i]), rule);
  }
  const std::string sql = "SELECT " + cols + FromOnly(db, p);
  return zone ? db.Query(sql, {*source_timezone}) : db.Query(sql);
}

std::string Abridged(const Row& row) {
  std::string out = "(";
  for (size_t i = 0; i < row.size(); ++i) {
    std::string v =
        row[i] ? "'" + row[i]->substr(0, 24) + (row[i]->size() > 24 ? "…" : "") + "'" : "NULL";
    out += (i ? ", " : "") + v;
  }
  return out + ")";
}

void CompareKeyed(const Published& p, const std::vector<Row>& src, const std::vector<Row>& tgt,
                  TableDiff& d) {
  auto keyed = [&](const std::vector<Row>& rows) {
    std::map<Row, const Row*> m;
    for (const auto& r : rows) {
      Row k;
      for (size_t i : p.key) k.push_back(r[i]);
      m.emplace(std::move(k), &r);
    }
    return m;
  };
  const auto s = keyed(src), t = keyed(tgt);
  auto key_of = [&](const Row& k) {
    RowKey out;
    for (size_t i = 0; i < p.key.size(); ++i) out.emplace_back(p.columns[p.key[i]], k[i]);
    return out;
  };
  for (const auto& [k, row] : s) {
    auto it = t.find(k);
    if (it == t.end()) {
      d.rows.push_back({key_of(k), DiffKind::kMissingOnTarget, {}, {}});
      ++d.missing;
      continue;
    }
    RowDiff diff{key_of(k), DiffKind::kDiffers, {}, {}};
    for (size_t i = 0; i < p.columns.size(); ++i) {
      if ((*row)[i] != (*it->second)[i]) diff.columns.push_back(p.columns[i]);
    }
    if (!diff.columns.empty()) d.rows.push_back(std::move(diff));
  }
  for (const auto& [k, row] : t) {
    if (!s.count(k)) {
      d.rows.push_back({key_of(k), DiffKind::kExtraOnTarget, {}, {}});
      ++d.extra;
    }
  }
}

// Multisets: each surplus copy of a row on one side is one difference.
void CompareKeyless(const std::vector<Row>& src, const std::vector<Row>& tgt, TableDiff& d) {
  std::map<Row, std::pair<size_t, size_t>> counts;
  for (const auto& r : src) ++counts[r].first;
  for (const auto& r : tgt) ++counts[r].second;
  for (const auto& [row, c] : counts) {
    for (size_t i = c.second; i < c.first; ++i) {
      d.rows.push_back({{}, DiffKind::kMissingOnTarget, {}, Abridged(row)});
      ++d.missing;
    }
    for (size_t i = c.first; i < c.second; ++i) {
      d.rows.push_back({{}, DiffKind::kExtraOnTarget, {}, Abridged(row)});
      ++d.extra;
    }
  }
}

}  // namespace

std::string_view DiffKindName(DiffKind kind) {
  switch (kind) {
    case DiffKind::kMissingOnTarget:
      return "missing_on_target";
    case DiffKind::kExtraOnTarget:
      return "extra_on_target";
    case DiffKind::kDiffers:
      return "differs";
  }
  return "differs";
}

std::string KeyText(const RowKey& key) {
  std::string out;
  for (const auto& [c, v] : key) out += (out.empty() ? "" : ", ") + c + "=" + v.value_or("NULL");
  return out;
}

OracleResult RunOracle(Session& source, Session& target, const std::string& publication,
                       const std::string& source_timezone) {
  OracleResult result;
  result.source_timezone = source_timezone;
  for (const auto& p : PublishedTables(source, target, publication)) {
    TableDiff d;
    d.table = p.schema + "." + p.name;
    d.keyed = !p.key.empty();
    d.type_changes = p.changes;
    for (size_t i : p.key) d.key.push_back(p.columns[i]);
    const auto src = ReadRows(source, p, nullptr);
    const auto tgt = ReadRows(target, p, &source_timezone);
    d.source_rows = src.size();
    d.target_rows = tgt.size();
    if (d.keyed) {
      CompareKeyed(p, src, tgt, d);
    } else {
      CompareKeyless(src, tgt, d);
    }
    result.tables.push_back(std::move(d));
  }
  return result;
}

size_t OracleResult::DivergentRows() const {
  size_t n = 0;
  for (const auto& t : tables) n += t.rows.size();
  return n;
}

const TableDiff* OracleResult::Find(const std::string& table) const {
  for (const auto& t : tables) {
    if (t.table == table) return &t;
  }
  return nullptr;
}

std::string OracleResult::Describe(size_t max_lines) const {
  std::string out;
  size_t lines = 0;
  for (const auto& t : tables) {
    for (const auto& r : t.rows) {
      if (lines++ == max_lines) return out + "  ...\n";
      out += "  " + t.table + " " + std::string(DiffKindName(r.kind)) + " " +
             (t.keyed ? KeyText(r.key) : r.row);
      for (size_t i = 0; i < r.columns.size(); ++i) out += (i ? ", " : " columns: ") + r.columns[i];
      out += "\n";
    }
  }
  return out.empty() ? "  (no difference)\n" : out;
}

}  // namespace pgparity::corpus
