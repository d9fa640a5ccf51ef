#include "pgparity/applier/audit/target_rows.h"

#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "pgparity/applier/scan/row_read.h"
#include "pgparity/digest/row_digest.h"

namespace pgparity::applier {

namespace {

using digest::ColumnValue;

// What every query of one call shares: the read, the digester, and where
// the rows go.
struct RowSink {
  const TableSpec& spec;
  TableRead read;
  ComparedColumns compared;
  digest::RowDigester digester;
  std::vector<ColumnValue> values;
  std::string key;
  TargetRowDigests& found;

  RowSink(const TableSpec& s, TargetRowDigests& out)
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
    for (int row = 0; row < rows.rows(); ++row) {
      PGPARITY_RETURN_IF_ERROR(
          RowValues(rows, row, read, values).WithPrefix("table " + spec.QualifiedName()));
      key.clear();
      EncodeKey(values, spec.key_positions, key);
      if (!wanted(key)) continue;
      found[key] = digester.Digest(compared.Project(values));
    }
    return Status::OK();
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

}  // namespace

Result<TargetRowDigests> ReadTargetRowDigests(conn::PgSession& target, const TableSpec& spec,
                                              std::span<const std::string> keys,
                                              const TargetRowReadOptions& options) {
  TargetRowDigests found;
  RowSink sink(spec, found);
  const size_t per_select = std::max<size_t>(1, options.keys_per_select);
  KeyRunSplit split;
  if (options.use_ranges && ReadsIntegerKey(sink.read, spec)) {
    split = SplitIntegerKeyRuns(keys, options.runs);
  } else {
    split.leftovers.resize(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) split.leftovers[i] = i;
  }
  if (!split.runs.empty()) {
    // A range's other rows may be in flight: only the keys asked for count.
    const absl::flat_hash_set<std::string_view> wanted(keys.begin(), keys.end());
    const auto asked = [&](std::string_view key) { return wanted.contains(key); };
    for (const IntegerKeyRun& run : split.runs) {
      PGPARITY_ASSIGN_OR_RETURN(auto rows,
                                target.Query(SelectByKeyRangeSql(sink.read, spec),
                                             {std::to_string(run.lo), std::to_string(run.hi)}));
      PGPARITY_RETURN_IF_ERROR(sink.Take(rows, asked));
    }
  }
  PGPARITY_RETURN_IF_ERROR(ReadByInLists(target, sink, keys, split.leftovers, per_select));
  return found;
}

}  // namespace pgparity::applier
