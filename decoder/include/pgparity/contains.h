// Whether a text holds another: std::string_view::contains before C++23.
// (Debian's abseil has an absl::string_view of its own, not std's, so
// absl::StrContains does not take ours.)
#ifndef PGPARITY_CONTAINS_H_
#define PGPARITY_CONTAINS_H_

#include <string_view>

namespace pgparity {

inline bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace pgparity

#endif  // PGPARITY_CONTAINS_H_
