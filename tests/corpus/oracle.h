// The corpus' oracle: the exact differences between the target and the
// source, from plain SQL and nothing of pgparity (no digests, no catalog
// code, no quoting helper). Per published table it reads every row of both
// sides — the source's published columns selected by name on both, libpq
// text with NULL apart from '' — and compares them by key (primary key, or
// the identity index with REPLICA IDENTITY USING INDEX, as docs/report.md
// defines a row's key), or as multisets of rows for tables without one.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corpus/oracle_types.h"
#include "corpus/session.h"

namespace pgparity::corpus {

enum class DiffKind { kMissingOnTarget, kExtraOnTarget, kDiffers };
std::string_view DiffKindName(DiffKind kind);

// Key column -> value text, in key order.
using RowKey = std::vector<std::pair<std::string, Value>>;

struct RowDiff {
  RowKey key;  // empty for tables without a key
  DiffKind kind = DiffKind::kDiffers;
  std::vector<std::string> columns;  // differs: the differing columns, in column order
  std::string row;                   // tables without a key: the row, abridged
};

struct TableDiff {
  std::string table;  // schema.name, unquoted, as reports name it
  bool keyed = false;
  std::vector<std::string> key;  // key columns
  size_t source_rows = 0, target_rows = 0;
  std::vector<RowDiff> rows;      // one per divergent row (keyless: per surplus copy)
  size_t missing = 0, extra = 0;  // rows of each kind
  // Published columns whose type differs on the target; the report must
  // list each in type_changes[], the not compared ones in unverified_columns[].
  std::vector<TypeChangeSeen> type_changes;
};

struct OracleResult {
  std::vector<TableDiff> tables;
  std::string source_timezone;  // what a new session on the source is told
  size_t DivergentRows() const;
  const TableDiff* Find(const std::string& table) const;
  // Every difference, one line each (at most `max_lines`).
  std::string Describe(size_t max_lines = 200) const;
};

// "c1=v1, c2=NULL", as pgparity prints a key.
std::string KeyText(const RowKey& key);

// `source_timezone`: the source's default TimeZone (SessionDefault), found
// apart from pgparity; timestamp <-> timestamptz columns are read in it.
OracleResult RunOracle(Session& source, Session& target, const std::string& publication,
                       const std::string& source_timezone);

}  // namespace pgparity::corpus
