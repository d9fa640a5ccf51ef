// RecordPrinter: one human-readable line per record (`pgparity dump`,
// `pgparity tail`), in the spirit of test_decoding's output:
//   BEGIN 735 (commit 0/16B5000, 2026-11-24 07:00:00.000000+00)
//   0/16B4F00 INSERT public.users: id='1' email='a@b' note=null [9f1c...]
//   COMMIT 735 end 0/16B5030, 3 changes, chain 1f3e...
// Values are quoted like SQL literals; null and unchanged TOAST are words.
// A text value longer than RecordPrinterOptions::max_value_bytes prints as
// its first bytes (cut on a UTF-8 character boundary), then `...` and its
// full length and MD5 outside the quotes:
//   note='aaaa...aaaa'...(41943040 bytes, md5 1886e67cf8783e89ce6ddc5bb09a3944)
// A closing quote is followed by `...(` only there, never in a whole value,
// so a cut value cannot be read as a whole one. A binary value prints its
// length and the MD5 of its bytes: binary:4B(md5 0416dab8...).
// Keeps the relations it has seen, to name columns. Not thread-safe.
#ifndef PGPARITY_CLI_RECORD_PRINTER_H_
#define PGPARITY_CLI_RECORD_PRINTER_H_

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pgparity.pb.h"

namespace pgparity::cli {

// Text values longer than this are cut. 200 bytes keep a change on a few
// terminal lines, while keys, names, timestamps, numbers and short JSON
// still print whole; a longer value is not read on one line anyway, and its
// length and MD5 compare with octet_length(col::text) and md5(col::text).
inline constexpr size_t kDefaultMaxValueBytes = 200;
// The `--full-values` help of dump and tail (it names kDefaultMaxValueBytes).
inline constexpr char kFullValuesHelp[] =
    "print every text value whole (by default a value over 200 bytes prints "
    "cut, with its length and MD5)";

struct RecordPrinterOptions {
  // Text values longer than this many bytes are cut; 0 prints every value
  // whole (`--full-values`).
  size_t max_value_bytes = kDefaultMaxValueBytes;
};

class RecordPrinter {
 public:
  explicit RecordPrinter(std::ostream& out, RecordPrinterOptions options = {})
      : out_(out), options_(options) {}
  void Print(const pgparity::v1::Record& record);

 private:
  void PrintTuple(uint32_t relid, const pgparity::v1::Tuple& tuple, bool skip_null);

  std::ostream& out_;
  RecordPrinterOptions options_;
  std::unordered_map<uint32_t, std::vector<std::string>> columns_;  // relid -> names
};

// "X/X" for a 64-bit LSN.
std::string FormatLsn(uint64_t lsn);
// ISO 8601 UTC for Unix microseconds.
std::string FormatUnixMicros(int64_t us);
// 32 hex digits for a 16-byte digest; "-" when empty.
std::string FormatDigest(const std::string& bytes);
// The length of the longest prefix of `text` of at most `max_bytes` bytes
// that does not end inside a UTF-8 character (text is the server's UTF-8).
size_t Utf8PrefixLength(std::string_view text, size_t max_bytes);

}  // namespace pgparity::cli

#endif  // PGPARITY_CLI_RECORD_PRINTER_H_
