#include "pgparity/applier/audit/target_rows.h"

#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <vector>

#include "pgparity/applier/scan/row_read.h"
#include "pgparity/applier/scan/table_scan.h"
#include "pgparity/digest/md5_batch.h"
#include "pgparity/digest/row_digest.h"

namespace pgparity::applier {

namespace {

using digest::ColumnValue;

// The rows found, one map for every part read at once: sized for every key
// asked before the reads start, each query's rows added under the lock.
// (When each part filled a map of its own, merging them after the last read
// rehashed and copied a big commit's million rows once more.)
struct FoundRows {
  explicit FoundRows(TargetRowDigests& into) : rows(into) {}
  std::mutex mu;
  TargetRowDigests& rows;
};

// What every query of one part shares: the read, the digester, and where
// the rows go.
struct RowSink {
  const TableSpec& spec;
  TableRead read;
  ComparedColumns compared;
  digest::RowDigester digester;
  std::vector<ColumnValue> values;
  std::string key;
  std::vector<std::pair<std::string, digest::Digest128>> batch;  // one query's rows
  // Encodings hashed together (Md5Batch's lanes) once they fill
  // kComputeBytes, and at the end of each query's rows.
  digest::Md5Batch md5;
  std::vector<std::pair<size_t, size_t>> hashing;  // (row of `batch`, message of `md5`)
  FoundRows& found;

  RowSink(const TableSpec& s, FoundRows& out)
      : spec(s),
        // Partitioned on the target or not, as planned when pgparity started.
        read(ForDigest(TargetRead(s, s.target_relkind), s)),
        compared(s),
        digester(compared.MakeDigester(s)),
        values(s.columns.size()),
        found(out) {}

  // Each row of `rows` whose key `wanted` accepts, by key.
  template <typename Wanted>
  Status Take(const conn::QueryResult& rows, const Wanted& wanted) {
    batch.clear();
    hashing.clear();  // after a read that failed midway
    md5.Clear();
    for (int row = 0; row < rows.rows(); ++row) {
      PGPARITY_RETURN_IF_ERROR(
          RowValues(rows, row, read, values).WithPrefix("table " + spec.QualifiedName()));
      key.clear();
      EncodeKey(values, spec.key_positions, key);
      if (!wanted(key)) continue;
      Add(key);
    }
    Hash();
    std::lock_guard lk(found.mu);
    for (auto& [k, d] : batch) found.rows.insert_or_assign(std::move(k), d);
    return Status::OK();
  }

  // The row in `values` under `k`, its digest now or at the next Hash.
  void Add(const std::string& k) {
    digest::Digest128 now;
    const size_t message = digester.EncodeInto(compared.Project(values), md5, now);
    batch.emplace_back(k, now);
    if (message == digest::RowDigester::kHashedNow) return;
    hashing.emplace_back(batch.size() - 1, message);
    if (md5.bytes() >= digest::Md5Batch::kComputeBytes) Hash();
  }

  // The digests of the rows whose encodings wait in `md5`.
  void Hash() {
    md5.Compute();
    for (const auto& [row, message] : hashing) batch[row].second = md5.digest(message);
    hashing.clear();
    md5.Clear();
  }
};

Status ReadByInLists(conn::PgSession& target, RowSink& sink, std::span<const std::string> keys,
                     std::span<const size_t> which, size_t per_select) {
  const size_t columns = sink.spec.key_positions.size();
  for (size_t b = 0; b < which.size(); b += per_select) {
    std::vector<std::optional<std::string>> params;
    size_t count = 0;
    for (size_t i = b; i < std::min(which.size(), b + per_select); ++i) {
      auto values = DecodeKey(keys[which[i]], columns);
      if (values.empty()) continue;
      for (auto& value : values) params.push_back(std::move(value));
      ++count;
    }
    if (count == 0) continue;
    PGPARITY_ASSIGN_OR_RETURN(auto rows,
                              target.Query(SelectByKeysSql(sink.read, sink.spec, count), params));
    // The IN list matches only the keys asked for.
    PGPARITY_RETURN_IF_ERROR(sink.Take(rows, [](std::string_view) { return true; }));
  }
  return Status::OK();
}

// Every integer in [lo, hi] is one of the run's keys (they are distinct).
bool AsksEveryKey(const IntegerKeyRun& run) {
  return static_cast<uint64_t>(run.hi) - static_cast<uint64_t>(run.lo) + 1 == run.keys;
}

}  // namespace

Result<TargetRowDigests> ReadTargetRowDigests(conn::PgSession& target, const TableSpec& spec,
                                              std::span<const std::string> keys,
                                              const TargetRowReadOptions& options) {
  return ReadTargetRowDigests(std::vector<conn::PgSession*>{&target}, spec, keys, options);
}

Result<TargetRowDigests> ReadTargetRowDigests(std::vector<conn::PgSession*> sessions,
                                              const TableSpec& spec,
                                              std::span<const std::string> keys,
                                              const TargetRowReadOptions& options) {
  TargetRowDigests rows;
  PGPARITY_RETURN_IF_ERROR(
      ReadTargetRowDigestsInto(std::move(sessions), spec, keys, rows, options));
  return rows;
}

Status ReadTargetRowDigestsInto(std::vector<conn::PgSession*> sessions, const TableSpec& spec,
                                std::span<const std::string> keys, TargetRowDigests& rows,
                                const TargetRowReadOptions& options) {
  const size_t per_select = std::max<size_t>(1, options.keys_per_select);
  KeyRunSplit split;
  if (options.use_ranges &&
      ReadsIntegerKey(ForDigest(TargetRead(spec, spec.target_relkind), spec), spec)) {
    split = SplitIntegerKeyRuns(keys, options.runs);
  } else {
    split.leftovers.resize(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) split.leftovers[i] = i;
  }
  // A range's other rows may be in flight: only the keys asked for count.
  // A run that asks for every key of its range (a big commit's, often)
  // takes all its rows without looking them up.
  absl::flat_hash_set<std::string_view> wanted;
  if (!std::all_of(split.runs.begin(), split.runs.end(), AsksEveryKey)) {
    wanted.insert(keys.begin(), keys.end());
  }
  if (keys.size() < options.parallel_min_keys) sessions.resize(1);
  // On several sessions, twice as many parts: one finishing early takes
  // another.
  const std::vector<KeyRunPart> parts =
      ShareOutRuns(split, sessions.size() == 1 ? 1 : 2 * sessions.size());
  FoundRows found(rows);
  found.rows.reserve(found.rows.size() + keys.size());
  std::vector<size_t> order(parts.size());
  std::vector<double> weight(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    order[i] = i;
    weight[i] = static_cast<double>(parts[i].keys);
  }
  PGPARITY_RETURN_IF_ERROR(
      ScanInParallel(sessions, order, weight, [&](conn::PgSession& target, size_t i) -> Status {
        RowSink sink(spec, found);
        const auto asked = [&](std::string_view key) { return wanted.contains(key); };
        const auto any = [](std::string_view) { return true; };
        for (const IntegerKeyRun& run : parts[i].runs) {
          PGPARITY_ASSIGN_OR_RETURN(auto rows,
                                    target.Query(SelectByKeyRangeSql(sink.read, spec),
                                                 {std::to_string(run.lo), std::to_string(run.hi)}));
          PGPARITY_RETURN_IF_ERROR(AsksEveryKey(run) ? sink.Take(rows, any)
                                                     : sink.Take(rows, asked));
        }
        return ReadByInLists(target, sink, keys, parts[i].leftovers, per_select);
      }));
  return Status::OK();
}

}  // namespace pgparity::applier
