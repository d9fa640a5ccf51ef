#include "pgparity/wire/tuple.h"

#include <string>

#include "field_reader.h"

namespace pgparity::wire {

Result<TupleView> TupleView::Read(ByteReader& reader, std::string_view context) {
  Status error;
  internal::CheckedReader in(reader.rest(), reader.offset(), internal::NamedErrors(context, error));
  TupleView t;
  if (!internal::ReadTuple(in, "", t)) return error;
  reader.ReadBytesUnchecked(reader.remaining() - in.remaining());  // what ReadTuple consumed
  return t;
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
