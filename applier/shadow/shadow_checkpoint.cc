// The shadow checkpoint's format, format 05, and nothing else knows it: one
// encode/parse pair per part, side by side, reading fields in exactly the
// order they are written, each read followed at once by its meaning check.
//
// Every integer is an Int64, big-endian. A String is an Int64 length and
// that many bytes (ByteWriter::PutBE64Prefixed). A Digest is its Int64 hi,
// then its Int64 lo. Counts are checked against the bytes left before
// anything is allocated for them.
//
// Errors name what was being read: "header: slot: need 14 bytes at offset
// 24, 2 left", "table public.t: kept[2]: kept values: an entry of unknown
// kind at offset 412". ParseCheckpoint words them for the
// user (shadow_checkpoint.h).
#include "pgparity/applier/shadow/shadow_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <utility>

#include "pgparity/file_util.h"
#include "pgparity/wire/big_endian.h"

namespace pgparity::applier {
namespace {

using digest::Digest128;
using wire::ByteReader;
using wire::ByteWriter;

// 05: each table also records the source's type of each compared column
// (an ALTER TABLE ... TYPE while audit was stopped changes how its values
// print, so the digests no longer compare); 04: the row store
// (--memory-limit): the header names its checkpoint, each table says
// whether its rows are there; 03: digest definition 2 (a wide
// value's MD5 in the row digests, 16 bytes kept per wide value), read as 04
// without a store; 02: each table also records its compared columns and
// partitions.
constexpr std::string_view kMagic = "PGPSHD05";
constexpr std::string_view kFormat4Magic = "PGPSHD04";
constexpr std::string_view kFormat3Magic = "PGPSHD03";
constexpr std::string_view kDefinition1Magic = "PGPSHD02";
// The store checkpoints beside the checkpoint file: "store.<LSN as 16 hex
// digits>"; the live store is "store".
constexpr std::string_view kStoreCheckpointPrefix = "store.";
constexpr std::string_view kOlderMagic = "PGPSHD01";
// The delta beside a checkpoint (its path + ".delta").
constexpr std::string_view kDeltaMagic = "PGPDLT01";
constexpr std::string_view kDeltaSuffix = ".delta";
constexpr size_t kChecksumBytes = 8;

// The fewest bytes one entry of each list takes.
constexpr size_t kMinStringBytes = 8;
constexpr size_t kDigestBytes = 16;
constexpr size_t kMinKeyedRowBytes = kMinStringBytes + kDigestBytes;
constexpr size_t kMultisetEntryBytes = kDigestBytes + 8;
constexpr size_t kMinKeptRowBytes = 2 * kMinStringBytes;

// A field of a section, "keyed_rows[3].digest" or "kept[2].values[1]":
// built at every read, printed only when one fails.
struct Field {
  static constexpr size_t kNoIndex = static_cast<size_t>(-1);

  Field(const char* name) noexcept : name(name) {}  // NOLINT: implicit on purpose
  Field(std::string_view name, size_t index, std::string_view member = {},
        size_t member_index = kNoIndex) noexcept
      : name(name), index(index), member(member), member_index(member_index) {}

  std::string ToString() const {
    std::string s(name);
    if (index != kNoIndex) s += "[" + std::to_string(index) + "]";
    if (!member.empty()) s += "." + std::string(member);
    if (member_index != kNoIndex) s += "[" + std::to_string(member_index) + "]";
    return s;
  }

  std::string_view name;
  size_t index = kNoIndex;
  std::string_view member;
  size_t member_index = kNoIndex;
};

// wire::ByteReader's checked reads, each failure a Corruption naming the
// section and the field: "<section>: <field>: need 8 bytes at offset 301,
// 2 left".
class SectionReader {
 public:
  SectionReader(ByteReader& in, std::string section) : in_(in), section_(std::move(section)) {}

  size_t offset() const noexcept { return in_.offset(); }

  [[nodiscard]] Result<uint8_t> U8(Field f) { return Named(f, in_.ReadU8()); }
  [[nodiscard]] Result<uint64_t> U64(Field f) { return Named(f, in_.ReadBE64()); }
  [[nodiscard]] Result<std::string_view> String(Field f) {
    return Named(f, in_.ReadBE64Prefixed());
  }
  [[nodiscard]] Result<Digest128> Digest(Field f) {
    if (in_.remaining() < kDigestBytes) {
      return Named(f, ByteReader::TruncatedError(kDigestBytes, offset(), in_.remaining()));
    }
    const uint64_t hi = in_.ReadBE64Unchecked();
    return Digest128{hi, in_.ReadBE64Unchecked()};
  }
  // A String then a Digest, with one check of the bytes left for both (a
  // checkpoint holds millions of keyed rows); false, without moving, when
  // they are not all there — String and Digest then say what is missing.
  [[nodiscard]] bool TryStringAndDigest(std::string_view& s, Digest128& d) noexcept {
    const std::span<const std::byte> rest = in_.rest();
    if (rest.size() < 8 + kDigestBytes) return false;
    const uint64_t n = wire::LoadBE64(rest.data());
    if (n > rest.size() - 8 - kDigestBytes) return false;
    in_.ReadBE64Unchecked();
    const std::span<const std::byte> bytes = in_.ReadBytesUnchecked(static_cast<size_t>(n));
    s = std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    const uint64_t hi = in_.ReadBE64Unchecked();
    d = Digest128{hi, in_.ReadBE64Unchecked()};
    return true;
  }
  // A multiset member's count: Corruption when it is beyond int64_t's range.
  [[nodiscard]] Result<int64_t> MemberCount(Field f) {
    const size_t at = offset();
    PGPARITY_ASSIGN_OR_RETURN(const uint64_t count, U64(f));
    if (count > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Invalid(f, at, "count " + std::to_string(count) + " out of range");
    }
    return static_cast<int64_t>(count);
  }
  // A count of entries of at least `min_bytes` each: Corruption when the
  // bytes left cannot hold that many.
  [[nodiscard]] Result<uint64_t> Count(Field f, size_t min_bytes) {
    const size_t at = offset();
    PGPARITY_ASSIGN_OR_RETURN(const uint64_t n, U64(f));
    if (n > in_.remaining() / min_bytes) {
      return Invalid(f, at,
                     std::to_string(n) + " entries need at least " + std::to_string(min_bytes) +
                         " bytes each, " + std::to_string(in_.remaining()) + " left");
    }
    return n;
  }

