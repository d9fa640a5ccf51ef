// store_bench: RocksDB or LMDB for the shadow state spilled to disk (issue 15).
// See bench/README.md, "Shadow store: RocksDB or LMDB (issue 15)".
//
// One process runs one store configuration through the shadow's access
// pattern, phase by phase, and prints one tab-separated line per phase:
//
//   load      N rows, keys mostly ascending (the bootstrap scans in heap
//             order): a few rows per 256 are swapped with a neighbour
//   update    random existing keys: get the old value, put a new one
//   churn     random delete of an existing key + insert of an absent one
//   absent    gets of keys that were never stored
//   scan      one full ordered iteration
//   ranges    range iterations from random keys, RANGE_ROWS rows each
//   ckpt      a consistent on-disk copy of the whole store while it is open
//
// Key: 4-byte big-endian table id + 8-byte big-endian int64 with the sign bit
// flipped (bytewise order = numeric order). Loaded rows have ids 4r, churn
// inserts 4r+1, absent looks up 4r+2: between stored keys, never stored. Value: a 16-byte
// digest; one row in ten carries 40 bytes of kept values after it.
//
// Memory: a thread samples /proc/self/status every 20 ms; each line has the
// phase's peak RssAnon and RssFile (pages of mmap'd files, LMDB's map) and
// the current ones. Disk: allocated bytes (st_blocks) under the store's
// directory; written: write_bytes from /proc/self/io during the phase; cpu:
// the process's user + system CPU seconds during the phase.
#include <lmdb.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace {

namespace fs = std::filesystem;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "store_bench: %s\n", what.c_str());
  std::exit(1);
}

// --- workload ---------------------------------------------------------------

constexpr uint32_t kFirstTableId = 16384;
constexpr int kTables = 4;  // rows split evenly; the bootstrap copies table by table
constexpr size_t kKeyBytes = 12;
constexpr size_t kDigestBytes = 16;
constexpr size_t kKeptBytes = 40;

struct SplitMix64 {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
};

struct Key {
  char bytes[kKeyBytes];
  std::string_view View() const { return {bytes, kKeyBytes}; }
};

void PutBigEndian(char* out, uint64_t value, int width) {
  for (int i = width - 1; i >= 0; --i, value >>= 8) out[i] = static_cast<char>(value & 0xff);
}

// Which of the ids next to a row's: loaded, inserted by churn, never stored.
enum class KeyKind : uint64_t { kLoaded = 0, kInserted = 1, kAbsent = 2 };

// Row number r of N (0-based, table by table) -> the key of its id of `kind`.
Key RowKey(uint64_t r, uint64_t rows, KeyKind kind = KeyKind::kLoaded) {
  const uint64_t per_table = (rows + kTables - 1) / kTables;
  const uint64_t table = r / per_table;
  const int64_t id = static_cast<int64_t>(4 * (r % per_table) + static_cast<uint64_t>(kind));
  Key key;
  PutBigEndian(key.bytes, kFirstTableId + table, 4);
  PutBigEndian(key.bytes + 4, static_cast<uint64_t>(id) ^ (1ULL << 63), 8);
  return key;
}

// A digest, and for one row in ten 40 bytes of kept values after it.
std::string_view MakeValue(SplitMix64& rng, uint64_t row,
                           char (&buffer)[kDigestBytes + kKeptBytes]) {
  for (size_t i = 0; i < sizeof buffer; i += 8) {
    const uint64_t word = rng.Next();
    std::memcpy(buffer + i, &word, 8);
  }
  return {buffer, row % 10 == 3 ? kDigestBytes + kKeptBytes : kDigestBytes};
}

// --- measurement ------------------------------------------------------------

struct Memory {
  uint64_t anon_kib = 0;
  uint64_t file_kib = 0;
};

