// pgparity verify --source DSN --target DSN [--publication P]
//                 [--subscription S] [--report FILE] [--timeout SECS]
//                 [--jobs N] [--min-range-rows N]
#include <boost/program_options.hpp>
#include <iostream>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/applier/verify/verify.h"
#include "pgparity/file_util.h"
#include "scan_progress_bar.h"
#include "source_options.h"

namespace po = boost::program_options;

namespace pgparity::cli {

int RunVerify(const std::vector<std::string>& args) {
  po::options_description opts("pgparity verify --source DSN --target DSN [options]");
  opts.add_options()("help,h", "this help");
  AddCheckOptions(opts);
  opts.add_options()("report", po::value<std::string>(),
                     "write the JSON report to FILE (replaced atomically)")(
      "timeout", po::value<int>()->default_value(300),
      "seconds to wait for the target to catch up (after the bootstrap scan)")(
      "min-range-rows", po::value<double>()->default_value(applier::kMinRangeRows),
      "with --jobs > 1, a table is cut into key ranges of at least this many rows");
  po::variables_map vm;
  if (auto done = ParseCommandLine("verify", args, opts, nullptr, vm)) return *done;
  CheckOptionValues common;
  if (Status s = ReadCheckOptions(vm, "verify", common); !s.ok()) {
    return Fail("verify", std::string(s.message()), kExitUsage);
  }
  InstallScanDisplay(common.quiet);
  const int timeout = vm["timeout"].as<int>();
  if (timeout <= 0)
    return Fail("verify", "--timeout must be a positive number of seconds", kExitUsage);
  const double min_range_rows = vm["min-range-rows"].as<double>();
  if (!(min_range_rows >= 1))
    return Fail("verify", "--min-range-rows must be 1 or more", kExitUsage);
  applier::VerifyOptions options;
  ApplyCheckOptions(common, options);
  options.timeout = std::chrono::seconds(timeout);
  options.min_range_rows = min_range_rows;

  auto report = applier::RunVerify(options);
  if (!report.ok()) {
    const Status& s = report.status();
    // verify's state lives only as long as the run: a new one has the new
    // columns.
    const std::string fix = s.IsSchemaChanged() ? "; run verify again" : "";
    return Fail("verify", std::string(s.message()) + fix, ExitCodeFor(s));
  }
  if (vm.count("report")) {
    Status s = WriteFileAtomically(vm["report"].as<std::string>(),
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
