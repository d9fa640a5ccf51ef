#include "pgparity/applier/shadow/kept_values.h"

namespace pgparity::applier {

using digest::ColumnValue;

namespace {

void PutLeb128(size_t n, std::string& out) {
  do {
    const auto low = static_cast<unsigned char>(n & 0x7f);
    n >>= 7;
    out.push_back(static_cast<char>(n ? low | 0x80 : low));
  } while (n);
}

// The 16 bytes of a kHashed value's 32 hex digits (ParseWideValue or
// HashIfWide checked them).
void PutMd5Bytes(std::string_view hex, std::string& out) {
  unsigned char bytes[16];
  const Result<digest::Digest128> d = digest::Digest128::FromHex(hex);
  (d.ok() ? *d : digest::Digest128{}).WriteBigEndian(bytes);
  out.append(reinterpret_cast<const char*>(bytes), sizeof bytes);
}

}  // namespace

void EncodeKeptValues(std::span<const ColumnValue> values, std::span<const size_t> positions,
                      std::string& out) {
  digest::WideHashHex hex;
  for (const size_t p : positions) {
    ColumnValue v = values[p];
    digest::HashIfWide(v, hex);
    switch (v.kind) {
      case ColumnValue::Kind::kValue:
        out.push_back('V');
        PutLeb128(v.text.size(), out);
        out.append(v.text);
        break;
      case ColumnValue::Kind::kHashed:
        out.push_back('H');
        PutMd5Bytes(v.md5_hex(), out);
        break;
      case ColumnValue::Kind::kNull:
      case ColumnValue::Kind::kUnchangedToast:  // excluded by the caller
        out.push_back('N');
        break;
    }
  }
}

Status KeptValuesReader::Next(ColumnValue& v) {
  if (pos_ >= kept_.size()) return Status::Corruption("kept values: fewer entries than columns");
  const char kind = kept_[pos_++];
  if (kind == 'N') {
    v = ColumnValue::Null();
    return Status::OK();
  }
  if (kind == 'H') {
    if (kept_.size() - pos_ < 16) return Status::Corruption("kept values: a cut MD5");
    digest::Digest128::FromBigEndian(
        std::span<const unsigned char, 16>(
            reinterpret_cast<const unsigned char*>(kept_.data() + pos_), 16))
        .WriteHex(hex_.data());
    pos_ += 16;
    v = ColumnValue::Hashed(std::string_view(hex_.data(), 32));
    return Status::OK();
  }
  if (kind != 'V') return Status::Corruption("kept values: an entry of unknown kind");
  size_t n = 0;
  for (int shift = 0;; shift += 7) {
    if (pos_ == kept_.size() || shift > 14) return Status::Corruption("kept values: a bad length");
    const auto b = static_cast<unsigned char>(kept_[pos_++]);
    n |= static_cast<size_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  if (n > digest::kWideValueBytes || kept_.size() - pos_ < n) {
    return Status::Corruption("kept values: a value longer than its row or than a kept value");
  }
  v = ColumnValue::Value(kept_.substr(pos_, n));
  pos_ += n;
  return Status::OK();
}

}  // namespace pgparity::applier
