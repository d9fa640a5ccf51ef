#include "pgparity/wire/tuple.h"

#include <string>

#include "field_reader.h"

namespace pgparity::wire {

using internal::Field;

Result<TupleView> TupleView::Read(ByteReader& reader, std::string_view context) {
  internal::FieldReader in(reader, context);
  const size_t ncols_at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint16_t raw_ncols, in.BE16("ncols"));
  const int ncols = static_cast<int16_t>(raw_ncols);
  if (ncols < 0) {
    return in.Invalid("ncols", ncols_at, "negative column count " + std::to_string(ncols));
  }
  if (ncols > kMaxTupleColumns) {
    return in.Invalid(
        "ncols", ncols_at,
        "column count " + std::to_string(ncols) + " exceeds MaxTupleAttributeNumber (1664)");
  }

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
