#define OPENSSL_SUPPRESS_DEPRECATED
#include "pgparity/digest/md5_batch.h"

#include <gtest/gtest.h>
#include <openssl/md5.h>

#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace pgparity::digest {
namespace {

Digest128 OpenSslMd5(std::string_view m) {
  unsigned char md[MD5_DIGEST_LENGTH];
  MD5(reinterpret_cast<const unsigned char*>(m.data()), m.size(), md);
  return Digest128::FromBigEndian(std::span<const unsigned char, 16>(md, 16));
}

std::vector<Md5Kernel> SupportedKernels() {
  std::vector<Md5Kernel> kernels;
  for (Md5Kernel k : {Md5Kernel::kScalar, Md5Kernel::kAvx2, Md5Kernel::kAvx512}) {
    if (Md5KernelSupported(k)) kernels.push_back(k);
  }
  return kernels;
}

class Md5BatchTest : public ::testing::TestWithParam<Md5Kernel> {};

TEST_P(Md5BatchTest, KnownVectors) {
  Md5Batch batch;
  const size_t empty = batch.Add("");
  const size_t abc = batch.Add("abc");
  const size_t fox = batch.Add("The quick brown fox jumps over the lazy dog");
  batch.Compute(GetParam());
  EXPECT_EQ(batch.digest(empty).ToHex(), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(batch.digest(abc).ToHex(), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(batch.digest(fox).ToHex(), "9e107d9d372bb6826bd81d3542a419d6");
}

// Every padding case (55, 56, 63, 64 ... bytes), lane counts around 8 and
// 16, and long messages among short ones so lanes refill unevenly.
TEST_P(Md5BatchTest, EqualsOpenSslForEveryLengthAndBatchSize) {
  std::mt19937 rng(7);
  for (const size_t batch_size : {1u, 2u, 7u, 8u, 9u, 15u, 16u, 17u, 33u, 100u, 1000u}) {
    Md5Batch batch;
    std::vector<std::string> messages;
    for (size_t i = 0; i < batch_size; ++i) {
      size_t len = i < 200 ? i : rng() % 300;
      if (i % 37 == 5) len = 5000 + rng() % 3000;
      std::string m(len, '\0');
      for (char& c : m) c = static_cast<char>(rng());
      messages.push_back(std::move(m));
    }
    for (const std::string& m : messages) batch.Add(m);
    batch.Compute(GetParam());
    for (size_t i = 0; i < messages.size(); ++i) {
      ASSERT_EQ(batch.digest(i), OpenSslMd5(messages[i]))
          << "batch " << batch_size << ", message " << i << " of " << messages[i].size()
          << " bytes, kernel " << Md5KernelName(GetParam());
      ASSERT_EQ(batch.message(i), messages[i]);
    }
  }
}

TEST_P(Md5BatchTest, ReserveFinishComputeAgainAndClear) {
  Md5Batch batch;
  char* out = batch.Reserve(100);
  std::memcpy(out, "hello", 5);
  const size_t hello = batch.Finish(5);
  batch.Compute(GetParam());
  const size_t world = batch.Add("world");  // after a Compute: only it is hashed next
  batch.Compute(GetParam());
  EXPECT_EQ(batch.digest(hello), OpenSslMd5("hello"));
  EXPECT_EQ(batch.digest(world), OpenSslMd5("world"));
  EXPECT_GT(batch.bytes(), 0u);
  batch.Clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.bytes(), 0u);
  // Reused memory holds stale bytes: padding must still be exact.
  const size_t a = batch.Add("a");
  const size_t b = batch.Add(std::string(56, 'b'));
  batch.Compute(GetParam());
  EXPECT_EQ(batch.digest(a), OpenSslMd5("a"));
  EXPECT_EQ(batch.digest(b), OpenSslMd5(std::string(56, 'b')));
}

INSTANTIATE_TEST_SUITE_P(Kernels, Md5BatchTest, ::testing::ValuesIn(SupportedKernels()),
                         [](const auto& info) { return std::string(Md5KernelName(info.param)); });

TEST(Md5KernelTest, AutoIsSupported) {
  EXPECT_TRUE(Md5KernelSupported(Md5AutoKernel()));
  EXPECT_NE(Md5AutoKernel(), Md5Kernel::kAuto);
}

}  // namespace
}  // namespace pgparity::digest
