#include "pgparity/applier/shadow/row_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <system_error>

#include "pgparity/file_util.h"

namespace pgparity::applier {

namespace fs = std::filesystem;

struct RowStore::Impl {
  std::shared_ptr<rocksdb::Cache> cache;
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::WriteOptions write;
  rocksdb::ReadOptions read;
};

namespace {

rocksdb::Slice AsSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view AsView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// The options that keep the store's memory at about `cache_bytes`: data,
// index and filter blocks in one LRU cache (index and filters in its
// high-priority half, partitioned so only the parts in use are there), the
// memtables charged to it and stalled rather than grown past their half
// (bench/README.md, "Shadow store", measured these). No compression: row
// digests do not compress, and the CPU is the scan's.
rocksdb::Options StoreOptions(const std::shared_ptr<rocksdb::Cache>& cache, size_t cache_bytes) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.compression = rocksdb::kNoCompression;
  o.max_background_jobs = 2;
  o.max_open_files = 256;
  o.level_compaction_dynamic_level_bytes = true;
  o.write_buffer_size = std::max<size_t>(cache_bytes / 4, 4 << 20);
  o.max_write_buffer_number = 2;
  o.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(cache_bytes / 2, cache, /*allow_stall=*/true);
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.block_size = 8 << 10;
  t.cache_index_and_filter_blocks = true;
  t.cache_index_and_filter_blocks_with_high_priority = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  t.partition_filters = true;
  t.pin_top_level_index_and_filter = true;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

Status IoError(std::string_view what, const fs::path& dir, const std::string& message) {
  return Status::IOError(std::string(what) + " " + dir.string() + ": " + message);
}

// A fresh copy of checkpoint `from` in `to`: table files (immutable) hard
// linked, the others (MANIFEST, CURRENT, OPTIONS, which RocksDB appends to
// or replaces) copied, so opening `to` never changes `from`.
Status CopyCheckpoint(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::create_directories(to, ec);
  if (ec) return IoError("cannot create", to, ec.message());
  for (const fs::directory_entry& e : fs::directory_iterator(from, ec)) {
    const fs::path dst = to / e.path().filename();
    if (e.path().extension() == ".sst") {
      fs::create_hard_link(e.path(), dst, ec);
      if (!ec) continue;
    }
    ec.clear();
    fs::copy_file(e.path(), dst, ec);
    if (ec) return IoError("cannot copy the store checkpoint into", to, ec.message());
  }
  if (ec) return IoError("cannot read the store checkpoint", from, ec.message());
  return Status::OK();
}

Result<std::unique_ptr<rocksdb::DB>> OpenDb(const rocksdb::Options& options, const fs::path& dir) {
  rocksdb::DB* db = nullptr;
  const rocksdb::Status s = rocksdb::DB::Open(options, dir.string(), &db);
  if (!s.ok()) {
    return s.IsCorruption() ? Status::Corruption("the row store in " + dir.string() +
                                                 " is damaged: " + s.ToString())
                            : IoError("cannot open the row store in", dir, s.ToString());
  }
  return std::unique_ptr<rocksdb::DB>(db);
}

}  // namespace

RowStore::RowStore(fs::path dir, std::unique_ptr<Impl> impl)
    : dir_(std::move(dir)), impl_(std::move(impl)) {}

RowStore::~RowStore() = default;

Result<std::unique_ptr<RowStore>> RowStore::Create(const fs::path& dir, size_t cache_bytes) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create the row store directory", dir, ec.message());
  auto impl = std::make_unique<Impl>();
  impl->cache = rocksdb::NewLRUCache(cache_bytes, -1, false, /*high_pri_pool_ratio=*/0.5);
  PGPARITY_ASSIGN_OR_RETURN(impl->db, OpenDb(StoreOptions(impl->cache, cache_bytes), dir));
  impl->write.disableWAL = true;
  return std::unique_ptr<RowStore>(new RowStore(dir, std::move(impl)));
}

Result<std::unique_ptr<RowStore>> RowStore::OpenFromCheckpoint(const fs::path& checkpoint,
                                                               const fs::path& dir,
                                                               size_t cache_bytes) {
  if (!fs::is_directory(checkpoint)) {
    return Status::Corruption("the row store checkpoint " + checkpoint.string() +
                              " is missing; remove the state directory to start over");
  }
  PGPARITY_RETURN_IF_ERROR(CopyCheckpoint(checkpoint, dir));
  auto impl = std::make_unique<Impl>();
  impl->cache = rocksdb::NewLRUCache(cache_bytes, -1, false, /*high_pri_pool_ratio=*/0.5);
  rocksdb::Options options = StoreOptions(impl->cache, cache_bytes);
  options.create_if_missing = false;
  PGPARITY_ASSIGN_OR_RETURN(impl->db, OpenDb(options, dir));
  impl->write.disableWAL = true;
  return std::unique_ptr<RowStore>(new RowStore(dir, std::move(impl)));
}

