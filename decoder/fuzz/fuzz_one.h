// The fuzz harness's logic, shared by the libFuzzer target (fuzz_pgoutput),
// the corpus generator and the test that replays the committed corpus.
//
// Input layout: byte 0 selects the mode, the rest is the payload.
//   bits 0-1  protocol_version - 1
//   bit 2     ParseOptions::in_stream
//   bit 3     ParseOptions::stream_abort_info
//   bit 4     payload is a CopyData frame (an XLogData body is then parsed
//             as a pgoutput message with the options above); else the
//             payload is a pgoutput message
// Checks: parsing never crashes (the sanitizers watch), whatever parses
// re-encodes to exactly the payload, after its tuples were walked, and the
// hot path (ParseHot) accepts nothing Parse rejects.
#ifndef PGPARITY_DECODER_FUZZ_FUZZ_ONE_H_
#define PGPARITY_DECODER_FUZZ_FUZZ_ONE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "pgparity/wire/copy_data.h"
#include "pgparity/wire/pgoutput.h"

namespace pgparity::wire::fuzz {

inline std::byte Selector(const ParseOptions& options, bool copy_data) {
  unsigned v = static_cast<unsigned>(options.protocol_version - 1) & 3u;
  if (options.in_stream) v |= 4u;
  if (options.stream_abort_info) v |= 8u;
  if (copy_data) v |= 16u;
  return static_cast<std::byte>(v);
}

enum class Outcome {
  kRejected,  // a clean error
  kAccepted,  // parsed, and every check held
  kBroken,    // a check failed: a bug
};

namespace internal {

// Reads every column of every tuple, so iteration runs over fuzzed bytes.
inline size_t WalkTuples(const Message& m) {
  size_t total = 0;
  auto walk = [&total](const TupleView& t) {
    size_t n = 0;
    t.ForEachColumn([&](const ColumnView& c) {
      total += c.data.size() + static_cast<size_t>(c.kind);
      ++n;
    });
    if (n != t.size()) total = SIZE_MAX;  // impossible unless iteration is broken
  };
  if (const auto* i = std::get_if<Insert>(&m)) walk(i->new_tuple);
  if (const auto* u = std::get_if<Update>(&m)) {
    walk(u->old_tuple);
    walk(u->new_tuple);
  }
  if (const auto* d = std::get_if<Delete>(&m)) walk(d->old_tuple);
  return total;
}

inline Outcome CheckMessage(std::span<const std::byte> body, const ParseOptions& options) {
  Result<Message> parsed = Parse(body, options);
  // The decoder's hot path must never accept what Parse rejects, and must
  // read the same message type when both accept.
  HotMessage hot;
  // (Options Parse refuses, such as in_stream at protocol 1, are the
  // caller's to validate; the decoder validates them once.)
  const bool hot_ok = Validate(options).ok() && ParseHot(body, options.in_stream, hot);
  if (hot_ok && (!parsed.ok() || TypeOf(*parsed) != hot.type)) return Outcome::kBroken;
  if (!parsed.ok()) return Outcome::kRejected;
  if (WalkTuples(*parsed) == SIZE_MAX) return Outcome::kBroken;
  std::vector<std::byte> again;
  Encode(*parsed, again);
  return std::ranges::equal(again, body) ? Outcome::kAccepted : Outcome::kBroken;
}

}  // namespace internal

inline Outcome RunOne(std::span<const std::byte> input) {
  if (input.empty()) return Outcome::kRejected;
  const unsigned selector = std::to_integer<unsigned>(input[0]);
  ParseOptions options;
  options.protocol_version = static_cast<int>(selector & 3u) + 1;
  options.in_stream = (selector & 4u) != 0;
  options.stream_abort_info = (selector & 8u) != 0;
  const bool copy_data = (selector & 16u) != 0;
  const std::span<const std::byte> payload = input.subspan(1);

  if (!copy_data) return internal::CheckMessage(payload, options);

  Result<CopyMessage> frame = ParseCopyData(payload);
  if (!frame.ok()) return Outcome::kRejected;
  std::vector<std::byte> again;
  if (const auto* x = std::get_if<XLogData>(&*frame)) {
    EncodeXLogData(*x, again);
    if (!std::ranges::equal(again, payload)) return Outcome::kBroken;
    return internal::CheckMessage(x->body, options);
  }
  EncodePrimaryKeepalive(std::get<PrimaryKeepalive>(*frame), again);
  return std::ranges::equal(again, payload) ? Outcome::kAccepted : Outcome::kBroken;
}

}  // namespace pgparity::wire::fuzz

#endif  // PGPARITY_DECODER_FUZZ_FUZZ_ONE_H_
