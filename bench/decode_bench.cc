// decode_bench: single-thread throughput of pgparity's decoder, and where its
// time goes. See bench/README.md for what each benchmark measures and the
// results.
//
// The stream: pgbench -N shaped transactions (Begin; UPDATE pgbench_accounts
// with no old tuple; INSERT pgbench_history; Commit), encoded once with the
// wire layer into XLogData CopyData frames exactly as the walsender sends
// them. Every benchmark walks the same frames:
//
//   BM_ParseOnly_PgbenchShaped     ParseCopyData + wire::Parse per frame
//   BM_Decode_PgbenchShaped        + StreamDecoder (state machine, relation
//                                  cache, order checks) into a no-op sink
//   BM_DecodeDigest_PgbenchShaped  + ChainedDigest (row digests, transaction
//                                  digest, chain): what `pgparity` does per
//                                  change before writing anything
//   BM_DecodeRecord_PgbenchShaped  + RecordSink instead: digests and one
//                                  protobuf record per event, written to a
//                                  file (what `pgparity record` does, minus
//                                  the network and the periodic fsync)
//   BM_RowDigest_PgbenchShaped     RowDigester::Digest alone over the rows,
//                                  one at a time (OpenSSL MD5)
//   BM_Md5Batch_{Scalar,Avx2,Avx512}  the rows' MD5s alone, precomputed
//                                  encodings, 256 a batch, per kernel
//
// items_processed = changes (rows for BM_RowDigest), bytes_processed = frame
// bytes (CopyData payloads, the 25-byte XLogData header included); Google
// Benchmark prints both per second.
//
// With PGPARITY_BENCH_RAW=FILE (a `pgparity record --raw` recording), the
// same decode stages also run over that file's frames: BM_ParseOnly_Recorded,
// BM_Decode_Recorded, BM_DecodeDigest_Recorded, BM_DecodeRecord_Recorded.
// PGPARITY_BENCH_DIR (default /tmp) holds the file BM_DecodeRecord_* write.
#include <benchmark/benchmark.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/core/chained_digest.h"
#include "pgparity/core/change_sink.h"
#include "pgparity/core/stream_decoder.h"
#include "pgparity/digest/md5_batch.h"
#include "pgparity/digest/row_digest.h"
#include "pgparity/record/record_file.h"
#include "pgparity/record/record_sink.h"
#include "pgparity/wire/copy_data.h"
#include "pgparity/wire/pgoutput.h"
#include "pgparity/wire/tuple.h"

namespace pgparity::bench {
namespace {

using wire::Lsn;

constexpr wire::Oid kAccountsRelid = 16397;
constexpr wire::Oid kHistoryRelid = 16388;
constexpr int kTransactions = 10'000;  // 20,000 changes, ~3.4 MB of frames per pass

// A captured or synthesized stream: CopyData payloads back to back.
struct Frames {
  std::vector<std::byte> bytes;
  std::vector<std::pair<size_t, size_t>> spans;  // offset, length
  int protocol_version = 2;
  uint64_t changes = 0;  // Insert/Update/Delete messages
  uint64_t transactions = 0;

  std::span<const std::byte> frame(size_t i) const {
    return std::span<const std::byte>(bytes).subspan(spans[i].first, spans[i].second);
  }
  size_t count() const { return spans.size(); }
  uint64_t total_bytes() const { return bytes.size(); }