  // The field read at `at` means nothing valid: "<section>: <field>: <what>
  // at offset <at>".
  [[nodiscard]] Status Invalid(Field f, size_t at, std::string_view what) const {
    return Status::Corruption(section_ + ": " + f.ToString() + ": " + std::string(what) +
                              " at offset " + std::to_string(at));
  }
  // `s` (a TableShadow::Restore* result) about the field read at `at`.
  [[nodiscard]] Status Check(Field f, size_t at, const Status& s) const {
    return s.ok() ? Status::OK() : Invalid(f, at, s.message());
  }

 private:
  template <typename T>
  Result<T> Named(Field f, Result<T> r) const {
    if (r.ok()) [[likely]] {
      return r;
    }
    return Named(f, r.status());
  }
  Status Named(Field f, const Status& s) const {
    return s.WithPrefix(section_ + ": " + f.ToString());
  }

  ByteReader& in_;
  std::string section_;
};

void PutDigest(ByteWriter& out, const Digest128& d) {
  out.PutBE64(d.hi);
  out.PutBE64(d.lo);
}

// ---- A list of names: Int64 n, n x String.

void PutStrings(ByteWriter& out, std::span<const std::string> list) {
  out.PutBE64(list.size());
  for (const std::string& s : list) out.PutBE64Prefixed(s);
}

Result<std::vector<std::string>> ParseStrings(SectionReader& in, const char* name) {
  PGPARITY_ASSIGN_OR_RETURN(const uint64_t n, in.Count(name, kMinStringBytes));
  std::vector<std::string> list;
  list.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    PGPARITY_ASSIGN_OR_RETURN(const std::string_view s, in.String({name, i}));
    list.emplace_back(s);
  }
  return list;
}

// ---- A table section's head: String qualified name ("schema.name"), the
// compared column names (a list), their types on the source (a list of
// format_type()s, empty when not known; not in formats 03 and 04), the
// partitions its rows came from (a
// list), Int64 rows and Digest sum (the table digest), Int64 anomalies,
// String first anomaly.

// The name, in a head and in a delta's table part: Corruption naming both
// when it is not `table`'s ("checkpoint holds table public.u where public.t
// was expected").
Status ParseTableName(SectionReader& in, const TableShadow& table, std::string_view file) {
  PGPARITY_ASSIGN_OR_RETURN(const std::string_view name, in.String("name"));
  if (name == table.qualified_name()) return Status::OK();
  return Status::Corruption(std::string(file) + " holds table " + std::string(name) + " where " +
                            table.qualified_name() + " was expected");
}

// The totals, in a head and in a delta's table part: Int64 rows, Digest
// sum (the table digest), Int64 anomalies, String first anomaly.
void EncodeTotals(const TableShadow& table, ByteWriter& out) {
  out.PutBE64(static_cast<uint64_t>(table.digest().rows));
  PutDigest(out, table.digest().sum);
  out.PutBE64(table.anomalies());
  out.PutBE64Prefixed(table.first_anomaly());
}

Status ParseTotals(SectionReader& in, TableShadow& table) {
  digest::TableDigest digest;
  const size_t rows_at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint64_t rows, in.U64("rows"));
  if (rows > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return in.Invalid("rows", rows_at, "row count " + std::to_string(rows) + " out of range");
  }
  digest.rows = static_cast<int64_t>(rows);
  PGPARITY_ASSIGN_OR_RETURN(digest.sum, in.Digest("sum"));
  PGPARITY_ASSIGN_OR_RETURN(const uint64_t anomalies, in.U64("anomalies"));
  PGPARITY_ASSIGN_OR_RETURN(const std::string_view first, in.String("first_anomaly"));
  table.RestoreTotals(digest, anomalies, std::string(first));
  return Status::OK();
}

void EncodeTableHead(const TableShadow& table, ByteWriter& out) {
  out.PutBE64Prefixed(table.qualified_name());
  PutStrings(out, table.compared_columns());
  PutStrings(out, table.compared_types());
  PutStrings(out, table.spec().partitions);
  EncodeTotals(table, out);
}

