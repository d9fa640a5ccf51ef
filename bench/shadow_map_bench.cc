// shadow_map_bench: the shadow's row map, one absl flat map against the
// StaggeredMap of eight (applier/shadow/staggered_map.h) that replaced it
// (issue 15: bytes per row flat with the row count). Integer keys 1..n as
// pgbench's, a 16-byte row digest each, as TableShadow's int_rows_.
//
//   build/bench/shadow_map_bench --benchmark_repetitions=5
//     --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
//
// Counters: rows/s, and slots_per_row (capacity / rows: the memory per row
// is that times 25 bytes).
//
// BM_ParseCheckpoint: what `audit` does with a checkpoint at a restart
// (ParseCheckpoint of n integer-keyed rows of one table into an empty
// shadow state), the file already in memory.
#include <absl/container/flat_hash_map.h>
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "pgparity/applier/shadow/shadow_checkpoint.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/applier/shadow/staggered_map.h"
#include "pgparity/digest/digest128.h"

namespace {

using pgparity::applier::StaggeredMap;
using pgparity::digest::Digest128;
using Single = absl::flat_hash_map<int64_t, Digest128>;
using Staggered = StaggeredMap<Single>;

Digest128 DigestOf(int64_t i) {
  return Digest128{static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ull, static_cast<uint64_t>(i)};
}

// Inserts keys 1..n into an empty map, growing it as the bootstrap does.
template <typename Map>
void BM_Insert(benchmark::State& state) {
  const auto n = static_cast<int64_t>(state.range(0));
  double slots = 0;
  for (auto _ : state) {
    Map m;
    for (int64_t i = 1; i <= n; ++i) m.insert_or_assign(i, DigestOf(i));
    slots = static_cast<double>(m.capacity()) / static_cast<double>(n);
    benchmark::DoNotOptimize(m);
  }
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(n) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["slots_per_row"] = slots;
}

const Digest128* FindIn(const Single& m, int64_t k) {
  auto it = m.find(k);
  return it == m.end() ? nullptr : &it->second;
}
const Digest128* FindIn(const Staggered& m, int64_t k) { return m.Find(k); }

// Looks up n keys in random order in a map of keys 1..n (the per-change
// checks' and the updates' access).
template <typename Map>
void BM_Find(benchmark::State& state) {
  const auto n = static_cast<int64_t>(state.range(0));
  Map m;
  for (int64_t i = 1; i <= n; ++i) m.insert_or_assign(i, DigestOf(i));
  std::vector<int64_t> keys(static_cast<size_t>(n));
  std::mt19937_64 rng(1);
  for (auto& k : keys) k = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
  for (auto _ : state) {
    uint64_t sum = 0;
    for (int64_t k : keys) sum += FindIn(m, k)->lo;
    benchmark::DoNotOptimize(sum);
  }
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(n) * state.iterations(), benchmark::Counter::kIsRate);
}

// public.accounts (aid int key, abalance int), as pgbench_accounts' key.
std::vector<pgparity::applier::TableSpec> AccountsSpec() {
  pgparity::applier::TableSpec s;
  s.schema = "public";
  s.name = "accounts";
  s.columns = {"aid", "abalance"};
  s.types = {"integer", "integer"};
  s.key_positions = {0};
  s.integer_key = true;
  s.toastable = {false, false};
  s.replica_identity = 'd';
  return {s};
}

void BM_ParseCheckpoint(benchmark::State& state) {
  using pgparity::applier::ShadowState;
  using pgparity::digest::ColumnValue;
  const auto n = static_cast<int64_t>(state.range(0));
  ShadowState written(AccountsSpec());
  for (int64_t i = 1; i <= n; ++i) {
    const std::string aid = std::to_string(i);
    const ColumnValue row[] = {{ColumnValue::Kind::kValue, aid}, {ColumnValue::Kind::kValue, "0"}};
    written.table(0).AddScannedRow(row);
  }
  const std::vector<std::byte> file =
      pgparity::applier::EncodeCheckpoint(written, pgparity::wire::Lsn(1), {"s", "p", ""}, "");
  for (auto _ : state) {
    state.PauseTiming();
    auto read = std::make_unique<ShadowState>(AccountsSpec());
    pgparity::applier::CheckpointMeta meta;
    state.ResumeTiming();
    auto lsn = pgparity::applier::ParseCheckpoint(file, "bench.ckpt", *read, meta);
    if (!lsn.ok()) state.SkipWithError(lsn.status().ToString().c_str());
    state.PauseTiming();
    read.reset();  // not timed: freeing the maps
    state.ResumeTiming();
  }
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(n) * state.iterations(), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_ParseCheckpoint)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Insert<Single>)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Insert<Staggered>)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Find<Single>)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Find<Staggered>)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