  void Add(const std::vector<std::byte>& frame) {
    spans.emplace_back(bytes.size(), frame.size());
    bytes.insert(bytes.end(), frame.begin(), frame.end());
  }
};

// One pgoutput message framed as XLogData at `lsn`.
void AddMessage(Frames& out, uint64_t lsn, const wire::Message& m, int64_t send_time) {
  std::vector<std::byte> body;
  wire::Encode(m, body);
  wire::XLogData x;
  x.wal_start = Lsn(lsn);
  x.wal_end = Lsn(lsn);
  x.send_time = wire::Timestamp(send_time);
  x.body = body;
  std::vector<std::byte> frame;
  wire::EncodeXLogData(x, frame);
  out.Add(frame);
}

wire::Relation AccountsRelation() {
  // pgbench_accounts (aid int primary key, bid int, abalance int, filler char(84))
  wire::Relation r;
  r.relid = kAccountsRelid;
  r.namespace_name = "public";
  r.name = "pgbench_accounts";
  r.replica_identity = wire::ReplicaIdentity::kDefault;
  r.columns = {{wire::RelationColumn::kFlagKey, "aid", 23, -1},
               {0, "bid", 23, -1},
               {0, "abalance", 23, -1},
               {0, "filler", 1042, 88}};
  return r;
}

wire::Relation HistoryRelation() {
  // pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp,
  // filler char(22)); no primary key.
  wire::Relation r;
  r.relid = kHistoryRelid;
  r.namespace_name = "public";
  r.name = "pgbench_history";
  r.replica_identity = wire::ReplicaIdentity::kDefault;
  r.columns = {{0, "tid", 23, -1},   {0, "bid", 23, -1},     {0, "aid", 23, -1},
               {0, "delta", 23, -1}, {0, "mtime", 1114, -1}, {0, "filler", 1042, 26}};
  return r;
}

// "2024-05-06 07:08:09.123456" for `micros` after 2024-05-06 00:00:00.
std::string MtimeText(int64_t micros) {
  const int64_t secs = micros / 1'000'000;
  char buf[40];
  std::snprintf(buf, sizeof buf, "2024-05-%02d %02d:%02d:%02d.%06d",
                static_cast<int>(6 + secs / 86400), static_cast<int>(secs / 3600 % 24),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60),
                static_cast<int>(micros % 1'000'000));
  return buf;
}

// pgbench -N at scale 10: what the walsender sends for `n` transactions of
//   UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
//   INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (..., now());
// Relation messages precede each relation's first change, as pgoutput sends
// them once per session.
Frames PgbenchShaped(int n) {
  Frames out;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> aid_dist(1, 1'000'000);
  std::uniform_int_distribution<int> tid_dist(1, 100);
  std::uniform_int_distribution<int> delta_dist(-5000, 5000);
  std::uniform_int_distribution<int> balance_dist(-50'000, 50'000);
  const std::string filler84(84, ' ');
  uint64_t lsn = 0x1'6B37'4800;
  int64_t now = 768'200'000'000'000;  // PostgreSQL epoch micros
  int64_t mtime = 25'200'000'000;     // 07:00 on the day
  wire::Xid xid = 800;
  bool relations_sent = false;
  for (int i = 0; i < n; ++i) {
    const int aid = aid_dist(rng);
    const int bid = (aid - 1) / 100'000 + 1;
    const int tid = tid_dist(rng);
    const int delta = delta_dist(rng);
    const int balance = balance_dist(rng);
    mtime += 137;
    now += 137;

    const uint64_t begin_lsn = lsn;
    const uint64_t update_lsn = lsn + 0x28;
    const uint64_t insert_lsn = lsn + 0xa0;
    const uint64_t commit_lsn = lsn + 0x118;
    const uint64_t end_lsn = lsn + 0x148;
    lsn += 0x150;

    AddMessage(out, begin_lsn, wire::Begin{Lsn(commit_lsn), wire::Timestamp(now), xid}, now);
    if (!relations_sent) {
      AddMessage(out, update_lsn, AccountsRelation(), now);
    }
    wire::TupleBuilder account;
    account.AddText(std::to_string(aid))
        .AddText(std::to_string(bid))
        .AddText(std::to_string(balance))
        .AddText(filler84);
    AddMessage(out, update_lsn,
               wire::Update{std::nullopt, kAccountsRelid, wire::OldTupleKind::kNone,
                            wire::TupleView(), account.view()},
               now);
    if (!relations_sent) {
      AddMessage(out, insert_lsn, HistoryRelation(), now);
      relations_sent = true;
    }
    wire::TupleBuilder history;
    history.AddText(std::to_string(tid))
        .AddText(std::to_string(bid))
        .AddText(std::to_string(aid))
        .AddText(std::to_string(delta))
        .AddText(MtimeText(mtime))
        .AddNull();
    AddMessage(out, insert_lsn, wire::Insert{std::nullopt, kHistoryRelid, history.view()}, now);
    AddMessage(out, end_lsn, wire::Commit{0, Lsn(commit_lsn), Lsn(end_lsn), wire::Timestamp(now)},
               now);
    out.changes += 2;
    ++out.transactions;
    ++xid;
  }
  return out;
}

const Frames& Pgbench() {
  static const Frames frames = PgbenchShaped(kTransactions);
  return frames;
}

class NoopSink final : public core::ChangeSink {
 public:
  Status OnBegin(const core::TxnInfo&) override { return Status::OK(); }
  Status OnChange(const core::Change& c) override {
    benchmark::DoNotOptimize(&c);
    return Status::OK();
  }
  Status OnTruncate(const core::TruncateEvent&) override { return Status::OK(); }
  Status OnLogicalMessage(const core::LogicalMessageEvent&) override { return Status::OK(); }
  Status OnCommit(const core::CommitInfo&) override { return Status::OK(); }
};

void SetCounters(benchmark::State& state, const Frames& f) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * f.changes));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.total_bytes()));
  state.counters["changes"] = static_cast<double>(f.changes);
  state.counters["frames"] = static_cast<double>(f.count());
}