void RowStore::Fail(std::string_view what, const std::string& message) const {
  std::lock_guard lk(error_mu_);
  if (error_.ok()) {
    error_ = Status::IOError("the row store in " + dir_.string() + " failed to " +
                             std::string(what) + ": " + message);
  }
}

Status RowStore::status() const {
  std::lock_guard lk(error_mu_);
  return error_;
}

void RowStore::Put(std::string_view key, std::string_view value) {
  const rocksdb::Status s = impl_->db->Put(impl_->write, AsSlice(key), AsSlice(value));
  if (!s.ok()) [[unlikely]] {
    Fail("write", s.ToString());
  }
}

struct RowStore::Batch::Rep {
  rocksdb::WriteBatch batch;
};

RowStore::Batch::Batch() : rep_(std::make_unique<Rep>()) {}
RowStore::Batch::~Batch() = default;

void RowStore::Batch::Put(std::string_view key, std::string_view value) {
  rep_->batch.Put(AsSlice(key), AsSlice(value)).PermitUncheckedError();
}

size_t RowStore::Batch::count() const { return static_cast<size_t>(rep_->batch.Count()); }
size_t RowStore::Batch::bytes() const { return rep_->batch.GetDataSize(); }

void RowStore::Write(Batch& batch) {
  if (batch.count() == 0) return;
  const rocksdb::Status s = impl_->db->Write(impl_->write, &batch.rep_->batch);
  batch.rep_->batch.Clear();
  if (!s.ok()) [[unlikely]] {
    Fail("write", s.ToString());
  }
}

bool RowStore::Get(std::string_view key, std::string& value) const {
  const rocksdb::Status s = impl_->db->Get(impl_->read, AsSlice(key), &value);
  if (s.ok()) return true;
  if (!s.IsNotFound()) [[unlikely]] {
    Fail("read", s.ToString());
  }
  return false;
}

void RowStore::Delete(std::string_view key) {
  const rocksdb::Status s = impl_->db->Delete(impl_->write, AsSlice(key));
  if (!s.ok()) [[unlikely]] {
    Fail("delete", s.ToString());
  }
}

void RowStore::ForEach(std::string_view lo, std::string_view hi,
                       absl::FunctionRef<void(std::string_view, std::string_view)> f) const {
  rocksdb::ReadOptions read = impl_->read;
  const rocksdb::Slice upper = AsSlice(hi);
  read.iterate_upper_bound = &upper;
  // A whole-table walk would evict the rows the stream needs next.
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read));
  for (it->Seek(AsSlice(lo)); it->Valid(); it->Next()) f(AsView(it->key()), AsView(it->value()));
  if (!it->status().ok()) Fail("read", it->status().ToString());
}

void RowStore::DeleteRange(std::string_view lo, std::string_view hi) {
  const rocksdb::Status s = impl_->db->DeleteRange(impl_->write, impl_->db->DefaultColumnFamily(),
                                                   AsSlice(lo), AsSlice(hi));
  if (!s.ok()) Fail("delete", s.ToString());
}

Status RowStore::Checkpoint(const fs::path& dir) {
  PGPARITY_RETURN_IF_ERROR(status());
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush 0: the memtables are flushed first (the WAL is off,
  // so a checkpoint without the flush would miss them).
  if (s.ok()) s = checkpoint->CreateCheckpoint(dir.string(), /*log_size_for_flush=*/0);
  if (!s.ok()) return IoError("cannot write the row store checkpoint", dir, s.ToString());
  PGPARITY_RETURN_IF_ERROR(SyncDirectory(dir));
  return SyncDirectory(dir.parent_path());
}

size_t RowStore::MemoryBytes() const { return impl_->cache->GetUsage(); }

uint64_t RowStore::DiskBytes() const {
  uint64_t bytes = 0;
  impl_->db->GetIntProperty(rocksdb::DB::Properties::kTotalSstFilesSize, &bytes);
  return bytes;
}

}  // namespace pgparity::applier
