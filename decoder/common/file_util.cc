#include "pgparity/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

namespace pgparity {

namespace {

Status WriteAll(int fd, std::string_view content, const std::string& path) {
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot write", path);
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

// The directory entry of a rename is durable only once its directory is.
void SyncDirectoryOf(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // the file itself is in place; nothing more can be done
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

Status SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", dir.string());
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return rc == 0 ? Status::OK() : ErrnoStatus("cannot fsync", dir.string());
}

Status ErrnoStatus(std::string_view what, std::string_view path) {
  return Status::IOError(std::string(what) + " " + std::string(path) + ": " + std::strerror(errno));
}

Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return Status::IOError("cannot write " + path + ": " + std::strerror(errno) +
                           "; check the directory exists and is writable");
  }
  Status st = WriteAll(fd, content, path);
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus("cannot fsync", tmp);
  if (::close(fd) != 0 && st.ok()) st = ErrnoStatus("cannot close", tmp);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    st = ErrnoStatus("cannot rename to", path);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  SyncDirectoryOf(path);
  return Status::OK();
}

Result<std::optional<std::string>> ReadFileIfExists(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return ErrnoStatus("cannot open", path);
  }
  const std::unique_ptr<const int, void (*)(const int*)> closer(&fd,
                                                                [](const int* f) { ::close(*f); });
  // Read in place into one allocation of the file's size (a checkpoint is
  // tens of MB: growing by copies took as long as reading it); one byte
  // more, so that the read that finds the end needs no growth.
  struct stat st;
  const bool sized = ::fstat(fd, &st) == 0 && st.st_size > 0;
  std::string data(sized ? static_cast<size_t>(st.st_size) + 1 : size_t{1} << 16, '\0');
  size_t len = 0;
  for (;;) {
    if (len == data.size()) data.resize(2 * data.size());  // it grew meanwhile
    const ssize_t n = ::read(fd, data.data() + len, data.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot read", path);
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  data.resize(len);
  return std::optional<std::string>(std::move(data));
}

}  // namespace pgparity
