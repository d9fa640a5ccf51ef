#include "pgparity/applier/scan/key_window.h"

#include <array>
#include <charconv>

#include "pgparity/applier/shadow/row_key.h"

namespace pgparity::applier {

namespace {

constexpr std::array<std::string_view, 3> kIntegerTypes = {"smallint", "integer", "bigint"};

std::optional<int64_t> ParseInteger(std::string_view text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string KeyWindow::ToString() const {
  return "[" + (lo ? std::to_string(*lo) : std::string("-inf")) + ", " +
         (hi ? std::to_string(*hi) : std::string("+inf")) + ")";
}

std::string WhyNotByKeyWindow(const TableSpec& spec, std::string_view target_key_type) {
  if (!spec.keyed()) return "no key";
  const size_t k = spec.key_positions[0];
  const TypeChange same;
  std::string why = WhyNotSplit(spec, k < spec.compare.size() ? spec.compare[k] : same);
  if (!why.empty()) return why;
  for (const auto t : kIntegerTypes) {
    if (target_key_type == t) return "";
  }
  return "its first key column " + spec.columns[k] + " is " + std::string(target_key_type) +
         ", not an integer";
}

Result<KeyWindow> WindowOf(const KeySplit& split, size_t range) {
  KeyWindow w;
  auto bound = [&](size_t i) -> Result<int64_t> {
    auto v = ParseInteger(split.bounds[i]);
    if (!v)
      return Status::InvalidArgument("key range bound " + split.bounds[i] + " of " + split.column +
                                     " is not an integer");
    return *v;
  };
  if (range > 0 && range - 1 < split.bounds.size()) {
    PGPARITY_ASSIGN_OR_RETURN(w.lo, bound(range - 1));
  }
  if (range < split.bounds.size()) {
    PGPARITY_ASSIGN_OR_RETURN(w.hi, bound(range));
  }
  return w;
}

std::optional<int64_t> FirstKeyAsInteger(std::string_view key_bytes, size_t key_columns) {
  const auto values = DecodeKey(key_bytes, key_columns);
  if (values.empty() || !values[0]) return std::nullopt;
  return ParseInteger(*values[0]);
}

}  // namespace pgparity::applier