Memory ReadMemory() {
  std::ifstream status("/proc/self/status");
  Memory memory;
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0)
      memory.anon_kib = std::strtoull(line.c_str() + 8, nullptr, 10);
    if (line.rfind("RssFile:", 0) == 0)
      memory.file_kib = std::strtoull(line.c_str() + 8, nullptr, 10);
  }
  return memory;
}

// User + system CPU seconds of every thread (RocksDB's flushes and
// compactions too): the machine is shared, so wall time alone misleads.
double CpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

uint64_t WrittenBytes() {
  std::ifstream io("/proc/self/io");
  std::string line;
  while (std::getline(io, line)) {
    if (line.rfind("write_bytes:", 0) == 0) return std::strtoull(line.c_str() + 12, nullptr, 10);
  }
  return 0;
}

// Peaks of RssAnon and RssFile since the last TakePeaks(), sampled every 20 ms
// (the kernel keeps only VmHWM, the peak of their sum).
class MemorySampler {
 public:
  MemorySampler() : thread_([this] { Run(); }) {}
  ~MemorySampler() {
    stop_ = true;
    thread_.join();
  }
  Memory TakePeaks() {
    Sample();
    std::lock_guard lock(mutex_);
    const Memory peaks = peaks_;
    peaks_ = ReadMemory();
    return peaks;
  }

