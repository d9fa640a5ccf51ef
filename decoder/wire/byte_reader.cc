#include "pgparity/wire/byte_reader.h"

#include <string>

namespace pgparity::wire {

Status ByteReader::Truncated(size_t need) const {
  return Status::Corruption("need " + std::to_string(need) + " bytes at offset " +
                            std::to_string(offset()) + ", " + std::to_string(remaining()) +
                            " left");
}

Status ByteReader::MissingNul() const {
  return Status::Corruption("missing NUL at offset " + std::to_string(offset()));
}

Status ByteReader::ExpectEnd() const {
  if (empty()) return Status::OK();
  return Status::Corruption(std::to_string(remaining()) + " unexpected bytes at offset " +
                            std::to_string(offset()));
}

}  // namespace pgparity::wire
