// RecordPrinter: one human-readable line per record (`pgparity dump`,
// `pgparity tail`), in the spirit of test_decoding's output:
//   BEGIN 735 (commit 0/16B5000, 2026-11-24 07:00:00.000000+00)
//   0/16B4F00 INSERT public.users: id='1' email='a@b' note=null [9f1c...]
//   COMMIT 735 end 0/16B5030, 3 changes, chain 1f3e...
// Values are quoted like SQL literals; null and unchanged TOAST are words.
// Keeps the relations it has seen, to name columns. Not thread-safe.
#ifndef PGPARITY_CLI_RECORD_PRINTER_H_
#define PGPARITY_CLI_RECORD_PRINTER_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

#include "pgparity.pb.h"

namespace pgparity::cli {

class RecordPrinter {
 public:
  explicit RecordPrinter(std::ostream& out) : out_(out) {}
  void Print(const pgparity::v1::Record& record);

 private:
  void PrintTuple(uint32_t relid, const pgparity::v1::Tuple& tuple, bool skip_null);

  std::ostream& out_;
  std::unordered_map<uint32_t, std::vector<std::string>> columns_;  // relid -> names
};

// "X/X" for a 64-bit LSN.
std::string FormatLsn(uint64_t lsn);
// ISO 8601 UTC for Unix microseconds.
std::string FormatUnixMicros(int64_t us);
// 32 hex digits for a 16-byte digest; "-" when empty.
std::string FormatDigest(const std::string& bytes);

}  // namespace pgparity::cli

#endif  // PGPARITY_CLI_RECORD_PRINTER_H_
