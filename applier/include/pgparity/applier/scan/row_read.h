// The one way the checks read rows of a table by SQL, on either side: what
// to select for each of the spec's columns and from which relation, as a
// COPY for whole-table scans and as a SELECT for rows looked up by key.
//
// Every value is its type's output text in the session's pinned formats —
// what pgoutput sends and COPY prints — and NULL stays NULL (libpq's NULL,
// COPY's \N), never ''. On the target a column whose type changed is read
// by its comparison rule (type_change.h: AT TIME ZONE, a cast back, or NULL
// when it is not compared), so its text compares with the source's.
// Tables are read as pgoutput publishes them: a table without its
// inheritance children (ONLY), a partitioned table with its partitions.
#ifndef PGPARITY_APPLIER_SCAN_ROW_READ_H_
#define PGPARITY_APPLIER_SCAN_ROW_READ_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/digest/row_digest.h"

namespace pgparity::applier {

struct TableRead {
  std::string qualified;                 // schema.name, for messages
  std::string relation;                  // "schema"."name", quoted
  bool with_partitions = false;          // a partitioned table: no ONLY
  std::vector<std::string> select_list;  // one entry per spec column
  std::vector<std::string> types;        // of each entry's value, as format_type spells it
  // The publication's row filter (TableSpec::row_filter) on a read of the
  // source, else empty: every row. Only rows that pass it are ever
  // published, so only they are the source's rows to compare.
  std::string row_filter;
  // A condition on the rows read (a key range, KeyRangeRead), combined
  // with the filter by WhereSql; "" = every row.
  std::string row_range;
  // COPY relation (columns) gives the same rows: every expression is the
  // plain column, the relation has no partitions to include and no filter.
  bool plain = true;
  // Per select-list entry: read through digest::WideValueReadSql
  // (ForDigest): two fields, value and wide, so a wide value arrives as
  // its MD5. Empty: none is.
  std::vector<bool> wide_read;

  // The fields a row of the read has: one per entry, two per wide read.
  size_t fields() const;
};

// The source's rows of `spec`: its published columns, and with a row
// filter only the rows that pass it. pgoutput sends the changes of exactly
// those rows: an UPDATE whose old row fails the filter and new row passes
// it is sent as an INSERT, the reverse as a DELETE (pgoutput_row_filter,
// PostgreSQL 15+), so the target converges to "the source's rows WHERE
// filter" and a source row outside the filter is never missing there.
TableRead SourceRead(const TableSpec& spec);
// The target's rows of `spec` where the table has relkind `target_relkind`
// ('p': partitioned there, read with its partitions), columns read by
// spec.compare's rules.
TableRead TargetRead(const TableSpec& spec, char target_relkind);

// `read` for the checks that only digest rows: every compared, toastable,
// non-key column is read through digest::WideValueReadSql, so a wide
// value is hashed on the server and crosses the network as about 40
// bytes, whatever its size. Keys stay plain (rows are looked up by them).
// Values of such a read are kHashed, kValue or kNull (RowValues and
// CopyTextRow::FoldWideValues put the two fields back together); a read
// for repair keeps every value whole. `shown_chars` > 0 (a
// read for showing values, at most that many): values up to that many
// bytes come whole, wider ones with their first `shown_chars` characters.
TableRead ForDigest(TableRead read, const TableSpec& spec, size_t shown_chars = 0);

// `read` restricted to the rows where `condition` holds (an SQL
// expression over its columns, values quoted by the caller): what
// CopySql, SelectByKeysSql and WhereSql read from then on.
TableRead KeyRangeRead(TableRead read, std::string condition);

// COPY ... TO STDOUT of every row (text format), of the filter's rows
// (and the read's row_range).
std::string CopySql(const TableRead& read);
// "SELECT <select list> FROM [ONLY] relation WHERE <key> IN (...)" for
// `keys` keys of `spec`, parameters $1... in key order, key after key.
std::string SelectByKeysSql(const TableRead& read, const TableSpec& spec, size_t keys);

// The read's key is one column whose values it reads as smallint, integer
// or bigint (spec.integer_key and, on the target, a key column that kept
// an integer type): SelectByKeyRangeSql's comparisons order its values as
// numbers, the way an IN list of them matches them.
bool ReadsIntegerKey(const TableRead& read, const TableSpec& spec);
// "SELECT <select list> FROM [ONLY] relation WHERE <key> >= $1 AND <key> <=
// $2": the rows of `read` whose key is from $1 to $2 (integers as text).
// Every row in the range, not only the keys a caller asked for: the caller
// keeps only those. REQUIRES: ReadsIntegerKey(read, spec).
std::string SelectByKeyRangeSql(const TableRead& read, const TableSpec& spec);

// A table without key is searched for one row by its row digest (a
// sequential scan per row) only when it is small and every column is read
// as its text: at most this many rows (`rows`: the shadow's count) and no
// column compared by another rule.
inline constexpr int64_t kMaxRowsSearchedByDigest = 100'000;
bool SearchableByDigest(const TableSpec& spec, int64_t rows);
// The row digest expression (digest_sql.h) over the spec's compared
// columns as stored: the digest the shadow holds for a row, and a row of a
// table without key is named by. `alias` qualifies the columns ("" none).
// Right only when every compared column is read by its text (rule kText):
// SearchableByDigest's condition; repair checks it itself.
std::string ComparedRowDigestSql(const TableSpec& spec, std::string_view alias = "");
// "SELECT <select list> FROM [ONLY] relation WHERE <row digest> = $1":
// the copies of a row of a table without key, by its row digest, $1 the
// digest as 32 hex digits. REQUIRES: the compared columns read by their text.
std::string SelectByDigestSql(const TableRead& read, const TableSpec& spec);
// " WHERE <condition>", the read's row_range and its row filter: the rows
// of `read` for which `condition` holds. `condition` empty: only the range
// and the filter (or "").
std::string WhereSql(const TableRead& read, std::string_view condition);
// "[ONLY] "schema"."name"": the relation `read` reads (ONLY unless it reads
// partitions), for FROM, UPDATE and DELETE.
std::string RelationRef(const TableRead& read);

// Row `row` of a SELECT of `read` as values (views into `result`), NULL as
// NULL, a wide read's two fields as one value. Corruption when a wide
// field is malformed. REQUIRES: out.size() == the select list's size.
[[nodiscard]] Status RowValues(const conn::QueryResult& result, int row, const TableRead& read,
                               std::vector<digest::ColumnValue>& out);

// A key encoding (row_key.h) as key column name -> value text (nullopt for
// NULL); empty when `key_bytes` is not a key of `spec`.
std::vector<std::pair<std::string, std::optional<std::string>>> KeyColumns(
    const TableSpec& spec, std::string_view key_bytes);

// A row's key as "id = '2', region = 'eu'" (every value quoted, NULL
// bare), on one line: control characters become '?', so a key named in a
// message or an SQL comment never ends the line.
std::string KeyText(const std::vector<std::pair<std::string, std::optional<std::string>>>& key);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SCAN_ROW_READ_H_
