// pgparity audit --source DSN --target DSN --state-dir DIR [--publication P]
//                [--slot S] [--subscription S] [--report FILE] [--interval SECS]
#include <boost/program_options.hpp>
#include <atomic>
#include <iostream>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/applier/audit.h"
#include "source_options.h"
#include "stop_signals.h"

namespace po = boost::program_options;

namespace pgparity::cli {

int RunAudit(const std::vector<std::string>& args) {
  po::options_description opts("pgparity audit --source DSN --target DSN --state-dir DIR [options]");
  opts.add_options()("help,h", "this help")(
      "source", po::value<std::string>(),
      "libpq connection string or URI of the source (PostgreSQL 14 publisher) (required)")(
      "target", po::value<std::string>(),
      "libpq connection string or URI of the target (PostgreSQL 16 subscriber) (required)")(
      "state-dir", po::value<std::string>(),
      "directory for the shadow state's checkpoint and the report (required)")(
      "publication", po::value<std::string>()->default_value("my_publication"),
      "the publication the subscription replicates")(
      "slot", po::value<std::string>()->default_value("pgparity_audit"),
      "pgparity's own replication slot on the source (created on the first run)")(
      "subscription", po::value<std::string>(),
      "the subscription on the target (default: the one subscribing to the publication)")(
      "report", po::value<std::string>(),
      "JSON report, replaced atomically after each full check (default DIR/report.json)")(
      "interval", po::value<int>()->default_value(30), "seconds between full checks")(
      "checkpoint-interval", po::value<int>()->default_value(10),
      "seconds between checkpoints of the shadow state")(
      "parallel", po::value<int>()->default_value(2), "sessions per side scanning tables")(
      "max-rows", po::value<int>()->default_value(100), "divergent rows listed per table");
  po::variables_map vm;
  if (auto done = ParseCommandLine("audit", args, opts, nullptr, vm)) return *done;
  for (const char* required : {"source", "target", "state-dir"}) {
    if (!vm.count(required)) {
      return Fail("audit",
                  std::string("--") + required + " is required — see pgparity audit --help",
                  kExitUsage);
    }
  }
  applier::AuditOptions options;
  options.source_dsn = vm["source"].as<std::string>();
  options.target_dsn = vm["target"].as<std::string>();
  options.state_dir = vm["state-dir"].as<std::string>();
  options.publication = vm["publication"].as<std::string>();
  options.slot = vm["slot"].as<std::string>();
  if (vm.count("subscription")) options.subscription = vm["subscription"].as<std::string>();
  if (vm.count("report")) options.report_path = vm["report"].as<std::string>();
  if (options.publication.empty() || options.slot.empty() || options.state_dir.empty() ||
      (options.subscription && options.subscription->empty())) {
    return Fail("audit", "--publication, --slot, --subscription and --state-dir need a value",
                kExitUsage);
  }
  const int interval = vm["interval"].as<int>();
  const int ckpt = vm["checkpoint-interval"].as<int>();
  const int parallel = vm["parallel"].as<int>();
  const int max_rows = vm["max-rows"].as<int>();
  if (interval <= 0 || ckpt <= 0) {
    return Fail("audit", "--interval and --checkpoint-interval must be positive seconds",
                kExitUsage);
  }
  if (parallel < 1 || parallel > 64) return Fail("audit", "--parallel must be 1 to 64", kExitUsage);
  if (max_rows < 0) return Fail("audit", "--max-rows must be 0 or more", kExitUsage);
  options.check_interval = std::chrono::seconds(interval);
  options.checkpoint_interval = std::chrono::seconds(ckpt);
  options.parallel = static_cast<size_t>(parallel);
  options.max_listed_rows = static_cast<size_t>(max_rows);

  std::atomic<bool> stop{false};
  Status s;
  {
    StopSignals signals([&] { stop = true; });
    s = applier::RunAudit(options, stop);
  }
  if (!s.ok()) return Fail("audit", std::string(s.message()), ExitCodeFor(s));
  return kExitOk;
}

}  // namespace pgparity::cli
