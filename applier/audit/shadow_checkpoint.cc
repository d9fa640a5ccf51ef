#include "pgparity/applier/shadow_checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "pgparity/file_util.h"
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

  return WriteFileAtomically(path, out, 0600);
}

Result<std::optional<wire::Lsn>> ReadCheckpoint(const std::string& path, ShadowState& shadow,
                                                CheckpointMeta& meta) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<wire::Lsn>();
    return ErrnoStatus("cannot open", path);
  }
  std::string data;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = ErrnoStatus("cannot read", path);
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
