// RowDigester: the canonical encoding of a row and its 128-bit digest
// (MD5 of the encoding), exactly as docs/digest.md defines them and as the
// SQL of DigestSql recomputes them on a server.
//
// One RowDigester per table (it precomputes the column order); it reuses its
// buffers, so digesting a row allocates nothing once they have grown.
// Not thread-safe: use one per thread.
#ifndef PGPARITY_DIGEST_ROW_DIGEST_H_
#define PGPARITY_DIGEST_ROW_DIGEST_H_

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/digest/digest128.h"
#include "pgparity/digest/md5_batch.h"
#include "pgparity/result.h"
#include "pgparity/wire/tuple.h"

namespace pgparity::digest {

// The digest definition these classes implement (docs/digest.md). 2: a
// value whose text is longer than kWideValueBytes enters the row encoding
// as "H" and the MD5 of its text; 1: every value entered as its text.
// Digests of different definitions never compare: state and recordings
// say which one they hold.
inline constexpr int kDigestDefinition = 2;

// A value whose text is longer than this many bytes is wide: the row
// encoding holds its MD5, not its text, so whoever digests rows needs 16
// bytes per wide value, never the value (docs/digest.md says why 128).
inline constexpr size_t kWideValueBytes = 128;
inline constexpr bool IsWide(std::string_view text) noexcept {
  return text.size() > kWideValueBytes;
}

// One column's value as the digest sees it.
struct ColumnValue {
  enum class Kind : char {
    kNull = 'N',
    kUnchangedToast = 'U',  // only in change records, never in a stored row
    kValue = 'V',           // text output of the type's output function
    kHashed = 'H',          // a wide value, given as the MD5 of its text
  };
  Kind kind = Kind::kNull;
  // kValue: the text. kHashed: the MD5 of the text as 32 lower-case hex
  // digits (what SQL's md5() prints), then, when known, the text's length
  // in decimal and maybe ':' and the text's first characters (for showing
  // the value: only the 32 digits are digested).
  std::string_view text;

  static ColumnValue Null() { return {Kind::kNull, {}}; }
  static ColumnValue Unchanged() { return {Kind::kUnchangedToast, {}}; }
  static ColumnValue Value(std::string_view v) { return {Kind::kValue, v}; }
  // REQUIRES: md5_hex starts with 32 lower-case hex digits.
  static ColumnValue Hashed(std::string_view md5_hex) { return {Kind::kHashed, md5_hex}; }

  // kHashed: the 32 digits, the length (0 when not known) and the start
  // of the text (empty when not read).
  std::string_view md5_hex() const noexcept { return text.substr(0, 32); }
  uint64_t wide_length() const noexcept;
  std::string_view wide_prefix() const noexcept;
};

// The storage behind a kHashed value: 32 hex digits and up to 20 of length.
using WideHashHex = std::array<char, 52>;

// When `v` is a wide kValue, replaces it by its kHashed form (digits and
// length written into `storage`, which must outlive `v`'s use); otherwise
// leaves it. The one place a wide value's MD5 is computed from its text.
void HashIfWide(ColumnValue& v, WideHashHex& storage);

// The wide half of WideValueReadSql (digest_sql.h) as the kHashed value it
// stands for (a view into `wide`); Corruption when it is not 32 hex
// digits, a decimal length and maybe ':' and text.
Result<ColumnValue> ParseWideValue(std::string_view wide);

class RowDigester {
 public:
  // `columns` are the table's column names in the order its tuples carry
  // them (pgoutput: the Relation message's order).
  RowDigester(std::string_view schema, std::string_view table,
              std::span<const std::string> columns);
  RowDigester(std::string_view schema, std::string_view table,
              std::span<const std::string_view> columns);

  size_t column_count() const noexcept { return names_.size(); }

  // REQUIRES: values.size() == column_count(), in tuple order.
  Digest128 Digest(std::span<const ColumnValue> values);

  // A pgoutput tuple in text form ('b' binary columns are digested as their
  // raw bytes, which is not the canonical text: callers use text mode).
  // REQUIRES: tuple.size() == column_count().
  Digest128 Digest(const wire::TupleView& tuple);

