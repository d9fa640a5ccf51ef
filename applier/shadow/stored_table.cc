#include "pgparity/applier/shadow/stored_table.h"

#include "pgparity/wire/big_endian.h"

namespace pgparity::applier {

using digest::Digest128;

namespace {

void AppendBE64(std::string& out, uint64_t v) {
  std::byte b[8];
  wire::StoreBE64(b, v);
  out.append(reinterpret_cast<const char*>(b), 8);
}

uint64_t LoadBE64(const char* p) { return wire::LoadBE64(reinterpret_cast<const std::byte*>(p)); }

void AppendDigest(std::string& out, const Digest128& d) {
  AppendBE64(out, d.hi);
  AppendBE64(out, d.lo);
}

constexpr uint64_t kSignBit = uint64_t{1} << 63;

}  // namespace

StoredTable::StoredTable(RowStore& store, uint32_t table, bool integer_key)
    : store_(store), table_(table), integer_key_(integer_key) {}

std::string StoredTable::Prefix(char kind) const {
  std::string p(4, '\0');
  wire::StoreBE32(reinterpret_cast<std::byte*>(p.data()), table_);
  p.push_back(kind);
  return p;
}

std::string StoredTable::IntegerKey(int64_t v) const {
  std::string k = Prefix('I');
  AppendBE64(k, static_cast<uint64_t>(v) ^ kSignBit);
  return k;
}

const std::string& StoredTable::StoreKey(std::string_view key) const {
  int64_t i;
  if (integer_key_ && ParseIntegerKey(key, i)) {
    key_ = IntegerKey(i);
  } else {
    key_ = Prefix('K');
    key_.append(key);
  }
  return key_;
}

int64_t StoredTable::IntegerOf(std::string_view store_key) {
  if (store_key.size() < 13) return 0;
  return static_cast<int64_t>(LoadBE64(store_key.data() + 5) ^ kSignBit);
}

Digest128 StoredTable::DigestOf(std::string_view bytes) {
  // A value too short is damage; the zero digest then fails the restore's
  // sum check (TableShadow::FinishRestore) instead of being trusted.
  if (bytes.size() < 16) return Digest128{};
  return Digest128{LoadBE64(bytes.data()), LoadBE64(bytes.data() + 8)};
}

int64_t StoredTable::CountOf(std::string_view value) {
  return value.size() < 8 ? 0 : static_cast<int64_t>(LoadBE64(value.data()));
}

void StoredTable::Flush() const { store_.Write(pending_); }

const std::string& StoredTable::RowValue(const Digest128& d, std::string_view kept) {
  value_.clear();
  AppendDigest(value_, d);
  value_.append(kept);
  ++rows_;
  if (!kept.empty()) ++kept_rows_;
  return value_;
}

void StoredTable::PutNew(std::string_view key, const Digest128& d, std::string_view kept) {
  pending_.Put(StoreKey(key), RowValue(d, kept));
  // About 1 MiB per write: large enough to amortize it, small beside the
  // memtables.
  if (pending_.bytes() >= (size_t{1} << 20)) Flush();
}

std::optional<Digest128> StoredTable::Find(std::string_view key, std::string* kept) const {
  Flush();
  if (!store_.Get(StoreKey(key), value_)) return std::nullopt;
  if (kept != nullptr) kept->assign(value_.size() > 16 ? value_.substr(16) : std::string());
  return DigestOf(value_);
}

std::optional<Digest128> StoredTable::Take(std::string_view key) {
  Flush();
  const std::string& k = StoreKey(key);
  if (!store_.Get(k, value_)) return std::nullopt;
  store_.Delete(k);
  --rows_;
  if (value_.size() > 16) --kept_rows_;
  return DigestOf(value_);
}

void StoredTable::Put(std::string_view key, const Digest128& d, std::string_view kept) {
  Flush();
  store_.Put(StoreKey(key), RowValue(d, kept));
}

int64_t StoredTable::Count(const Digest128& d) const {
  Flush();
  key_ = Prefix('M');
  AppendDigest(key_, d);
  return store_.Get(key_, value_) ? CountOf(value_) : 0;
}

bool StoredTable::AddCount(const Digest128& d, int64_t delta) {
  const int64_t now = Count(d);  // key_ is the member's key from here
  const int64_t next = now + delta;
  if (next < 0) return false;
  if (next == 0) {
    store_.Delete(key_);
  } else {
    value_.clear();
    AppendBE64(value_, static_cast<uint64_t>(next));
    store_.Put(key_, value_);
  }
  if (now == 0 && next > 0) ++members_;
  if (now > 0 && next == 0) --members_;
  return true;
}

void StoredTable::Clear() {
  Flush();
  store_.DeleteRange(Prefix('\0'), Prefix('\xff'));
  rows_ = kept_rows_ = members_ = 0;
}

void StoredTable::Recount() {
  rows_ = kept_rows_ = members_ = 0;
  ForEachRow([&](std::string_view, const Digest128&, std::string_view kept) {
    ++rows_;
    if (!kept.empty()) ++kept_rows_;
  });
  ForEachMember([&](const Digest128&, int64_t) { ++members_; });
}

}  // namespace pgparity::applier
