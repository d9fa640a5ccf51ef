// Internal to pgparity_wire. FieldReader<Errors> is the one cursor every
// parser body of the wire layer reads through (pgoutput messages, TupleData,
// CopyData frames). Each read checks the bytes left, each meaning check
// follows its read, and the first failure makes the read return false. What
// a failure leaves behind is the Errors policy's business, and nothing else
// differs between the policies:
//
//   CheckedReader (NamedErrors): records
//     "<context>.<field>: <what> at offset N" in the caller's Status.
//     wire::Parse, ParseCopyData, TupleView::Read.
//   FastReader (NoErrors): records nothing; false is all the caller learns.
//     wire::ParseHot, whose caller asks Parse for the reason.
//
// A body written once as a template over the reader therefore accepts exactly
// the same bytes with either policy: the hot path cannot accept what the
// checked path rejects (the way duckdb-postgres's ReadInteger<T>() wraps
// ReadIntegerUnchecked<T>() and LevelDB's readers report overrun). Names and
// messages are built only on the error path, out of line; a success builds
// no string and allocates nothing.
//
// Thread-safety: none; a FieldReader is a short-lived local cursor.
#ifndef PGPARITY_DECODER_WIRE_FIELD_READER_H_
#define PGPARITY_DECODER_WIRE_FIELD_READER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "pgparity/status.h"
#include "pgparity/wire/byte_reader.h"
#include "pgparity/wire/lsn.h"
#include "pgparity/wire/timestamp.h"
#include "pgparity/wire/tuple.h"

namespace pgparity::wire::internal {

// A field name, possibly under a prefix and indexed: "relid",
// "columns[3].name", "new_tuple.columns[3].kind".
struct Field {
  static constexpr size_t kNoIndex = static_cast<size_t>(-1);

  // From a literal, implicitly: its length is known without a strlen on the
  // hot path (a Field is built at every read, used only if it fails).
  template <size_t N>
  constexpr Field(const char (&name)[N]) noexcept  // NOLINT: implicit on purpose
      : name(name, N - 1) {}
  constexpr Field(std::string_view prefix, std::string_view name) noexcept
      : prefix(prefix), name(name) {}
  constexpr Field(std::string_view name, size_t index, std::string_view member) noexcept
      : name(name), index(index), member(member) {}
  constexpr Field(std::string_view prefix, std::string_view name, size_t index,
                  std::string_view member) noexcept
      : prefix(prefix), name(name), index(index), member(member) {}

  std::string_view prefix;
  std::string_view name;
  size_t index = kNoIndex;
  std::string_view member;
};

// "'x' (0x78)" for printable bytes, "0x01" otherwise.
std::string DescribeByte(uint8_t b);
// "unknown flag bits 0x04 (allowed 0x03)".
std::string UnknownFlagsText(uint8_t flags, uint8_t allowed);
// "negative column count -1", "column count 1665 exceeds ...".
std::string BadColumnCountText(int ncols);

// The checked path's failures, out of line and cold: each sets `out` to a
// Corruption naming `context` and the field, and returns false.
[[gnu::cold]] bool SetTruncated(Status& out, std::string_view context, Field f, size_t need,
                                size_t at, size_t left);
[[gnu::cold]] bool SetMissingNul(Status& out, std::string_view context, Field f, size_t at);
[[gnu::cold]] bool SetInvalid(Status& out, std::string_view context, Field f, size_t at,
                              std::string_view what);
[[gnu::cold]] bool SetLeftover(Status& out, std::string_view context, size_t left, size_t at);

// Policy of the checked path: the first failure becomes a Status naming the
// field. Holds the context and a pointer to the caller's Status, and passes
// values (never itself) to the cold setters, so the cursor it sits beside
// stays in registers. Fields go by value everywhere: by reference, the
// compiler would store every Field to the stack before each read.
class NamedErrors {
 public:
  // `context` prefixes every name ("Insert", "Update.new_tuple").
  NamedErrors(std::string_view context, Status& out) noexcept : context_(context), out_(&out) {}

