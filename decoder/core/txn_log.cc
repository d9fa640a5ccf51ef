#include "txn_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "pgparity/wire/big_endian.h"

namespace pgparity::core::internal {
namespace {

// Spill writes and replay reads go through buffers of this size.
constexpr size_t kIoChunk = size_t{1} << 20;

}  // namespace

TxnLog::TxnLog(wire::Xid xid, std::filesystem::path spill_path)
    : xid_(xid), spill_path_(std::move(spill_path)) {}

TxnLog::~TxnLog() { Discard(); }

void TxnLog::Append(wire::Xid subxid, wire::Lsn wal_start, wire::Lsn wal_end,
                    std::span<const std::byte> body) {
  const uint64_t seq = entries();
  if (subxid != last_subxid_) {
    if (subxact_index_.find(subxid) == subxact_index_.end()) {
      subxact_index_.emplace(subxid, subxacts_.size());
      subxacts_.push_back(SubxactStart{subxid, seq, 0});
    }
    last_subxid_ = subxid;
  }
  if (blocks_.empty() || blocks_.back().capacity - blocks_.back().used < body.size()) {
    const size_t capacity = std::max(kBlockSize, body.size());
    // Uninitialized: every byte handed out is written first.
    blocks_.push_back(Block{std::unique_ptr<std::byte[]>(new std::byte[capacity]), capacity, 0});
  }
  Block& block = blocks_.back();
  index_.push_back(IndexEntry{subxid, static_cast<uint32_t>(body.size()),
                              static_cast<uint32_t>(blocks_.size() - 1),
                              static_cast<uint32_t>(block.used), wal_start, wal_end});
  if (!body.empty()) std::memcpy(block.data.get() + block.used, body.data(), body.size());
  block.used += body.size();
  memory_bytes_ += body.size() + kEntryOverhead;
}

Status TxnLog::IoError(const char* what, int err) const {
  return Status::IOError("spill file " + spill_path_.string() + " of streamed transaction " +
                         std::to_string(xid_) + ": " + what + ": " + std::strerror(err));
}

Status TxnLog::OpenFile() {
  if (fd_ >= 0) return Status::OK();
  fd_ = ::open(spill_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) return IoError("create", errno);
  file_size_ = 0;
  return Status::OK();
}

Status TxnLog::WriteAll(std::span<const std::byte> bytes, uint64_t offset) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write", errno);
    }
    bytes = bytes.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

Status TxnLog::Spill() {
  if (index_.empty()) return Status::OK();
  PGPARITY_RETURN_IF_ERROR(OpenFile());

  // The first subtransaction that starts in the memory part.
  auto sub = std::lower_bound(subxacts_.begin(), subxacts_.end(), spilled_entries_,
                              [](const SubxactStart& s, uint64_t seq) { return s.seq < seq; });

  std::vector<std::byte> out;
  out.reserve(std::min(kIoChunk, memory_bytes_ + index_.size() * (4 + kEntryHeaderSize)));
  uint64_t write_at = file_size_;  // where `out` goes
  uint64_t entry_at = file_size_;  // where the next entry starts
  for (size_t k = 0; k < index_.size(); ++k) {
    const IndexEntry& e = index_[k];
    const uint64_t seq = spilled_entries_ + k;
    for (; sub != subxacts_.end() && sub->seq == seq; ++sub) sub->file_offset = entry_at;

    std::byte header[4 + kEntryHeaderSize];
    wire::StoreBE32(header, static_cast<uint32_t>(kEntryHeaderSize + e.length));
    wire::StoreBE32(header + 4, e.subxid);
    wire::StoreBE64(header + 8, e.wal_start.value());
    wire::StoreBE64(header + 16, e.wal_end.value());
    out.insert(out.end(), std::begin(header), std::end(header));
    out.insert(out.end(), BodyOf(e), BodyOf(e) + e.length);
    entry_at += sizeof header + e.length;
    if (out.size() >= kIoChunk) {
      PGPARITY_RETURN_IF_ERROR(WriteAll(out, write_at));
      write_at += out.size();
      out.clear();
    }
  }
  PGPARITY_RETURN_IF_ERROR(WriteAll(out, write_at));
  file_size_ = entry_at;
  spilled_entries_ += index_.size();
  ReleaseMemory();
  return Status::OK();
}

void TxnLog::ReleaseMemory() noexcept {
  std::vector<Block>().swap(blocks_);
  std::vector<IndexEntry>().swap(index_);
  memory_bytes_ = 0;
}

