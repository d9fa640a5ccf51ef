#include "corpus/seeds.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

namespace pgparity::corpus {

namespace {

// One even seed (publish_via_partition_root = true) and one odd (false).
constexpr uint64_t kDefaultSeeds[] = {1000, 1001};

std::optional<uint64_t> EnvNumber(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  if (*end != '\0') throw std::invalid_argument(std::string(name) + " is not a number: " + v);
  return n;
}

uint64_t RandomSeed() {
  std::random_device device;
  // Keep it short enough to type.
  return (static_cast<uint64_t>(device()) << 8 | (device() & 0xff)) % 1000000000ULL;
}

}  // namespace

SeedPlan PlanFromEnvironment() {
  SeedPlan plan;
  if (auto seed = EnvNumber("PGPARITY_CORPUS_SEED")) {
    plan.seeds = {*seed};
    return plan;
  }
  if (auto minutes = EnvNumber("PGPARITY_CORPUS_MINUTES")) {
    plan.soak = std::chrono::minutes(*minutes);
    plan.next = EnvNumber("PGPARITY_CORPUS_FIRST_SEED").value_or(RandomSeed());
    return plan;
  }
  if (auto count = EnvNumber("PGPARITY_CORPUS_SEEDS")) {
    const uint64_t first = EnvNumber("PGPARITY_CORPUS_FIRST_SEED").value_or(kDefaultSeeds[0]);
    for (uint64_t i = 0; i < *count; ++i) plan.seeds.push_back(first + i);
    return plan;
  }
  plan.seeds.assign(std::begin(kDefaultSeeds), std::end(kDefaultSeeds));
  if (EnvNumber("PGPARITY_CORPUS_RANDOM").value_or(0) != 0) plan.seeds.push_back(RandomSeed());
  return plan;
}

std::string SeedPlan::Describe() const {
  std::string out;
  for (uint64_t s : seeds) out += (out.empty() ? "seeds " : ", ") + std::to_string(s);
  if (soak) {
    out += (out.empty() ? "" : "; then ") + std::string("soak for ") +
           std::to_string(soak->count()) + " min from seed " + std::to_string(next);
  }
  return out;
}

std::string ReplayCommand(uint64_t seed) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return "PGPARITY_CORPUS_SEED=" + std::to_string(seed) + " " +
         (ec ? std::string("corpus_test") : self.string());
}

std::string RecordFailingSeed(uint64_t seed) {
  std::ofstream(CORPUS_FAILING_SEEDS, std::ios::app) << seed << " " << ReplayCommand(seed) << "\n";
  return CORPUS_FAILING_SEEDS;
}

}  // namespace pgparity::corpus
