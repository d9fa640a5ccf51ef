// The table templates: each owns some of the features the corpus must
// cover (README.md lists which), plus random pool columns.
#include <cstdio>

#include "corpus/quote.h"
#include "corpus/schema_builder.h"

namespace pgparity::corpus {

Table ItemsTable(Rng& rng, const SchemaOptions& o) {
  Builder b{rng, o, {}};
  b.table.schema = "public";
  b.table.name = "items";
  b.Key("id", Kind::kCounter);
  b.Pool(static_cast<int>(Uniform(rng, 5, 9)), true);
  b.ShuffleSourceOrder();
  b.table.identity = Chance(rng, 0.3) ? Identity::kFull : Identity::kDefault;
  return b.table;
}

// Composite key with collated text and timestamptz; the widened columns.
Table OrderLinesTable(Rng& rng, const SchemaOptions& o) {
  Builder b{rng, o, {}};
  b.table.schema = "Sales";
  b.table.name = "Order Lines";
  b.Key("Region", Kind::kRegion, "text COLLATE " + QuoteIdent(o.collation));
  b.Key("Bestellt am", Kind::kKeyTime);
  b.Key("Zeile", Kind::kCounter, "int4");
  b.Add("Größe", Kind::kNumericScaled, true);
  b.Add("Menge", Kind::kInt4ToInt8, true);
  b.Add("Kürzel", Kind::kVarcharToText, true);
  b.Pool(static_cast<int>(Uniform(rng, 2, 4)), true);
  b.ShuffleSourceOrder();
  return b.table;
}

// No primary key: REPLICA IDENTITY USING INDEX on a unique index.
Table TestStandTable(Rng& rng, const SchemaOptions& o) {
  Builder b{rng, o, {}};
  b.table.schema = "Lager";
  b.table.name = "Prüfstand";
  b.Key("Serie", Kind::kRegion);
  b.Key("Code", Kind::kCounter, "int4");
  b.Add("prüfung", Kind::kDomain, true);
  b.Add("Bereich", Kind::kInt4Range, true);
  b.Add("Zahlen", Kind::kIntArray, true);
  b.Pool(static_cast<int>(Uniform(rng, 1, 3)), true);
  b.ShuffleSourceOrder();
  b.table.identity = Identity::kUsingIndex;
  return b.table;
}

// TOAST: long text and bytea, toast_tuple_target = 128 on some seeds.
Table DocsTable(Rng& rng, const SchemaOptions& o) {
  Builder b{rng, o, {}};
  b.table.schema = "public";
  b.table.name = "docs";
  b.Key("id", Kind::kCounter, "int4");
  b.Add("Titel", Kind::kText, true);
  b.Add("Inhalt", Kind::kLongText, true);
  b.Add("Anhang", Kind::kLongBytea, true);
  b.Add("Länge", Kind::kInt4, true, "length(\"Titel\")");
  b.Pool(static_cast<int>(Uniform(rng, 1, 3)), true);
  b.ShuffleSourceOrder();
  b.table.toast_target = Chance(rng, 0.6);
  b.table.identity = Chance(rng, 0.4) ? Identity::kFull : Identity::kDefault;
  return b.table;
}

// Keyless with duplicate rows: REPLICA IDENTITY FULL. No json: the
// subscriber compares FULL identities with the type's equality operator.
Table EventsTable(Rng& rng, const SchemaOptions& o, const std::string& schema,
                  const std::string& name) {
  Builder b{rng, o, {}};
  b.table.schema = schema;
  b.table.name = name;
  b.Add("art", Kind::kText, true);
  b.Add("n", Kind::kInt4, true);
  b.Add("Inhalt", Kind::kLongText, true);
  b.Add("tags", Kind::kTextArray, true);
  b.Pool(static_cast<int>(Uniform(rng, 1, 3)), false);
  b.ShuffleSourceOrder();
  b.table.identity = Identity::kFull;
  b.table.toast_target = Chance(rng, 0.5);
  return b.table;
}

// Keyless and append-only, like an application's log: REPLICA IDENTITY
// DEFAULT, so the source accepts only INSERTs once it is published. The
// kinds without equality (json, xml, point) are fine here: the subscriber
// never looks a row up. No target-only columns either (Finish).
Table LogTable(Rng& rng, const SchemaOptions& o) {
  Builder b{rng, o, {}};
  b.table.schema = "public";
  b.table.name = "Protokoll";
  b.Add("Zeitpunkt", Kind::kTimestamptz, true);
  b.Add("Ereignis", Kind::kText, true);
  b.Add("Daten", Kind::kJson, true);
  b.Add("Nachricht", Kind::kXml, true);
  b.Add("Position", Kind::kPoint, true);
  b.Pool(static_cast<int>(Uniform(rng, 1, 3)), true);
  b.ShuffleSourceOrder();
  b.table.append_only = true;
  b.table.toast_target = Chance(rng, 0.3);
  return b.table;
}

// No columns at all (CREATE TABLE t ()): rows only to count, inserted,
// duplicated and deleted; REPLICA IDENTITY FULL, whose empty identity
// matches any row — all are alike. A dropped column sometimes (Finish).
Table EmptyTable(Rng& rng, const SchemaOptions& o) {
  Builder b{rng, o, {}};
  b.table.schema = "public";
  b.table.name = "Leer";
  b.table.identity = Identity::kFull;
  return b.table;
}

// Table inheritance, as schemas from before declarative partitioning have
// it: "Konten" and its child "Konten Archiv" (own key, keys from 1,000,000,
// so the parent's UPDATE and DELETE by key never reach the child's rows).
std::pair<Table, Table> InheritanceTables(Rng& rng, const SchemaOptions& o) {
  Builder parent{rng, o, {}};
  parent.table.schema = "public";
  parent.table.name = "Konten";
  parent.Key("id", Kind::kCounter);
  parent.Add("Inhaber", Kind::kText, true);
  parent.Pool(static_cast<int>(Uniform(rng, 1, 3)), true);
  parent.table.in_hierarchy = true;
  Builder child{rng, o, parent.table};
  child.table.name = "Konten Archiv";
  child.table.inherits = parent.table.name;
  child.table.inherited = parent.table.columns.size();
  child.table.first_key = 1000000;
  child.Add("archiviert am", Kind::kTimestamptz, true);
  child.Pool(static_cast<int>(Uniform(rng, 0, 2)), true);
  return {parent.table, child.table};
}

// Generated columns, the same definition on both sides.
Table CalcTable(Rng& rng, const SchemaOptions& o) {
  Builder b{rng, o, {}};
  b.table.schema = "public";
  b.table.name = "calc";
  b.Key("id", Kind::kCounter, "int4");
  b.Add("a", Kind::kInt4, true);
  b.Add("b", Kind::kInt4, true);
  b.Add("Summe", Kind::kInt8, true, "coalesce(\"a\", 0)::int8 * coalesce(\"b\", 0)");
  b.Add("name", Kind::kText, true);
  b.Add("name_len", Kind::kInt4, true, "length(\"name\")");
  b.Pool(static_cast<int>(Uniform(rng, 0, 2)), true);
  return b.table;
}

// Truncated once by the workload.
Table ScratchTable(Rng& rng, const SchemaOptions& o) {
  Builder b{rng, o, {}};
  b.table.schema = "public";
  b.table.name = "scratch";
  b.Key("id", Kind::kCounter);
  b.Add("v", Kind::kText, true);
  b.Add("Attribute", Kind::kJsonb, true);
  b.Pool(static_cast<int>(Uniform(rng, 0, 2)), true);
  b.table.truncated = true;
  return b.table;
}

// Many rows (Table::bulk_rows, inserted by the server), so the checks'
// variants have something to do (seed_run.h, CheckVariant): tables
// spilled under --memory-limit 1MiB, key ranges, a rolling walk in
// several ranges. Plain columns: the seed's values come from SQL
// (workload.cc, BulkSeedSql), the workload's from values.cc.
Table BulkTable(Rng& rng, const SchemaOptions& o) {
  Builder b{rng, o, {}};
  b.table.schema = "public";
  b.table.name = "Bestand";
  b.Key("id", Kind::kCounter);
  b.Add("n", Kind::kInt4, true);
  b.Add("Text", Kind::kText, true);
  b.Add("Zeit", Kind::kTimestamptz, true);
  b.ShuffleSourceOrder();
  b.table.bulk_rows = 20000;
  return b.table;
}

// Wide values (values.h, Width): four columns whose values are short,
// exactly 127, 128 or 129 bytes of text, wide but inline, or out of line,
// often several out of line in one row; narrow columns beside them, so an
// UPDATE can leave every TOASTed value unchanged.
Table WideTable(Rng& rng, const SchemaOptions& o, const std::string& name, Identity identity,
                bool toast_target) {
  Builder b{rng, o, {}};
  b.table.schema = "public";
  b.table.name = name;
  b.Key("id", Kind::kCounter);
  b.Add("Notiz", Kind::kWideText, true);
  b.Add("Blob", Kind::kWideBytea, true);
  b.Add("Dokument", Kind::kWideJsonb, true);
  b.Add("Liste", Kind::kWideTextArray, true);
  b.Add("Titel", Kind::kText, true);
  b.Add("Zähler", Kind::kInt4, true);
  b.Pool(static_cast<int>(Uniform(rng, 0, 1)), true);
  b.ShuffleSourceOrder();
  b.table.identity = identity;
  b.table.toast_target = toast_target;
  return b.table;
}

namespace {

std::string Ts(int year, int month) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-01 00:00:00+00", year, month);
  return QuoteLiteral(buf);
}

std::string InList(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + QuoteLiteral(v);
  return "FOR VALUES IN (" + out + ")";
}

// Yearly partitions 2019..2023 and a default one (±infinity lands there);
// the target's other bounds cut elsewhere and cover everything.
void RangePartitions(const std::string& root, Partitioning& p) {
  p.method = "RANGE";
  p.column = "Messzeit";
  for (int y = 2019; y <= 2023; ++y) {
    p.source.push_back({root + "_" + std::to_string(y),
                        "FOR VALUES FROM (" + Ts(y, 1) + ") TO (" + Ts(y + 1, 1) + ")"});
  }
  p.source.push_back({root + "_sonst", "DEFAULT"});
  p.target = {{root + "_alt", "FOR VALUES FROM (MINVALUE) TO (" + Ts(2021, 7) + ")"},
              {root + "_neu", "FOR VALUES FROM (" + Ts(2021, 7) + ") TO (MAXVALUE)"}};
}

void ListPartitions(const std::string& root, Partitioning& p) {
  p.method = "LIST";
  p.column = "Region";
  p.source = {{root + "_nord", InList({"nord"})},
              {root + "_süd", InList({"süd"})},
              {root + "_ostwest", InList({"ost", "west"})},
              {root + "_rest", "DEFAULT"}};
  p.target = {{root + "_a", InList({"nord", "ost", "west"})}, {root + "_b", "DEFAULT"}};
}

}  // namespace

