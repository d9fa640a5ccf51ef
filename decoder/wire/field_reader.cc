#include "field_reader.h"

#include <cstdio>
#include <string>

#include "pgparity/wire/tuple.h"

namespace pgparity::wire::internal {

std::string DescribeByte(uint8_t b) {
  char buf[16];
  if (b >= 0x20 && b < 0x7f) {
    std::snprintf(buf, sizeof(buf), "'%c' (0x%02X)", b, b);
  } else {
    std::snprintf(buf, sizeof(buf), "0x%02X", b);
  }
  return buf;
}

std::string FieldReader::Name(Field f) const {
  std::string out(context_);
  if (!f.name.empty()) {
    if (!out.empty()) out += '.';
    out += f.name;
  }
  if (f.index != Field::kNoIndex) {
    out += '[';
    out += std::to_string(f.index);
    out += ']';
  }
  if (!f.member.empty()) {
    out += '.';
    out += f.member;
  }
  return out;
}

Status FieldReader::Invalid(Field f, size_t offset, std::string_view what) const {
  std::string msg = Name(f);
  msg += ": ";
  msg += what;
  msg += " at offset ";
  msg += std::to_string(offset);
  return Status::Corruption(msg);
}

Status FieldReader::ExpectEnd() const {
  Status s = reader_.ExpectEnd();
  if (s.ok()) return s;
  return std::move(s).WithPrefix(context_);
}

Result<Lsn> FieldReader::ReadValidLsn(Field f) {
  const size_t at = offset();
  PGPARITY_ASSIGN_OR_RETURN(const Lsn lsn, ReadLsn(f));
  if (!lsn.valid()) return Invalid(f, at, "invalid LSN 0/0");
  return lsn;
}

Result<uint32_t> FieldReader::ReadValidXid(Field f) {
  const size_t at = offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint32_t xid, BE32(f));
  if (xid == 0) return Invalid(f, at, "invalid transaction id 0");
  return xid;
}

Result<uint8_t> FieldReader::ReadFlags(Field f, uint8_t allowed) {
  const size_t at = offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint8_t flags, U8(f));
  if ((flags & ~allowed) != 0) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "unknown flag bits 0x%02X (allowed 0x%02X)",
                  static_cast<unsigned>(flags & ~allowed), static_cast<unsigned>(allowed));
    return Invalid(f, at, buf);
  }
  return flags;
}

Result<int> ReadColumnCount(FieldReader& in) {
  const size_t at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint16_t raw, in.BE16("ncols"));
  const int ncols = static_cast<int16_t>(raw);
  if (ncols < 0) {
    return in.Invalid("ncols", at, "negative column count " + std::to_string(ncols));
  }
  if (ncols > kMaxTupleColumns) {
    return in.Invalid(
        "ncols", at,
        "column count " + std::to_string(ncols) + " exceeds MaxTupleAttributeNumber (1664)");
  }
  return ncols;
}

}  // namespace pgparity::wire::internal
