// The differential correctness corpus (README.md): per seed a random
// schema and workload on a fresh PostgreSQL 14 -> 16 database pair, an
// SQL oracle of the target's exact differences, and `pgparity verify` and
// `pgparity audit` held against it — first with no difference, then with
// divergences injected on the target.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "corpus/seed_run.h"
#include "corpus/seeds.h"
#include "support/migration_env.h"

namespace pgparity::corpus {
namespace {

using testing::SqlClient;

// Deterministic collations both servers have, most interesting first; "C"
// and "POSIX" always exist.
std::vector<std::string> CommonCollations(SqlClient& source, SqlClient& target) {
  const std::vector<std::string> wanted{"en_US",      "en-US-x-icu", "de-DE-x-icu", "und-x-icu",
                                        "en_US.utf8", "C.utf8",      "C",           "POSIX"};
  auto available = [](SqlClient& db) {
    std::vector<std::string> names;
    for (const auto& r : db.Query("SELECT collname FROM pg_collation WHERE collisdeterministic "
                                  "AND collencoding IN (-1, 6)")) {
      names.push_back(*r[0]);
    }
    return names;
  };
  const auto s = available(source), t = available(target);
  std::vector<std::string> out;
  for (const auto& w : wanted) {
    if (std::count(s.begin(), s.end(), w) && std::count(t.begin(), t.end(), w)) out.push_back(w);
  }
  return out;
}

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

int FailedParts() {
  const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
  int n = 0;
  for (int i = 0; i < result->total_part_count(); ++i) n += result->GetTestPartResult(i).failed();
  return n;
}

class CorpusTest : public testing::MigrationFixture {
 protected:
  static void SetUpTestSuite() {
    MigrationFixture::SetUpTestSuite();
    // Every seed copies a fresh database: more sync workers, quicker
    // worker restarts. Speed only; the checks do not depend on it.
    SqlClient target(servers().target.Dsn());
    target.Exec("ALTER SYSTEM SET max_sync_workers_per_subscription = 4");
    target.Exec("ALTER SYSTEM SET wal_retrieve_retry_interval = '200ms'");
    target.Exec("SELECT pg_reload_conf()");
  }

  SeedEnv Env() {
    SqlClient source(servers().source.Dsn()), target(servers().target.Dsn());
    SeedEnv env;
    env.servers = &servers();
    const char* cli = std::getenv("PGPARITY_CORPUS_CLI");
    env.cli = cli != nullptr && *cli != '\0' ? cli : PGPARITY_CLI;
    env.work_dir = CORPUS_WORK_DIR;
    env.collations = CommonCollations(source, target);
    env.widen = EnvInt("PGPARITY_CORPUS_WIDEN", 1) != 0;
    env.convert = EnvInt("PGPARITY_CORPUS_CONVERT", 1) != 0;
    env.size.phase_one = EnvInt("PGPARITY_CORPUS_OPS", env.size.phase_one);
    return env;
  }
};

TEST_F(CorpusTest, SeedsAgreeWithTheOracle) {
  SeedPlan plan = PlanFromEnvironment();
  const SeedEnv env = Env();
  std::cout << "corpus: " << plan.Describe() << "; pgparity " << env.cli << "; collations";
  for (const auto& c : env.collations) std::cout << " " << c;
  std::cout << std::endl;
  const auto start = std::chrono::steady_clock::now();
  std::vector<uint64_t> failed;
  int runs = 0;
  auto run = [&](uint64_t seed) {
    SCOPED_TRACE("corpus seed " + std::to_string(seed) + "; replay: " + ReplayCommand(seed));
    const int before = FailedParts();
    std::filesystem::path dir;
    try {
      SeedRun r(env, seed);
      dir = r.dir();
      r.Run();
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
    ++runs;
    if (FailedParts() > before) {
      failed.push_back(seed);
      std::cout << "corpus seed " << seed << " FAILED; replay: " << ReplayCommand(seed)
                << "; recorded in " << RecordFailingSeed(seed) << "; reports and logs in " << dir
                << std::endl;
    } else if (!dir.empty()) {
      std::filesystem::remove_all(dir);
    }
  };
  for (uint64_t seed : plan.seeds) run(seed);
  while (plan.soak && std::chrono::steady_clock::now() - start < *plan.soak) run(plan.next++);
  std::string list;
  for (uint64_t s : failed) list += " " + std::to_string(s);
  std::cout << "corpus: " << runs << " seeds in "
            << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                start)
                   .count()
            << " s, " << failed.size() << " failed" << (list.empty() ? "" : ":" + list)
            << std::endl;
}

}  // namespace
}  // namespace pgparity::corpus
