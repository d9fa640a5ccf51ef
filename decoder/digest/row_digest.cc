#include "pgparity/digest/row_digest.h"

// MD5 is the digest because every PostgreSQL server can recompute it in plain
// SQL (docs/digest.md); digest::Md5 (md5_batch.h) computes it one row at a
// time, Md5Batch many at once.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <numeric>

namespace pgparity::digest {

void AppendCounted(std::string& out, std::string_view s) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, s.size());
  out.append(digits, end);
  out.push_back(':');
  out.append(s);
}

RowDigester::RowDigester(std::string_view schema, std::string_view table,
                         std::span<const std::string> columns)
    : names_(columns.begin(), columns.end()) {
  Init(schema, table);
}

RowDigester::RowDigester(std::string_view schema, std::string_view table,
                         std::span<const std::string_view> columns)
    : names_(columns.begin(), columns.end()) {
  Init(schema, table);
}

void RowDigester::Init(std::string_view schema, std::string_view table) {
  AppendCounted(prefix_, schema);
  prefix_.push_back('.');
  AppendCounted(prefix_, table);
  std::vector<size_t> order(names_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Bytewise (COLLATE "C") order, so the order is the same on every server
  // and does not depend on the tables' column order.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return names_[a] < names_[b]; });
  sorted_.reserve(order.size());
  for (const size_t pos : order) {
    const size_t offset = names_blob_.size();
    AppendCounted(names_blob_, names_[pos]);
    sorted_.push_back(SortedColumn{pos, offset, names_blob_.size() - offset});
  }
  fixed_bytes_ = prefix_.size() + names_blob_.size() + names_.size();
  scratch_.resize(names_.size());
  wide_hex_.resize(names_.size());
}

uint64_t ColumnValue::wide_length() const noexcept {
  uint64_t n = 0;
  if (text.size() > 32) std::from_chars(text.data() + 32, text.data() + text.size(), n);
  return n;
}

std::string_view ColumnValue::wide_prefix() const noexcept {
  const size_t colon = text.find(':', 32);
  return colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
}

void HashIfWide(ColumnValue& v, WideHashHex& storage) {
  if (v.kind != ColumnValue::Kind::kValue || !IsWide(v.text)) return;
  Md5(v.text).WriteHex(storage.data());
  char* end =
      std::to_chars(storage.data() + 32, storage.data() + storage.size(), v.text.size()).ptr;
  v = ColumnValue::Hashed(
      std::string_view(storage.data(), static_cast<size_t>(end - storage.data())));
}

Result<ColumnValue> ParseWideValue(std::string_view wide) {
  // 32 hex digits, the length's digits, then maybe ':' and text.
  const std::string_view head = wide.substr(0, wide.find(':'));
  const std::string_view md5 = head.substr(0, 32);
  const std::string_view length = head.size() > 32 ? head.substr(32) : std::string_view();
  if (md5.size() == 32 && md5.find_first_not_of("0123456789abcdef") == std::string_view::npos &&
      !length.empty() && length.size() <= 20 &&
      length.find_first_not_of("0123456789") == std::string_view::npos) {
    return ColumnValue::Hashed(wide);
  }
  return Status::Corruption("a wide value read as its MD5 (" + std::to_string(wide.size()) +
                            " bytes) is not 32 hex digits and a length");
}

void RowDigester::HashWideValues() {
  for (size_t i = 0; i < scratch_.size(); ++i) HashIfWide(scratch_[i], wide_hex_[i]);
}

namespace {

// Writes "<decimal n>:" at `out`; returns the end. Lengths of column values
// are mostly short: the common widths without to_chars.
char* PutLength(char* out, size_t n) {
  if (n < 10) {
    out[0] = static_cast<char>('0' + n);
    out[1] = ':';
    return out + 2;
  }
  if (n < 100) {
    out[0] = static_cast<char>('0' + n / 10);
    out[1] = static_cast<char>('0' + n % 10);
    out[2] = ':';
    return out + 3;
  }
  char* end = std::to_chars(out, out + 20, n).ptr;
  *end = ':';
  return end + 1;
}

// memcpy for the short strings of a row (names, values), inline: two
// overlapping loads and stores of 4, 8 or 16 bytes cover 1..32 bytes, four
// cover up to 64; longer ones go to memcpy. Reads stay inside [in, in + n).
inline void CopyShort(char* out, const char* in, size_t n) {
  struct B16 {
    char b[16];
  };
  auto copy16 = [](char* o, const char* i) {
    B16 t;
    std::memcpy(&t, i, 16);
    std::memcpy(o, &t, 16);
  };
  if (n > 16) {
    if (n > 64) {
      std::memcpy(out, in, n);
    } else if (n > 32) {
      copy16(out, in);
      copy16(out + 16, in + 16);
      copy16(out + n - 32, in + n - 32);
      copy16(out + n - 16, in + n - 16);
    } else {
      copy16(out, in);
      copy16(out + n - 16, in + n - 16);
    }
  } else if (n >= 8) {
    uint64_t a, b;
    std::memcpy(&a, in, 8);
    std::memcpy(&b, in + n - 8, 8);
    std::memcpy(out, &a, 8);
    std::memcpy(out + n - 8, &b, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, in, 4);
    std::memcpy(&b, in + n - 4, 4);
    std::memcpy(out, &a, 4);
    std::memcpy(out + n - 4, &b, 4);
  } else if (n > 0) {
    out[0] = in[0];
    out[n / 2] = in[n / 2];
    out[n - 1] = in[n - 1];
  }
}

// The most bytes PutLength writes.
constexpr size_t kMaxLengthBytes = 21;

}  // namespace

Digest128 RowDigester::Digest(std::span<const ColumnValue> values) {
  return EncodeAndHash(Load(values));
}

size_t RowDigester::Load(std::span<const ColumnValue> values) {
  std::copy(values.begin(), values.begin() + static_cast<ptrdiff_t>(scratch_.size()),
            scratch_.begin());
  HashWideValues();
  return EncodedBound();
}

size_t RowDigester::Load(const wire::TupleView& tuple) {
  size_t i = 0;
  size_t bound = fixed_bytes_;
  for (const wire::ColumnView column : tuple) {
    if (i == scratch_.size()) break;
    switch (column.kind) {
      case wire::ColumnKind::kNull:
        scratch_[i] = ColumnValue::Null();
        break;
      case wire::ColumnKind::kUnchanged:
        scratch_[i] = ColumnValue::Unchanged();
        break;
      case wire::ColumnKind::kText:
      case wire::ColumnKind::kBinary:
        scratch_[i] = ColumnValue::Value(column.text());
        HashIfWide(scratch_[i], wide_hex_[i]);
        bound += scratch_[i].kind == ColumnValue::Kind::kHashed
                     ? 32
                     : kMaxLengthBytes + scratch_[i].text.size();
        break;
    }
    ++i;
  }
  return bound;
}

Digest128 RowDigester::Digest(const wire::TupleView& tuple) { return EncodeAndHash(Load(tuple)); }

size_t RowDigester::EncodeInto(const wire::TupleView& tuple, Md5Batch& batch, Digest128& now) {
  return EncodeLoadedInto(Load(tuple), batch, now);
}

size_t RowDigester::EncodeInto(std::span<const ColumnValue> values, Md5Batch& batch,
                               Digest128& now) {
  return EncodeLoadedInto(Load(values), batch, now);
}

size_t RowDigester::EncodeLoadedInto(size_t bound, Md5Batch& batch, Digest128& now) {
  if (bound > kMaxBatchedBytes) {
    now = EncodeAndHash(bound);
    return kHashedNow;
  }
  char* out = batch.Reserve(bound);
  return batch.Finish(static_cast<size_t>(Encode(out) - out));
}

namespace {
// Rows a TableDigester hashes at a time.
constexpr size_t kTableBatchRows = 256;
}  // namespace

void TableDigester::Add(std::span<const ColumnValue> values) {
  Digest128 now;
  if (row_.EncodeInto(values, batch_, now) == RowDigester::kHashedNow) {
    digest_.Add(now);
    return;
  }
  if (batch_.size() >= kTableBatchRows) Fold();
}

void TableDigester::Fold() {
  batch_.Compute();
  for (size_t i = 0; i < batch_.size(); ++i) digest_.Add(batch_.digest(i));
  batch_.Clear();
}

TableDigest TableDigester::Finish() {
  Fold();
  const TableDigest d = digest_;
  digest_ = TableDigest();
  return d;
}

size_t RowDigester::EncodedBound() const {
  // One pass for the size bound, one to write: no per-append checks.
  size_t bound = fixed_bytes_;
  for (const ColumnValue& v : scratch_) {
    if (v.kind == ColumnValue::Kind::kValue) bound += kMaxLengthBytes + v.text.size();
    if (v.kind == ColumnValue::Kind::kHashed) bound += 32;
  }
  return bound;
}

char* RowDigester::Encode(char* out) const {
  CopyShort(out, prefix_.data(), prefix_.size());
  out += prefix_.size();
  // Locals, not members: stores through `out` may alias any member, and the
  // compiler would reload each of them after every store.
  const char* const names = names_blob_.data();
  const ColumnValue* const values = scratch_.data();
  const SortedColumn* const end = sorted_.data() + sorted_.size();
  for (const SortedColumn* col = sorted_.data(); col != end; ++col) {
    const SortedColumn c = *col;
    CopyShort(out, names + c.name_offset, c.name_length);
    out += c.name_length;
    const ColumnValue v = values[c.position];
    *out++ = static_cast<char>(v.kind);
    if (v.kind == ColumnValue::Kind::kValue) {
      out = PutLength(out, v.text.size());
      CopyShort(out, v.text.data(), v.text.size());  // nothing read when empty
      out += v.text.size();
    } else if (v.kind == ColumnValue::Kind::kHashed) {
      CopyShort(out, v.text.data(), 32);  // the digits only
      out += 32;
    }
  }
  return out;
}

Digest128 RowDigester::EncodeAndHash(size_t bound) {
  if (buffer_.size() < bound) buffer_.resize(bound);
  length_ = static_cast<size_t>(Encode(buffer_.data()) - buffer_.data());
  return Md5(std::string_view(buffer_.data(), length_));
}

}  // namespace pgparity::digest
