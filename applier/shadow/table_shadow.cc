#include "pgparity/applier/shadow/table_shadow.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>

namespace pgparity::applier {

using digest::ColumnValue;
using digest::Digest128;

TableShadow::TableShadow(TableSpec spec)
    : spec_(std::move(spec)),
      qualified_(spec_.QualifiedName()),
      compared_(spec_),
      digester_(compared_.MakeDigester(spec_)) {
  // Kept values are needed only where 'u' cannot be resolved from the old
  // tuple: keyed tables without REPLICA IDENTITY FULL.
  // Not key columns: an unchanged one comes from the old key (KeyFromOld).
  auto is_key = [&](size_t i) {
    return std::find(spec_.key_positions.begin(), spec_.key_positions.end(), i) !=
           spec_.key_positions.end();
  };
  if (spec_.keyed() && spec_.replica_identity != 'f') {
    for (size_t i = 0; i < spec_.toastable.size(); ++i) {
      if (spec_.toastable[i] && !is_key(i)) toastable_positions_.push_back(i);
    }
  }
  scratch_.resize(spec_.columns.size());
  scratch_hex_.resize(spec_.columns.size());
  hash_in_place_.assign(spec_.columns.size(), false);
  for (size_t i = 0; i < spec_.toastable.size() && i < spec_.columns.size(); ++i) {
    hash_in_place_[i] = spec_.toastable[i] && !is_key(i);
  }
}

Digest128 TableShadow::DigestValues(std::span<const ColumnValue> values) {
  return DigestRow(values);
}

void TableShadow::KeyOf(std::span<const ColumnValue> values, std::string& out) const {
  out.clear();
  EncodeKey(values, spec_.key_positions, out);
}

bool TableShadow::Big(std::span<const ColumnValue> values) const {
  if (toastable_positions_.empty()) return false;
  size_t bytes = 0;
  for (const ColumnValue& v : values) {
    // A wide value counts with its text's length (hashed in place or on the
    // server, it carries it), and at least as wide.
    bytes += v.kind == ColumnValue::Kind::kHashed
                 ? std::max<size_t>(v.wide_length(), digest::kWideValueBytes + 1)
                 : v.text.size();
  }
  return bytes >= SidecarRowBytes(spec_.toast_tuple_target);
}

void TableShadow::Anomaly(std::string what) {
  if (anomalies_++ == 0) first_anomaly_ = std::move(what);
}

namespace {

// A row's digest in the map of rows without kept values or in that of
// rows with (the same key type), and taking it out of either.
template <typename Plain, typename Kept, typename K>
std::optional<Digest128> FindIn(const Plain& plain, const Kept& kept, const K& k) {
  if (const Digest128* d = plain.Find(k)) return *d;
  if (auto it = kept.find(k); it != kept.end()) return it->second.digest;
  return std::nullopt;
}
template <typename Plain, typename Kept, typename K>
std::optional<Digest128> TakeFrom(Plain& plain, Kept& kept, const K& k) {
  if (auto d = plain.Extract(k)) return d;
  if (auto it = kept.find(k); it != kept.end()) {
    const Digest128 d = it->second.digest;
    kept.erase(it);
    return d;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Digest128> TableShadow::FindRow(std::string_view key) const {
  if (stored_) return stored_->Find(key);
  int64_t i;
  if (spec_.integer_key && ParseIntegerKey(key, i)) return FindIn(int_rows_, int_kept_, i);
  return FindIn(rows_, kept_, key);
}

void TableShadow::Prefetch(std::string_view key) const {
  if (stored_) return;
  int64_t i;
  if (spec_.integer_key && ParseIntegerKey(key, i)) {
    int_rows_.Prefetch(i);
  } else {
    rows_.Prefetch(key);
  }
}

std::optional<Digest128> TableShadow::TakeRow(std::string_view key) {
  if (stored_) return stored_->Take(key);
  int64_t i;
  if (spec_.integer_key && ParseIntegerKey(key, i)) return TakeFrom(int_rows_, int_kept_, i);
  return TakeFrom(rows_, kept_, key);
}

std::optional<std::string_view> TableShadow::FindKept(std::string_view key) const {
  if (stored_) {
    if (!stored_->Find(key, &stored_kept_) || stored_kept_.empty()) return std::nullopt;
    return std::string_view(stored_kept_);
  }
  int64_t i;
  if (spec_.integer_key && ParseIntegerKey(key, i)) {
    auto it = int_kept_.find(i);
    if (it == int_kept_.end()) return std::nullopt;
    return it->second.values.view();
  }
  auto it = kept_.find(key);
  if (it == kept_.end()) return std::nullopt;
  return it->second.values.view();
}

void TableShadow::PutRow(std::string_view key, const Digest128& d, std::string_view kept) {
  if (stored_) {
    stored_->Put(key, d, kept);
    return;
  }
  int64_t i;
  const bool int_key = spec_.integer_key && ParseIntegerKey(key, i);
  if (kept.empty()) {
    if (int_key) {
      int_rows_.insert_or_assign(i, d);
    } else {
      rows_.insert_or_assign(RowKey(key), d);
    }
  } else if (int_key) {
    int_kept_.insert_or_assign(i, KeptRow{d, KeptValues(kept)});
  } else {
    kept_.insert_or_assign(RowKey(key), KeptRow{d, KeptValues(kept)});
  }
}

bool TableShadow::AddToMultiset(const Digest128& d, int64_t delta) {
  if (stored_) return stored_->AddCount(d, delta);
  if (delta > 0) {
    multiset_[d] += delta;
    return true;
  }
  int64_t* count = multiset_.Find(d);
  if (count == nullptr || *count < -delta) return false;
  if ((*count += delta) == 0) multiset_.erase(d);
  return true;
}

std::string_view TableShadow::KeptOf(std::span<const ColumnValue> values, bool carried_unchanged,
                                     std::string& out) const {
  out.clear();
  if (carried_unchanged ? !toastable_positions_.empty() : Big(values)) {
    EncodeKeptValues(values, toastable_positions_, out);  // never empty: 1+ entries
  }
  return out;
}

void TableShadow::AddRow(std::string_view key, const Digest128& d, std::string_view kept,
                         bool known_new) {
  if (AddIntegerRowInPlace(key, d, kept)) return;
  if (!(known_new && stored_)) {
    if (auto replaced = TakeRow(key)) {
      Anomaly("insert of a key the shadow already holds");
      digest_.Remove(*replaced);
    } else if (DropUnresolved(key)) {
      // A key is in one place: a row, or unresolved.
      Anomaly("insert of a key the shadow already holds");
    }
  }
  digest_.Add(d);
  if (known_new && stored_) {
    stored_->PutNew(key, d, kept);
  } else {
    PutRow(key, d, kept);
  }
}

bool TableShadow::AddIntegerRowInPlace(std::string_view key, const Digest128& d,
                                       std::string_view kept) {
  // What AddRow does, with one probe of the map instead of three (find,
  // take, put) and the key parsed once: the common row of the replay.
  int64_t i;
  if (stored_ || !kept.empty() || !unresolved_.empty() || !spec_.integer_key ||
      !ParseIntegerKey(key, i) || (!int_kept_.empty() && int_kept_.contains(i))) {
    return false;
  }
  const auto [row, fresh] = int_rows_.try_emplace(i, d);
  if (!fresh) {
    Anomaly("insert of a key the shadow already holds");
    digest_.Remove(*row);
    *row = d;
  }
  digest_.Add(d);
  return true;
}

bool TableShadow::DropUnresolved(std::string_view key) {
  if (unresolved_.empty()) return false;
  auto u = unresolved_.find(key);
  if (u == unresolved_.end()) return false;
  unresolved_.erase(u);
  return true;
}

bool TableShadow::RemoveRow(std::string_view key) {
  if (DropUnresolved(key)) return true;
  auto d = TakeRow(key);
  if (!d) return false;
  digest_.Remove(*d);
  return true;
}

void TableShadow::AddScannedRow(std::span<const ColumnValue> values) {
  const Digest128 d = DigestRow(values);
  if (!spec_.keyed()) {
    AddToMultiset(d, 1);
    digest_.Add(d);
  } else {
    KeyOf(values, key_buf_);
    AddRow(key_buf_, d, KeptOf(values, /*carried_unchanged=*/false, kept_buf_), /*known_new=*/true);
  }
  if (growth_check_ && ++scanned_since_check_ == kGrowthCheckRows) {
    scanned_since_check_ = 0;
    growth_check_();
  }
}

void TableShadow::ScanEnded() {
  if (!growth_check_ || scanned_since_check_ == 0) return;
  scanned_since_check_ = 0;
  growth_check_();
}

namespace {

ColumnValue FromColumn(const wire::ColumnView& c) {
  switch (c.kind) {
    case wire::ColumnKind::kNull:
      return ColumnValue::Null();
    case wire::ColumnKind::kUnchanged:
      return ColumnValue::Unchanged();
    case wire::ColumnKind::kText:
    case wire::ColumnKind::kBinary:
      break;
  }
  return ColumnValue::Value(c.text());
}

}  // namespace

void TableShadow::Fill(const wire::TupleView& tuple) {
  size_t i = 0;
  for (const wire::ColumnView c : tuple) {
    scratch_[i] = FromColumn(c);
    if (hash_in_place_[i]) digest::HashIfWide(scratch_[i], scratch_hex_[i]);
    ++i;
  }
}

void TableShadow::KeyFromOld(const wire::TupleView& old) {
  size_t i = 0;
  for (const wire::ColumnView c : old) {
    // 'u' first: the key lookup runs only for the rare unchanged column.
    if (scratch_[i].kind == ColumnValue::Kind::kUnchangedToast &&
        c.kind != wire::ColumnKind::kUnchanged &&
        std::find(spec_.key_positions.begin(), spec_.key_positions.end(), i) !=
            spec_.key_positions.end()) {
      scratch_[i] = FromColumn(c);
    }
    ++i;
  }
}

bool TableShadow::HasUnchanged() const {
  for (const ColumnValue& v : scratch_) {
    if (v.kind == ColumnValue::Kind::kUnchangedToast) return true;
  }
  return false;
}

bool TableShadow::ResolveUnchanged(const wire::TupleView* old_full, std::string_view key) {
  if (!HasUnchanged()) return true;
  if (old_full != nullptr) {
    size_t i = 0;
    for (const wire::ColumnView c : *old_full) {
      if (scratch_[i].kind == ColumnValue::Kind::kUnchangedToast) {
        if (c.kind == wire::ColumnKind::kUnchanged) return false;
        scratch_[i] = FromColumn(c);
        if (hash_in_place_[i]) digest::HashIfWide(scratch_[i], scratch_hex_[i]);
      }
      ++i;
    }
    return true;
  }
  const std::optional<std::string_view> kept = FindKept(key);
  if (!kept) return false;
  // Copies: the row's kept values go (RemoveRow) before the new row's are
  // kept (AddRow).
  scratch_text_.resize(toastable_positions_.size());
  bool known = true;
  const Status read = KeptValuesReader(*kept, toastable_positions_.size())
                          .ForEach([&](size_t k, const ColumnValue& v) {
                            const size_t p = toastable_positions_[k];
                            if (scratch_[p].kind != ColumnValue::Kind::kUnchangedToast) return;
                            if (v.kind == ColumnValue::Kind::kValue) {
                              scratch_text_[k].assign(v.text);
                              scratch_[p] = ColumnValue::Value(scratch_text_[k]);
                            } else if (v.kind == ColumnValue::Kind::kHashed) {
                              std::copy(v.text.begin(), v.text.end(), scratch_hex_[p].begin());
                              scratch_[p] = ColumnValue::Hashed(
                                  std::string_view(scratch_hex_[p].data(), v.text.size()));
                            } else {
                              known = false;  // NULL is never sent as 'u'
                            }
                          });
  return read.ok() && known && !HasUnchanged();
}

namespace {

const char* Verb(core::ChangeOp op) {
  switch (op) {
    case core::ChangeOp::kInsert:
      return "insert";
    case core::ChangeOp::kUpdate:
      return "update";
    case core::ChangeOp::kDelete:
      break;
  }
  return "delete";
}

}  // namespace

Status TableShadow::Apply(const core::Change& change, std::vector<std::string>& touched) {
  return spec_.keyed() ? ApplyToKeyed(change, touched) : ApplyToMultiset(change, touched);
}

Status TableShadow::ApplyToMultiset(const core::Change& change, std::vector<std::string>& touched) {
  // Rows are identified by their digest: the old row is needed whole.
  const bool full_old = change.old_kind == wire::OldTupleKind::kFull;
  if (change.op != core::ChangeOp::kInsert) {
    if (!full_old) {
      return Status::FailedPrecondition("table " + qualified_ + " has no key and its " +
                                        Verb(change.op) + " at LSN " + change.lsn.ToString() +
                                        " carries no old row; set REPLICA IDENTITY FULL on the "
                                        "source");
    }
    Fill(change.old_tuple);
    const Digest128 old = DigestRow(scratch_);
    if (!AddToMultiset(old, -1)) {
      Anomaly(std::string(Verb(change.op)) + " of a row not in the shadow at LSN " +
              change.lsn.ToString());
    } else {
      digest_.Remove(old);
    }
    touched.push_back(old.ToHex());
  }
  if (change.op != core::ChangeOp::kDelete) {
    Fill(change.new_tuple);
    if (!ResolveUnchanged(full_old ? &change.old_tuple : nullptr, {})) {
      Anomaly("unchanged TOAST value without the old row at LSN " + change.lsn.ToString());
      return Status::OK();
    }
    const Digest128 d = DigestRow(scratch_);
    AddToMultiset(d, 1);
    digest_.Add(d);
    touched.push_back(d.ToHex());
  }
  return Status::OK();
}

std::optional<TableShadow::PreparedChange> TableShadow::Prepare(const core::Change& change) {
  return PrepareInto(change, nullptr, nullptr);
}

std::optional<TableShadow::PreparedChange> TableShadow::Prepare(const core::Change& change,
                                                                digest::Md5Batch& batch,
                                                                size_t& message) {
  message = digest::RowDigester::kHashedNow;
  return PrepareInto(change, &batch, &message);
}

std::optional<TableShadow::PreparedChange> TableShadow::PrepareInto(const core::Change& change,
                                                                    digest::Md5Batch* batch,
                                                                    size_t* message) {
  if (!spec_.keyed()) return std::nullopt;
  // The old key comes from the old tuple when one was sent (the key
  // changed, or FULL), else it is the new tuple's.
  const bool has_old = change.old_kind != wire::OldTupleKind::kNone;
  if (has_old) {
    Fill(change.old_tuple);
    KeyOf(scratch_, old_key_);
  }
  PreparedChange p{change.op, change.lsn, {}, {}, {}, {}};
  if (change.op != core::ChangeOp::kDelete) {
    Fill(change.new_tuple);
    if (has_old) KeyFromOld(change.old_tuple);
    if (HasUnchanged()) return std::nullopt;  // scratch_ and old_key_ kept for ApplyToKeyed
    KeyOf(scratch_, new_key_);
    if (!has_old) old_key_ = new_key_;
    p.new_key = new_key_;
    if (batch != nullptr) {
      *message = digester_.EncodeInto(compared_.Project(scratch_), *batch, p.digest);
    } else {
      p.digest = DigestRow(scratch_);
    }
    p.kept = KeptOf(scratch_, /*carried_unchanged=*/false, prepared_kept_);
  }
  p.old_key = old_key_;
  return p;
}

void TableShadow::ApplyPrepared(const PreparedChange& p, std::vector<std::string>& touched) {
  ForEachTouchedKey(p, [&touched](std::string_view key) { touched.emplace_back(key); });
  if (p.op != core::ChangeOp::kInsert && !RemoveRow(p.old_key)) {
    Anomaly(std::string(Verb(p.op)) + " of a key not in the shadow at LSN " + p.lsn.ToString());
  }
  if (p.op != core::ChangeOp::kDelete) AddRow(p.new_key, p.digest, p.kept);
}

Status TableShadow::ApplyToKeyed(const core::Change& change, std::vector<std::string>& touched) {
  if (const auto prepared = Prepare(change)) {
    ApplyPrepared(*prepared, touched);
    return Status::OK();
  }
  // A value the change left unchanged ('u'): Prepare filled scratch_ with
  // the new row and old_key_ with the old key when one was sent. The value
  // comes from the FULL old row or the values kept for the row.
  const bool has_old = change.old_kind != wire::OldTupleKind::kNone;
  for (const size_t p : spec_.key_positions) {
    if (scratch_[p].kind == ColumnValue::Kind::kUnchangedToast && !has_old) {
      Anomaly("update at LSN " + change.lsn.ToString() +
              " with an unchanged TOASTed key column and no old key");
      return Status::OK();
    }
  }
  KeyOf(scratch_, new_key_);
  if (!has_old) old_key_ = new_key_;
  // The kept values belong to the row as it was: under the old key.
  const bool full_old = change.old_kind == wire::OldTupleKind::kFull;
  const bool resolved = ResolveUnchanged(full_old ? &change.old_tuple : nullptr, old_key_);
  if (!resolved) KeyOf(scratch_, new_key_);  // key columns resolved from the old row
  if (change.op == core::ChangeOp::kUpdate) {
    if (!RemoveRow(old_key_)) {
      Anomaly("update of a key not in the shadow at LSN " + change.lsn.ToString());
    }
    touched.emplace_back(old_key_);
  }
  if (change.op == core::ChangeOp::kInsert || new_key_ != old_key_) touched.emplace_back(new_key_);
  if (!resolved) {
    // A key is in one place: a row, or unresolved.
    if (change.op == core::ChangeOp::kInsert || new_key_ != old_key_) {
      if (auto replaced = TakeRow(new_key_)) {
        Anomaly("update to a key the shadow already holds at LSN " + change.lsn.ToString());
        digest_.Remove(*replaced);
      }
    }
    unresolved_.insert(RowKey(new_key_));
    return Status::OK();
  }
  AddRow(new_key_, DigestRow(scratch_), KeptOf(scratch_, /*carried_unchanged=*/true, kept_buf_));
  return Status::OK();
}

void TableShadow::Truncate() {
  if (stored_) stored_->Clear();
  rows_.clear();
  int_rows_.clear();
  int_kept_.clear();
  multiset_.clear();
  kept_.clear();
  unresolved_.clear();
  digest_ = {};
}

std::optional<Digest128> TableShadow::Find(std::string_view key) const { return FindRow(key); }

int64_t TableShadow::Count(const Digest128& d) const {
  if (stored_) return stored_->Count(d);
  const int64_t* count = multiset_.Find(d);
  return count == nullptr ? 0 : *count;
}

void TableShadow::Clear() {
  Truncate();
  anomalies_ = 0;
  first_anomaly_.clear();
}

Status TableShadow::RestorePlan(std::span<const std::string> compared,
                                std::span<const std::string> types,
                                std::vector<std::string> partitions) {
  Clear();
  const auto names = compared_.names();
  if (!std::equal(compared.begin(), compared.end(), names.begin(), names.end())) {
    return Status::SchemaChanged("the columns compared in table " + qualified_ +
                                 " changed since the checkpoint (a column or its type changed on "
                                 "either side)");
  }
  const auto now = compared_.types();
  if (!types.empty() && !now.empty() && types.size() == now.size()) {
    for (size_t i = 0; i < now.size(); ++i) {
      if (types[i] == now[i]) continue;
      return Status::SchemaChanged("column " + names[i] + " of table " + qualified_ + " is " +
                                   now[i] + " on the source, but the checkpoint's digests are of " +
                                   types[i] + " values (ALTER TABLE ... TYPE since)");
    }
  }
  spec_.partitions = std::move(partitions);
  return Status::OK();
}

void TableShadow::RestoreTotals(const digest::TableDigest& digest, uint64_t anomalies,
                                std::string first_anomaly) {
  digest_ = digest;
  anomalies_ = anomalies;
  first_anomaly_ = std::move(first_anomaly);
}

void TableShadow::ReserveKeyedRows(size_t n) {
  if (stored_) return;
  if (spec_.integer_key) {
    int_rows_.reserve(n);
  } else {
    rows_.reserve(n);
  }
}

Status TableShadow::RestoreKeyedRow(std::string_view key, const Digest128& d) {
  bool inserted;
  if (stored_) {
    inserted = !stored_->Find(key);
    if (inserted) stored_->Put(key, d, {});
  } else {
    // One lookup per row (a checkpoint holds millions); the kept rows come
    // after, so the maps of kept rows are still empty.
    int64_t i;
    inserted = spec_.integer_key && ParseIntegerKey(key, i)
                   ? int_rows_.try_emplace(i, d).second
                   : rows_.try_emplace(RowKey(key), d).second;
  }
  return inserted ? Status::OK() : Status::Corruption("a key twice");
}

Status TableShadow::RestoreMultisetEntry(const Digest128& d, int64_t count) {
  if (count <= 0) return Status::Corruption("count " + std::to_string(count) + " is not positive");
  if (Count(d) != 0) return Status::Corruption("a row twice");
  AddToMultiset(d, count);
  return Status::OK();
}

Status TableShadow::RestoreKeptRow(std::string_view key, std::string_view values) {
  PGPARITY_RETURN_IF_ERROR(
      KeptValuesReader(values, toastable_positions_.size()).ForEach([](size_t, const ColumnValue&) {
      }));
  if (FindKept(key)) return Status::Corruption("a key twice");
  // The row's digest came with the keyed rows: it moves to the kept rows.
  const std::optional<Digest128> d = TakeRow(key);
  if (!d) return Status::Corruption("kept values of a row the shadow does not hold");
  PutRow(key, *d, values);
  return Status::OK();
}

Status TableShadow::RestoreUnresolved(std::string_view key) {
  if (!unresolved_.insert(RowKey(key)).second) return Status::Corruption("a key twice");
  return Status::OK();
}

TableShadow::KeyState TableShadow::StateOf(std::string_view key) const {
  KeyState state;
  if (IsUnresolved(key)) {
    state.kind = KeyState::Kind::kUnresolved;
  } else if (const std::optional<Digest128> d = FindRow(key)) {
    state.kind = KeyState::Kind::kRow;
    state.digest = *d;
    state.kept = FindKept(key).value_or("");
  }
  return state;
}

Status TableShadow::RestoreKeyState(std::string_view key, const KeyState& state) {
  if (state.kind == KeyState::Kind::kRow && !state.kept.empty()) {
    if (toastable_positions_.empty())
      return Status::Corruption("kept values in a table that keeps none");
    PGPARITY_RETURN_IF_ERROR(KeptValuesReader(state.kept, toastable_positions_.size())
                                 .ForEach([](size_t, const ColumnValue&) {}));
  }
  DropUnresolved(key);
  TakeRow(key);
  if (state.kind == KeyState::Kind::kRow) PutRow(key, state.digest, state.kept);
  if (state.kind == KeyState::Kind::kUnresolved) unresolved_.insert(RowKey(key));
  return Status::OK();
}

Status TableShadow::RestoreMultisetCount(const Digest128& d, int64_t count) {
  if (count < 0) return Status::Corruption("count " + std::to_string(count) + " is negative");
  const int64_t now = Count(d);
  if (count != now) AddToMultiset(d, count - now);
  return Status::OK();
}

namespace {

// `d` added `count` times (mod 2^128, as TableDigest adds), in one step: a
// count read from a file must not decide how long a loop runs.
digest::Digest128 Times(const Digest128& d, int64_t count) {
  __extension__ typedef unsigned __int128 U128;  // GCC's and Clang's
  const U128 product = ((U128{d.hi} << 64) | d.lo) * static_cast<uint64_t>(count);
  return Digest128{static_cast<uint64_t>(product >> 64), static_cast<uint64_t>(product)};
}

}  // namespace

Status TableShadow::FinishRestore() const {
  digest::TableDigest sum;
  ForEachKeyedRow([&](std::string_view, const Digest128& d) { sum.Add(d); });
  bool overflow = false;
  ForEachMultisetEntry([&](const Digest128& d, int64_t c) {
    overflow |= __builtin_add_overflow(sum.rows, c, &sum.rows);
    sum.sum += Times(d, c);
  });
  if (overflow) return Status::Corruption("the multiset's counts overflow");
  if (!(sum == digest_)) {
    return Status::Corruption("the rows do not add up to the table digest (" +
                              std::to_string(sum.rows) + " rows where " +
                              std::to_string(digest_.rows) + " were saved)");
  }
  return Status::OK();
}

size_t TableShadow::MapBytes() const {
  // absl's flat tables: one control byte per slot plus the slot.
  return rows_.capacity() * (sizeof(std::pair<RowKey, Digest128>) + 1) +
         int_rows_.capacity() * (sizeof(std::pair<int64_t, Digest128>) + 1) +
         kept_.capacity() * (sizeof(std::pair<RowKey, KeptRow>) + 1) +
         int_kept_.capacity() * (sizeof(std::pair<int64_t, KeptRow>) + 1) +
         multiset_.capacity() * (sizeof(std::pair<Digest128, int64_t>) + 1) +
         unresolved_.capacity() * (sizeof(RowKey) + 1);
}

size_t TableShadow::MemoryBytes() const {
  size_t bytes = MapBytes();
  for (const auto& [k, d] : rows_) bytes += k.heap_bytes();
  for (const auto& [k, r] : kept_) bytes += k.heap_bytes() + r.values.heap_bytes();
  for (const auto& [k, r] : int_kept_) bytes += r.values.heap_bytes();
  return bytes;
}

namespace {

// Frees a map's memory (clear() keeps its capacity).
template <typename Map>
void Release(Map& m) {
  Map().swap(m);
}

}  // namespace

void TableShadow::SpillTo(RowStore& store, uint32_t index) {
  auto stored = std::make_unique<StoredTable>(store, index, spec_.integer_key);
  ForEachKeyedRow([&](std::string_view k, const Digest128& d) {
    const std::optional<std::string_view> kept = FindKept(k);
    stored->Put(k, d, kept.value_or(std::string_view()));
  });
  for (const auto& [d, n] : multiset_) stored->AddCount(d, n);
  Release(rows_);
  Release(int_rows_);
  Release(kept_);
  Release(int_kept_);
  Release(multiset_);
  stored_ = std::move(stored);
}

void TableShadow::AttachStore(RowStore& store, uint32_t index) {
  stored_ = std::make_unique<StoredTable>(store, index, spec_.integer_key);
  stored_->Recount();
}

}  // namespace pgparity::applier