Status ParseTableHead(SectionReader& in, TableShadow& table, int format) {
  PGPARITY_RETURN_IF_ERROR(ParseTableName(in, table, "checkpoint"));
  PGPARITY_ASSIGN_OR_RETURN(const std::vector<std::string> compared, ParseStrings(in, "compared"));
  std::vector<std::string> types;
  if (format >= 5) {
    PGPARITY_ASSIGN_OR_RETURN(types, ParseStrings(in, "types"));
  }
  PGPARITY_ASSIGN_OR_RETURN(std::vector<std::string> partitions, ParseStrings(in, "partitions"));
  // Other compared columns or types: the digests would not compare. The
  // message names the table and the column.
  PGPARITY_RETURN_IF_ERROR(table.RestorePlan(compared, types, std::move(partitions)));
  return ParseTotals(in, table);
}

// ---- Where the rows are: Byte 1 when they are in the row store's
// checkpoint (the table spilled), and the lists below are then empty; 0
// when they follow. (Format 03 has no such byte: its rows always follow.)

void EncodeInStore(const TableShadow& table, ByteWriter& out) {
  out.PutU8(table.spilled() ? 1 : 0);
}

Result<bool> ParseInStore(SectionReader& in, bool has_store, TableShadow& table) {
  const size_t at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint8_t flag, in.U8("in_store"));
  if (flag > 1) return in.Invalid("in_store", at, "value " + std::to_string(flag));
  if (flag == 1 && !has_store) {
    return in.Invalid(
        "in_store", at,
        "table " + table.qualified_name() + " is in the row store but the checkpoint names none");
  }
  return flag == 1;
}

// ---- The rows. Keyed tables: Int64 n, n x (String key encoding, Digest).
// Tables without key: Int64 n, n x (Digest, Int64 count >= 1). Each kind
// is empty in the other kind of table, and both in a spilled table.

void EncodeRows(const TableShadow& table, ByteWriter& out) {
  if (table.spilled()) {
    out.PutBE64(0);
    out.PutBE64(0);
    return;
  }
  out.PutBE64(table.keyed_rows());
  table.ForEachKeyedRow([&](std::string_view key, const Digest128& d) {
    out.PutBE64Prefixed(key);
    PutDigest(out, d);
  });
  out.PutBE64(table.multiset_entries());
  table.ForEachMultisetEntry([&](const Digest128& d, int64_t count) {
    PutDigest(out, d);
    out.PutBE64(static_cast<uint64_t>(count));
  });
}

// A list that tables like `table` never have (rows by key in a table
// without key, kept values with REPLICA IDENTITY FULL, ...) must be empty.
// The file is sealed (its XXH64 checked first): such entries are of the
// table as it was, and its key or replica identity changed since.
Status ExpectEmptyUnless(bool allowed, Field f, uint64_t n, const TableShadow& table) {
  if (n == 0 || allowed) return Status::OK();
  return Status::SchemaChanged(
      "the checkpoint holds " + std::to_string(n) + " " + f.ToString() + " entries of table " +
      table.qualified_name() + ", which it cannot have as it is now (" +
      (table.spec().keyed() ? "with" : "without") + " a key, REPLICA IDENTITY " +
      std::string(1, table.spec().replica_identity) +
      "): a primary key was added or dropped, or its REPLICA IDENTITY changed, since it was "
      "written");
}

Status ParseKeyedRows(SectionReader& in, TableShadow& table) {
  PGPARITY_ASSIGN_OR_RETURN(const uint64_t n, in.Count("keyed_rows", kMinKeyedRowBytes));
  PGPARITY_RETURN_IF_ERROR(ExpectEmptyUnless(table.spec().keyed(), "keyed_rows", n, table));
  table.ReserveKeyedRows(n);
  for (uint64_t i = 0; i < n; ++i) {
    const size_t at = in.offset();
    std::string_view key;
    Digest128 d;
    if (!in.TryStringAndDigest(key, d)) [[unlikely]] {
      PGPARITY_ASSIGN_OR_RETURN(key, in.String({"keyed_rows", i, "key"}));
      PGPARITY_ASSIGN_OR_RETURN(d, in.Digest({"keyed_rows", i, "digest"}));
    }
    if (Status restored = table.RestoreKeyedRow(key, d); !restored.ok()) [[unlikely]] {
      return in.Check({"keyed_rows", i}, at, restored);
    }
  }
  return Status::OK();
}

Status ParseMultiset(SectionReader& in, TableShadow& table) {
  PGPARITY_ASSIGN_OR_RETURN(const uint64_t n, in.Count("multiset", kMultisetEntryBytes));
  PGPARITY_RETURN_IF_ERROR(ExpectEmptyUnless(!table.spec().keyed(), "multiset", n, table));
  for (uint64_t i = 0; i < n; ++i) {
    PGPARITY_ASSIGN_OR_RETURN(const Digest128 d, in.Digest({"multiset", i, "digest"}));
    const size_t count_at = in.offset();
    PGPARITY_ASSIGN_OR_RETURN(const int64_t count, in.MemberCount({"multiset", i, "count"}));
    PGPARITY_RETURN_IF_ERROR(
        in.Check({"multiset", i, "count"}, count_at, table.RestoreMultisetEntry(d, count)));
  }
  return Status::OK();
}

// ---- The kept values: Int64 n, n x (String key encoding, String kept
// values in kept_values.h's layout, one entry per toastable column).

