// pgparity repair --source DSN --target DSN --report REPORT.json
//                 [--out FILE] [--apply]
//
// The SQL that makes the target equal to the source for the rows a verify
// report lists (docs/cli.md): printed (or written to --out) by default,
// run in one target transaction and re-checked with --apply.
#include <boost/program_options.hpp>
#include <iostream>
#include <sstream>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/applier/repair/repair.h"
#include "pgparity/conn/connect.h"
#include "pgparity/file_util.h"
#include "source_options.h"

namespace po = boost::program_options;

namespace pgparity::cli {

namespace {

Status ReadRepairOptions(const po::variables_map& vm, applier::RepairOptions& out) {
  for (const char* required : {"source", "target", "report"}) {
    if (!vm.count(required)) {
      return Status::InvalidArgument(std::string("--") + required + " is required");
    }
  }
  PGPARITY_ASSIGN_OR_RETURN(
      out.source, conn::ParseServerDsn(vm["source"].as<std::string>(), "source", "repair"));
  PGPARITY_ASSIGN_OR_RETURN(
      out.target, conn::ParseServerDsn(vm["target"].as<std::string>(), "target", "repair"));
  out.report_path = vm["report"].as<std::string>();
  out.apply = vm.count("apply") > 0;
  if (out.apply && vm.count("out")) {
    return Status::InvalidArgument("--out is for a dry run; --apply runs the SQL itself");
  }
  return Status::OK();
}

// A dry run: the script on stdout (what happens to each row as comments in
// it), or in --out with the summary on stdout.
int PrintScript(const applier::RepairOutcome& outcome, const po::variables_map& vm) {
  std::ostringstream summary;
  applier::RenderRepairSummary(outcome, !vm.count("out"), summary);
  if (vm.count("out")) {
    Status s = WriteFileAtomically(vm["out"].as<std::string>(), outcome.script);
    if (!s.ok()) return Fail("repair", std::string(s.message()), kExitData);
    std::cout << summary.str();
  } else {
    std::cout << summary.str() << outcome.script;
  }
  std::cout.flush();
  return kExitOk;
}

}  // namespace

int RunRepair(const std::vector<std::string>& args) {
  po::options_description opts(
      "pgparity repair --source DSN --target DSN --report REPORT.json [options]");
  opts.add_options()("help,h", "this help")("source", po::value<std::string>(),
                                            "the source (publisher) connection string")(
      "target", po::value<std::string>(), "the target (PostgreSQL 16) connection string")(
      "report", po::value<std::string>(), "the JSON report of pgparity verify (or audit)")(
      "out", po::value<std::string>(), "write the SQL to FILE (replaced atomically)")(
      "apply", "run the SQL in one target transaction and re-check the rows");
  po::variables_map vm;
  if (auto done = ParseCommandLine("repair", args, opts, nullptr, vm)) return *done;
  applier::RepairOptions options;
  if (Status s = ReadRepairOptions(vm, options); !s.ok()) {
    return Fail("repair", std::string(s.message()), kExitUsage);
  }
  auto outcome = applier::RunRepair(options);
  if (!outcome.ok()) {
    return Fail("repair", std::string(outcome.status().message()), ExitCodeFor(outcome.status()));
  }
  if (!options.apply) return PrintScript(*outcome, vm);
  applier::RenderRepairSummary(*outcome, false, std::cout);
  std::cout.flush();
  return outcome->still_differ.empty() ? kExitOk : kExitDivergent;
}

}  // namespace pgparity::cli
