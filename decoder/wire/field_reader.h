// Internal to pgparity_wire. FieldReader wraps a ByteReader for one message
// and names every read: a failed read or a failed meaning check becomes
// "<context>.<field>: <what> at offset N". Names are only formatted on the
// error path, so successful parsing builds no strings.
#ifndef PGPARITY_DECODER_WIRE_FIELD_READER_H_
#define PGPARITY_DECODER_WIRE_FIELD_READER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "pgparity/result.h"
#include "pgparity/status.h"
#include "pgparity/wire/byte_reader.h"
#include "pgparity/wire/lsn.h"
#include "pgparity/wire/timestamp.h"

namespace pgparity::wire::internal {

// A field name, possibly indexed: "relid", or "columns[3].name".
struct Field {
  static constexpr size_t kNoIndex = static_cast<size_t>(-1);

  Field(const char* name) noexcept : name(name) {}  // NOLINT: implicit on purpose
  Field(std::string_view name, size_t index, std::string_view member) noexcept
      : name(name), index(index), member(member) {}

  std::string_view name;
  size_t index = kNoIndex;
  std::string_view member;
};

// "'x' (0x78)" for printable bytes, "0x01" otherwise.
std::string DescribeByte(uint8_t b);

class FieldReader {
 public:
  // `context` prefixes every field name ("Insert", "Update.new_tuple").
  FieldReader(ByteReader& reader, std::string_view context) noexcept
      : reader_(reader), context_(context) {}

  ByteReader& reader() noexcept { return reader_; }
  size_t offset() const noexcept { return reader_.offset(); }

  Result<uint8_t> U8(Field f) { return Named(reader_.ReadU8(), f); }
  Result<uint16_t> BE16(Field f) { return Named(reader_.ReadBE16(), f); }
  Result<uint32_t> BE32(Field f) { return Named(reader_.ReadBE32(), f); }
  Result<uint64_t> BE64(Field f) { return Named(reader_.ReadBE64(), f); }
  Result<std::string_view> CString(Field f) { return Named(reader_.ReadCString(), f); }
  Result<std::span<const std::byte>> Bytes(size_t n, Field f) {
    return Named(reader_.ReadBytes(n), f);
  }
  Result<Lsn> ReadLsn(Field f) {
    PGPARITY_ASSIGN_OR_RETURN(const uint64_t v, BE64(f));
    return Lsn(v);
  }
  Result<Timestamp> ReadTimestamp(Field f) {
    PGPARITY_ASSIGN_OR_RETURN(const uint64_t v, BE64(f));
    return Timestamp(static_cast<int64_t>(v));
  }
  // An LSN that must not be 0/0.
  Result<Lsn> ReadValidLsn(Field f);
  // An xid that must not be 0 (InvalidTransactionId).
  Result<uint32_t> ReadValidXid(Field f);
  // A flags byte whose bits outside `allowed` must be clear.
  Result<uint8_t> ReadFlags(Field f, uint8_t allowed);

  // Corruption: "<context>.<field>: <what> at offset <offset>".
  Status Invalid(Field f, size_t offset, std::string_view what) const;
  // "<context>.<field>" for callers that build their own message.
  std::string Name(Field f) const;
  // OK at the end of the data, else "<context>: N unexpected bytes at ...".
  Status ExpectEnd() const;

 private:
  template <typename T>
  Result<T> Named(Result<T> r, Field f) const {
    if (!r.ok()) return std::move(r).status().WithPrefix(Name(f));
    return r;
  }

  ByteReader& reader_;
  std::string_view context_;
};

// The Int16 column count of a Relation or a TupleData: 0 to
// kMaxTupleColumns, anything else an error naming field "ncols".
Result<int> ReadColumnCount(FieldReader& in);

}  // namespace pgparity::wire::internal

#endif  // PGPARITY_DECODER_WIRE_FIELD_READER_H_