// ---------------------------------------------------------------- stages

void RunParseOnly(benchmark::State& state, const Frames& f) {
  wire::ParseOptions options;
  options.protocol_version = f.protocol_version;
  for (auto _ : state) {
    options.in_stream = false;
    for (size_t i = 0; i < f.count(); ++i) {
      Result<wire::CopyMessage> frame = wire::ParseCopyData(f.frame(i));
      if (!frame.ok()) {
        state.SkipWithError(frame.status().ToString().c_str());
        return;
      }
      const auto* x = std::get_if<wire::XLogData>(&*frame);
      if (x == nullptr) continue;
      Result<wire::Message> m = wire::Parse(x->body, options);
      if (!m.ok()) {
        state.SkipWithError(m.status().ToString().c_str());
        return;
      }
      // The only state parsing needs: inside Stream Start .. Stream Stop,
      // changes carry an xid.
      const wire::MessageType type = wire::TypeOf(*m);
      if (type == wire::MessageType::kStreamStart) options.in_stream = true;
      if (type == wire::MessageType::kStreamStop) options.in_stream = false;
      benchmark::DoNotOptimize(m);
    }
  }
  SetCounters(state, f);
}

template <typename Sink>
Status FeedAll(const Frames& f, Sink& sink) {
  core::DecoderOptions options;
  options.protocol_version = f.protocol_version;
  core::StreamDecoder decoder(sink, options);
  for (size_t i = 0; i < f.count(); ++i) {
    Result<wire::CopyMessage> frame = wire::ParseCopyData(f.frame(i));
    if (!frame.ok()) return frame.status();
    const auto* x = std::get_if<wire::XLogData>(&*frame);
    if (x == nullptr) continue;  // keepalives
    PGPARITY_RETURN_IF_ERROR(decoder.Feed(*x));
  }
  return Status::OK();
}

void RunDecode(benchmark::State& state, const Frames& f) {
  for (auto _ : state) {
    NoopSink sink;
    Status s = FeedAll(f, sink);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  SetCounters(state, f);
}

void RunDecodeDigest(benchmark::State& state, const Frames& f) {
  core::ChainState expected;
  {
    core::ChainedDigest chain;
    Status s = FeedAll(f, chain);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
    expected = chain.state();
  }
  for (auto _ : state) {
    core::ChainedDigest chain;
    Status s = FeedAll(f, chain);
    if (!s.ok() || chain.state() != expected) {
      state.SkipWithError(s.ok() ? "chain differs between passes" : s.ToString().c_str());
      return;
    }
  }
  SetCounters(state, f);
  state.SetLabel("chain " + expected.chain.ToHex());
}

// Where BM_DecodeRecord_* write their recording (rewritten every pass).
std::string RecordPath() {
  const char* dir = std::getenv("PGPARITY_BENCH_DIR");
  return std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/pgparity-decode-bench-" +
         std::to_string(::getpid()) + ".pb";
}

void RunDecodeRecord(benchmark::State& state, const Frames& f) {
  const std::string path = RecordPath();
  pgparity::v1::Header header;
  header.set_format_version(record::kRecordFormatVersion);
  header.set_slot("bench");
  header.set_protocol_version(static_cast<uint32_t>(f.protocol_version));
  uint64_t file_bytes = 0;
  for (auto _ : state) {
    auto sink = record::RecordSink::Create(path, header);
    if (!sink.ok()) {
      state.SkipWithError(sink.status().ToString().c_str());
      return;
    }
    Status s = FeedAll(f, **sink);
    // Flush + fsync once per pass, as `record` does at each checkpoint.
    if (s.ok()) s = (*sink)->Close();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) file_bytes = static_cast<uint64_t>(st.st_size);
  }
  std::remove(path.c_str());
  SetCounters(state, f);
  state.counters["file_bytes"] = static_cast<double>(file_bytes);
}

