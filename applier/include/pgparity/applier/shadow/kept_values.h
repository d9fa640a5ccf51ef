// KeptValues: what the shadow state keeps of a row so that an UPDATE which
// leaves a TOASTed value unchanged ('u': the server does not send it) can
// still be digested: per toastable column, the part of the row encoding
// that value contributes (docs/digest.md) — never a wide value itself.
//
// Layout, one entry per toastable column in column order:
//   'N'                          NULL
//   'V' <LEB128 length> <bytes>  a value of at most kWideValueBytes
//   'H' <16 bytes>               a wide value: the MD5 of its text
// so a row keeps at most 1 + 2 + 128 bytes per toastable column, and 17
// for a wide value of any size.
#ifndef PGPARITY_APPLIER_SHADOW_KEPT_VALUES_H_
#define PGPARITY_APPLIER_SHADOW_KEPT_VALUES_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "pgparity/applier/shadow/compact_bytes.h"
#include "pgparity/digest/row_digest.h"
#include "pgparity/status.h"

namespace pgparity::applier {

// A row's kept values: 23 bytes inline (one wide value with a few short or
// NULL ones), else one heap block.
using KeptValues = CompactBytes<24>;

// Appends the entries of values[positions[0]], values[positions[1]], ... to
// `out`. A wide kValue is hashed here. REQUIRES: no kUnchangedToast.
void EncodeKeptValues(std::span<const digest::ColumnValue> values,
                      std::span<const size_t> positions, std::string& out);

// Reads entry after entry of `kept`: f(index, value), value a kValue
// (viewing `kept`), a kHashed (viewing `hex`, rewritten per entry: copy
// what must outlive the call) or kNull. Corruption when `kept` does not
// hold exactly `count` well-formed entries.
class KeptValuesReader {
 public:
  KeptValuesReader(std::string_view kept, size_t count) : kept_(kept), count_(count) {}
  template <typename F>
  [[nodiscard]] Status ForEach(F&& f) {
    digest::ColumnValue v;
    for (size_t i = 0; i < count_; ++i) {
      PGPARITY_RETURN_IF_ERROR(Next(v));
      f(i, v);
    }
    if (pos_ != kept_.size()) return Status::Corruption("kept values: bytes after the last entry");
    return Status::OK();
  }

 private:
  Status Next(digest::ColumnValue& v);

  std::string_view kept_;
  size_t count_;
  size_t pos_ = 0;
  digest::WideHashHex hex_{};
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_KEPT_VALUES_H_