void EncodeKeptRows(const TableShadow& table, ByteWriter& out) {
  if (table.spilled()) {
    out.PutBE64(0);
    return;
  }
  out.PutBE64(table.kept_rows());
  table.ForEachKeptRow([&](std::string_view key, std::string_view values) {
    out.PutBE64Prefixed(key);
    out.PutBE64Prefixed(values);
  });
}

Status ParseKeptRows(SectionReader& in, TableShadow& table) {
  PGPARITY_ASSIGN_OR_RETURN(const uint64_t n, in.Count("kept", kMinKeptRowBytes));
  // Only keyed tables without REPLICA IDENTITY FULL keep values.
  PGPARITY_RETURN_IF_ERROR(ExpectEmptyUnless(table.kept_values_per_row() > 0, "kept", n, table));
  for (uint64_t i = 0; i < n; ++i) {
    const size_t at = in.offset();
    PGPARITY_ASSIGN_OR_RETURN(const std::string_view key, in.String({"kept", i, "key"}));
    PGPARITY_ASSIGN_OR_RETURN(const std::string_view values, in.String({"kept", i, "values"}));
    PGPARITY_RETURN_IF_ERROR(in.Check({"kept", i}, at, table.RestoreKeptRow(key, values)));
  }
  return Status::OK();
}

// ---- The unresolved rows: Int64 n, n x String key encoding.

void EncodeUnresolved(const TableShadow& table, ByteWriter& out) {
  out.PutBE64(table.unresolved_rows());
  table.ForEachUnresolved([&](std::string_view key) { out.PutBE64Prefixed(key); });
}

Status ParseUnresolved(SectionReader& in, TableShadow& table) {
  PGPARITY_ASSIGN_OR_RETURN(const uint64_t n, in.Count("unresolved", kMinStringBytes));
  PGPARITY_RETURN_IF_ERROR(ExpectEmptyUnless(table.spec().keyed(), "unresolved", n, table));
  for (uint64_t i = 0; i < n; ++i) {
    const size_t at = in.offset();
    PGPARITY_ASSIGN_OR_RETURN(const std::string_view key, in.String({"unresolved", i}));
    PGPARITY_RETURN_IF_ERROR(in.Check({"unresolved", i}, at, table.RestoreUnresolved(key)));
  }
  return Status::OK();
}

// ---- The file's envelope and the user's wording of its errors.

std::string_view AsChars(std::span<const std::byte> bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Status Damaged(std::string_view path, std::string_view what) {
  return Status::Corruption("checkpoint " + std::string(path) + " is damaged (" +
                            std::string(what) +
                            "); remove the state directory to start over (pgparity then "
                            "bootstraps again)");
}

// The bytes between the magic and the checksum, once both are right, and
// the format (3, 4 or 5).
struct Unsealed {
  std::span<const std::byte> body;
  int format = 5;
};

Result<Unsealed> Unseal(std::span<const std::byte> file, std::string_view path) {
  const std::string_view text = AsChars(file);
  if (text.starts_with(kOlderMagic)) {
    return Status::FailedPrecondition("checkpoint " + std::string(path) +
                                      " was written by an older pgparity (format 1); remove the "
                                      "state directory to start over (pgparity then bootstraps "
                                      "again)");
  }
  if (text.starts_with(kDefinition1Magic)) {
    return Status::FailedPrecondition(
        "checkpoint " + std::string(path) +
        " holds row digests of digest definition 1 (pgparity before wide values were hashed, "
        "docs/digest.md); this pgparity computes definition " +
        std::to_string(digest::kDigestDefinition) +
        " and cannot compare them: remove the state directory to start over (pgparity then "
        "bootstraps again)");
  }
  if (file.size() < kMagic.size() + 8 + kChecksumBytes) {
    return Damaged(path, std::to_string(file.size()) + " bytes, too short for a checkpoint");
  }
  const int format = text.starts_with(kMagic)          ? 5
                     : text.starts_with(kFormat4Magic) ? 4
                     : text.starts_with(kFormat3Magic) ? 3
                                                       : 0;
  if (format == 0) return Damaged(path, "no " + std::string(kMagic) + " magic at its start");
  const size_t sealed = file.size() - kChecksumBytes;
  if (wire::LoadBE64(file.data() + sealed) != XXH64(file.data(), sealed, 0)) {
    return Damaged(path, "its XXH64 does not match its bytes");
  }
  return Unsealed{file.subspan(kMagic.size(), sealed - kMagic.size()), format};
}

// The header's fields; `store` is the row store checkpoint's directory
// name ("" when none, always in format 3), checked to be a sibling of the
// file named like the ones WriteCheckpoint makes.
Result<wire::Lsn> ParseHeader(ByteReader& bytes, int format, CheckpointMeta& meta,
                              std::string& store) {
  SectionReader in(bytes, "header");
  PGPARITY_ASSIGN_OR_RETURN(const uint64_t lsn, in.U64("lsn"));
  for (auto [field, value] :
       {std::pair{"slot", &meta.slot}, std::pair{"publication", &meta.publication},
        std::pair{"system_id", &meta.system_id}}) {
    PGPARITY_ASSIGN_OR_RETURN(const std::string_view v, in.String(field));
    value->assign(v);
  }
  store.clear();
  if (format == 3) return wire::Lsn(lsn);
  const size_t at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const std::string_view name, in.String("store"));
  if (!name.empty() && (!name.starts_with(kStoreCheckpointPrefix) ||
                        name.find('/') != std::string_view::npos || name.find("..") != name.npos)) {
    return in.Invalid("store", at, "'" + std::string(name) + "' is not a store checkpoint's name");
  }
  store.assign(name);
  return wire::Lsn(lsn);
}

