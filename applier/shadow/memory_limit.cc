#include "pgparity/applier/shadow/memory_limit.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <string>

namespace pgparity::applier {

size_t MemoryBudget::store_cache() const { return std::max<size_t>(limit / 4, size_t{8} << 20); }

size_t MemoryBudget::eighth() const { return std::max<size_t>(limit / 8, size_t{4} << 20); }

size_t MemoryBudget::read_ahead() const { return limited() ? eighth() : size_t{128} << 20; }

size_t MemoryBudget::row_comparison() const { return limited() ? eighth() : 0; }

size_t MemoryBudget::prepared_changes() const {
  return limited() ? std::max(limit / 16, size_t{4} << 20) : size_t{64} << 20;
}

namespace {

// cgroup v2's memory.max of this process ("max" or absent: none).
size_t CgroupMemoryMax() {
  std::ifstream in("/sys/fs/cgroup/memory.max");
  std::string text;
  if (!(in >> text) || text == "max") return 0;
  size_t bytes = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  return ec == std::errc() ? bytes : 0;
}

}  // namespace

size_t DefaultMemoryLimit() {
  size_t ram =
      static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (const size_t cgroup = CgroupMemoryMax(); cgroup != 0) ram = std::min(ram, cgroup);
  return std::min<size_t>(size_t{1} << 30, ram / 4);
}

Result<size_t> ParseByteSize(std::string_view text) {
  auto invalid = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a size: give bytes, or a number with kB, MB, GB "
                                   "(powers of 1000) or KiB, MiB, GiB (powers of 1024), e.g. "
                                   "256MiB; 0 means no limit");
  };
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p == text.data()) return invalid();
  std::string unit(p, text.data() + text.size());
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {{"", 1},
                                                                     {"b", 1},
                                                                     {"k", 1000},
                                                                     {"kb", 1000},
                                                                     {"m", 1000000},
                                                                     {"mb", 1000000},
                                                                     {"g", 1000000000},
                                                                     {"gb", 1000000000},
                                                                     {"kib", 1ull << 10},
                                                                     {"mib", 1ull << 20},
                                                                     {"gib", 1ull << 30},
                                                                     {"tib", 1ull << 40}};
  for (const auto& [name, factor] : kUnits) {
    if (unit != name) continue;
    uint64_t bytes;
    if (__builtin_mul_overflow(n, factor, &bytes)) return invalid();
    return static_cast<size_t>(bytes);
  }
  return invalid();
}

}  // namespace pgparity::applier
