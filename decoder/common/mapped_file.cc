#include "pgparity/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "pgparity/file_util.h"

namespace pgparity {

MappedFile::MappedFile(MappedFile&& other) noexcept
    : addr_(std::exchange(other.addr_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (addr_ != nullptr) ::munmap(addr_, size_);
    addr_ = std::exchange(other.addr_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
}

Result<std::optional<MappedFile>> MapFileIfExists(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<MappedFile>();
    return ErrnoStatus("cannot open", path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status failed = ErrnoStatus("cannot stat", path);
    ::close(fd);
    return failed;
  }
  // mmap refuses a length of 0: an empty file is an empty span (its
  // reader says what is missing).
  if (st.st_size == 0) {
    ::close(fd);
    return std::optional<MappedFile>(MappedFile());
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  Status failed = addr == MAP_FAILED ? ErrnoStatus("cannot map", path) : Status::OK();
  ::close(fd);  // the mapping keeps the file
  if (!failed.ok()) return failed;
  return std::optional<MappedFile>(MappedFile(addr, size));
}

}  // namespace pgparity
