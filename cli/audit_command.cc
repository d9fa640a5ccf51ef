// pgparity audit --source DSN --target DSN --state-dir DIR [--publication P]
//                [--slot S] [--subscription S] [--report FILE]
//                [--interval SECS | --scan-rate ROWS_PER_S [--scan-window SECS]]
//                [--until-lsn LSN] [--on-schema-change restart|stop]
#include <boost/program_options.hpp>
#include <iostream>
#include <stop_token>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/applier/audit/audit.h"
#include "scan_progress_bar.h"
#include "source_options.h"
#include "stop_signals.h"

namespace po = boost::program_options;

namespace pgparity::cli {

namespace {

// --scan-rate (and --scan-window): the rolling check instead of the full
// checks of --interval, so not both.
Status ReadScanRate(const po::variables_map& vm, applier::AuditOptions& options) {
  if (!vm.count("scan-rate")) return Status::OK();
  if (!vm["interval"].defaulted()) {
    return Status::InvalidArgument(
        "--scan-rate and --interval exclude each other: --interval runs a full check every "
        "SECS, --scan-rate a rolling one; pass one of them");
  }
  const int64_t rate = vm["scan-rate"].as<int64_t>();
  const int window = vm["scan-window"].as<int>();
  if (rate <= 0 || window <= 0) {
    return Status::InvalidArgument(
        "--scan-rate (rows per second) and --scan-window (seconds) must be positive");
  }
  options.scan_rate = static_cast<double>(rate);
  options.scan_window = std::chrono::seconds(window);
  return Status::OK();
}

// --on-schema-change: start over (the default) or stop.
Status ReadOnSchemaChange(const po::variables_map& vm, applier::AuditOptions& options) {
  const std::string& v = vm["on-schema-change"].as<std::string>();
  if (v == "restart") {
    options.on_schema_change = applier::OnSchemaChange::kRestart;
  } else if (v == "stop") {
    options.on_schema_change = applier::OnSchemaChange::kStop;
  } else {
    return Status::InvalidArgument("--on-schema-change is restart or stop, not '" + v + "'");
  }
  return Status::OK();
}

}  // namespace

int RunAudit(const std::vector<std::string>& args) {
  po::options_description opts(
      "pgparity audit --source DSN --target DSN --state-dir DIR [options]");
  opts.add_options()("help,h", "this help");
  AddCheckOptions(opts);
  opts.add_options()("state-dir", po::value<std::string>(),
                     "directory for the shadow state's checkpoint and the report (required)")(
      "slot", po::value<std::string>()->default_value("pgparity_audit"),
      "pgparity's own replication slot on the source (created on the first run)")(
      "report", po::value<std::string>(),
      "JSON report, replaced atomically after each full check (default DIR/report.json)")(
      "interval", po::value<int>()->default_value(30), "seconds between full checks")(
      "scan-rate", po::value<int64_t>(),
      "instead of full checks, walk the tables range by range reading at most ROWS_PER_S rows "
      "per second from the target (the rolling check; not with --interval)")(
      "scan-window", po::value<int>()->default_value(10),
      "with --scan-rate: a key range holds about ROWS_PER_S x this many seconds of rows")(
      "checkpoint-interval", po::value<int>()->default_value(10),
      "seconds between checkpoints of the shadow state")(
      "until-lsn", po::value<std::string>(),
      "stop once every commit up to this LSN (X/X) is applied and its changed rows compared on "
      "the target")(
      "on-schema-change", po::value<std::string>()->default_value("restart"),
      "when a published table's columns or types change (ALTER TABLE) or a table joins the "
      "publication: restart (drop the slot and the state, bootstrap again) or stop (exit 2)");
  po::variables_map vm;
  if (auto done = ParseCommandLine("audit", args, opts, nullptr, vm)) return *done;
  if (!vm.count("state-dir") || vm["state-dir"].as<std::string>().empty()) {
    return Fail("audit", "--state-dir is required — a directory for pgparity's checkpoint",
                kExitUsage);
  }
  CheckOptionValues common;
  if (Status s = ReadCheckOptions(vm, "audit", common); !s.ok()) {
    return Fail("audit", std::string(s.message()), kExitUsage);
  }
  InstallScanDisplay(common.quiet);
  applier::AuditOptions options;
  ApplyCheckOptions(common, options);
  options.state_dir = vm["state-dir"].as<std::string>();
  options.slot = vm["slot"].as<std::string>();
  if (vm.count("report")) options.report_path = vm["report"].as<std::string>();
  if (options.slot.empty()) return Fail("audit", "--slot needs a name", kExitUsage);
  if (Status s = ReadUntilLsn(vm, options.until_lsn); !s.ok()) {
    return Fail("audit", std::string(s.message()), kExitUsage);
  }
  const int interval = vm["interval"].as<int>();
  const int ckpt = vm["checkpoint-interval"].as<int>();
  if (interval <= 0 || ckpt <= 0) {
    return Fail("audit", "--interval and --checkpoint-interval must be positive seconds",
                kExitUsage);
  }
  options.check_interval = std::chrono::seconds(interval);
  if (Status rate = ReadScanRate(vm, options); !rate.ok()) {
    return Fail("audit", std::string(rate.message()), kExitUsage);
  }
  options.checkpoint_interval = std::chrono::seconds(ckpt);
  if (Status on = ReadOnSchemaChange(vm, options); !on.ok()) {
    return Fail("audit", std::string(on.message()), kExitUsage);
  }

  std::stop_source stop;
  Status s;
  {
    StopSignals signals([&] { stop.request_stop(); });
    s = applier::RunAudit(options, stop.get_token());
  }
  if (!s.ok()) return Fail("audit", std::string(s.message()), ExitCodeFor(s));
  return kExitOk;
}

}  // namespace pgparity::cli
