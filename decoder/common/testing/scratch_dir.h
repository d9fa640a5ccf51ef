// A test's own temporary directory: unique across processes (mkdtemp, so
// ctest -j may run the same test binary twice at once), removed with all it
// holds when the test ends. Test code only.
#ifndef PGPARITY_COMMON_TESTING_SCRATCH_DIR_H_
#define PGPARITY_COMMON_TESTING_SCRATCH_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace pgparity::testing {

class ScratchDir {
 public:
  // "<TMPDIR>/pgparity-<name>-XXXXXX".
  explicit ScratchDir(std::string_view name) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / ("pgparity-" + std::string(name) + "-XXXXXX"))
            .string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp " + tmpl + " failed");
    }
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The path of `name` inside it.
  std::string File(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace pgparity::testing

#endif  // PGPARITY_COMMON_TESTING_SCRATCH_DIR_H_
