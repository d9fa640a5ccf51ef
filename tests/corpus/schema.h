// The corpus' schema model: what the generator decided for one seed, from
// which the DDL of both sides, the workload's values and the injections
// are derived. Plain data; schema_gen.cc fills it, schema_ddl.cc renders it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pgparity::corpus {

// What values a column holds; decides its types and the value generator.
enum class Kind {
  kCounter,  // integer key column unique on its own (the workload's ids)
  kRegion,   // short text key drawn from a fixed set (list partitions, composite keys)
  kKeyTime,  // timestamptz key part (range partitions, composite keys)
  kInt4,
  kInt8,
  kText,
  kCollatedText,
  kLongText,  // > 2 kB of poorly compressible text: stored out of line (TOAST)
  kBytea,
  kLongBytea,    // > 2 kB of random bytes (TOAST)
  kNumeric,      // including 'NaN'
  kTimestamptz,  // including '±infinity'
  kTimestamp,    // including '±infinity'
  kDate,
  kBool,
  kIntArray,
  kTextArray,
  kEnum,
  kDomain,  // over text, non-ASCII name
  kInt4Range,
  kTstzRange,
  kJson,
  kJsonb,
  kReal,           // float4, including NaN, ±Infinity, -0 and subnormals
  kInt4ToInt8,     // int4 on the source, int8 on the target
  kVarcharToText,  // varchar(20) on the source, text on the target
  kNumericScaled,  // numeric(10,2) on the source, numeric(12,2) on the target
  // Types real sample databases hold (pagila, northwind...) beyond the
  // above: each has an equality operator, which the subscriber needs to
  // find a keyless table's row by its FULL identity.
  kInt2,
  kFloat8,  // including NaN, ±Infinity, -0, the extremes
  kUuid,
  kInterval,  // months, days and time apart ('1 day' = '24:00:00' yet prints otherwise)
  kTime,
  kTimetz,
  kInet,  // IPv4 and IPv6, with and without a netmask
  kCidr,
  kMacaddr,
  kMoney,
  kBpchar,  // char(8): blank-padded
  kVarbit,
  kTsvector,
  kComposite,  // "Sales"."Anschrift" (text, int4, text[]): quoted fields, NULL fields, ROW of NULLs
  // Types without a default equality operator (xml, point, polygon) or
  // whose `=` is not equality (box compares areas): the subscriber cannot
  // find a FULL identity's row by them, so only tables with a key, or
  // append-only keyless ones, hold them (like json). pgparity compares them
  // by their text, never with SQL `=`.
  kXml,
  kPoint,
  kBox,
  kPolygon,
  // The wide tables' columns (schema_tables.cc, WideTable): values whose
  // text is short, exactly at the digest's 128-byte threshold (127, 128,
  // 129 bytes), wide but inline, or out of line (values.h, Width).
  kWideText,
  kWideBytea,
  kWideJsonb,
  kWideTextArray,
};

// Whether the subscriber can match a value of this kind in a FULL identity:
// its type has a default equality operator that means equality.
inline bool HasEquality(Kind k) {
  return k != Kind::kJson && k != Kind::kXml && k != Kind::kPoint && k != Kind::kBox &&
         k != Kind::kPolygon;
}

// Whether `=` on this kind holds only between values of the same text. A
// keyless table's rows are found by `=` over the whole FULL identity, so
// among look-alike rows — 0 and -0 (float4, float8), 1.0 and 1.00
// (numeric), '1 day' and '24:00:00' (interval), jsonb's numbers by value —
// the subscriber may change another row than the source did, and the
// target then differs from the source by the subscriber's choice: a
// divergence no tool can avoid, which the oracle would count against the
// seed (soak seed 510411062: -0 in "Sales"."Kassenbuch").
inline bool EqualityIsSameText(Kind k) {
  return k != Kind::kReal && k != Kind::kFloat8 && k != Kind::kNumeric && k != Kind::kInterval &&
         k != Kind::kJsonb;
}

