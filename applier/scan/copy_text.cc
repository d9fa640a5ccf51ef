#include "pgparity/applier/scan/copy_text.h"

#include <cstring>

namespace pgparity::applier {

using digest::ColumnValue;

namespace {

// The character a backslash escape of COPY's text format stands for ("\\"
// and an escaped delimiter stand for themselves).
char Unescaped(char c) {
  switch (c) {
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'v':
      return '\v';
    default:
      return c;
  }
}

}  // namespace

Status CopyTextRow::Parse(std::string_view line, size_t columns) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  values_.clear();
  unescaped_.clear();
  // Unescaped text is never longer than the row: reserving it once keeps
  // every view into unescaped_ valid while the row is parsed.
  if (unescaped_.capacity() < line.size()) unescaped_.reserve(line.size());
  size_t pos = 0;
  for (;;) {
    const size_t tab = line.find('\t', pos);
    const size_t end = tab == std::string_view::npos ? line.size() : tab;
    std::string_view field = line.substr(pos, end - pos);
    if (field == "\\N") {
      values_.push_back(ColumnValue::Null());
    } else if (field.find('\\') == std::string_view::npos) {
      values_.push_back(ColumnValue::Value(field));
    } else {
      const size_t start = unescaped_.size();
      for (size_t i = 0; i < field.size(); ++i) {
        char c = field[i];
        if (c == '\\') {
          if (++i == field.size()) {
            return Status::Corruption("COPY row ends inside an escape in column " +
                                      std::to_string(values_.size() + 1));
          }
          c = Unescaped(field[i]);
        }
        unescaped_.push_back(c);
      }
      values_.push_back(ColumnValue::Value(
          std::string_view(unescaped_).substr(start, unescaped_.size() - start)));
    }
    if (tab == std::string_view::npos) break;
    pos = tab + 1;
  }
  if (values_.size() != columns) {
    return Status::Corruption("COPY row has " + std::to_string(values_.size()) +
                              " columns, expected " + std::to_string(columns));
  }
  return Status::OK();
}

Status CopyTextRow::Untag(const std::vector<bool>& tagged) {
  for (size_t i = 0; i < tagged.size() && i < values_.size(); ++i) {
    if (!tagged[i] || values_[i].kind == ColumnValue::Kind::kNull) continue;
    Result<ColumnValue> v = digest::UntagValue(values_[i].text);
    if (!v.ok()) return v.status().WithPrefix("column " + std::to_string(i + 1));
    values_[i] = *v;
  }
  return Status::OK();
}

}  // namespace pgparity::applier
