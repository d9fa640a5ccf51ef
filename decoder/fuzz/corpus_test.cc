// Replays the committed fuzz seed corpus (decoder/fuzz/corpus) through the
// fuzz harness: every seed must parse and re-encode to itself, and the
// corpus must hold one seed per sample message (regenerate it with
// pgparity_make_fuzz_corpus when samples change).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz/fuzz_one.h"
#include "wire/testing/sample_messages.h"

namespace pgparity::wire::fuzz {
namespace {

std::vector<std::byte> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  for (size_t i = 0; i < chars.size(); ++i) bytes[i] = static_cast<std::byte>(chars[i]);
  return bytes;
}

TEST(FuzzCorpusTest, EverySampleHasAnIdenticalSeed) {
  const std::filesystem::path dir(PGPARITY_FUZZ_CORPUS_DIR);
  for (const auto& sample : testing::SampleMessages()) {
    SCOPED_TRACE(sample.name);
    const auto path = dir / (sample.name + ".bin");
    ASSERT_TRUE(std::filesystem::exists(path)) << "run pgparity_make_fuzz_corpus " << dir;
    std::vector<std::byte> expected{Selector(sample.options, sample.copy_data)};
    expected.insert(expected.end(), sample.bytes.begin(), sample.bytes.end());
    EXPECT_EQ(ReadFile(path), expected) << "stale seed; run pgparity_make_fuzz_corpus " << dir;
  }
}

TEST(FuzzCorpusTest, EverySeedIsAccepted) {
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(PGPARITY_FUZZ_CORPUS_DIR)) {
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(RunOne(ReadFile(entry.path())), Outcome::kAccepted);
    ++seeds;
  }
  EXPECT_GT(seeds, 30);
}

}  // namespace
}  // namespace pgparity::wire::fuzz
