#include "pgparity/wire/byte_reader.h"

#include <string>

namespace pgparity::wire {

Status ByteReader::TruncatedError(size_t need, size_t offset, size_t left) {
  return Status::Corruption("need " + std::to_string(need) + " bytes at offset " +
                            std::to_string(offset) + ", " + std::to_string(left) + " left");
}

Status ByteReader::MissingNulError(size_t offset) {
  return Status::Corruption("missing NUL at offset " + std::to_string(offset));
}

Status ByteReader::LeftoverError(size_t left, size_t offset) {
  return Status::Corruption(std::to_string(left) + " unexpected bytes at offset " +
                            std::to_string(offset));
}

Status ByteReader::Truncated(size_t need) const {
  return TruncatedError(need, offset(), remaining());
}

Status ByteReader::MissingNul() const { return MissingNulError(offset()); }

Status ByteReader::ExpectEnd() const {
  if (empty()) return Status::OK();
  return LeftoverError(remaining(), offset());
}

}  // namespace pgparity::wire