// A column of one of the wide kinds above.
inline bool IsWide(Kind k) {
  return k == Kind::kWideText || k == Kind::kWideBytea || k == Kind::kWideJsonb ||
         k == Kind::kWideTextArray;
}

struct Column {
  std::string name;
  Kind kind = Kind::kText;
  std::string source_type;  // SQL type as written in DDL (may carry COLLATE)
  std::string target_type;  // a conversion (docs/types.md) when schema_gen.cc converts it
  bool nullable = true;
  std::string generated;  // GENERATED ALWAYS AS (<this>) STORED when not empty
};

// A column only the target has.
struct ExtraColumn {
  std::string name;
  std::string definition;  // type and DEFAULT
};

enum class Identity { kDefault, kFull, kUsingIndex };

struct Partition {
  std::string name;
  std::string bound;  // "FOR VALUES ..." or "DEFAULT"
};

// How the target lays out a table the source partitions.
enum class TargetLayout {
  kSame,              // the same partitions
  kOtherBounds,       // other partitions (only with publish_via_partition_root)
  kPlain,             // not partitioned (only with publish_via_partition_root)
  kStandaloneLeaves,  // the source's leaves as plain tables, no parent (only without)
};

struct Partitioning {
  std::string method;  // "RANGE" or "LIST"; empty: not partitioned
  std::string column;
  std::vector<Partition> source;
  std::vector<Partition> target;
  TargetLayout layout = TargetLayout::kSame;
  // Whether the source drops its dropped column before creating the
  // partitions (then the leaves' attribute numbers differ from the root's).
  bool drop_before_partitions = false;
};

struct Table {
  std::string schema;
  std::string name;
  std::vector<Column> columns;   // the source's, in attnum order (generated ones included)
  std::vector<std::string> key;  // primary key or identity index columns; empty: keyless
  std::string counter;           // the kCounter column ("" when keyless)
  Identity identity = Identity::kDefault;
  bool toast_target = false;              // toast_tuple_target = 128 (both sides)
  int source_drop_at = -1;                // index in columns before which a dropped column sat
  int target_drop_at = -1;                // the same in target_order
  std::vector<std::string> target_order;  // target column names, extras included
  std::vector<ExtraColumn> extras;
  Partitioning partitioning;
  bool truncated = false;  // the workload truncates it once
  // Rows the seed inserts server-side (generate_series) instead of the
  // seed's usual rows: a table big enough to spill under --memory-limit
  // 1MiB and to be cut into key ranges (schema_tables.cc, BulkTable).
  int bulk_rows = 0;
  // Keyless and only ever inserted into, like a log: REPLICA IDENTITY
  // DEFAULT without a key (the source refuses UPDATE and DELETE of it once
  // published), so it may hold kinds without equality (HasEquality).
  bool append_only = false;
  // Table inheritance (legacy partitioning): a parent and a child that
  // INHERITS from it, both published and checked apart (a read of the
  // parent without ONLY would also see the child's rows). Neither gets a
  // target-only layout: the child's first `inherited` columns are the
  // parent's, in its order, on both sides.
  bool in_hierarchy = false;
  std::string inherits;   // the parent's name (same schema) when a child
  size_t inherited = 0;   // how many of columns come from the parent
  int64_t first_key = 1;  // the counter's first value (the child's keys apart from the parent's)

  bool keyless() const { return key.empty(); }
  bool partitioned() const { return !partitioning.method.empty(); }
  const Column* Find(const std::string& column) const {
    for (const auto& c : columns) {
      if (c.name == column) return &c;
    }
    return nullptr;
  }
};

struct Schema {
  bool via_root = false;  // publish_via_partition_root
  std::string collation;  // of the collated text columns, a name both servers have
  std::vector<Table> tables;
};

// The labels of the enum type and the set kRegion values come from.
const std::vector<std::string>& EnumLabels();
const std::vector<std::string>& Regions();

}  // namespace pgparity::corpus
