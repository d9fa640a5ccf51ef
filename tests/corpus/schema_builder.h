// Internal to the schema generator: the pool of optional columns and a
// small builder the table templates (schema_tables.cc) share.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "corpus/rng.h"
#include "corpus/schema.h"
#include "corpus/schema_gen.h"

namespace pgparity::corpus {

// Pool columns: one name per kind, mixed case and non-ASCII on purpose.
inline const std::map<Kind, std::string>& PoolNames() {
  static const std::map<Kind, std::string> names{
      {Kind::kInt4, "n"},
      {Kind::kInt8, "big N"},
      {Kind::kText, "Beschreibung"},
      {Kind::kCollatedText, "Sortname"},
      {Kind::kLongText, "Inhalt"},
      {Kind::kBytea, "roh"},
      {Kind::kLongBytea, "Anhang"},
      {Kind::kNumeric, "Betrag"},
      {Kind::kTimestamptz, "geändert_am"},
      {Kind::kTimestamp, "lokale Zeit"},
      {Kind::kDate, "Datum"},
      {Kind::kBool, "aktiv"},
      {Kind::kIntArray, "Zahlen"},
      {Kind::kTextArray, "tags"},
      {Kind::kEnum, "Stimmung"},
      {Kind::kDomain, "prüfung"},
      {Kind::kInt4Range, "Bereich"},
      {Kind::kTstzRange, "Zeitraum"},
      {Kind::kJson, "payload"},
      {Kind::kJsonb, "Attribute"},
      {Kind::kReal, "Faktor"},
      {Kind::kInt4ToInt8, "Menge"},
      {Kind::kVarcharToText, "Kürzel"},
      {Kind::kNumericScaled, "Größe"},
      {Kind::kInt2, "klein"},
      {Kind::kFloat8, "Gewicht"},
      {Kind::kUuid, "Kennung"},
      {Kind::kInterval, "Dauer"},
      {Kind::kTime, "Uhrzeit"},
      {Kind::kTimetz, "Uhrzeit (Zone)"},
      {Kind::kInet, "Adresse"},
      {Kind::kCidr, "Netz"},
      {Kind::kMacaddr, "MAC"},
      {Kind::kMoney, "Preis"},
      {Kind::kBpchar, "Kennzeichen"},
      {Kind::kVarbit, "Bits"},
      {Kind::kTsvector, "Suchtext"},
      {Kind::kComposite, "Anschrift"},
      {Kind::kXml, "Beleg"},
      {Kind::kPoint, "Ort"},
      {Kind::kBox, "Rahmen"},
      {Kind::kPolygon, "Fläche"},
  };
  return names;
}

struct Builder {
  Rng& rng;
  const SchemaOptions& options;
  Table table;

  void Add(const std::string& name, Kind kind, bool nullable, std::string generated = "") {
    auto [source, target] = TypesOf(kind, options);
    table.columns.push_back({name, kind, source, target, nullable, std::move(generated)});
  }
  void Key(const std::string& name, Kind kind, std::string type = "") {
    Add(name, kind, false);
    if (!type.empty()) table.columns.back().source_type = table.columns.back().target_type = type;
    table.key.push_back(name);
    if (kind == Kind::kCounter) table.counter = name;
  }
  // `count` random pool columns this table has none of yet; a few NOT NULL.
  // Kinds without equality (HasEquality), or whose `=` holds between
  // different texts (EqualityIsSameText), only when `any_kind`.
  void Pool(int count, bool any_kind) {
    std::vector<Kind> kinds;
    for (const auto& [kind, name] : PoolNames()) {
      if (!any_kind && !(HasEquality(kind) && EqualityIsSameText(kind))) continue;
      if (table.Find(name) == nullptr) kinds.push_back(kind);
    }
    Shuffle(rng, kinds);
    for (int i = 0; i < count && i < static_cast<int>(kinds.size()); ++i) {
      Add(PoolNames().at(kinds[static_cast<size_t>(i)]), kinds[static_cast<size_t>(i)],
          !Chance(rng, 0.15));
    }
  }
  // Shuffle the middle of the columns so keys are not always first.
  void ShuffleSourceOrder() { Shuffle(rng, table.columns); }
};

// The table templates (schema_tables.cc).
Table ItemsTable(Rng& rng, const SchemaOptions& o);
Table OrderLinesTable(Rng& rng, const SchemaOptions& o);
Table TestStandTable(Rng& rng, const SchemaOptions& o);
Table DocsTable(Rng& rng, const SchemaOptions& o);
Table EventsTable(Rng& rng, const SchemaOptions& o, const std::string& schema,
                  const std::string& name);
Table MeasurementsTable(Rng& rng, const SchemaOptions& o);
Table CalcTable(Rng& rng, const SchemaOptions& o);
Table ScratchTable(Rng& rng, const SchemaOptions& o);
Table LogTable(Rng& rng, const SchemaOptions& o);
Table EmptyTable(Rng& rng, const SchemaOptions& o);
std::pair<Table, Table> InheritanceTables(Rng& rng, const SchemaOptions& o);
Table BulkTable(Rng& rng, const SchemaOptions& o);
Table WideTable(Rng& rng, const SchemaOptions& o, const std::string& name, Identity identity,
                bool toast_target);

}  // namespace pgparity::corpus