// A table section that is not the shadow's table: the publication's tables
// changed since the checkpoint (a table added, dropped or altered). The
// file is sealed (its XXH64 checked first), so this is not damage.
Status TablesChanged(std::string_view path, const Status& why) {
  return Status::SchemaChanged(std::string(why.message()) + " (" + std::string(path) +
                               "); the published tables changed since it was written");
}

}  // namespace

// ---- A table section: its head, its rows, its kept values, its unresolved
// rows (each laid out above). The rows must add up to the head's digest.

void EncodeTableSection(const TableShadow& table, ByteWriter& out) {
  EncodeTableHead(table, out);
  EncodeInStore(table, out);
  EncodeRows(table, out);
  EncodeKeptRows(table, out);
  EncodeUnresolved(table, out);
}

Status ParseTableSection(ByteReader& bytes, TableShadow& table, RowStore* store, uint32_t index,
                         int format) {
  SectionReader in(bytes, "table " + table.qualified_name());
  PGPARITY_RETURN_IF_ERROR(ParseTableHead(in, table, format));
  if (format >= 4) {
    PGPARITY_ASSIGN_OR_RETURN(const bool in_store, ParseInStore(in, store != nullptr, table));
    // After the head: RestorePlan emptied the table, not the store.
    if (in_store) table.AttachStore(*store, index);
  }
  PGPARITY_RETURN_IF_ERROR(ParseKeyedRows(in, table));
  PGPARITY_RETURN_IF_ERROR(ParseMultiset(in, table));
  PGPARITY_RETURN_IF_ERROR(ParseKeptRows(in, table));
  PGPARITY_RETURN_IF_ERROR(ParseUnresolved(in, table));
  // The digest must be what the rows add up to: a check of the file.
  return in.Check("rows", in.offset(), table.FinishRestore());
}

// ---- The file: Byte8 magic "PGPSHD05", Int64 LSN (the end of the last
// commit in the state), String slot, String publication, String system
// identifier ("" when unknown), String the row store checkpoint's directory
// ("" when no table spilled), one table section per table of the
// ShadowState in its order, Int64 XXH64 (seed 0) of every byte before it.

namespace {

// About the file's size, so that it is written into one allocation
// instead of growing by copies: the layout above, with about 12 bytes of
// key a row.
size_t EstimatedBytes(const ShadowState& shadow) {
  constexpr size_t kTypicalKeyBytes = 12;
  size_t bytes = 1 << 16;
  for (size_t i = 0; i < shadow.table_count(); ++i) {
    const TableShadow& t = shadow.table(i);
    if (t.spilled()) continue;
    bytes += (kMinKeyedRowBytes + kTypicalKeyBytes) * t.keyed_rows() +
             kMultisetEntryBytes * t.multiset_entries();
  }
  return bytes;
}

}  // namespace

std::vector<std::byte> EncodeCheckpoint(const ShadowState& shadow, wire::Lsn lsn,
                                        const CheckpointMeta& meta, std::string_view store) {
  std::vector<std::byte> file;
  file.reserve(EstimatedBytes(shadow));
  ByteWriter out(file);
  out.PutBytes(std::as_bytes(std::span(kMagic.data(), kMagic.size())));
  out.PutBE64(lsn.value());
  out.PutBE64Prefixed(meta.slot);
  out.PutBE64Prefixed(meta.publication);
  out.PutBE64Prefixed(meta.system_id);
  out.PutBE64Prefixed(store);
  for (size_t i = 0; i < shadow.table_count(); ++i) EncodeTableSection(shadow.table(i), out);
  out.PutBE64(XXH64(file.data(), file.size(), 0));
  return file;
}

Result<wire::Lsn> ParseCheckpoint(std::span<const std::byte> file, std::string_view path,
                                  ShadowState& shadow, CheckpointMeta& meta) {
  PGPARITY_ASSIGN_OR_RETURN(const Unsealed sealed, Unseal(file, path));
  ByteReader bytes(sealed.body, kMagic.size());  // offsets count from the file's start
  std::string store;
  Result<wire::Lsn> lsn = ParseHeader(bytes, sealed.format, meta, store);
  if (!lsn.ok()) return Damaged(path, lsn.status().message());
  if (!store.empty()) {
    PGPARITY_RETURN_IF_ERROR(
        shadow.OpenStoreFromCheckpoint(std::filesystem::path(path).parent_path() / store));
  }
  for (size_t i = 0; i < shadow.table_count(); ++i) {
    const Status table = ParseTableSection(bytes, shadow.table(i), shadow.store(),
                                           static_cast<uint32_t>(i), sealed.format);
    if (!table.ok()) return TablesChanged(path, table);
  }
  if (const Status end = bytes.ExpectEnd(); !end.ok()) {
    return TablesChanged(path, end.WithPrefix("after the last table"));
  }
  shadow.SetBasePoint(*lsn);
  return *lsn;
}