  bool Truncated(Field f, size_t need, size_t at, size_t left) const {
    return SetTruncated(*out_, context_, f, need, at, left);
  }
  bool MissingNul(Field f, size_t at) const { return SetMissingNul(*out_, context_, f, at); }
  // `what()` gives the text; it runs only here, on the error path.
  template <typename What>
  bool Invalid(Field f, size_t at, What&& what) const {
    return SetInvalid(*out_, context_, f, at, what());
  }
  bool Leftover(size_t left, size_t at) const { return SetLeftover(*out_, context_, left, at); }

 private:
  std::string_view context_;
  Status* out_;
};

// Policy of the hot path: a failure is false and nothing more.
struct NoErrors {
  static constexpr bool Truncated(Field, size_t, size_t, size_t) noexcept { return false; }
  static constexpr bool MissingNul(Field, size_t) noexcept { return false; }
  template <typename What>
  static constexpr bool Invalid(Field, size_t, What&&) noexcept {
    return false;
  }
  static constexpr bool Leftover(size_t, size_t) noexcept { return false; }
};

template <typename Errors>
class FieldReader {
 public:
  // Reads `data`; offsets (in errors too) count from `base_offset`, so a
  // reader over the tail of a frame reports frame offsets.
  FieldReader(std::span<const std::byte> data, size_t base_offset, Errors errors) noexcept
      : r_(data, base_offset), errors_(errors) {}

  size_t offset() const noexcept { return r_.offset(); }
  size_t remaining() const noexcept { return r_.remaining(); }
  std::span<const std::byte> rest() const noexcept { return r_.rest(); }

  // Each read: true and the value, or false with nothing consumed.
  bool U8(Field f, uint8_t& v) {
    if (!Has(1, f)) return false;
    v = r_.ReadU8Unchecked();
    return true;
  }
  bool BE16(Field f, uint16_t& v) {
    if (!Has(2, f)) return false;
    v = r_.ReadBE16Unchecked();
    return true;
  }
  bool BE32(Field f, uint32_t& v) {
    if (!Has(4, f)) return false;
    v = r_.ReadBE32Unchecked();
    return true;
  }
  bool BE64(Field f, uint64_t& v) {
    if (!Has(8, f)) return false;
    v = r_.ReadBE64Unchecked();
    return true;
  }
  // A NUL-terminated string (the NUL consumed, not returned).
  bool CString(Field f, std::string_view& v) {
    const std::span<const std::byte> rest = r_.rest();
    const void* nul = rest.empty() ? nullptr : std::memchr(rest.data(), 0, rest.size());
    if (nul == nullptr) [[unlikely]] {
      return errors_.MissingNul(f, offset());
    }
    const size_t len = static_cast<size_t>(static_cast<const std::byte*>(nul) - rest.data());
    v = std::string_view(reinterpret_cast<const char*>(rest.data()), len);
    r_.ReadBytesUnchecked(len + 1);
    return true;
  }
  bool Bytes(size_t n, Field f, std::span<const std::byte>& v) {
    if (!Has(n, f)) return false;
    v = r_.ReadBytesUnchecked(n);
    return true;
  }

  bool ReadLsn(Field f, Lsn& v) {
    uint64_t raw = 0;
    if (!BE64(f, raw)) return false;
    v = Lsn(raw);
    return true;
  }
  bool ReadTimestamp(Field f, Timestamp& v) {
    uint64_t raw = 0;
    if (!BE64(f, raw)) return false;
    v = Timestamp(static_cast<int64_t>(raw));
    return true;
  }
  // An LSN that must not be 0/0 (the server never sends it there).
  bool ReadValidLsn(Field f, Lsn& v) {
    const size_t at = offset();
    if (!ReadLsn(f, v)) return false;
    if (!v.valid()) [[unlikely]] {
      return Invalid(f, at, [] { return "invalid LSN 0/0"; });
    }
    return true;
  }
  // An xid that must not be 0 (InvalidTransactionId).
  bool ReadValidXid(Field f, uint32_t& v) {
    const size_t at = offset();
    if (!BE32(f, v)) return false;
    if (v == 0) [[unlikely]] {
      return Invalid(f, at, [] { return "invalid transaction id 0"; });
    }
    return true;
  }
  // A relation or type OID; 0 (InvalidOid) names nothing.
  bool ReadValidOid(Field f, uint32_t& v) {
    const size_t at = offset();
    if (!BE32(f, v)) return false;
    if (v == 0) [[unlikely]] {
      return Invalid(f, at, [] { return "invalid OID 0"; });
    }
    return true;
  }
  // A flags byte whose bits outside `allowed` must be clear.
  bool ReadFlags(Field f, uint8_t allowed, uint8_t& v) {
    const size_t at = offset();
    if (!U8(f, v)) return false;
    if ((v & ~allowed) != 0) [[unlikely]] {
      return Invalid(f, at, [&] { return UnknownFlagsText(v, allowed); });
    }
    return true;
  }
  // The Int16 column count of a Relation or a TupleData: 0 to
  // kMaxTupleColumns.
  bool ReadColumnCount(Field f, int& ncols) {
    const size_t at = offset();
    uint16_t raw = 0;
    if (!BE16(f, raw)) return false;
    ncols = static_cast<int16_t>(raw);
    if (ncols < 0 || ncols > kMaxTupleColumns) [[unlikely]] {
      return Invalid(f, at, [&] { return BadColumnCountText(ncols); });
    }
    return true;
  }