Result<TxnLog::TruncateResult> TxnLog::TruncateAtSubxact(wire::Xid subxid) {
  TruncateResult result;
  const auto it = subxact_index_.find(subxid);
  if (it == subxact_index_.end()) return result;
  const size_t pos = it->second;
  const SubxactStart start = subxacts_[pos];

  result.entries_dropped = entries() - start.seq;
  result.later_subxacts_dropped = subxacts_.size() - pos - 1;

  if (start.seq >= spilled_entries_) {
    const size_t keep = static_cast<size_t>(start.seq - spilled_entries_);
    for (size_t k = keep; k < index_.size(); ++k) {
      memory_bytes_ -= index_[k].length + kEntryOverhead;
    }
    if (keep < index_.size()) {
      const IndexEntry& first_dropped = index_[keep];
      blocks_.resize(first_dropped.block + size_t{1});
      blocks_.back().used = first_dropped.offset;
    }
    index_.resize(keep);
  } else {
    if (::ftruncate(fd_, static_cast<off_t>(start.file_offset)) != 0) {
      return IoError("truncate", errno);
    }
    file_size_ = start.file_offset;
    spilled_entries_ = start.seq;
    ReleaseMemory();
  }

  for (size_t k = pos; k < subxacts_.size(); ++k) subxact_index_.erase(subxacts_[k].subxid);
  subxacts_.resize(pos);
  last_subxid_ = 0;
  return result;
}

Status TxnLog::ReplayFile(const std::function<Status(const LogEntry&)>& f) {
  std::vector<std::byte> buf(kIoChunk);
  size_t begin = 0;       // first unread byte in buf
  size_t end = 0;         // one past the last valid byte in buf
  uint64_t read_at = 0;   // next file offset to read
  uint64_t entry_at = 0;  // file offset of the entry being parsed

  // Makes `need` bytes available at buf[begin].
  auto fill = [&](size_t need) -> Status {
    if (end - begin >= need) return Status::OK();
    if (begin > 0) {
      std::memmove(buf.data(), buf.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    if (buf.size() < need) buf.resize(need);
    while (end < need) {
      const uint64_t left = file_size_ - read_at;
      if (left == 0) {
        return Status::IOError("spill file " + spill_path_.string() +
                               ": truncated entry at offset " + std::to_string(entry_at));
      }
      const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size() - end, left));
      const ssize_t n = ::pread(fd_, buf.data() + end, want, static_cast<off_t>(read_at));
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("read", errno);
      }
      if (n == 0) {
        return Status::IOError("spill file " + spill_path_.string() +
                               ": unexpected end of file at offset " + std::to_string(read_at));
      }
      end += static_cast<size_t>(n);
      read_at += static_cast<uint64_t>(n);
    }
    return Status::OK();
  };

  uint64_t seen = 0;
  while (entry_at < file_size_) {
    PGPARITY_RETURN_IF_ERROR(fill(4));
    const uint32_t n = wire::LoadBE32(buf.data() + begin);
    if (n < kEntryHeaderSize || n > file_size_ - entry_at - 4) {
      return Status::IOError("spill file " + spill_path_.string() + ": bad entry length " +
                             std::to_string(n) + " at offset " + std::to_string(entry_at));
    }
    PGPARITY_RETURN_IF_ERROR(fill(4 + size_t{n}));
    const std::byte* p = buf.data() + begin + 4;
    LogEntry entry;
    entry.subxid = wire::LoadBE32(p);
    entry.wal_start = wire::Lsn(wire::LoadBE64(p + 4));
    entry.wal_end = wire::Lsn(wire::LoadBE64(p + 12));
    entry.body = std::span<const std::byte>(p + kEntryHeaderSize, n - kEntryHeaderSize);
    PGPARITY_RETURN_IF_ERROR(f(entry));
    begin += 4 + size_t{n};
    entry_at += 4 + uint64_t{n};
    ++seen;
  }
  if (seen != spilled_entries_) {
    return Status::Internal("spill file " + spill_path_.string() + " holds " +
                            std::to_string(seen) + " entries, expected " +
                            std::to_string(spilled_entries_));
  }
  return Status::OK();
}

Status TxnLog::Replay(const std::function<Status(const LogEntry&)>& f) {
  if (fd_ >= 0) PGPARITY_RETURN_IF_ERROR(ReplayFile(f));
  for (const IndexEntry& e : index_) {
    LogEntry entry;
    entry.subxid = e.subxid;
    entry.wal_start = e.wal_start;
    entry.wal_end = e.wal_end;
    entry.body = std::span<const std::byte>(BodyOf(e), e.length);
    PGPARITY_RETURN_IF_ERROR(f(entry));
  }
  return Status::OK();
}

void TxnLog::Discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    std::error_code ec;
    std::filesystem::remove(spill_path_, ec);  // nothing more to do if it fails
  }
  file_size_ = 0;
  spilled_entries_ = 0;
  ReleaseMemory();
  subxacts_.clear();
  subxact_index_.clear();
  last_subxid_ = 0;
}

}  // namespace pgparity::core::internal
