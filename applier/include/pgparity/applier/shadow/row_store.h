// RowStore: the on-disk home of the shadow's rows beyond --memory-limit
// (applier/README.md, "Memory"): one embedded RocksDB database in a
// directory of its own, shared by every table that spilled. A table's
// entries are keys prefixed by its index in the ShadowState (StoredTable,
// stored_table.h, lays them out); this class knows bytes, not rows.
//
// Why RocksDB (bench/README.md, "Shadow store"): it reads through a block
// cache of a size we set, so the process's RSS stays bounded however large
// the store grows (LMDB maps the file: every page it touches counts in RSS),
// and its checkpoints are hard links taken in milliseconds.
//
// Memory: one LRU cache of `cache_bytes` holds the data, index and filter
// blocks, and the memtables are charged to it (WriteBufferManager), so the
// store's memory is about `cache_bytes` whatever it holds.
//
// Durability: the write-ahead log is off. A store is only ever trusted as
// one of its checkpoints (Checkpoint / OpenFromCheckpoint), taken when the
// shadow is at a transaction boundary; after a crash the live directory is
// thrown away and the last checkpoint's copy opened — the slot resends what
// followed it (shadow_checkpoint.h).
//
// Errors: an I/O error of a write or read (a full disk) is sticky: the first
// one is kept and every later call is a no-op; status() reports it, naming
// the directory, and ShadowState stops the stream with it at the next commit.
//
// Thread-safety: Put/Get/Delete/ForEach may be called from several threads
// (RocksDB's DB is thread-safe); Checkpoint and Clear not concurrently with
// writes.
#ifndef PGPARITY_APPLIER_SHADOW_ROW_STORE_H_
#define PGPARITY_APPLIER_SHADOW_ROW_STORE_H_

#include <absl/functional/function_ref.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "pgparity/result.h"
#include "pgparity/status.h"

namespace pgparity::applier {

class RowStore {
 public:
  // Opens a fresh store in `dir` (created; whatever it held is removed).
  // IOError naming the directory.
  static Result<std::unique_ptr<RowStore>> Create(const std::filesystem::path& dir,
                                                  size_t cache_bytes);
  // Opens the copy of checkpoint `checkpoint` as a fresh live store in `dir`
  // (its files hard-linked, or copied across file systems); the checkpoint
  // itself is never written. IOError / Corruption naming the directories.
  static Result<std::unique_ptr<RowStore>> OpenFromCheckpoint(
      const std::filesystem::path& checkpoint, const std::filesystem::path& dir,
      size_t cache_bytes);
  ~RowStore();
  RowStore(const RowStore&) = delete;
  RowStore& operator=(const RowStore&) = delete;

  const std::filesystem::path& dir() const { return dir_; }

  void Put(std::string_view key, std::string_view value);
  // Writes collected to be made at once (a bulk load's: one write per batch
  // instead of one per row). Not visible to reads before Write().
  class Batch {
   public:
    Batch();
    ~Batch();
    void Put(std::string_view key, std::string_view value);
    size_t count() const;
    size_t bytes() const;

   private:
    friend class RowStore;
    struct Rep;
    std::unique_ptr<Rep> rep_;
  };
  // Writes `batch` and empties it.
  void Write(Batch& batch);
  // False when absent (or after an error).
  bool Get(std::string_view key, std::string& value) const;
  void Delete(std::string_view key);
  // Every key in [lo, hi), in byte order.
  void ForEach(std::string_view lo, std::string_view hi,
               absl::FunctionRef<void(std::string_view key, std::string_view value)> f) const;
  // Removes every key in [lo, hi).
  void DeleteRange(std::string_view lo, std::string_view hi);

  // A consistent copy of everything written so far in `dir` (which must not
  // exist): memtables flushed, table files hard-linked, the directory
  // synced. IOError naming it.
  [[nodiscard]] Status Checkpoint(const std::filesystem::path& dir);

  // OK, or the first I/O error of a write or read, naming the store.
  Status status() const;

  // Bytes of memory the store uses now: its cache, memtables included.
  size_t MemoryBytes() const;
  // Bytes of its live files on disk.
  uint64_t DiskBytes() const;

 private:
  struct Impl;
  RowStore(std::filesystem::path dir, std::unique_ptr<Impl> impl);
  void Fail(std::string_view what, const std::string& message) const;

  std::filesystem::path dir_;
  std::unique_ptr<Impl> impl_;
  mutable std::mutex error_mu_;
  mutable Status error_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_ROW_STORE_H_
