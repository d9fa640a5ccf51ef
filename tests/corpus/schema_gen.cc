#include "corpus/schema_gen.h"

#include <algorithm>
#include <map>

#include "corpus/quote.h"
#include "corpus/schema_builder.h"

namespace pgparity::corpus {

const std::vector<std::string>& EnumLabels() {
  static const std::vector<std::string> labels{"froh", "traurig", "gleichgültig", "so lala"};
  return labels;
}

const std::vector<std::string>& Regions() {
  static const std::vector<std::string> regions{"nord", "süd",   "ost",
                                                "west", "mitte", "Zentrum ÄÖÜ"};
  return regions;
}

std::pair<std::string, std::string> TypesOf(Kind kind, const SchemaOptions& options) {
  auto same = [](std::string t) { return std::pair{t, t}; };
  auto widened = [&](std::string s, std::string t) {
    return options.widen ? std::pair{s, t} : std::pair{s, s};
  };
  switch (kind) {
    case Kind::kCounter:
    case Kind::kInt8:
      return same("int8");
    case Kind::kInt4:
      return same("int4");
    case Kind::kRegion:
    case Kind::kText:
    case Kind::kLongText:
    case Kind::kWideText:
      return same("text");
    case Kind::kCollatedText:
      return same("text COLLATE " + QuoteIdent(options.collation));
    case Kind::kKeyTime:
    case Kind::kTimestamptz:
      return same("timestamptz");
    case Kind::kBytea:
    case Kind::kLongBytea:
    case Kind::kWideBytea:
      return same("bytea");
    case Kind::kNumeric:
      return same("numeric");
    case Kind::kTimestamp:
      return same("timestamp");
    case Kind::kDate:
      return same("date");
    case Kind::kBool:
      return same("bool");
    case Kind::kIntArray:
      return same("int4[]");
    case Kind::kTextArray:
    case Kind::kWideTextArray:
      return same("text[]");
    case Kind::kEnum:
      return same(QuoteTable("Sales", "Stimmung"));
    case Kind::kDomain:
      return same(QuoteTable("public", "prüfung_dom"));
    case Kind::kInt4Range:
      return same("int4range");
    case Kind::kTstzRange:
      return same("tstzrange");
    case Kind::kJson:
      return same("json");
    case Kind::kJsonb:
    case Kind::kWideJsonb:
      return same("jsonb");
    case Kind::kReal:
      return same("real");
    case Kind::kInt4ToInt8:
      return widened("int4", "int8");
    case Kind::kVarcharToText:
      return widened("varchar(20)", "text");
    case Kind::kNumericScaled:
      return widened("numeric(10,2)", "numeric(12,2)");
    case Kind::kInt2:
      return same("int2");
    case Kind::kFloat8:
      return same("float8");
    case Kind::kUuid:
      return same("uuid");
    case Kind::kInterval:
      return same("interval");
    case Kind::kTime:
      return same("time");
    case Kind::kTimetz:
      return same("timetz");
    case Kind::kInet:
      return same("inet");
    case Kind::kCidr:
      return same("cidr");
    case Kind::kMacaddr:
      return same("macaddr");
    case Kind::kMoney:
      return same("money");
    case Kind::kBpchar:
      return same("char(8)");
    case Kind::kVarbit:
      return same("varbit");
    case Kind::kTsvector:
      return same("tsvector");
    case Kind::kComposite:
      return same(QuoteTable("Sales", "Anschrift"));
    case Kind::kXml:
      return same("xml");
    case Kind::kPoint:
      return same("point");
    case Kind::kBox:
      return same("box");
    case Kind::kPolygon:
      return same("polygon");
  }
  return same("text");
}

namespace {

// Target order, extra target columns and dropped columns on either side.
void Finish(Rng& rng, Table& t) {
  for (const auto& c : t.columns) t.target_order.push_back(c.name);
  if (t.in_hierarchy) return;  // the same layout on both sides
  Shuffle(rng, t.target_order);
  static const std::vector<ExtraColumn> extras{
      {"note", "text DEFAULT 'target only'"},
      {"Zusatz", "int4 NOT NULL DEFAULT 7"},
      {"eingespielt_am", "timestamptz DEFAULT '2000-01-01 00:00:00+00'"}};
  for (const auto& e : extras) {
    // Not on tables without a key: the subscriber finds a FULL identity's
    // row by comparing every local column, a target-only column (NULL in
    // the searched tuple) included, and would miss every UPDATE/DELETE.
    if (t.keyless() || !Chance(rng, 0.3)) continue;
    t.extras.push_back(e);
    const auto at = Uniform(rng, 0, static_cast<int64_t>(t.target_order.size()));
    t.target_order.insert(t.target_order.begin() + at, e.name);
  }
  if (Chance(rng, 0.4)) t.source_drop_at = static_cast<int>(Uniform(rng, 0, t.columns.size()));
  if (Chance(rng, 0.4)) {
    t.target_drop_at = static_cast<int>(Uniform(rng, 0, t.target_order.size()));
  }
}

// The conversion classes of docs/types.md: a column of `kind` may get
// `target` as its target type.
struct Conversion {
  Kind kind;
  const char* target;
};

const std::vector<Conversion>& Conversions() {
  static const std::vector<Conversion> conversions{{Kind::kTimestamp, "timestamptz"},
                                                   {Kind::kTimestamptz, "timestamp"},
                                                   {Kind::kReal, "float8"},
                                                   {Kind::kJson, "jsonb"}};
  return conversions;
}

// Not a key column: a key column that is not compared makes the table
// unverified. No json -> jsonb without a key (README.md).
bool Convertible(const Table& t, const Column& c, Kind kind) {
  const bool key = std::find(t.key.begin(), t.key.end(), c.name) != t.key.end();
  return c.kind == kind && c.generated.empty() && !key && !(kind == Kind::kJson && t.keyless()) &&
         !t.in_hierarchy;  // a child's column has its parent's type
}

// Most seeds convert each class, then half its columns, at least one: the
// seeds differ in which columns and classes, every class is covered often.
void Convert(Rng& rng, Schema& s) {
  for (const auto& [kind, target] : Conversions()) {
    if (!Chance(rng, 0.8)) continue;
    std::vector<Column*> eligible;
    for (auto& t : s.tables) {
      for (auto& c : t.columns) {
        if (Convertible(t, c, kind)) eligible.push_back(&c);
      }
    }
    if (eligible.empty()) continue;
    bool any = false;
    for (Column* c : eligible) {
      if (Chance(rng, 0.5)) c->target_type = target, any = true;
    }
    if (!any) Pick(rng, eligible)->target_type = target;
  }
}

}  // namespace

Schema GenerateSchema(Rng& rng, const SchemaOptions& options) {
  Schema s;
  s.via_root = options.via_root;
  s.collation = options.collation;
  s.tables.push_back(ItemsTable(rng, options));
  s.tables.push_back(OrderLinesTable(rng, options));
  s.tables.push_back(TestStandTable(rng, options));
  s.tables.push_back(DocsTable(rng, options));
  s.tables.push_back(EventsTable(rng, options, "public", "events"));
  if (Chance(rng, 0.5)) s.tables.push_back(EventsTable(rng, options, "Sales", "Kassenbuch"));
  s.tables.push_back(MeasurementsTable(rng, options));
  s.tables.push_back(CalcTable(rng, options));
  s.tables.push_back(ScratchTable(rng, options));
  s.tables.push_back(LogTable(rng, options));
  s.tables.push_back(EmptyTable(rng, options));
  auto [parent, child] = InheritanceTables(rng, options);
  s.tables.push_back(std::move(parent));  // before its child: the DDL's order
  s.tables.push_back(std::move(child));
  // Wide values around the digest's threshold, with and without FULL;
  // toast_tuple_target = 128 on exactly one of the two.
  const bool toast_first = Chance(rng, 0.5);
  s.tables.push_back(WideTable(rng, options, "Breit", Identity::kDefault, toast_first));
  s.tables.push_back(WideTable(rng, options, "Breit voll", Identity::kFull, !toast_first));
  s.tables.push_back(BulkTable(rng, options));
  // Every kind in every seed, in a table that is updated and deleted
  // from: what the pool left out goes to items.
  for (const auto& [kind, name] : PoolNames()) {
    bool present = false;
    for (const auto& t : s.tables) {
      for (const auto& c : t.columns) present |= c.kind == kind && !t.append_only;
    }
    if (!present) {
      auto [source, target] = TypesOf(kind, options);
      s.tables.front().columns.push_back({name, kind, source, target, true, ""});
    }
  }
  if (options.convert) Convert(rng, s);
  for (auto& t : s.tables) Finish(rng, t);
  return s;
}

}  // namespace pgparity::corpus
