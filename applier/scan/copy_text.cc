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
  // A table of no columns (CREATE TABLE t ()) copies an empty line a row.
  if (columns == 0 && line.empty()) return Status::OK();
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

Status CopyTextRow::FoldWideValues(const std::vector<bool>& wide_read) {
  size_t out = 0, field = 0;
  for (size_t c = 0; c < wide_read.size() && field < values_.size(); ++c, ++out) {
    if (!wide_read[c]) {
      values_[out] = values_[field++];
      continue;
    }
    if (field + 1 >= values_.size()) return Status::Corruption("COPY row ends inside a wide read");
    const ColumnValue wide = values_[field + 1];
    if (wide.kind == ColumnValue::Kind::kNull) {
      values_[out] = values_[field];
    } else {
      Result<ColumnValue> v = digest::ParseWideValue(wide.text);
      if (!v.ok()) return v.status().WithPrefix("column " + std::to_string(c + 1));
      values_[out] = *v;
    }
    field += 2;
  }
  for (; field < values_.size(); ++field, ++out) values_[out] = values_[field];
  values_.resize(out);
  return Status::OK();
}

}  // namespace pgparity::applier