void BM_ParseOnly_PgbenchShaped(benchmark::State& state) { RunParseOnly(state, Pgbench()); }
void BM_DecodeRecord_PgbenchShaped(benchmark::State& state) { RunDecodeRecord(state, Pgbench()); }
void BM_Decode_PgbenchShaped(benchmark::State& state) { RunDecode(state, Pgbench()); }
void BM_DecodeDigest_PgbenchShaped(benchmark::State& state) { RunDecodeDigest(state, Pgbench()); }

// ---------------------------------------------------------------- digests alone

// The pgbench stream's rows as the sink sees them, with their digesters.
struct Rows {
  std::vector<std::string> names_a{"aid", "bid", "abalance", "filler"};
  std::vector<std::string> names_h{"tid", "bid", "aid", "delta", "mtime", "filler"};
  digest::RowDigester accounts{"public", "pgbench_accounts", names_a};
  digest::RowDigester history{"public", "pgbench_history", names_h};
  std::vector<std::pair<bool, wire::TupleView>> rows;  // (is accounts, tuple)
};

class CollectRows final : public core::ChangeSink {
 public:
  explicit CollectRows(Rows& rows) : rows_(rows) {}
  Status OnBegin(const core::TxnInfo&) override { return Status::OK(); }
  Status OnChange(const core::Change& c) override {
    rows_.rows.emplace_back(c.relation.relid() == kAccountsRelid, c.new_tuple);
    return Status::OK();
  }
  Status OnTruncate(const core::TruncateEvent&) override { return Status::OK(); }
  Status OnLogicalMessage(const core::LogicalMessageEvent&) override { return Status::OK(); }
  Status OnCommit(const core::CommitInfo&) override { return Status::OK(); }

 private:
  Rows& rows_;
};

// The tuples view the frames of Pgbench(), which live for the process.
Rows& PgbenchRows() {
  static Rows* rows = [] {
    auto* r = new Rows;
    CollectRows sink(*r);
    Status s = FeedAll(Pgbench(), sink);
    if (!s.ok()) std::abort();
    return r;
  }();
  return *rows;
}

void BM_RowDigest_PgbenchShaped(benchmark::State& state) {
  Rows& r = PgbenchRows();
  uint64_t encoded = 0;
  for (const auto& [is_accounts, tuple] : r.rows) {
    digest::RowDigester& d = is_accounts ? r.accounts : r.history;
    (void)d.Digest(tuple);
    encoded += d.last_encoding().size();
  }
  for (auto _ : state) {
    for (const auto& [is_accounts, tuple] : r.rows) {
      benchmark::DoNotOptimize((is_accounts ? r.accounts : r.history).Digest(tuple));
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * r.rows.size()));
  // Bytes of canonical encoding hashed.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * encoded));
}

// The canonical encodings of the pgbench stream's rows (precomputed): what
// BM_Md5Batch_* hash.
const std::vector<std::string>& PgbenchRowEncodings() {
  static const std::vector<std::string> encodings = [] {
    std::vector<std::string> out;
    Rows& r = PgbenchRows();
    for (const auto& [is_accounts, tuple] : r.rows) {
      digest::RowDigester& d = is_accounts ? r.accounts : r.history;
      (void)d.Digest(tuple);
      out.emplace_back(d.last_encoding());
    }
    return out;
  }();
  return encodings;
}

