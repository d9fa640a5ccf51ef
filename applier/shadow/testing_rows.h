// Test helpers shared by the shadow's unit tests: column values from the
// stream builder's rows ("<null>" NULL, "<u>" unchanged TOAST).
#ifndef PGPARITY_APPLIER_SHADOW_TESTING_ROWS_H_
#define PGPARITY_APPLIER_SHADOW_TESTING_ROWS_H_

#include <vector>

#include "core/testing/stream_builder.h"
#include "pgparity/digest/row_digest.h"

namespace pgparity::applier::testing {

// Views into `row`, which must outlive them.
inline std::vector<digest::ColumnValue> Values(const core::testing::Row& row) {
  std::vector<digest::ColumnValue> v;
  for (const auto& s : row) {
    v.push_back(s == "<null>" ? digest::ColumnValue::Null() : digest::ColumnValue::Value(s));
  }
  return v;
}
std::vector<digest::ColumnValue> Values(core::testing::Row&& row) = delete;

}  // namespace pgparity::applier::testing

#endif  // PGPARITY_APPLIER_SHADOW_TESTING_ROWS_H_
