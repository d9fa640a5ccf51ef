// pgparity preflight --source DSN --target DSN [--publication P]
//                    [--subscription S] [--for COMMANDS] [--json]
#include <algorithm>
#include <boost/program_options.hpp>
#include <iostream>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/applier/preflight/preflight.h"
#include "pgparity/applier/preflight/render.h"
#include "pgparity/conn/connect.h"
#include "source_options.h"

namespace po = boost::program_options;

namespace pgparity::cli {

namespace {

// --for: "verify,audit" → {"verify", "audit"}; "none" → {}.
Result<std::vector<std::string>> ParseCommandList(std::string_view list) {
  std::vector<std::string> commands;
  if (list == "none") return commands;
  const auto known = applier::PrivilegeCommands();
  for (size_t start = 0; start <= list.size();) {
    const size_t end = std::min(list.find(',', start), list.size());
    const std::string_view name = list.substr(start, end - start);
    if (std::ranges::find(known, name) == known.end()) {
      std::string names;
      for (auto k : known) names += (names.empty() ? "" : ", ") + std::string(k);
      return Status::InvalidArgument("--for: unknown command '" + std::string(name) +
                                     "' — name some of " + names + ", or none");
    }
    commands.emplace_back(name);
    start = end + 1;
  }
  return commands;
}

// --publication, --subscription and --for.
Result<applier::PreflightOptions> ReadOptions(const po::variables_map& vm) {
  applier::PreflightOptions options;
  if (vm.count("publication")) options.publication = vm["publication"].as<std::string>();
  if (vm.count("subscription")) options.subscription = vm["subscription"].as<std::string>();
  if (options.publication.empty() || (options.subscription && options.subscription->empty())) {
    return Status::InvalidArgument("--publication and --subscription need a name");
  }
  if (vm.count("for")) {
    PGPARITY_ASSIGN_OR_RETURN(options.commands, ParseCommandList(vm["for"].as<std::string>()));
  }
  return options;
}

}  // namespace

int RunPreflight(const std::vector<std::string>& args) {
  po::options_description opts("pgparity preflight --source DSN --target DSN [options]");
  opts.add_options()("help,h", "this help")(
      "source", po::value<std::string>(),
      "libpq connection string or URI of the source (PostgreSQL 12 to 18 publisher) (required)")(
      "target", po::value<std::string>(),
      "libpq connection string or URI of the target (PostgreSQL 16 subscriber) (required)")(
      "publication", po::value<std::string>(),
      "publication on the source to check (default my_publication)")(
      "subscription", po::value<std::string>(),
      "subscription on the target to check (default my_subscription when it exists)")(
      "for", po::value<std::string>(),
      "check the roles' privileges for these commands, comma-separated: verify, audit, record, "
      "tail, digest, repair, repair-apply; 'none' for no check (default verify,audit)")(
      "json", "print the report as one JSON object instead of a table");
  po::variables_map vm;
  if (auto done = ParseCommandLine("preflight", args, opts, nullptr, vm)) return *done;
  if (!vm.count("source")) {
    return Fail("preflight", "--source is required — e.g. --source 'host=... dbname=sourcedb'",
                kExitUsage);
  }
  if (!vm.count("target")) {
    return Fail("preflight", "--target is required — e.g. --target 'host=... dbname=targetdb'",
                kExitUsage);
  }
  auto options = ReadOptions(vm);
  if (!options.ok()) return Fail("preflight", std::string(options.status().message()), kExitUsage);

  // Both DSNs are checked before either side is connected.
  auto source_params = conn::ParseServerDsn(vm["source"].as<std::string>(), "source", "preflight");
  if (!source_params.ok()) {
    return Fail("preflight", std::string(source_params.status().message()), kExitUsage);
  }
  auto target_params = conn::ParseServerDsn(vm["target"].as<std::string>(), "target", "preflight");
  if (!target_params.ok()) {
    return Fail("preflight", std::string(target_params.status().message()), kExitUsage);
  }
  auto source = conn::ConnectSession(*source_params, "source");
  if (!source.ok()) {
    return Fail("preflight", std::string(source.status().message()), ExitCodeFor(source.status()));
  }
  auto target = conn::ConnectSession(*target_params, "target");
  if (!target.ok()) {
    return Fail("preflight", std::string(target.status().message()), ExitCodeFor(target.status()));
  }
  applier::Preflight preflight(*source, *target, *options);
  auto report = preflight.Run();
  if (!report.ok()) {
    return Fail("preflight", std::string(report.status().message()), ExitCodeFor(report.status()));
  }
  if (vm.count("json")) {
    auto json = applier::RenderJson(*report);
    if (!json.ok()) return Fail("preflight", std::string(json.status().message()), kExitData);
    std::cout << *json << '\n';
  } else {
    applier::RenderText(*report, std::cout);
  }
  std::cout.flush();
  if (!std::cout) return Fail("preflight", "cannot write to stdout", kExitData);
  return report->ready() ? kExitOk : kExitDivergent;
}

}  // namespace pgparity::cli