// The row digests of BM_RowDigest through Md5Batch, 256 rows a batch (as
// ChainedDigest batches them), per kernel: what the lanes buy. Includes
// copying each encoding into the batch; _Scalar is OpenSSL's MD5 one row at
// a time, the floor of any one-message-at-a-time implementation.
void RunMd5Batch(benchmark::State& state, digest::Md5Kernel kernel) {
  if (!digest::Md5KernelSupported(kernel)) {
    state.SkipWithError("kernel not supported on this CPU");
    return;
  }
  const std::vector<std::string>& rows = PgbenchRowEncodings();
  digest::Md5Batch batch;
  for (auto _ : state) {
    for (size_t i = 0; i < rows.size(); i += 256) {
      batch.Clear();
      const size_t end = std::min(i + 256, rows.size());
      for (size_t j = i; j < end; ++j) batch.Add(rows[j]);
      batch.Compute(kernel);
      benchmark::DoNotOptimize(batch.digest(0));
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
}
void BM_Md5Batch_Scalar(benchmark::State& state) { RunMd5Batch(state, digest::Md5Kernel::kScalar); }
void BM_Md5Batch_Avx2(benchmark::State& state) { RunMd5Batch(state, digest::Md5Kernel::kAvx2); }
void BM_Md5Batch_Avx512(benchmark::State& state) { RunMd5Batch(state, digest::Md5Kernel::kAvx512); }

BENCHMARK(BM_ParseOnly_PgbenchShaped)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode_PgbenchShaped)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeDigest_PgbenchShaped)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeRecord_PgbenchShaped)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RowDigest_PgbenchShaped)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Md5Batch_Scalar)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Md5Batch_Avx2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Md5Batch_Avx512)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------- recorded

// Loads the raw frames of a `pgparity record --raw` recording.
Result<Frames> LoadRaw(const std::string& path) {
  auto reader = record::RecordFileReader::Open(path);
  if (!reader.ok()) return reader.status();
  Frames f;
  bool header = false;
  for (;;) {
    auto next = (*reader)->Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) break;
    const pgparity::v1::Record& r = **next;
    if (r.has_header()) {
      if (!r.header().raw()) {
        return Status::InvalidArgument(path + " is not a raw recording (record --raw)");
      }
      f.protocol_version = static_cast<int>(r.header().protocol_version());
      header = true;
      continue;
    }
    if (!r.has_raw()) continue;
    const std::string& d = r.raw().data();
    const auto* p = reinterpret_cast<const std::byte*>(d.data());
    f.spans.emplace_back(f.bytes.size(), d.size());
    f.bytes.insert(f.bytes.end(), p, p + d.size());
  }
  if (!header) return Status::InvalidArgument(path + " has no header record");
  // Count what the decoder delivers.
  class Count final : public core::ChangeSink {
   public:
    Status OnBegin(const core::TxnInfo&) override { return Status::OK(); }
    Status OnChange(const core::Change&) override {
      ++changes;
      return Status::OK();
    }
    Status OnTruncate(const core::TruncateEvent&) override { return Status::OK(); }
    Status OnLogicalMessage(const core::LogicalMessageEvent&) override { return Status::OK(); }
    Status OnCommit(const core::CommitInfo&) override {
      ++transactions;
      return Status::OK();
    }
    uint64_t changes = 0, transactions = 0;
  } count;
  PGPARITY_RETURN_IF_ERROR(FeedAll(f, count));
  f.changes = count.changes;
  f.transactions = count.transactions;
  return f;
}

}  // namespace
}  // namespace pgparity::bench

int main(int argc, char** argv) {
  using namespace pgparity::bench;  // NOLINT
  static Frames recorded;
  if (const char* raw = std::getenv("PGPARITY_BENCH_RAW"); raw != nullptr && *raw != '\0') {
    auto f = LoadRaw(raw);
    if (!f.ok()) {
      std::fprintf(stderr, "decode_bench: PGPARITY_BENCH_RAW=%s: %s\n", raw,
                   f.status().ToString().c_str());
      return 2;
    }
    recorded = std::move(*f);
    std::fprintf(stderr,
                 "decode_bench: %s: %zu frames, %llu bytes, %llu transactions, %llu changes\n", raw,
                 recorded.count(), static_cast<unsigned long long>(recorded.total_bytes()),
                 static_cast<unsigned long long>(recorded.transactions),
                 static_cast<unsigned long long>(recorded.changes));
    benchmark::RegisterBenchmark("BM_ParseOnly_Recorded", [](benchmark::State& s) {
      RunParseOnly(s, recorded);
    })->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_Decode_Recorded", [](benchmark::State& s) {
      RunDecode(s, recorded);
    })->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_DecodeDigest_Recorded", [](benchmark::State& s) {
      RunDecodeDigest(s, recorded);
    })->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_DecodeRecord_Recorded", [](benchmark::State& s) {
      RunDecodeRecord(s, recorded);
    })->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