// ---- The delta ("<checkpoint>.delta"): the rows changed since the full
// checkpoint it applies to. Byte8 magic "PGPDLT01", Int64 the base's LSN,
// Int64 the base's XXH64 (its last 8 bytes: which file it applies to),
// Int64 LSN (the end of the last commit in the state), one table part per
// table of the ShadowState in its order, Int64 XXH64 (seed 0) of every
// byte before it. A table part: String qualified name, Int64 rows, Digest
// sum, Int64 anomalies, String first anomaly (the totals, as in a head),
// then Byte 0 (no row changed), 1 (truncated: its whole table section
// follows) or 2 (Int64 n, n patches). A keyed table's patch: String key
// encoding, Byte state (0 absent, 1 row, 2 unresolved), and for a row its
// Digest and String kept values ("" when none). A table without key's:
// Digest, Int64 count (0: gone).

namespace {

enum class DeltaPart : uint8_t { kUnchanged = 0, kWhole = 1, kPatches = 2 };

void EncodePatch(const TableShadow& table, std::string_view key, ByteWriter& out) {
  if (!table.spec().keyed()) {
    // The shadow names a keyless row by its digest's hex (ShadowState).
    const Digest128 d = Digest128::FromHex(key).value();
    PutDigest(out, d);
    out.PutBE64(static_cast<uint64_t>(table.Count(d)));
    return;
  }
  const TableShadow::KeyState state = table.StateOf(key);
  out.PutBE64Prefixed(key);
  out.PutU8(static_cast<uint8_t>(state.kind));
  if (state.kind != TableShadow::KeyState::Kind::kRow) return;
  PutDigest(out, state.digest);
  out.PutBE64Prefixed(state.kept);
}

Status ParseKeyedPatch(SectionReader& in, uint64_t i, TableShadow& table, DirtyRows& dirty,
                       size_t index) {
  using Kind = TableShadow::KeyState::Kind;
  const size_t at = in.offset();
  TableShadow::KeyState state;
  PGPARITY_ASSIGN_OR_RETURN(const std::string_view key, in.String({"patches", i, "key"}));
  const size_t kind_at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint8_t kind, in.U8({"patches", i, "state"}));
  if (kind > static_cast<uint8_t>(Kind::kUnresolved)) {
    return in.Invalid({"patches", i, "state"}, kind_at, "value " + std::to_string(kind));
  }
  state.kind = static_cast<Kind>(kind);
  if (state.kind == Kind::kRow) {
    PGPARITY_ASSIGN_OR_RETURN(state.digest, in.Digest({"patches", i, "digest"}));
    PGPARITY_ASSIGN_OR_RETURN(state.kept, in.String({"patches", i, "kept"}));
  }
  PGPARITY_RETURN_IF_ERROR(in.Check({"patches", i}, at, table.RestoreKeyState(key, state)));
  dirty.Mark(index, key);
  return Status::OK();
}

Status ParseMultisetPatch(SectionReader& in, uint64_t i, TableShadow& table, DirtyRows& dirty,
                          size_t index) {
  PGPARITY_ASSIGN_OR_RETURN(const Digest128 d, in.Digest({"patches", i, "digest"}));
  const size_t at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const int64_t count, in.MemberCount({"patches", i, "count"}));
  PGPARITY_RETURN_IF_ERROR(
      in.Check({"patches", i, "count"}, at, table.RestoreMultisetCount(d, count)));
  dirty.Mark(index, d.ToHex());
  return Status::OK();
}

void EncodeDeltaPart(const TableShadow& table, const DirtyRows& dirty, size_t index,
                     ByteWriter& out) {
  out.PutBE64Prefixed(table.qualified_name());
  EncodeTotals(table, out);
  if (dirty.whole(index)) {
    out.PutU8(static_cast<uint8_t>(DeltaPart::kWhole));
    EncodeTableSection(table, out);
    return;
  }
  const DirtyKeySet& keys = dirty.keys(index);
  if (keys.empty()) {
    out.PutU8(static_cast<uint8_t>(DeltaPart::kUnchanged));
    return;
  }
  out.PutU8(static_cast<uint8_t>(DeltaPart::kPatches));
  out.PutBE64(keys.size());
  for (const RowKey& key : keys) EncodePatch(table, key.view(), out);
}

Status ParseDeltaPart(ByteReader& bytes, ShadowState& shadow, size_t index) {
  TableShadow& table = shadow.table(index);
  DirtyRows& dirty = shadow.dirty_rows();
  SectionReader in(bytes, "delta of table " + table.qualified_name());
  PGPARITY_RETURN_IF_ERROR(ParseTableName(in, table, "delta"));
  PGPARITY_RETURN_IF_ERROR(ParseTotals(in, table));
  const size_t at = in.offset();
  PGPARITY_ASSIGN_OR_RETURN(const uint8_t part, in.U8("part"));
  if (part == static_cast<uint8_t>(DeltaPart::kUnchanged)) return Status::OK();
  if (part == static_cast<uint8_t>(DeltaPart::kWhole)) {
    dirty.MarkWhole(index);
    return ParseTableSection(bytes, table);
  }
  if (part != static_cast<uint8_t>(DeltaPart::kPatches)) {
    return in.Invalid("part", at, "value " + std::to_string(part));
  }
  const bool keyed = table.spec().keyed();
  PGPARITY_ASSIGN_OR_RETURN(const uint64_t n,
                            in.Count("patches", keyed ? kMinStringBytes + 1 : kMultisetEntryBytes));
  for (uint64_t i = 0; i < n; ++i) {
    PGPARITY_RETURN_IF_ERROR(keyed ? ParseKeyedPatch(in, i, table, dirty, index)
                                   : ParseMultisetPatch(in, i, table, dirty, index));
  }
  return in.Check("patches", in.offset(), table.FinishRestore());
}

}  // namespace

