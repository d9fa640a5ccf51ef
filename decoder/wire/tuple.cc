#include "pgparity/wire/tuple.h"

#include <string>

#include "field_reader.h"

namespace pgparity::wire {

using internal::Field;

namespace {

// The end of a well-formed TupleData's columns starting at `p` (just after
// ncols), or nullptr when anything is wrong with them. No error text: the
// caller re-reads a bad tuple with the checked reader, which names the fault.
const std::byte* ScanColumns(const std::byte* p, const std::byte* end, int ncols) noexcept {
  for (int i = 0; i < ncols; ++i) {
    if (p == end) return nullptr;
    const auto kind = static_cast<ColumnKind>(std::to_integer<char>(*p++));
    if (kind == ColumnKind::kNull || kind == ColumnKind::kUnchanged) continue;
    if (kind != ColumnKind::kText && kind != ColumnKind::kBinary) return nullptr;
    if (end - p < 4) return nullptr;
    const uint32_t length = LoadBE32(p);
    p += 4;
    if (static_cast<int32_t>(length) < 0 || static_cast<size_t>(end - p) < length) return nullptr;
    p += length;
  }
  return p;
}

}  // namespace

bool TupleView::TryRead(ByteReader& reader, TupleView& out) noexcept {
  // One unchecked-by-Result walk over the bytes (the hot loop of every
  // change).
  const std::span<const std::byte> rest = reader.rest();
  if (rest.size() < 2) return false;
  const int ncols = static_cast<int16_t>(LoadBE16(rest.data()));
  if (ncols < 0 || ncols > kMaxTupleColumns) return false;
  const std::byte* const columns = rest.data() + 2;
  const std::byte* const end = ScanColumns(columns, rest.data() + rest.size(), ncols);
  if (end == nullptr) return false;
  reader.ReadBytesUnchecked(static_cast<size_t>(end - rest.data()));
  out = TupleView(std::span<const std::byte>(columns, end), static_cast<uint16_t>(ncols));
  return true;
}

Result<TupleView> TupleView::Read(ByteReader& reader, std::string_view context) {
  // Fast path first; anything unexpected falls through to the field-by-field
  // reader below, which produces the precise error.
  if (TupleView t; TryRead(reader, t)) return t;

  internal::FieldReader in(reader, context);
  PGPARITY_ASSIGN_OR_RETURN(const int ncols, internal::ReadColumnCount(in));

  const std::span<const std::byte> columns_start = reader.rest();
  const size_t start = reader.offset();
  for (int i = 0; i < ncols; ++i) {
    const size_t idx = static_cast<size_t>(i);
    const size_t kind_at = in.offset();
    PGPARITY_ASSIGN_OR_RETURN(const uint8_t kind, in.U8(Field("columns", idx, "kind")));
    switch (static_cast<ColumnKind>(kind)) {
      case ColumnKind::kNull:
      case ColumnKind::kUnchanged:
        break;
      case ColumnKind::kText:
      case ColumnKind::kBinary: {
        const size_t length_at = in.offset();
        PGPARITY_ASSIGN_OR_RETURN(const uint32_t length, in.BE32(Field("columns", idx, "length")));
        if (static_cast<int32_t>(length) < 0) {
          return in.Invalid(Field("columns", idx, "length"), length_at,
                            "negative length " + std::to_string(static_cast<int32_t>(length)));
        }
        // Only validated here; the iterator finds the bytes again.
        PGPARITY_RETURN_IF_ERROR(in.Bytes(length, Field("columns", idx, "data")).status());
        break;
      }
      default:
        return in.Invalid(Field("columns", idx, "kind"), kind_at,
                          "unknown column kind " + internal::DescribeByte(kind));
    }
  }
  return TupleView(columns_start.first(reader.offset() - start), static_cast<uint16_t>(ncols));
}

void TupleView::EncodeTo(ByteWriter& out) const {
  out.PutBE16(ncols_);
  out.PutBytes(column_bytes_);
}

TupleBuilder& TupleBuilder::AddNull() {
  bytes_.push_back(static_cast<std::byte>(ColumnKind::kNull));
  ++ncols_;
  return *this;
}

TupleBuilder& TupleBuilder::AddUnchanged() {
  bytes_.push_back(static_cast<std::byte>(ColumnKind::kUnchanged));
  ++ncols_;
  return *this;
}

TupleBuilder& TupleBuilder::AddText(std::string_view text) {
  return AddBinaryOrText(ColumnKind::kText, std::as_bytes(std::span(text.data(), text.size())));
}

TupleBuilder& TupleBuilder::AddBinary(std::span<const std::byte> data) {
  return AddBinaryOrText(ColumnKind::kBinary, data);
}

TupleBuilder& TupleBuilder::AddBinaryOrText(ColumnKind kind, std::span<const std::byte> data) {
  ByteWriter out(bytes_);
  out.PutU8(static_cast<uint8_t>(kind));
  out.PutBE32(static_cast<uint32_t>(data.size()));
  out.PutBytes(data);
  ++ncols_;
  return *this;
}

void TupleBuilder::Clear() noexcept {
  bytes_.clear();
  ncols_ = 0;
}

}  // namespace pgparity::wire
