// One `pgparity audit` process of a seed: started with its own slot and
// state directory, its report.json polled with a bound, its log read,
// stopped with SIGTERM (docs/cli.md "pgparity audit").
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/subprocess.h"

namespace pgparity::corpus {

struct AuditOptions {
  std::string cli;  // the pgparity binary
  std::string source_dsn, target_dsn;
  std::string publication, subscription, slot;
  std::filesystem::path state_dir;
  // How it checks: {"--interval", "2"}, or the rolling check's options;
  // then --jobs, --memory-limit (SeedRun's CheckVariant).
  std::vector<std::string> check_args;
};

class AuditRun {
 public:
  explicit AuditRun(AuditOptions options);
  ~AuditRun();

  bool Running();
  std::string Log() const;
  nlohmann::json Report() const;
  // Polls report.json every 100 ms until `ok` holds for it, the process
  // ended, or `timeout`; returns the last report read and sets *met.
  nlohmann::json WaitFor(const std::function<bool(const nlohmann::json&)>& ok,
                         std::chrono::seconds timeout, bool* met);
  // SIGTERM, then at most 30 s; the exit code, -1 when it had to be killed.
  int Stop();
  // kill -9, as a crash would (the log says so).
  void Kill();
  // The same command again, its state directory kept (after Kill); the
  // log goes on in the same file.
  void Restart();
  const AuditOptions& options() const { return options_; }

 private:
  AuditOptions options_;
  std::vector<std::string> args_;
  std::filesystem::path log_;
  std::unique_ptr<testing::Subprocess> process_;
};

}  // namespace pgparity::corpus
