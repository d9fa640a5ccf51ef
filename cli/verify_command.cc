// pgparity verify --source DSN --target DSN [--publication P]
//                 [--subscription S] [--report FILE] [--timeout SECS]
#include <boost/program_options.hpp>
#include <iostream>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/applier/verify.h"
#include "source_options.h"

namespace po = boost::program_options;

namespace pgparity::cli {

int RunVerify(const std::vector<std::string>& args) {
  po::options_description opts("pgparity verify --source DSN --target DSN [options]");
  opts.add_options()("help,h", "this help")(
      "source", po::value<std::string>(),
      "libpq connection string or URI of the source (PostgreSQL 14 publisher) (required)")(
      "target", po::value<std::string>(),
      "libpq connection string or URI of the target (PostgreSQL 16 subscriber) (required)")(
      "publication", po::value<std::string>()->default_value("my_publication"),
      "the publication the subscription replicates")(
      "subscription", po::value<std::string>(),
      "the subscription on the target (default: the one subscribing to the publication)")(
      "report", po::value<std::string>(), "write the JSON report to FILE (replaced atomically)")(
      "timeout", po::value<int>()->default_value(300),
      "seconds to wait for the target to catch up (after the bootstrap scan)")(
      "parallel", po::value<int>()->default_value(2), "sessions per side scanning tables")(
      "max-rows", po::value<int>()->default_value(100), "divergent rows listed per table");
  po::variables_map vm;
  if (auto done = ParseCommandLine("verify", args, opts, nullptr, vm)) return *done;
  for (const char* required : {"source", "target"}) {
    if (!vm.count(required)) {
      return Fail("verify",
                  std::string("--") + required + " is required — e.g. --" + required +
                      " 'host=... dbname=...'",
                  kExitUsage);
    }
  }
  applier::VerifyOptions options;
  options.source_dsn = vm["source"].as<std::string>();
  options.target_dsn = vm["target"].as<std::string>();
  options.publication = vm["publication"].as<std::string>();
  if (vm.count("subscription")) options.subscription = vm["subscription"].as<std::string>();
  if (options.publication.empty() || (options.subscription && options.subscription->empty())) {
    return Fail("verify", "--publication and --subscription need a name", kExitUsage);
  }
  const int timeout = vm["timeout"].as<int>();
  const int parallel = vm["parallel"].as<int>();
  const int max_rows = vm["max-rows"].as<int>();
  if (timeout <= 0) return Fail("verify", "--timeout must be a positive number of seconds", kExitUsage);
  if (parallel < 1 || parallel > 64) return Fail("verify", "--parallel must be 1 to 64", kExitUsage);
  if (max_rows < 0) return Fail("verify", "--max-rows must be 0 or more", kExitUsage);
  options.timeout = std::chrono::seconds(timeout);
  options.parallel = static_cast<size_t>(parallel);
  options.max_listed_rows = static_cast<size_t>(max_rows);

  auto report = applier::RunVerify(options);
  if (!report.ok()) {
    return Fail("verify", std::string(report.status().message()), ExitCodeFor(report.status()));
  }
  if (vm.count("report")) {
    Status s = applier::WriteFileAtomically(vm["report"].as<std::string>(),
                                            applier::RenderReportJson(*report) + "\n");
    if (!s.ok()) return Fail("verify", std::string(s.message()), kExitData);
  }
  applier::RenderReportText(*report, std::cout);
  std::cout.flush();
  switch (report->status) {
    case applier::ReportStatus::kConsistent:
      return kExitOk;
    case applier::ReportStatus::kDivergent:
      return kExitDivergent;
    case applier::ReportStatus::kIncomplete:
      break;
  }
  return kExitTimeout;
}

}  // namespace pgparity::cli
