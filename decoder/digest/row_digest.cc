#include "pgparity/digest/row_digest.h"

// MD5 is the digest because every PostgreSQL server can recompute it in plain
// SQL (docs/digest.md). OpenSSL 3 deprecates the one-shot MD5() in favour of
// EVP, whose per-call context setup costs more than hashing a short row.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/md5.h>

#include <algorithm>
#include <charconv>
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
  order_.resize(names_.size());
  std::iota(order_.begin(), order_.end(), size_t{0});
  // Bytewise (COLLATE "C") order, so the order is the same on every server
  // and does not depend on the tables' column order.
  std::stable_sort(order_.begin(), order_.end(),
                   [&](size_t a, size_t b) { return names_[a] < names_[b]; });
  encoded_names_.reserve(names_.size());
  for (const auto& name : names_) {
    std::string e;
    AppendCounted(e, name);
    encoded_names_.push_back(std::move(e));
  }
  scratch_.resize(names_.size());
}

Digest128 RowDigester::Digest(std::span<const ColumnValue> values) {
  buffer_.assign(prefix_);
  for (size_t pos : order_) {
    buffer_.append(encoded_names_[pos]);
    const ColumnValue& v = values[pos];
    buffer_.push_back(static_cast<char>(v.kind));
    if (v.kind == ColumnValue::Kind::kValue) AppendCounted(buffer_, v.text);
  }
  return Finish();
}

Digest128 RowDigester::Digest(const wire::TupleView& tuple) {
  size_t i = 0;
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
        break;
    }
    ++i;
  }
  return Digest(std::span<const ColumnValue>(scratch_.data(), scratch_.size()));
}

Digest128 RowDigester::Finish() {
  unsigned char md[MD5_DIGEST_LENGTH];
  MD5(reinterpret_cast<const unsigned char*>(buffer_.data()), buffer_.size(), md);
  return Digest128::FromBigEndian(std::span<const unsigned char, 16>(md, 16));
}

}  // namespace pgparity::digest