  // A failed meaning check of the field read at `at`: false, and with
  // NamedErrors the Status "<context>.<field>: <what()> at offset <at>".
  template <typename What>
  bool Invalid(Field f, size_t at, What&& what) const {
    return errors_.Invalid(f, at, what);
  }
  // True when every byte was consumed; else "<context>: N unexpected bytes".
  bool ExpectEnd() const {
    if (r_.empty()) [[likely]] {
      return true;
    }
    return errors_.Leftover(r_.remaining(), offset());
  }

 private:
  bool Has(size_t n, Field f) const {
    if (r_.remaining() >= n) [[likely]] {
      return true;
    }
    return errors_.Truncated(f, n, offset(), r_.remaining());
  }
  ByteReader r_;
  Errors errors_;
};

using CheckedReader = FieldReader<NamedErrors>;
using FastReader = FieldReader<NoErrors>;

// ---- TupleData: Int16 ncols, per column Byte kind (n, u, t, b), and for t
// and b an Int32 length and that many bytes. Validated once here; iterating
// the TupleView later re-walks these bytes without checks. `tuple` names it
// under the reader's context ("new_tuple": "Insert.new_tuple.columns[3].kind").

template <typename Errors>
bool SkipColumn(FieldReader<Errors>& in, std::string_view tuple, size_t i) {
  const size_t kind_at = in.offset();
  uint8_t kind = 0;
  if (!in.U8(Field(tuple, "columns", i, "kind"), kind)) return false;
  switch (static_cast<ColumnKind>(kind)) {
    case ColumnKind::kNull:
    case ColumnKind::kUnchanged:
      return true;
    case ColumnKind::kText:
    case ColumnKind::kBinary: {
      const size_t length_at = in.offset();
      uint32_t length = 0;
      if (!in.BE32(Field(tuple, "columns", i, "length"), length)) return false;
      if (static_cast<int32_t>(length) < 0) [[unlikely]] {
        return in.Invalid(Field(tuple, "columns", i, "length"), length_at, [&] {
          return "negative length " + std::to_string(static_cast<int32_t>(length));
        });
      }
      // Only validated here; the iterator finds the bytes again.
      std::span<const std::byte> data;
      return in.Bytes(length, Field(tuple, "columns", i, "data"), data);
    }
    default:
      return in.Invalid(Field(tuple, "columns", i, "kind"), kind_at,
                        [&] { return "unknown column kind " + DescribeByte(kind); });
  }
}

template <typename Errors>
bool ReadTuple(FieldReader<Errors>& in, std::string_view tuple, TupleView& out) {
  // The column loop walks a local copy of the cursor, which can stay in
  // registers (`in` is the caller's, in memory); `in` moves on success.
  FieldReader<Errors> cur = in;
  int ncols = 0;
  if (!cur.ReadColumnCount(Field(tuple, "ncols"), ncols)) return false;
  const std::span<const std::byte> columns = cur.rest();
  const size_t start = cur.offset();
  for (int i = 0; i < ncols; ++i) {
    if (!SkipColumn(cur, tuple, static_cast<size_t>(i))) return false;
  }
  out = TupleView::FromColumnsUnchecked(columns.first(cur.offset() - start),
                                        static_cast<uint16_t>(ncols));
  in = cur;
  return true;
}

}  // namespace pgparity::wire::internal

#endif  // PGPARITY_DECODER_WIRE_FIELD_READER_H_