std::string DeltaPath(std::string_view checkpoint_path) {
  return std::string(checkpoint_path) + std::string(kDeltaSuffix);
}

std::vector<std::byte> EncodeDelta(const ShadowState& shadow, wire::Lsn lsn,
                                   const CheckpointBase& base) {
  std::vector<std::byte> file;
  ByteWriter out(file);
  out.PutBytes(std::as_bytes(std::span(kDeltaMagic.data(), kDeltaMagic.size())));
  out.PutBE64(base.lsn.value());
  out.PutBE64(base.checksum);
  out.PutBE64(lsn.value());
  for (size_t i = 0; i < shadow.table_count(); ++i) {
    EncodeDeltaPart(shadow.table(i), shadow.dirty_rows(), i, out);
  }
  out.PutBE64(XXH64(file.data(), file.size(), 0));
  return file;
}

namespace {

// A delta's magic and checksum checked; its base and LSN, and a reader at
// its first table part.
struct DeltaHead {
  CheckpointBase base;
  wire::Lsn lsn;
  ByteReader parts;
};

Result<DeltaHead> UnsealDelta(std::span<const std::byte> file, std::string_view path) {
  const std::string_view text = AsChars(file);
  if (file.size() < kDeltaMagic.size() + 24 + kChecksumBytes || !text.starts_with(kDeltaMagic)) {
    return Damaged(path, "not a delta of a checkpoint");
  }
  const size_t sealed = file.size() - kChecksumBytes;
  if (wire::LoadBE64(file.data() + sealed) != XXH64(file.data(), sealed, 0)) {
    return Damaged(path, "its XXH64 does not match its bytes");
  }
  ByteReader bytes(file.first(sealed).subspan(kDeltaMagic.size()), kDeltaMagic.size());
  DeltaHead head{CheckpointBase{}, wire::Lsn(), bytes};
  head.base.lsn = wire::Lsn(head.parts.ReadBE64Unchecked());
  head.base.checksum = head.parts.ReadBE64Unchecked();
  head.lsn = wire::Lsn(head.parts.ReadBE64Unchecked());
  return head;
}

// A full checkpoint written after it, and a crash before it was removed.
bool AppliesTo(const DeltaHead& delta, const CheckpointBase& base) {
  return delta.base.lsn == base.lsn && delta.base.checksum == base.checksum;
}

}  // namespace

Result<std::optional<wire::Lsn>> ParseDelta(std::span<const std::byte> file, std::string_view path,
                                            const CheckpointBase& base, ShadowState& shadow) {
  PGPARITY_ASSIGN_OR_RETURN(DeltaHead head, UnsealDelta(file, path));
  if (!AppliesTo(head, base)) return std::optional<wire::Lsn>();
  ByteReader& bytes = head.parts;
  const wire::Lsn lsn = head.lsn;
  for (size_t i = 0; i < shadow.table_count(); ++i) {
    const Status part = ParseDeltaPart(bytes, shadow, i);
    if (!part.ok()) return TablesChanged(path, part);
  }
  if (const Status end = bytes.ExpectEnd(); !end.ok()) {
    return TablesChanged(path, end.WithPrefix("after the last table"));
  }
  shadow.SetBasePoint(lsn);
  return std::optional<wire::Lsn>(lsn);
}

namespace {

// "store.<LSN as 16 hex digits>".
std::string StoreCheckpointName(wire::Lsn lsn) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(lsn.value()));
  return std::string(kStoreCheckpointPrefix) + hex;
}

// The store checkpoints beside `path` other than `keep`: older ones, and
// any a crash left half-written.
void RemoveOtherStoreCheckpoints(const std::filesystem::path& dir, std::string_view keep) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(kStoreCheckpointPrefix) && name != keep) {
      std::filesystem::remove_all(e.path(), ec);
    }
  }
}

}  // namespace

namespace {

// A full checkpoint of `shadow`: the row store's copy first (the file that
// names it is the commit point), then the file's bytes.
Result<PreparedCheckpoint> PrepareFull(const ShadowState& shadow, wire::Lsn lsn,
                                       const CheckpointMeta& meta, const std::string& path) {
  PreparedCheckpoint prepared;
  prepared.path = path;
  if (RowStore* rows = shadow.store()) {
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    prepared.store = StoreCheckpointName(lsn);
    std::error_code ec;
    std::filesystem::remove_all(dir / prepared.store, ec);
    PGPARITY_RETURN_IF_ERROR(rows->Checkpoint(dir / prepared.store));
  }
  prepared.file = EncodeCheckpoint(shadow, lsn, meta, prepared.store);
  prepared.base = CheckpointBase{
      lsn, wire::LoadBE64(prepared.file.data() + prepared.file.size() - kChecksumBytes)};
  return prepared;
}

// Whether the rows changed since `base` make a delta worth writing: at
// most a quarter of the rows (a bigger one costs about what the full
// checkpoint does, and every restart reads both).
bool DeltaFits(const ShadowState& shadow) {
  const DirtyRows& dirty = shadow.dirty_rows();
  if (!dirty.enabled() || dirty.overflowed() || shadow.store() != nullptr) return false;
  uint64_t rows = dirty.keys();
  for (size_t i = 0; i < shadow.table_count(); ++i) {
    if (dirty.whole(i)) rows += shadow.table(i).keyed_rows() + shadow.table(i).multiset_entries();
  }
  return rows <= shadow.TrackedRows() / 4;
}

}  // namespace

