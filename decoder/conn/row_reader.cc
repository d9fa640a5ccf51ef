#include "pgparity/conn/row_reader.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace pgparity::conn {

Status RowReader::Bad(std::string_view column, std::string_view what) const {
  return Status::Internal(std::string(context_) + ": column \"" + std::string(column) +
                          "\" of row " + std::to_string(row_) + " " + std::string(what));
}

Result<int> RowReader::Index(std::string_view column) const {
  const int index = result_.ColumnIndex(column);
  if (index < 0) return Bad(column, "is not in the result");
  if (row_ < 0 || row_ >= result_.rows()) return Bad(column, "is past the last row");
  return index;
}

Result<std::optional<std::string_view>> RowReader::OptionalText(std::string_view column) const {
  PGPARITY_ASSIGN_OR_RETURN(int index, Index(column));
  return result_.Get(row_, index);
}

Result<std::string_view> RowReader::Text(std::string_view column) const {
  PGPARITY_ASSIGN_OR_RETURN(std::optional<std::string_view> value, OptionalText(column));
  if (!value) return Bad(column, "is NULL");
  return *value;
}

Result<std::optional<int64_t>> RowReader::OptionalInt64(std::string_view column) const {
  PGPARITY_ASSIGN_OR_RETURN(std::optional<std::string_view> text, OptionalText(column));
  if (!text) return std::optional<int64_t>();
  int64_t value = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || text->empty()) {
    return Bad(column, "is not an integer: '" + std::string(*text) + "'");
  }
  return std::optional<int64_t>(value);
}

Result<int64_t> RowReader::Int64(std::string_view column) const {
  PGPARITY_ASSIGN_OR_RETURN(std::optional<int64_t> value, OptionalInt64(column));
  if (!value) return Bad(column, "is NULL");
  return *value;
}

Result<bool> RowReader::Bool(std::string_view column) const {
  PGPARITY_ASSIGN_OR_RETURN(std::string_view text, Text(column));
  if (text == "t") return true;
  if (text == "f") return false;
  return Bad(column, "is not a bool: '" + std::string(text) + "'");
}

Result<double> RowReader::Double(std::string_view column) const {
  PGPARITY_ASSIGN_OR_RETURN(std::string_view text, Text(column));
  // strtod, not from_chars: it also reads "Infinity" and "NaN" as printed.
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size()) {
    return Bad(column, "is not a number: '" + copy + "'");
  }
  return value;
}

Result<std::optional<wire::Lsn>> RowReader::OptionalLsn(std::string_view column) const {
  PGPARITY_ASSIGN_OR_RETURN(std::optional<std::string_view> text, OptionalText(column));
  if (!text) return std::optional<wire::Lsn>();
  Result<wire::Lsn> lsn = wire::Lsn::Parse(*text);
  if (!lsn.ok()) return Bad(column, "is not an LSN: '" + std::string(*text) + "'");
  return std::optional<wire::Lsn>(*lsn);
}

Result<char> RowReader::Char(std::string_view column) const {
  PGPARITY_ASSIGN_OR_RETURN(std::string_view text, Text(column));
  if (text.size() != 1) return Bad(column, "is not one character: '" + std::string(text) + "'");
  return text[0];
}

}  // namespace pgparity::conn
