// Test helpers shared by the shadow's unit tests: a state file's bytes,
// read whole or written over, for tests that damage or compare them.
#ifndef PGPARITY_APPLIER_SHADOW_TESTING_FILES_H_
#define PGPARITY_APPLIER_SHADOW_TESTING_FILES_H_

#include <fstream>
#include <iterator>
#include <string>

namespace pgparity::applier::testing {

// A file's bytes; "" when it cannot be read.
inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Replaces the file's content with `bytes`.
inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

}  // namespace pgparity::applier::testing

#endif  // PGPARITY_APPLIER_SHADOW_TESTING_FILES_H_
