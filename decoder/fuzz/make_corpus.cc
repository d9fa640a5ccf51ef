// Writes the fuzz seed corpus: one file per sample message (see
// wire/testing/sample_messages.cc), each prefixed with the selector byte of
// fuzz_one.h. Usage: pgparity_make_fuzz_corpus <dir>   (decoder/fuzz/corpus)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "fuzz/fuzz_one.h"
#include "wire/testing/sample_messages.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  int written = 0;
  for (const auto& sample : pgparity::wire::testing::SampleMessages()) {
    std::vector<std::byte> input;
    input.push_back(pgparity::wire::fuzz::Selector(sample.options, sample.copy_data));
    input.insert(input.end(), sample.bytes.begin(), sample.bytes.end());
    if (pgparity::wire::fuzz::RunOne(input) != pgparity::wire::fuzz::Outcome::kAccepted) {
      std::fprintf(stderr, "sample %s does not parse\n", sample.name.c_str());
      return 1;
    }
    std::ofstream out(dir / (sample.name + ".bin"), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(input.data()),
              static_cast<std::streamsize>(input.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", (dir / sample.name).c_str());
      return 1;
    }
    ++written;
  }
  std::printf("wrote %d seeds to %s\n", written, dir.c_str());
  return 0;
}
