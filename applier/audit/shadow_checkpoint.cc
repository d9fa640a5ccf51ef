#include "pgparity/applier/shadow_checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "shadow/byte_codec.h"

namespace pgparity::applier {

namespace {

// 02: each table also records its compared columns and partitions.
constexpr std::string_view kMagic = "PGPSHD02";
constexpr std::string_view kOlderMagic = "PGPSHD01";

using codec::GetU64;
using codec::PutBytes;
using codec::PutU64;

bool GetString(std::string_view& in, std::string& s) {
  std::string_view v;
  if (!codec::GetBytes(in, v)) return false;
  s.assign(v);
  return true;
}

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Status WriteCheckpoint(const ShadowState& shadow, wire::Lsn lsn, const CheckpointMeta& meta,
                       const std::string& path) {
  std::string out(kMagic);
  PutU64(out, lsn.value());
  PutBytes(out, meta.slot);
  PutBytes(out, meta.publication);
  PutBytes(out, meta.system_id);
  shadow.SaveTables(out);
  PutU64(out, XXH64(out.data(), out.size(), 0));

  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", tmp);
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::write(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno("cannot write", tmp);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = Errno("cannot fsync", tmp);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return Errno("cannot close", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("cannot rename to", path);
  // The rename itself must survive a crash.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

Result<std::optional<wire::Lsn>> ReadCheckpoint(const std::string& path, ShadowState& shadow,
                                                CheckpointMeta& meta) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<wire::Lsn>();
    return Errno("cannot open", path);
  }
  std::string data;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno("cannot read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const Status damaged = Status::Corruption("checkpoint " + path +
                                            " is damaged; remove the state directory to start "
                                            "over (pgparity then bootstraps again)");
  if (data.compare(0, kOlderMagic.size(), kOlderMagic) == 0) {
    return Status::FailedPrecondition("checkpoint " + path +
                                      " was written by an older pgparity (format 1); remove the "
                                      "state directory to start over (pgparity then bootstraps "
                                      "again)");
  }
  if (data.size() < kMagic.size() + 16 || data.compare(0, kMagic.size(), kMagic) != 0) {
    return damaged;
  }
  std::string_view trailer(data.data() + data.size() - 8, 8);
  uint64_t sum;
  GetU64(trailer, sum);
  if (sum != XXH64(data.data(), data.size() - 8, 0)) return damaged;
  std::string_view in(data.data() + kMagic.size(), data.size() - kMagic.size() - 8);
  uint64_t lsn;
  if (!GetU64(in, lsn) || !GetString(in, meta.slot) || !GetString(in, meta.publication) ||
      !GetString(in, meta.system_id)) {
    return damaged;
  }
  Status loaded = shadow.LoadTables(in, wire::Lsn(lsn));
  if (!loaded.ok()) {
    return Status::FailedPrecondition(std::string(loaded.message()) + " (" + path +
                                      "); the published tables changed since it was written — "
                                      "remove the state directory to start over");
  }
  return std::optional<wire::Lsn>(wire::Lsn(lsn));
}

}  // namespace pgparity::applier
