// Test helpers shared by the shadow's unit tests: a table public.t (id int
// key, body text toastable, n int) and a fixture that applies hand-built
// changes to one TableShadow of it.
#ifndef PGPARITY_APPLIER_SHADOW_TESTING_SHADOW_H_
#define PGPARITY_APPLIER_SHADOW_TESTING_SHADOW_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/testing/stream_builder.h"
#include "pgparity/applier/shadow/table_shadow.h"
#include "pgparity/core/relation_cache.h"
#include "pgparity/digest/row_digest.h"
#include "shadow/testing_rows.h"

namespace pgparity::applier::testing {

using core::testing::Row;  // "<null>" NULL, "<u>" unchanged TOAST
using core::testing::Tuple;

// public.t (id int PK, body text toastable, n int) with identity `ident`.
inline TableSpec Spec(char ident = 'd', bool keyed = true, bool integer_key = true) {
  TableSpec s;
  s.integer_key = keyed && integer_key;
  s.schema = "public";
  s.name = "t";
  s.columns = {"id", "body", "n"};
  if (keyed) s.key_positions = {0};
  s.toastable = {false, true, false};
  s.replica_identity = ident;
  return s;
}

inline TableSpec Adjusted(TableSpec spec, const std::function<void(TableSpec&)>& adjust) {
  if (adjust) adjust(spec);
  return spec;
}

// Everything a table holds, sorted: what two ways to the same state (a
// restore, early preparation) must both give.
struct Parts {
  std::vector<std::pair<std::string, std::string>> rows, kept;
  std::vector<std::string> unresolved;
  std::vector<std::pair<std::string, int64_t>> multiset;
  digest::TableDigest digest;
  uint64_t anomalies = 0;
  std::string first_anomaly;
  bool operator==(const Parts&) const = default;
};

Parts PartsOf(const TableShadow& t) {
  Parts p;
  t.ForEachKeyedRow([&](std::string_view k, const digest::Digest128& d) {
    p.rows.emplace_back(std::string(k), d.ToHex());
  });
  t.ForEachKeptRow([&](std::string_view k, std::string_view v) {
    p.kept.emplace_back(std::string(k), std::string(v));
  });
  t.ForEachUnresolved([&](std::string_view k) { p.unresolved.emplace_back(k); });
  t.ForEachMultisetEntry(
      [&](const digest::Digest128& d, int64_t n) { p.multiset.emplace_back(d.ToHex(), n); });
  std::sort(p.rows.begin(), p.rows.end());
  std::sort(p.kept.begin(), p.kept.end());
  std::sort(p.unresolved.begin(), p.unresolved.end());
  std::sort(p.multiset.begin(), p.multiset.end());
  p.digest = t.digest();
  p.anomalies = t.anomalies();
  p.first_anomaly = t.first_anomaly();
  return p;
}

// public.t (id int PK, body text toastable, n int): bodies over 16 bytes
// are big (their values kept); public.s, the same with a text key;
// public.bag, the same columns without key, REPLICA IDENTITY FULL.
inline std::vector<TableSpec> MixedSpecs() {
  auto named = [](const char* name) {
    return [name](TableSpec& s) {
      s.name = name;
      s.toast_tuple_target = 128;
    };
  };
  return {Adjusted(Spec(), named("t")), Adjusted(Spec('d', true, false), named("s")),
          Adjusted(Spec('f', false), named("bag"))};
}

// Random rows of public.t-shaped tables (id, body toastable, n): keys
// from 1..`keys` (a small range, so that they repeat: updates, deletes,
// inserts of keys there already all happen), "k"-prefixed for a text key;
// bodies NULL, short, or big (kept).
class RandomRows {
 public:
  RandomRows(uint32_t seed, int keys) : rng_(seed), keys_(keys) {}

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::string Key(size_t table) {
    const int id = Uniform(1, keys_);
    return table == 0 ? std::to_string(id) : "k" + std::to_string(id);
  }
  std::string Body() {
    switch (Uniform(0, 4)) {
      case 0:
        return "<null>";
      case 1:
      case 2:
        return "b" + std::to_string(Uniform(0, 9999));
      default:
        return std::string(20 + Uniform(0, 20), static_cast<char>('a' + Uniform(0, 25)));
    }
  }
  Row KeyedRow(std::string key) { return {std::move(key), Body(), std::to_string(Uniform(0, 99))}; }
  // A few distinct rows, so that a table without key holds some twice.
  Row BagRow() { return {"v" + std::to_string(Uniform(0, 40)), "x", "1"}; }

 private:
  std::mt19937 rng_;
  int keys_;
};

class ShadowTest : public ::testing::Test {
 protected:
  explicit ShadowTest(char ident = 'd', bool keyed = true, bool integer_key = true,
                      const std::function<void(TableSpec&)>& adjust = {})
      : spec_(Adjusted(Spec(ident, keyed, integer_key), adjust)), shadow_(spec_) {
    wire::Relation r;
    r.relid = 16384;
    r.namespace_name = "public";
    r.name = "t";
    r.replica_identity =
        ident == 'f' ? wire::ReplicaIdentity::kFull : wire::ReplicaIdentity::kDefault;
    r.columns = {{1, "id", 23, -1}, {0, "body", 25, -1}, {0, "n", 23, -1}};
    relation_ = &cache_.Apply(r);
  }

  // The digest of a full row, computed independently of the shadow.
  digest::Digest128 D(const Row& row) {
    digest::RowDigester d("public", "t", std::span<const std::string>(spec_.columns));
    auto v = Values(row);
    return d.Digest(v);
  }

  // Applies the change to `target` (shadow_ when null).
  Status Change(core::ChangeOp op, wire::OldTupleKind old_kind, const Row& old_row,
                const Row& new_row, TableShadow* target = nullptr) {
    old_ = Tuple(old_row);
    new_ = Tuple(new_row);
    core::Change c{op,
                   *relation_,
                   old_kind,
                   old_kind == wire::OldTupleKind::kNone ? wire::TupleView() : old_.view(),
                   op == core::ChangeOp::kDelete ? wire::TupleView() : new_.view(),
                   wire::Lsn(0x1000),
                   7,
                   7};
    touched_.clear();
    return (target ? *target : shadow_).Apply(c, touched_);
  }
  Status Insert(const Row& r) {
    return Change(core::ChangeOp::kInsert, wire::OldTupleKind::kNone, {}, r);
  }
  Status Update(const Row& r) {
    return Change(core::ChangeOp::kUpdate, wire::OldTupleKind::kNone, {}, r);
  }
  Status Delete(const Row& key) {
    return Change(core::ChangeOp::kDelete, wire::OldTupleKind::kKey, key, {});
  }

  TableSpec spec_;
  TableShadow shadow_;
  core::RelationCache cache_;
  const core::RelationInfo* relation_;
  wire::TupleBuilder old_, new_;
  std::vector<std::string> touched_;
};

}  // namespace pgparity::applier::testing

#endif  // PGPARITY_APPLIER_SHADOW_TESTING_SHADOW_H_
