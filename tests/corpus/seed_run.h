// One seed of the corpus, end to end, on a fresh database pair of the
// suite's PostgreSQL 14 source and 16 target: schema, initial rows,
// publication and subscription; `pgparity audit` started; the workload;
// the oracle (no difference) against `pgparity verify` and the audit's
// report; divergences injected on the target and a second workload; the
// oracle's differences against verify's and audit's reports; cleanup (no
// slot, subscription or database left). Failures are gtest failures
// (EXPECT-style: one seed reports everything it finds).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "corpus/audit_run.h"
#include "corpus/oracle.h"
#include "corpus/rng.h"
#include "corpus/schema.h"
#include "corpus/session.h"
#include "corpus/workload.h"
#include "support/migration_env.h"

namespace pgparity::corpus {

struct CorpusSize {
  int seed_rows = 200;     // rows per table before the subscription
  int phase_one = 6000;    // operations before the injection
  int phase_two = 200;     // operations after it (never on injected rows)
  int streamed_one = 3;    // streamed transactions in phase one (workload.h, on top)
  int streamed_two = 1;    // ... in phase two
  int audit_interval = 2;  // seconds between the audit's full checks
};

// How verify and audit check, by seed (SeedRun::ChooseVariant): what a
// seed's verdicts must come through unchanged.
struct CheckVariant {
  int jobs = 2;          // --jobs of both; verify cuts tables of 50+ rows into key ranges
  bool spill = false;    // --memory-limit 1MiB: the biggest tables' rows go to the row store
  bool rolling = false;  // audit --scan-rate (the rolling check) instead of --interval
  static constexpr int kScanRate = 5000;  // rows/s, with --scan-window 1
  std::string Describe() const;
};

struct SeedEnv {
  testing::MigrationServers* servers = nullptr;
  std::string cli;                      // the pgparity binary
  std::filesystem::path work_dir;       // reports, logs, DDL of each seed
  std::vector<std::string> collations;  // deterministic, on both servers
  bool widen = true;
  bool convert = true;  // converted target types (SchemaOptions::convert)
  CorpusSize size;
};

class SeedRun {
 public:
  SeedRun(const SeedEnv& env, uint64_t seed);
  ~SeedRun();
  SeedRun(const SeedRun&) = delete;
  SeedRun& operator=(const SeedRun&) = delete;

  void Run();
  const std::filesystem::path& dir() const { return dir_; }

 private:
  struct Verdict {
    int code = -1;
    std::string output;
    nlohmann::json report;
  };

  std::string Dsn(const testing::PgServer& server) const;
  void Setup();
  void CreateDatabases(Rng& pick);
  void StartAudit();
  bool CheckConsistent();
  void InjectAndContinue();
  void AddColumnUnderAudit();
  void WidenOnTargetUnderAudit();
  void CheckDivergent();
  // `also`: what a report must show besides agreeing with the oracle.
  void CheckAudit(const OracleResult& oracle, int phase, std::chrono::seconds bound,
                  const std::string& when,
                  const std::function<bool(const nlohmann::json&)>& also = nullptr);
  Verdict Verify(const std::string& name);
  void CheckVerify(const Verdict& v, const OracleResult& oracle, int code, const std::string& when);
  void WaitCaughtUp();
  void CheckStreamed();
  void CrashAudit();
  void KillAudit(const std::string& when);
  void ChooseVariant(Rng& pick);
  // The options of CheckVariant for verify or audit.
  std::vector<std::string> VariantArgs(bool audit) const;
  // What the variant asked for happened: tables spilled, were cut into
  // ranges, the rolling check reported; `what` names the report.
  void CheckVariantUsed(const nlohmann::json& report, bool audit, const std::string& what);
  void Cleanup();
  void Note(const std::string& line);

  const SeedEnv& env_;
  uint64_t seed_;
  Rng rng_;
  std::string db_, subscription_, slot_;
  std::string source_timezone_;  // the source's default TimeZone, found by the test itself
  std::filesystem::path dir_;
  Schema schema_;
  std::unique_ptr<Session> source_, target_;
  std::unique_ptr<Session> other_;      // the workload's second source session
  std::string subscription_streaming_;  // on, parallel or off
  CheckVariant variant_;
  bool schema_changed_ = false;     // AddColumnUnderAudit added the column
  bool widened_on_target_ = false;  // WidenOnTargetUnderAudit widened it
  std::unique_ptr<Workload> workload_;
  std::unique_ptr<AuditRun> audit_;
  size_t audit_log_checked_ = 0;  // bytes of the audit's log already checked
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

inline constexpr const char* kPublication = "corpus_pub";

}  // namespace pgparity::corpus
