// Which seeds a run of corpus_test covers, from the environment, and what
// a failing seed leaves behind: the replay command in the failure message
// and a line in <build>/corpus-failing-seeds.txt.
//
//   (nothing)                     the default seeds (one per partition mode)
//   PGPARITY_CORPUS_SEED=S        seed S alone (replay)
//   PGPARITY_CORPUS_SEEDS=N       N seeds from PGPARITY_CORPUS_FIRST_SEED (default the first
//   default seed) PGPARITY_CORPUS_MINUTES=M     soak: consecutive seeds from a random start until M
//   minutes passed PGPARITY_CORPUS_RANDOM=1      the default seeds plus one random seed (printed)
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pgparity::corpus {

struct SeedPlan {
  std::vector<uint64_t> seeds;               // run these, in order
  std::optional<std::chrono::minutes> soak;  // then keep going until this passed
  uint64_t next = 0;                         // the soak's next seed
  std::string Describe() const;
};

SeedPlan PlanFromEnvironment();

// "PGPARITY_CORPUS_SEED=<seed> <binary>"
std::string ReplayCommand(uint64_t seed);
// Appends "<seed> <replay command>" to the failing-seeds file; returns
// the file's path.
std::string RecordFailingSeed(uint64_t seed);

}  // namespace pgparity::corpus