 private:
  void Run() {
    while (!stop_) {
      Sample();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  void Sample() {
    const Memory now = ReadMemory();
    std::lock_guard lock(mutex_);
    peaks_.anon_kib = std::max(peaks_.anon_kib, now.anon_kib);
    peaks_.file_kib = std::max(peaks_.file_kib, now.file_kib);
  }
  std::mutex mutex_;
  Memory peaks_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct DiskUse {
  uint64_t allocated = 0;  // st_blocks * 512 of every file
  uint64_t unshared = 0;   // of files with one link (a checkpoint's own bytes)
};

DiskUse MeasureDisk(const fs::path& dir) {
  DiskUse use;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    if (!entry.is_regular_file() || ::stat(entry.path().c_str(), &st) != 0) continue;
    use.allocated += static_cast<uint64_t>(st.st_blocks) * 512;
    if (st.st_nlink == 1) use.unshared += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return use;
}

// --- stores -----------------------------------------------------------------

// What the shadow needs of its store. Writes happen between Begin(true) and
// Commit() (one transaction of the shadow); Get sees the store as of the last
// commit or, for LMDB, the open write transaction too.
class Store {
 public:
  virtual ~Store() = default;
  virtual void Begin(bool write) = 0;
  virtual void Commit() = 0;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
  virtual bool Get(std::string_view key, std::string& value) = 0;
  // Visits up to `limit` rows in key order from `start` (empty: the first);
  // returns the rows visited, adds their value bytes to `bytes`.
  virtual uint64_t Scan(std::string_view start, uint64_t limit, uint64_t& bytes) = 0;
  virtual void Checkpoint(const fs::path& dir) = 0;
};

struct RocksSettings {
  uint64_t cache_bytes;     // block cache; memtables charged to it too
  uint64_t block_bytes;     // data block size
  bool compress;            // LZ4, or none (a miss then costs no decompression)
  uint64_t memtable_bytes;  // write_buffer_size; 0: a quarter of the cache
};

class RocksStore final : public Store {
 public:
  RocksStore(const fs::path& dir, const RocksSettings& settings) {
    rocksdb::Options options = Options(settings);
    rocksdb::DB* db = nullptr;
    const rocksdb::Status status = rocksdb::DB::Open(options, dir.string(), &db);
    if (!status.ok()) Fail("rocksdb open " + dir.string() + ": " + status.ToString());
    db_.reset(db);
    write_options_.disableWAL = true;
  }
  void Begin(bool) override { batch_.Clear(); }
  void Commit() override {
    if (batch_.Count() == 0) return;
    Check(db_->Write(write_options_, &batch_), "write");
    batch_.Clear();
  }
  void Put(std::string_view key, std::string_view value) override {
    Check(batch_.Put(Slice(key), Slice(value)), "put");
  }
  void Delete(std::string_view key) override { Check(batch_.Delete(Slice(key)), "delete"); }
  bool Get(std::string_view key, std::string& value) override {
    const rocksdb::Status status = db_->Get(read_options_, Slice(key), &value);
    if (status.IsNotFound()) return false;
    Check(status, "get");
    return true;
  }
  uint64_t Scan(std::string_view start, uint64_t limit, uint64_t& bytes) override {
    rocksdb::ReadOptions options;
    options.fill_cache = false;  // a full pass must not evict the hot rows
    options.readahead_size = 1 << 20;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
    uint64_t rows = 0;
    for (start.empty() ? it->SeekToFirst() : it->Seek(Slice(start)); it->Valid() && rows < limit;
         it->Next(), ++rows) {
      bytes += it->value().size();
    }
    Check(it->status(), "iterate");
    return rows;
  }
  void Checkpoint(const fs::path& dir) override {
    rocksdb::Checkpoint* raw = nullptr;
    Check(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint");
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    // log_size_for_flush 0: flush the memtables first (there is no WAL to copy).
    Check(checkpoint->CreateCheckpoint(dir.string(), 0), "checkpoint " + dir.string());
  }

 private:
  static rocksdb::Slice Slice(std::string_view view) { return {view.data(), view.size()}; }
  static void Check(const rocksdb::Status& status, const std::string& what) {
    if (!status.ok()) Fail("rocksdb " + what + ": " + status.ToString());
  }
  static rocksdb::Options Options(const RocksSettings& settings);

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions write_options_;
  rocksdb::ReadOptions read_options_;
  rocksdb::WriteBatch batch_;
};

// One LRU cache bounds the block cache, index and filter blocks and (through
// the WriteBufferManager) the memtables: half of it at most for memtables.
rocksdb::Options RocksStore::Options(const RocksSettings& settings) {
  auto cache = rocksdb::NewLRUCache(settings.cache_bytes, -1, false, 0.5);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.pin_top_level_index_and_filter = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_size = settings.block_bytes;
  table.format_version = 5;
  rocksdb::Options options;
  options.create_if_missing = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  const size_t memtables = settings.cache_bytes / 2;
  options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(memtables, cache, /*allow_stall=*/true);
  // Smaller memtables: shorter skiplists for every Get, more flushes.
  options.write_buffer_size =
      settings.memtable_bytes != 0 ? settings.memtable_bytes : memtables / 2;
  options.max_write_buffer_number = 2;
  options.max_background_jobs = 2;
  options.level_compaction_dynamic_level_bytes = true;
  // Keys compress (table id, mostly-zero high bytes); digests do not.
  options.compression = settings.compress ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
  options.bottommost_compression = options.compression;
  options.max_open_files = 256;
  return options;
}

std::span<char> FindMapping(const fs::path& file);

struct LmdbSettings {
  bool writemap;
  uint64_t trim_bytes;  // 0, or drop the map's pages from RSS above this (MADV_DONTNEED)
};

// The process's resident pages of shared mappings (RssFile + RssShmem), cheaply.
uint64_t SharedResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0, shared = 0;
  statm >> size >> resident >> shared;
  return shared * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

class LmdbStore final : public Store {
 public:
  LmdbStore(const fs::path& dir, const LmdbSettings& settings) : settings_(settings) {
    Check(mdb_env_create(&env_), "env_create");
    Check(mdb_env_set_mapsize(env_, size_t{64} << 30), "set_mapsize");  // sparse; never reached
    unsigned flags = MDB_NOSYNC | MDB_NOMETASYNC | MDB_NORDAHEAD | MDB_NOTLS;
    if (settings.writemap) flags |= MDB_WRITEMAP;
    Check(mdb_env_open(env_, dir.c_str(), flags, 0644), "env_open " + dir.string());
    if (settings.trim_bytes != 0) map_ = FindMapping(fs::canonical(dir) / "data.mdb");
    Begin(true);
    Check(mdb_dbi_open(txn_, nullptr, 0, &dbi_), "dbi_open");
    Commit();
  }
  ~LmdbStore() override {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    mdb_env_close(env_);
  }
  void Begin(bool write) override {
    Check(mdb_txn_begin(env_, nullptr, write ? 0 : MDB_RDONLY, &txn_), "txn_begin");
  }
  void Commit() override {
    MDB_txn* txn = std::exchange(txn_, nullptr);
    Check(mdb_txn_commit(txn), "txn_commit");
    MaybeTrim();
  }
  void Put(std::string_view key, std::string_view value) override {
    MDB_val k = Val(key), v = Val(value);
    // The bootstrap's keys are mostly ascending: append while they are.
    const bool ascending = key > std::string_view(last_put_, kKeyBytes);
    const int rc = mdb_put(txn_, dbi_, &k, &v, ascending ? MDB_APPEND : 0);
    Check(rc, "put");
    if (ascending) std::memcpy(last_put_, key.data(), kKeyBytes);
  }
  void Delete(std::string_view key) override {
    MDB_val k = Val(key);
    const int rc = mdb_del(txn_, dbi_, &k, nullptr);
    if (rc != MDB_NOTFOUND) Check(rc, "del");
  }
  bool Get(std::string_view key, std::string& value) override {
    if (++gets_ % 4096 == 0) MaybeTrim();  // a long read transaction has no commits
    MDB_val k = Val(key), v;
    const int rc = mdb_get(txn_, dbi_, &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    Check(rc, "get");
    value.assign(static_cast<const char*>(v.mv_data), v.mv_size);
    return true;
  }
  uint64_t Scan(std::string_view start, uint64_t limit, uint64_t& bytes) override;
  void Checkpoint(const fs::path& dir) override {
    fs::create_directories(dir);
    Check(mdb_env_copy2(env_, dir.c_str(), MDB_CP_COMPACT), "env_copy2 " + dir.string());
  }

 private:
  static MDB_val Val(std::string_view view) {
    return {view.size(), const_cast<char*>(view.data())};
  }
  static void Check(int rc, const std::string& what) {
    if (rc != 0) Fail("lmdb " + what + ": " + mdb_strerror(rc));
  }
  void MaybeTrim();

  LmdbSettings settings_;
  std::span<char> map_;  // the whole map (mapsize), for MaybeTrim
  MDB_env* env_ = nullptr;
  MDB_txn* txn_ = nullptr;
  MDB_dbi dbi_ = 0;
  char last_put_[kKeyBytes] = {};
  uint64_t gets_ = 0;
};

uint64_t LmdbStore::Scan(std::string_view start, uint64_t limit, uint64_t& bytes) {
  MDB_cursor* cursor = nullptr;
  Check(mdb_cursor_open(txn_, dbi_, &cursor), "cursor_open");
  MDB_val k = Val(start), v;
  int rc = mdb_cursor_get(cursor, &k, &v, start.empty() ? MDB_FIRST : MDB_SET_RANGE);
  uint64_t rows = 0;
  for (; rc == 0 && rows < limit; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT), ++rows) {
    bytes += v.mv_size;
    if (rows % 65536 == 65535) MaybeTrim();
  }
  mdb_cursor_close(cursor);
  if (rc != 0 && rc != MDB_NOTFOUND) Check(rc, "cursor_get");
  return rows;
}

// The map's pages are the kernel's page cache mapped into the process: they
// count as RssFile however little the process allocates. Unmapping them
// (MADV_DONTNEED on a shared file mapping keeps the pages, dirty ones too, in
// the page cache; the next access maps them again) bounds RSS, not the cache.
void LmdbStore::MaybeTrim() {
  if (settings_.trim_bytes == 0 || SharedResidentBytes() <= settings_.trim_bytes) return;
  if (::madvise(map_.data(), map_.size(), MADV_DONTNEED) != 0) {
    Fail("madvise: " + std::string(std::strerror(errno)));
  }
}

// mdb_env_info's me_mapaddr is the address stored in the file (0 without
// MDB_FIXEDMAP), not the map's: find the mapping of data.mdb instead.
std::span<char> FindMapping(const fs::path& file) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (!line.ends_with(" " + file.string())) continue;
    char* end = nullptr;
    const uintptr_t first = std::strtoull(line.c_str(), &end, 16);
    const uintptr_t last = std::strtoull(end + 1, nullptr, 16);
    return {reinterpret_cast<char*>(first), last - first};
  }
  Fail("no mapping of " + file.string() + " in /proc/self/maps");
}

// --- phases -----------------------------------------------------------------

struct Config {
  std::string store;  // rocksdb | lmdb
  uint64_t rows = 10'000'000;
  uint64_t cache_mib = 64;
  uint64_t block_kib = 8;
  uint64_t memtable_mib = 0;
  std::string compression = "lz4";
  bool writemap = false;
  uint64_t trim_mib = 0;
  std::string dir;
  std::string label;
  uint64_t updates = 2'000'000;
  uint64_t churn = 500'000;
  uint64_t absent = 500'000;
  uint64_t ranges = 100;
  uint64_t range_rows = 100'000;
  uint64_t txn_ops = 1000;  // changes per shadow transaction
};

class Phases {
 public:
  Phases(const Config& config, Store& store, const fs::path& dir)
      : config_(config), store_(store), dir_(dir) {}

  void Load();
  void Update();
  void Churn();
  void Absent();
  void ScanAll();
  void Ranges();
  void Checkpoint();

 private:
  template <typename Body>
  void Timed(const char* phase, Body body);
  uint64_t RandomRow() { return rng_.Below(config_.rows); }

  const Config& config_;
  Store& store_;
  fs::path dir_;
  MemorySampler sampler_;
  SplitMix64 rng_{42};
  std::string value_;
  char buffer_[kDigestBytes + kKeptBytes];
};

// Runs `body` (returns the operations it did) and prints the phase's line.
template <typename Body>
void Phases::Timed(const char* phase, Body body) {
  sampler_.TakePeaks();
  const uint64_t written_before = WrittenBytes();
  const double cpu_before = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  const uint64_t ops = body();
  const double cpu = CpuSeconds() - cpu_before;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Memory peaks = sampler_.TakePeaks();
  const Memory now = ReadMemory();
  const DiskUse disk = MeasureDisk(dir_ / "db");
  const DiskUse ckpt = fs::exists(dir_ / "ckpt") ? MeasureDisk(dir_ / "ckpt") : DiskUse{};
  const double mib = 1024.0 * 1024.0;
  std::printf(
      "%s\t%llu\t%s\t%llu\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.3f\n",
      config_.label.c_str(), static_cast<unsigned long long>(config_.rows), phase,
      static_cast<unsigned long long>(ops), seconds, ops / seconds, peaks.anon_kib / 1024.0,
      peaks.file_kib / 1024.0, now.anon_kib / 1024.0, now.file_kib / 1024.0, disk.allocated / mib,
      (WrittenBytes() - written_before) / mib, ckpt.allocated / mib, ckpt.unshared / mib, cpu);
  std::fflush(stdout);
}

// The bootstrap commits 40 blocks of 256 rows (10,240 rows) at a time.
constexpr uint64_t kBlocksPerBatch = 40;

void Phases::Load() {
  Timed("load", [&] {
    SplitMix64 order{7};
    for (uint64_t base = 0; base < config_.rows; base += 256) {
      const uint64_t end = std::min(base + 256, config_.rows);
      uint64_t rows[256];
      for (uint64_t r = base; r < end; ++r) rows[r - base] = r;
      for (int swap = 0; swap < 4 && end - base > 1; ++swap) {  // heap order: mostly ascending
        const uint64_t i = order.Below(end - base - 1);
        std::swap(rows[i], rows[i + 1]);
      }
      const uint64_t block = base / 256;
      if (block % kBlocksPerBatch == 0) store_.Begin(true);
      for (uint64_t r = base; r < end; ++r) {
        const uint64_t row = rows[r - base];
        store_.Put(RowKey(row, config_.rows).View(), MakeValue(rng_, row, buffer_));
      }
      if (block % kBlocksPerBatch == kBlocksPerBatch - 1 || end == config_.rows) store_.Commit();
    }
    return config_.rows;
  });
}

void Phases::Update() {
  Timed("update", [&] {
    uint64_t found = 0;
    for (uint64_t done = 0; done < config_.updates; done += config_.txn_ops) {
      store_.Begin(true);
      for (uint64_t i = 0; i < config_.txn_ops; ++i) {
        const uint64_t row = RandomRow();
        const Key key = RowKey(row, config_.rows);
        found += store_.Get(key.View(), value_) ? 1 : 0;
        store_.Put(key.View(), MakeValue(rng_, row, buffer_));
      }
      store_.Commit();
    }
    if (found < config_.updates * 9 / 10)
      Fail("update: only " + std::to_string(found) + " keys found");
    return config_.updates;
  });
}

void Phases::Churn() {
  Timed("churn", [&] {
    for (uint64_t done = 0; done < config_.churn; done += config_.txn_ops) {
      store_.Begin(true);
      for (uint64_t i = 0; i < config_.txn_ops; ++i) {
        store_.Delete(RowKey(RandomRow(), config_.rows).View());
        const uint64_t row = RandomRow();
        store_.Put(RowKey(row, config_.rows, KeyKind::kInserted).View(),
                   MakeValue(rng_, row, buffer_));
      }
      store_.Commit();
    }
    return config_.churn;
  });
}

void Phases::Absent() {
  Timed("absent", [&] {
    uint64_t found = 0;
    store_.Begin(false);
    for (uint64_t i = 0; i < config_.absent; ++i) {
      found += store_.Get(RowKey(RandomRow(), config_.rows, KeyKind::kAbsent).View(), value_);
    }
    store_.Commit();
    if (found != 0) Fail("absent: " + std::to_string(found) + " keys found");
    return config_.absent;
  });
}

void Phases::ScanAll() {
  Timed("scan", [&] {
    uint64_t bytes = 0;
    store_.Begin(false);
    const uint64_t rows = store_.Scan({}, UINT64_MAX, bytes);
    store_.Commit();
    if (rows < config_.rows * 9 / 10) Fail("scan: only " + std::to_string(rows) + " rows");
    return rows;
  });
}

void Phases::Ranges() {
  Timed("ranges", [&] {
    uint64_t rows = 0, bytes = 0;
    store_.Begin(false);
    for (uint64_t i = 0; i < config_.ranges; ++i) {
      rows += store_.Scan(RowKey(RandomRow(), config_.rows).View(), config_.range_rows, bytes);
    }
    store_.Commit();
    return rows;
  });
}

void Phases::Checkpoint() {
  Timed("ckpt", [&] {
    store_.Checkpoint(dir_ / "ckpt");
    return uint64_t{1};
  });
}

// --- main -------------------------------------------------------------------

constexpr const char* kUsage =
    "usage: store_bench --store=rocksdb|lmdb --dir=DIR [--rows=N] [--label=TEXT]\n"
    "                   [--updates=N] [--churn=N] [--absent=N] [--ranges=N] [--range-rows=N]\n"
    "                   [--txn-ops=N]   changes per store transaction (1000)\n"
    "  rocksdb: [--cache-mib=M]        one LRU cache for blocks, index, filters and memtables "
    "(64)\n"
    "           [--block-kib=K] [--compression=lz4|none]   data blocks (8, lz4)\n"
    "           [--memtable-mib=M]   write_buffer_size (a quarter of the cache)\n"
    "  lmdb:    [--writemap] [--trim-mib=M]  MDB_WRITEMAP; unmap the map's pages above M MiB RSS\n"
    "  DIR must not exist (it is created, and removed at the end).";

[[noreturn]] void Usage(const std::string& problem) {
  std::fprintf(stderr, "store_bench: %s\n%s\n", problem.c_str(), kUsage);
  std::exit(2);
}

uint64_t Number(std::string_view arg, std::string_view value) {
  char* end = nullptr;
  const std::string text(value);
  const uint64_t number = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') Usage(std::string(arg) + " needs a number, got '" + text + "'");
  return number;
}

Config ParseArgs(int argc, char** argv) {
  Config config;
  const std::pair<std::string_view, uint64_t*> numbers[] = {
      {"--rows", &config.rows},           {"--cache-mib", &config.cache_mib},
      {"--block-kib", &config.block_kib}, {"--memtable-mib", &config.memtable_mib},
      {"--trim-mib", &config.trim_mib},   {"--updates", &config.updates},
      {"--churn", &config.churn},         {"--absent", &config.absent},
      {"--ranges", &config.ranges},       {"--range-rows", &config.range_rows},
      {"--txn-ops", &config.txn_ops}};
  const std::pair<std::string_view, std::string*> texts[] = {{"--store", &config.store},
                                                             {"--compression", &config.compression},
                                                             {"--dir", &config.dir},
                                                             {"--label", &config.label}};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : arg.substr(eq + 1);
    bool known = name == "--writemap";
    if (known) config.writemap = true;
    for (const auto& [option, target] : numbers) {
      if (name == option) known = true, *target = Number(name, value);
    }
    for (const auto& [option, target] : texts) {
      if (name == option) known = true, *target = value;
    }
    if (!known) Usage("unknown option '" + std::string(arg) + "'");
  }
  if (config.store != "rocksdb" && config.store != "lmdb") Usage("--store must be rocksdb or lmdb");
  if (config.dir.empty()) Usage("--dir is required");
  if (fs::exists(config.dir)) Usage("--dir " + config.dir + " exists; give a new path");
  if (config.rows < 1000) Usage("--rows must be at least 1000");
  if (config.txn_ops == 0) Usage("--txn-ops must be at least 1");
  if (config.compression != "lz4" && config.compression != "none")
    Usage("--compression must be lz4 or none");
  if (config.block_kib == 0) Usage("--block-kib must be at least 1");
  if (config.label.empty()) {
    if (config.store == "rocksdb") {
      config.label = "rocksdb-" + std::to_string(config.cache_mib) + "M";
    } else {
      config.label = config.writemap ? "lmdb-writemap" : "lmdb";
      if (config.trim_mib != 0) config.label += "-trim" + std::to_string(config.trim_mib) + "M";
    }
  }
  return config;
}

std::unique_ptr<Store> OpenStore(const Config& config, const fs::path& dir) {
  fs::create_directories(dir);
  if (config.store == "rocksdb")
    return std::make_unique<RocksStore>(
        dir, RocksSettings{config.cache_mib << 20, config.block_kib << 10,
                           config.compression == "lz4", config.memtable_mib << 20});
  return std::make_unique<LmdbStore>(dir, LmdbSettings{config.writemap, config.trim_mib << 20});
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = ParseArgs(argc, argv);
  const fs::path dir = config.dir;
  std::printf(
      "config\trows\tphase\tops\tseconds\tops_per_s\tpeak_anon_mib\tpeak_file_mib\tanon_mib\tfile_"
      "mib\tdisk_mib\twritten_mib\tckpt_mib\tckpt_own_mib\tcpu_s\n");
  {
    std::unique_ptr<Store> store = OpenStore(config, dir / "db");
    Phases phases(config, *store, dir);
    phases.Load();
    phases.Update();
    phases.Churn();
    phases.Absent();
    phases.ScanAll();
    phases.Ranges();
    phases.Checkpoint();
  }
  fs::remove_all(dir);
  return 0;
}
