#include "pgparity/applier/shadow/row_key.h"

#include <charconv>

namespace pgparity::applier {

size_t RowKeyHash::operator()(std::string_view bytes) const noexcept {
  // FNV-1a then a 64-bit finalizer (murmur3 fmix64): keys are short, and
  // absl's table wants well-mixed high and low bits.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return static_cast<size_t>(h);
}

void EncodeKey(std::span<const digest::ColumnValue> values, std::span<const size_t> key_positions,
               std::string& out) {
  for (const size_t p : key_positions) {
    const digest::ColumnValue& v = values[p];
    if (v.kind != digest::ColumnValue::Kind::kValue) {
      out.push_back('N');
      continue;
    }
    out.push_back('V');
    digest::AppendCounted(out, v.text);
  }
}

std::vector<std::optional<std::string>> DecodeKey(std::string_view bytes, size_t columns) {
  std::vector<std::optional<std::string>> out;
  while (!bytes.empty()) {
    const char kind = bytes.front();
    bytes.remove_prefix(1);
    if (kind == 'N') {
      out.emplace_back(std::nullopt);
      continue;
    }
    if (kind != 'V') return {};
    const size_t colon = bytes.find(':');
    if (colon == std::string_view::npos) return {};
    size_t n = 0;
    auto [p, ec] = std::from_chars(bytes.data(), bytes.data() + colon, n);
    if (ec != std::errc() || p != bytes.data() + colon || bytes.size() - colon - 1 < n) return {};
    out.emplace_back(std::string(bytes.substr(colon + 1, n)));
    bytes.remove_prefix(colon + 1 + n);
  }
  if (out.size() != columns) return {};
  return out;
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The length of "V<n>:" as AppendCounted writes it (no leading zero; an
// integer prints in at most 20 characters, so one or two digits), and where
// the characters start; false otherwise.
bool ParseIntegerKeyLength(std::string_view key, size_t& n, size_t& at) {
  if (key[1] < '1' || key[1] > '9') return false;
  if (key[2] == ':') {
    n = static_cast<size_t>(key[1] - '0');
    at = 3;
    return true;
  }
  if (!IsDigit(key[2]) || key[3] != ':') return false;
  n = static_cast<size_t>(key[1] - '0') * 10 + static_cast<size_t>(key[2] - '0');
  at = 4;
  return true;
}

}  // namespace

bool ParseIntegerKey(std::string_view key, int64_t& out) {
  // "V<n>:<n characters>", the characters an integer as the server prints
  // it. By hand rather than std::from_chars: every lookup of an integer
  // key and every row of a checkpoint's load come here.
  size_t n = 0, at = 0;
  if (key.size() < 4 || key[0] != 'V' || !ParseIntegerKeyLength(key, n, at)) return false;
  const std::string_view digits = key.substr(at);
  if (digits.size() != n) return false;
  const bool negative = digits[0] == '-';
  const size_t first = negative ? 1 : 0;
  if (first == digits.size()) return false;
  if (digits[first] == '0' && (digits.size() > first + 1 || negative)) return false;
  // 18 digits never overflow; 19 may: those go to from_chars.
  if (digits.size() - first > 18) {
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return ec == std::errc() && p == digits.data() + digits.size();
  }
  int64_t v = 0;
  for (size_t i = first; i < digits.size(); ++i) {
    if (!IsDigit(digits[i])) return false;
    v = v * 10 + (digits[i] - '0');
  }
  out = negative ? -v : v;
  return true;
}

void EncodeIntegerKey(int64_t v, std::string& out) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
  out.assign("V");
  digest::AppendCounted(out, std::string_view(digits, static_cast<size_t>(end - digits)));
}

}  // namespace pgparity::applier
