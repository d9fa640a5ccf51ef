// libFuzzer target over the pgoutput and CopyData parsers. See fuzz_one.h
// for the input layout and the checks; run with decoder/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>

#include "fuzz/fuzz_one.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = std::as_bytes(std::span(data, size));
  if (pgparity::wire::fuzz::RunOne(input) == pgparity::wire::fuzz::Outcome::kBroken) {
    std::fprintf(stderr, "fuzz_pgoutput: a parsed input did not re-encode to itself\n");
    __builtin_trap();
  }
  return 0;
}
