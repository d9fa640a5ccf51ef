// CopyTextRow: one data row of COPY ... TO STDOUT in text format (tab
// separated, "\N" for NULL, backslash escapes) split into column values,
// as views into the row or into the parser's own buffer for values that
// held escapes. COPY's text is each type's output function, the same text
// pgoutput sends, so rows digest the same as decoded changes.
//
// Reuses its buffers: parsing allocates nothing once they have grown.
// Not thread-safe; one per scanning thread.
#ifndef PGPARITY_APPLIER_SCAN_COPY_TEXT_H_
#define PGPARITY_APPLIER_SCAN_COPY_TEXT_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/digest/row_digest.h"
#include "pgparity/status.h"

namespace pgparity::applier {

class CopyTextRow {
 public:
  // Splits `line` (one row, with or without its final '\n'). Corruption
  // when it has not exactly `columns` fields or ends inside an escape.
  // The values are valid until the next Parse and while `line` lives.
  Status Parse(std::string_view line, size_t columns);
  // Puts the two fields of each column marked in `wide_read`
  // (TableRead::wide_read: one flag per column, or none) back together as
  // one value (digest::WideValueReadSql). Corruption when a wide field is
  // malformed. REQUIRES: Parse got TableRead::fields() fields.
  Status FoldWideValues(const std::vector<bool>& wide_read);
  std::span<const digest::ColumnValue> values() const { return values_; }

 private:
  std::vector<digest::ColumnValue> values_;
  std::string unescaped_;
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SCAN_COPY_TEXT_H_
