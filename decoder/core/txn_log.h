// TxnLog: the buffered messages of one streamed (in-progress) transaction,
// in arrival order, each with its subtransaction xid and its frame's LSNs.
// Internal to StreamDecoder.
//
// The log is a prefix on disk (the spill file, once Spill() was called)
// followed by a suffix in memory. Appends go to memory; Spill() moves the
// memory part to the end of the file. The spill file is an append-only
// sequence of length-prefixed entries, big-endian:
//
//   Int32 n (bytes after this field) | Int32 subxid | Int64 wal_start |
//   Int64 wal_end | n - 20 bytes: the pgoutput message as received
//
// TruncateAtSubxact(s) drops everything from the first entry of s to the end
// (PostgreSQL's apply worker truncates its spool file the same way; see
// stream_decoder.h), in memory or with ftruncate.
//
// The file is created on the first Spill() with O_EXCL and mode 0600 and is
// removed by Discard() and by the destructor.
//
// Thread-safety: none.
#ifndef PGPARITY_DECODER_CORE_TXN_LOG_H_
#define PGPARITY_DECODER_CORE_TXN_LOG_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "pgparity/result.h"
#include "pgparity/status.h"
#include "pgparity/wire/lsn.h"
#include "pgparity/wire/messages.h"

namespace pgparity::core::internal {

struct LogEntry {
  wire::Xid subxid = 0;
  wire::Lsn wal_start;
  wire::Lsn wal_end;
  std::span<const std::byte> body;  // valid during the Replay callback
};

class TxnLog {
 public:
  // Bytes of the file header of one entry (after the length field).
  static constexpr size_t kEntryHeaderSize = 4 + 8 + 8;
  // Memory accounted per entry on top of its body (its index record).
  static constexpr size_t kEntryOverhead = 32;

  // `spill_path` is the file Spill() creates; nothing is created before.
  TxnLog(wire::Xid xid, std::filesystem::path spill_path);
  ~TxnLog();
  TxnLog(const TxnLog&) = delete;
  TxnLog& operator=(const TxnLog&) = delete;

  wire::Xid xid() const noexcept { return xid_; }

  // Appends one message (copied).
  void Append(wire::Xid subxid, wire::Lsn wal_start, wire::Lsn wal_end,
              std::span<const std::byte> body);

  // Entries in the log (on disk and in memory).
  uint64_t entries() const noexcept { return spilled_entries_ + index_.size(); }
  // Bytes accounted to memory: bodies plus kEntryOverhead per entry.
  size_t memory_bytes() const noexcept { return memory_bytes_; }
  // Bytes in the spill file.
  uint64_t file_bytes() const noexcept { return file_size_; }
  bool has_file() const noexcept { return fd_ >= 0; }
  const std::filesystem::path& spill_path() const noexcept { return spill_path_; }

  // Moves the in-memory entries to the end of the spill file (creating it)
  // and frees their memory.
  Status Spill();

  struct TruncateResult {
    uint64_t entries_dropped = 0;
    // Other subtransactions whose first entry followed subxid's first entry
    // and that were dropped with it (0 on every stream PostgreSQL produces:
    // their own Stream Aborts come first).
    uint64_t later_subxacts_dropped = 0;
  };
  // Drops the entries from the first entry of `subxid` to the end. Nothing
  // to drop (an empty subtransaction: PostgreSQL does not send its xid) is
  // not an error.
  Result<TruncateResult> TruncateAtSubxact(wire::Xid subxid);

  // Calls f(entry) for every entry in order (file first, then memory),
  // stopping at the first non-OK Status, which it returns.
  Status Replay(const std::function<Status(const LogEntry&)>& f);

  // Closes and removes the spill file, drops all entries.
  void Discard() noexcept;

 private:
  struct IndexEntry {
    wire::Xid subxid;
    uint32_t length;
    uint32_t block;   // in blocks_
    uint32_t offset;  // in that block
    wire::Lsn wal_start;
    wire::Lsn wal_end;
  };
  // Bodies are copied into blocks of kBlockSize (a bigger body gets a block
  // of its own): appending never moves what is stored, unlike one growing
  // vector, whose reallocations copied and page-faulted the whole log again
  // at every doubling.
  static constexpr size_t kBlockSize = size_t{1} << 20;
  struct Block {
    std::unique_ptr<std::byte[]> data;
    size_t capacity = 0;
    size_t used = 0;
  };
  const std::byte* BodyOf(const IndexEntry& e) const noexcept {
    return blocks_[e.block].data.get() + e.offset;
  }
  // Where a subtransaction's first entry is.
  struct SubxactStart {
    wire::Xid subxid;
    uint64_t seq;          // entry number in the log
    uint64_t file_offset;  // valid when seq < spilled_entries_
  };

  Status OpenFile();
  Status WriteAll(std::span<const std::byte> bytes, uint64_t offset);
  Status ReplayFile(const std::function<Status(const LogEntry&)>& f);
  void ReleaseMemory() noexcept;
  Status IoError(const char* what, int err) const;

  wire::Xid xid_;
  std::filesystem::path spill_path_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  uint64_t spilled_entries_ = 0;

  std::vector<Block> blocks_;  // bodies of in-memory entries, in order
  std::vector<IndexEntry> index_;
  size_t memory_bytes_ = 0;

  // Subtransactions in order of first appearance (so by seq), and where
  // each is in that vector.
  std::vector<SubxactStart> subxacts_;
  std::unordered_map<wire::Xid, size_t> subxact_index_;
  wire::Xid last_subxid_ = 0;  // fast path: the previous entry's subxid
};

}  // namespace pgparity::core::internal

#endif  // PGPARITY_DECODER_CORE_TXN_LOG_H_