// Partitioned by range (timestamptz) or list (text); the target lays it
// out the same, with other bounds or unpartitioned (via the root only), or
// as standalone leaves (leaves published).
Table MeasurementsTable(Rng& rng, const SchemaOptions& o) {
  Builder b{rng, o, {}};
  b.table.schema = "public";
  b.table.name = "Messwerte";
  Partitioning& p = b.table.partitioning;
  if (Chance(rng, 0.5)) {
    RangePartitions(b.table.name, p);
    b.Key("Messzeit", Kind::kKeyTime);
  } else {
    ListPartitions(b.table.name, p);
    b.Key("Region", Kind::kRegion);
  }
  b.Key("id", Kind::kCounter);
  b.Add("Wert", Kind::kNumeric, true);
  b.Add("Quelle", Kind::kText, true);
  b.Pool(static_cast<int>(Uniform(rng, 1, 3)), true);
  b.ShuffleSourceOrder();
  const int64_t layout = Uniform(rng, 0, 2);
  if (o.via_root) {
    p.layout = layout == 0   ? TargetLayout::kSame
               : layout == 1 ? TargetLayout::kOtherBounds
                             : TargetLayout::kPlain;
  } else {
    p.layout = layout == 0 ? TargetLayout::kStandaloneLeaves : TargetLayout::kSame;
  }
  p.drop_before_partitions = Chance(rng, 0.5);
  return b.table;
}

}  // namespace pgparity::corpus
