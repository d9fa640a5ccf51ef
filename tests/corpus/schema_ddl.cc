#include "corpus/schema_ddl.h"

#include "corpus/quote.h"

namespace pgparity::corpus {

namespace {

std::string Join(const std::vector<std::string>& parts, const std::string& sep = ", ") {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string Idents(const std::vector<std::string>& names) {
  std::vector<std::string> q;
  for (const auto& n : names) q.push_back(QuoteIdent(n));
  return Join(q);
}

// Objects both sides share: schemas, the enum, domain and composite types
// (non-ASCII names), the phase marker table.
std::string Preamble() {
  return "CREATE SCHEMA \"Sales\";\nCREATE SCHEMA \"Lager\";\n"
         "CREATE TYPE \"Sales\".\"Stimmung\" AS ENUM ('froh', 'traurig', 'gleichgültig', "
         "'so lala');\n"
         "CREATE DOMAIN public.\"prüfung_dom\" AS text CHECK (VALUE <> 'verboten');\n"
         "CREATE TYPE \"Sales\".\"Anschrift\" AS (\"Straße\" text, plz int4, tags text[]);\n"
         "CREATE TABLE public." +
         std::string(kMarkerTable) + " (phase int4 PRIMARY KEY);\n";
}

std::string ColumnDef(const Column& c, bool source) {
  std::string def = QuoteIdent(c.name) + " " + (source ? c.source_type : c.target_type);
  if (!c.nullable) def += " NOT NULL";
  if (!c.generated.empty()) def += " GENERATED ALWAYS AS (" + c.generated + ") STORED";
  return def;
}

std::string TableBody(const Table& t, bool source) {
  std::vector<std::string> defs;
  const int drop_at = source ? t.source_drop_at : t.target_drop_at;
  const std::string dropped = source ? "\"entfernt\" int4" : "\"verworfen\" text";
  const size_t n = source ? t.columns.size() : t.target_order.size();
  for (size_t i = 0; i <= n; ++i) {
    if (static_cast<int>(i) == drop_at) defs.push_back(dropped);
    if (i == n) break;
    if (i < t.inherited) continue;  // the parent's, by INHERITS
    if (source) {
      defs.push_back(ColumnDef(t.columns[i], true));
    } else if (const Column* c = t.Find(t.target_order[i])) {
      defs.push_back(ColumnDef(*c, false));
    } else {
      for (const auto& e : t.extras) {
        if (e.name == t.target_order[i]) defs.push_back(QuoteIdent(e.name) + " " + e.definition);
      }
    }
  }
  if (!t.keyless() && t.identity != Identity::kUsingIndex) {
    defs.push_back("PRIMARY KEY (" + Idents(t.key) + ")");
  }
  return "(" + Join(defs) + ")";
}

std::string DropColumn(const Table& t, const std::string& relation, bool source) {
  if ((source ? t.source_drop_at : t.target_drop_at) < 0) return "";
  return "ALTER TABLE " + QuoteTable(t.schema, relation) + " DROP COLUMN " +
         (source ? "\"entfernt\"" : "\"verworfen\"") + ";\n";
}

// Identity and storage settings of one plain (or leaf) relation.
std::string Settings(const Table& t, const std::string& relation, bool partitioned_root) {
  const std::string q = QuoteTable(t.schema, relation);
  std::string sql;
  if (t.identity == Identity::kUsingIndex) {
    const std::string index = relation + "_ident";
    sql += "CREATE UNIQUE INDEX " + QuoteIdent(index) + " ON " + q + " (" + Idents(t.key) + ");\n";
    sql += "ALTER TABLE " + q + " REPLICA IDENTITY USING INDEX " + QuoteIdent(index) + ";\n";
  } else if (t.identity == Identity::kFull) {
    sql += "ALTER TABLE " + q + " REPLICA IDENTITY FULL;\n";
  }
  if (t.toast_target && !partitioned_root) {
    sql += "ALTER TABLE " + q + " SET (toast_tuple_target = 128);\n";
  }
  return sql;
}

std::string Partitions(const Table& t, const std::vector<Partition>& parts) {
  std::string sql;
  for (const auto& p : parts) {
    sql += "CREATE TABLE " + QuoteTable(t.schema, p.name) + " PARTITION OF " +
           QuoteTable(t.schema, t.name) + " " + p.bound + ";\n";
  }
  return sql;
}

// " INHERITS (parent)" for a child table, else "".
std::string Inherits(const Table& t) {
  return t.inherits.empty() ? "" : " INHERITS (" + QuoteTable(t.schema, t.inherits) + ")";
}

std::string SourceTable(const Table& t) {
  std::string sql =
      "CREATE TABLE " + QuoteTable(t.schema, t.name) + " " + TableBody(t, true) + Inherits(t);
  if (!t.partitioned())
    return sql + ";\n" + DropColumn(t, t.name, true) + Settings(t, t.name, false);
  const Partitioning& p = t.partitioning;
  sql += " PARTITION BY " + p.method + " (" + QuoteIdent(p.column) + ");\n";
  if (p.drop_before_partitions) sql += DropColumn(t, t.name, true);
  sql += Partitions(t, p.source);
  if (!p.drop_before_partitions) sql += DropColumn(t, t.name, true);
  return sql + Settings(t, t.name, true);
}

std::string TargetTable(const Table& t) {
  const std::string body = TableBody(t, false);
  const Partitioning& p = t.partitioning;
  if (!t.partitioned() || p.layout == TargetLayout::kPlain) {
    return "CREATE TABLE " + QuoteTable(t.schema, t.name) + " " + body + Inherits(t) + ";\n" +
           DropColumn(t, t.name, false) + Settings(t, t.name, false);
  }
  if (p.layout == TargetLayout::kStandaloneLeaves) {
    std::string sql;
    for (const auto& leaf : p.source) {
      sql += "CREATE TABLE " + QuoteTable(t.schema, leaf.name) + " " + body + ";\n" +
             DropColumn(t, leaf.name, false) + Settings(t, leaf.name, false);
    }
    return sql;
  }
  std::string sql = "CREATE TABLE " + QuoteTable(t.schema, t.name) + " " + body + " PARTITION BY " +
                    p.method + " (" + QuoteIdent(p.column) + ");\n";
  sql += Partitions(t, p.layout == TargetLayout::kSame ? p.source : p.target);
  return sql + DropColumn(t, t.name, false) + Settings(t, t.name, true);
}

}  // namespace

std::string SourceDdl(const Schema& schema) {
  std::string sql = Preamble();
  for (const auto& t : schema.tables) sql += SourceTable(t);
  return sql;
}

std::string TargetDdl(const Schema& schema) {
  std::string sql = Preamble();
  for (const auto& t : schema.tables) sql += TargetTable(t);
  return sql;
}

std::vector<std::string> PublishedNames(const Schema& schema, const Table& table) {
  if (!table.partitioned() || schema.via_root) return {table.name};
  std::vector<std::string> leaves;
  for (const auto& p : table.partitioning.source) leaves.push_back(p.name);
  return leaves;
}

}  // namespace pgparity::corpus