Result<PreparedCheckpoint> PrepareCheckpoint(ShadowState& shadow, wire::Lsn lsn,
                                             const CheckpointMeta& meta, const std::string& path,
                                             const std::optional<CheckpointBase>& base) {
  if (base && DeltaFits(shadow)) {
    PreparedCheckpoint delta;
    delta.path = DeltaPath(path);
    delta.file = EncodeDelta(shadow, lsn, *base);
    delta.delta_rows = shadow.dirty_rows().keys();
    return delta;
  }
  PGPARITY_ASSIGN_OR_RETURN(PreparedCheckpoint full, PrepareFull(shadow, lsn, meta, path));
  // Later deltas are of the rows changed after this one.
  shadow.dirty_rows().Clear();
  return full;
}

Status CommitCheckpoint(const PreparedCheckpoint& checkpoint) {
  PGPARITY_RETURN_IF_ERROR(WriteFileAtomically(checkpoint.path, AsChars(checkpoint.file), 0600));
  if (!checkpoint.base) return Status::OK();  // a delta
  // A delta of the previous checkpoint no longer applies; one a crash
  // leaves here is recognised as such by its base (ParseDelta).
  std::error_code ec;
  std::filesystem::remove(DeltaPath(checkpoint.path), ec);
  RemoveOtherStoreCheckpoints(std::filesystem::path(checkpoint.path).parent_path(),
                              checkpoint.store);
  return Status::OK();
}

Status WriteCheckpoint(const ShadowState& shadow, wire::Lsn lsn, const CheckpointMeta& meta,
                       const std::string& path) {
  PGPARITY_ASSIGN_OR_RETURN(const PreparedCheckpoint prepared,
                            PrepareFull(shadow, lsn, meta, path));
  return CommitCheckpoint(prepared);
}

Result<CheckpointFiles> ReadCheckpointFiles(const std::string& path) {
  CheckpointFiles files;
  PGPARITY_ASSIGN_OR_RETURN(files.full, MapFileIfExists(path));
  if (!files.full) return files;
  PGPARITY_ASSIGN_OR_RETURN(files.delta, MapFileIfExists(DeltaPath(path)));
  return files;
}

Result<std::optional<wire::Lsn>> LoadCheckpoint(const CheckpointFiles& files,
                                                const std::string& path, ShadowState& shadow,
                                                CheckpointMeta& meta,
                                                std::optional<CheckpointBase>* base) {
  if (!files.full) return std::optional<wire::Lsn>();
  const auto bytes = files.full->bytes();
  PGPARITY_ASSIGN_OR_RETURN(const wire::Lsn lsn, ParseCheckpoint(bytes, path, shadow, meta));
  const CheckpointBase full{lsn, wire::LoadBE64(bytes.data() + bytes.size() - kChecksumBytes)};
  // Deltas follow only a shadow that tracks its changed rows since this one.
  if (base != nullptr && shadow.dirty_rows().enabled()) *base = full;
  if (!files.delta) return std::optional<wire::Lsn>(lsn);
  PGPARITY_ASSIGN_OR_RETURN(const std::optional<wire::Lsn> delta_lsn,
                            ParseDelta(files.delta->bytes(), DeltaPath(path), full, shadow));
  return std::optional<wire::Lsn>(delta_lsn.value_or(lsn));
}

Result<std::optional<CheckpointHead>> PeekCheckpoint(const CheckpointFiles& files,
                                                     const std::string& path) {
  if (!files.full) return std::optional<CheckpointHead>();
  const auto bytes = files.full->bytes();
  PGPARITY_ASSIGN_OR_RETURN(const Unsealed sealed, Unseal(bytes, path));
  ByteReader header(sealed.body, kMagic.size());
  CheckpointHead head;
  std::string store;
  Result<wire::Lsn> lsn = ParseHeader(header, sealed.format, head.meta, store);
  if (!lsn.ok()) return Damaged(path, lsn.status().message());
  head.full = {*lsn, wire::LoadBE64(bytes.data() + bytes.size() - kChecksumBytes)};
  head.lsn = *lsn;
  if (files.delta) {
    PGPARITY_ASSIGN_OR_RETURN(const DeltaHead delta,
                              UnsealDelta(files.delta->bytes(), DeltaPath(path)));
    if (AppliesTo(delta, head.full)) head.lsn = delta.lsn;
  }
  return std::optional<CheckpointHead>(std::move(head));
}

Result<std::optional<wire::Lsn>> ReadCheckpoint(const std::string& path, ShadowState& shadow,
                                                CheckpointMeta& meta,
                                                std::optional<CheckpointBase>* base) {
  PGPARITY_ASSIGN_OR_RETURN(const CheckpointFiles files, ReadCheckpointFiles(path));
  return LoadCheckpoint(files, path, shadow, meta, base);
}

}  // namespace pgparity::applier
