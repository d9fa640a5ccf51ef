// KeyWindow: one range of a KeySplit (key_ranges.h) whose first key column
// is an integer (smallint, integer, bigint), as integers — so the rows of
// the range can be picked from the shadow's keys too, not only read by SQL
// (KeyRangeCondition). The rolling check (audit --scan-rate) walks a table
// range after range, each read in its own snapshot and compared with the
// shadow's rows of the same range.
#ifndef PGPARITY_APPLIER_SCAN_KEY_WINDOW_H_
#define PGPARITY_APPLIER_SCAN_KEY_WINDOW_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/applier/scan/key_ranges.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct KeyWindow {
  std::optional<int64_t> lo;  // nullopt: from the lowest key (and NULL)
  std::optional<int64_t> hi;  // nullopt: to the highest key; exclusive

  // A NULL key (nullopt) is in the window open below, as
  // KeyRangeCondition's range 0 has it.
  bool Contains(std::optional<int64_t> key) const {
    if (!key) return !lo;
    return (!lo || *key >= *lo) && (!hi || *key < *hi);
  }
  // "[lo, hi)", "-inf" / "+inf" for an open bound: for the report and logs.
  std::string ToString() const;
};

// Why `spec`'s table cannot be walked by integer key ranges ("" when it
// can): key_ranges.h's WhyNotSplit, or a first key column that is not an
// integer on the target (`target_key_type`, format_type()'s text): its
// order is the server's collation, which the shadow's keys cannot follow.
std::string WhyNotByKeyWindow(const TableSpec& spec, std::string_view target_key_type);

// Range `range` of `split` (integer bounds) as a window. InvalidArgument
// when a bound is not an integer's text.
Result<KeyWindow> WindowOf(const KeySplit& split, size_t range);

// The first key column of a key encoding (row_key.h) as an integer;
// nullopt when it is NULL or not an integer's text.
std::optional<int64_t> FirstKeyAsInteger(std::string_view key_bytes, size_t key_columns);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SCAN_KEY_WINDOW_H_
