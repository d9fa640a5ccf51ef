// The SQL that recomputes docs/digest.md's row and table digests on a
// PostgreSQL server (9.4+: md5, format, octet_length, numeric), with no
// extension and no pgparity code: the independent check of our digests,
// and the server-side way to digest a whole table.
//
// Run it in a session with the pinned output settings (DateStyle ISO,
// IntervalStyle postgres, TimeZone UTC, extra_float_digits 3, bytea_output
// hex) on a UTF8 database; docs/digest.md says why.
#ifndef PGPARITY_DIGEST_DIGEST_SQL_H_
#define PGPARITY_DIGEST_DIGEST_SQL_H_

#include <span>
#include <string>
#include <string_view>

namespace pgparity::digest {

// The expression md5(<canonical encoding>) for one row of schema.table,
// whose columns (any order) are given by name; evaluates to 32 hex digits.
// `row_alias` qualifies the column references ("" for none).
std::string RowDigestSql(std::string_view schema, std::string_view table,
                         std::span<const std::string> columns, std::string_view row_alias = "");

// Two select-list expressions, "value, wide", for reading `expression` (of
// type `type`, as format_type spells it) so that a wide value
// (row_digest.h) is hashed on the server and never sent whole: when its
// text is longer than max(kWideValueBytes, `shown_chars`) bytes, value is
// NULL and wide is the MD5 of the text, its length in bytes and, with
// `shown_chars` > 0, ':' and its first `shown_chars` characters (to show
// it); otherwise value is the value (NULL for NULL) and wide NULL.
// ParseWideValue (row_digest.h) reads wide back. For text, varchar,
// bpchar and bytea the length comes from the value's header, without the
// output function: a narrow value costs the server almost nothing more
// than reading it plainly.
std::string WideValueReadSql(std::string_view expression, std::string_view type,
                             size_t shown_chars = 0);

// Which rows of a table its digest covers: its own (FROM ONLY: an
// inheritance parent's children are tables of their own, published and
// checked apart), or, for a partitioned table, its partitions' (which
// hold all of its rows; ONLY would read none).
enum class RowsOf { kTableOnly, kPartitions };

// A query returning one row (rows bigint, digest text): the table's row
// count and the sum of its row digests mod 2^128 as 32 hex digits.
std::string TableDigestSql(std::string_view schema, std::string_view table,
                           std::span<const std::string> columns, RowsOf rows);

}  // namespace pgparity::digest

#endif  // PGPARITY_DIGEST_DIGEST_SQL_H_