  // Appends the tuple's canonical encoding to `batch` (whose Compute gives
  // the same digest as Digest(tuple)) and returns its index in the batch.
  // A row whose encoding may exceed kMaxBatchedBytes is hashed at once
  // instead (a batch is bounded; such rows gain nothing from lanes): then
  // the result is kHashedNow and the digest is in *now.
  // REQUIRES: tuple.size() == column_count().
  // (Wide values being hashed, a row's encoding is at most about 160 bytes
  // per column: only a table of well over a thousand columns gets there.)
  static constexpr size_t kMaxBatchedBytes = size_t{256} << 10;
  static constexpr size_t kHashedNow = ~size_t{0};
  size_t EncodeInto(const wire::TupleView& tuple, Md5Batch& batch, Digest128& now);
  // REQUIRES: values.size() == column_count(), in tuple order.
  size_t EncodeInto(std::span<const ColumnValue> values, Md5Batch& batch, Digest128& now);

  // The canonical encoding of the last row digested (tests, debugging).
  std::string_view last_encoding() const noexcept { return {buffer_.data(), length_}; }

  // The encoded table name that starts every row's encoding:
  // counted(schema) "." counted(table) (docs/digest.md), also the `table`
  // part of a chained-digest change record.
  std::string_view encoded_table() const noexcept { return prefix_; }

 private:
  // One column in encoding order (bytewise by name).
  struct SortedColumn {
    size_t position;     // in tuple order
    size_t name_offset;  // of "<len>:<name>" in names_blob_
    size_t name_length;
  };

  void Init(std::string_view schema, std::string_view table);
  // Puts the tuple's columns into scratch_; returns EncodedBound() of them,
  // counted on the way.
  size_t Load(const wire::TupleView& tuple);
  // Copies values into scratch_; returns EncodedBound().
  size_t Load(std::span<const ColumnValue> values);
  // The most bytes Encode writes for scratch_.
  size_t EncodedBound() const;
  // Replaces the wide values in scratch_ by their hashes (wide_hex_ holds
  // the digits).
  void HashWideValues();
  // Encodes scratch_ (tuple order) at out; returns the end.
  char* Encode(char* out) const;
  // scratch_ (of at most `bound` encoded bytes) into the batch, or hashed
  // now when too large for one.
  size_t EncodeLoadedInto(size_t bound, Md5Batch& batch, Digest128& now);
  // Encodes scratch_ (at most `bound` bytes) into buffer_ and hashes it.
  Digest128 EncodeAndHash(size_t bound);

  std::vector<std::string> names_;     // tuple order
  std::string prefix_;                 // encoded table name
  std::vector<SortedColumn> sorted_;   // encoding order
  std::string names_blob_;             // the encoded names, back to back
  size_t fixed_bytes_ = 0;             // prefix + names + one kind byte per column
  std::vector<ColumnValue> scratch_;   // tuple columns, reused
  std::vector<WideHashHex> wide_hex_;  // per column: a wide value's MD5 digits
  std::vector<char> buffer_;           // the encoding, reused; grows, never shrinks
  size_t length_ = 0;                  // of the last encoding in buffer_
};

// A table's digest from its rows, the row digests computed a batch at a time
// (Md5Batch): what a full scan that only needs the sum uses.
//
//   TableDigester t("public", "users", columns);
//   for (row : rows) t.Add(row);
//   TableDigest d = t.Finish();
class TableDigester {
 public:
  TableDigester(std::string_view schema, std::string_view table,
                std::span<const std::string> columns)
      : row_(schema, table, columns) {}
  // REQUIRES: values.size() == column_count(), in tuple order. The values
  // are copied (encoded) at once.
  void Add(std::span<const ColumnValue> values);
  // The digest of every row added (and forgets them).
  TableDigest Finish();

 private:
  void Fold();

  RowDigester row_;
  Md5Batch batch_;
  TableDigest digest_;
};

// Appends the canonical encoding of one length-prefixed string:
// "<decimal byte length>:<bytes>".
void AppendCounted(std::string& out, std::string_view s);

}  // namespace pgparity::digest

#endif  // PGPARITY_DIGEST_ROW_DIGEST_H_
