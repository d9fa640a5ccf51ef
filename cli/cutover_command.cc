// pgparity cutover --source DSN --target DSN --pgbouncer DSN
//                  --pgbouncer-config FILE [options]   (docs/cli.md, "cutover")
#include <boost/program_options.hpp>
#include <iostream>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/applier/cutover/cutover.h"
#include "pgparity/applier/metrics/status_page.h"
#include "pgparity/conn/connect.h"
#include "pgparity/file_util.h"
#include "source_options.h"

namespace po = boost::program_options;

namespace pgparity::cli {

namespace {

po::options_description CutoverOptionsDescription() {
  po::options_description opts(
      "pgparity cutover --source DSN --target DSN --pgbouncer DSN "
      "--pgbouncer-config FILE [options]");
  opts.add_options()("help,h", "this help")(
      "source", po::value<std::string>(), "the source (publisher) DSN; the fence needs its owner")(
      "target", po::value<std::string>(), "the target (subscriber) DSN")(
      "pgbouncer", po::value<std::string>(), "PgBouncer's admin console DSN (dbname=pgbouncer)")(
      "pgbouncer-config", po::value<std::string>(),
      "the file holding PgBouncer's [databases] entry, rewritten at the switch")(
      "pgbouncer-database", po::value<std::string>()->default_value("appdb"),
      "the database of PgBouncer the application uses")(
      "pgbouncer-target-host", po::value<std::string>(),
      "the target's host as PgBouncer reaches it (default: the --target DSN's)")(
      "pgbouncer-target-port", po::value<int>(), "the target's port as PgBouncer reaches it")(
      "publication", po::value<std::string>()->default_value("my_publication"), "publication")(
      "subscription", po::value<std::string>(),
      "subscription (default: the one of the publication)")(
      "max-lag", po::value<int64_t>()->default_value(1 << 20), "bytes the catch-up waits under")(
      "timeout", po::value<int>()->default_value(60), "seconds each phase may take")(
      "pause-timeout", po::value<int>()->default_value(10),
      "seconds PAUSE may wait for transactions in flight")(
      "sequence-margin", po::value<int64_t>()->default_value(0),
      "added to each source sequence's last_value on the target")(
      "full-final-check", "the final check scans every table (inside the window)")(
      "canary", po::value<std::string>(),
      "measure the stall: write through this DSN (PgBouncer's database) during the cutover")(
      "reverse", "start replication back from the target to the source before the switch")(
      "reverse-conninfo", po::value<std::string>(),
      "how the source server reaches the target (default: the --target DSN)")(
      "dry-run", "gates, catch-up and pre-check only, then the plan; nothing is changed")(
      "report", po::value<std::string>(), "write the JSON report to FILE")(
      "metrics-listen", po::value<std::string>(),
      "HOST:PORT to serve the live page (/) and /status (the report so far, JSON) on while the "
      "cutover runs");
  return opts;
}

Result<conn::ConnParams> Dsn(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) {
    return Status::InvalidArgument(std::string("--") + name +
                                   " is required (docs/cli.md, cutover)");
  }
  return conn::ParseServerDsn(vm[name].as<std::string>(), name, "cutover");
}

Result<applier::CutoverOptions> ReadOptions(const po::variables_map& vm) {
  applier::CutoverOptions o;
  PGPARITY_ASSIGN_OR_RETURN(o.source, Dsn(vm, "source"));
  PGPARITY_ASSIGN_OR_RETURN(o.target, Dsn(vm, "target"));
  PGPARITY_ASSIGN_OR_RETURN(o.pgbouncer, Dsn(vm, "pgbouncer"));
  if (vm.count("canary")) {
    PGPARITY_ASSIGN_OR_RETURN(conn::ConnParams canary, Dsn(vm, "canary"));
    o.canary = std::move(canary);
  }
  if (vm.count("pgbouncer-config")) o.pgbouncer_config = vm["pgbouncer-config"].as<std::string>();
  if (!vm.count("dry-run") && o.pgbouncer_config.empty()) {
    return Status::InvalidArgument(
        "--pgbouncer-config is required: the file with PgBouncer's [databases] entry");
  }
  o.pgbouncer_database = vm["pgbouncer-database"].as<std::string>();
  if (vm.count("pgbouncer-target-host"))
    o.pgbouncer_target_host = vm["pgbouncer-target-host"].as<std::string>();
  if (vm.count("pgbouncer-target-port"))
    o.pgbouncer_target_port = vm["pgbouncer-target-port"].as<int>();
  o.publication = vm["publication"].as<std::string>();
  if (vm.count("subscription")) o.subscription = vm["subscription"].as<std::string>();
  o.max_lag = vm["max-lag"].as<int64_t>();
  o.timeout = std::chrono::seconds(vm["timeout"].as<int>());
  o.pause_timeout = std::chrono::seconds(vm["pause-timeout"].as<int>());
  o.sequence_margin = vm["sequence-margin"].as<int64_t>();
  o.full_final_check = vm.count("full-final-check") > 0;
  o.dry_run = vm.count("dry-run") > 0;
  o.reverse = vm.count("reverse") > 0;
  if (vm.count("reverse-conninfo")) {
    PGPARITY_ASSIGN_OR_RETURN(conn::ConnParams reverse,
                              conn::ConnParams::Parse(vm["reverse-conninfo"].as<std::string>()));
    o.reverse_conninfo = std::move(reverse);
  }
  if (o.timeout.count() <= 0 || o.pause_timeout.count() <= 0) {
    return Status::InvalidArgument("--timeout and --pause-timeout must be positive seconds");
  }
  o.progress = [](const std::string& line) { std::cerr << line << std::endl; };
  return o;
}

void PrintSummary(const applier::CutoverReport& r, std::ostream& out) {
  out << "cutover: " << r.status;
  if (r.status == "aborted") out << " in " << r.failed_phase << ": " << r.reason;
  out << "\n";
  if (!r.fence_lsn.empty()) {
    out << "  fence " << r.fence_lsn << ", " << r.terminated_sessions
        << " sessions terminated, window (PAUSE to RESUME) " << r.window_seconds << " s\n";
  }
  if (r.status == "switched") {
    out << "  final check: " << r.final_check_rows << " changed rows compared at the fence; "
        << r.sequences.size() << " sequences copied\n";
  }
  for (const auto& line : r.plan) out << "  plan: " << line << "\n";
  for (const auto& line : r.notes) out << "  " << line << "\n";
  for (const auto& line : r.restored) out << "  restored: " << line << "\n";
  if (r.canary) {
    out << "  canary: " << r.canary->acknowledged << " acknowledged, " << r.canary->failed
        << " failed, " << r.canary->in_doubt << " in doubt, longest write stall "
        << r.canary->longest_stall.count() / 1000.0 << " ms";
    if (r.canary_check) {
      out << "; " << r.canary_check->missing << " of " << r.canary_check->checked
          << " acknowledged writes missing on " << r.canary_check->server;
    }
    out << "\n";
  }
}

// /status of --metrics-listen: the report so far under "cutover", which
// tells the page it shows a cutover, not a check.
std::string StatusJson(const applier::CutoverReport& r) {
  return "{\"cutover\": " + applier::CutoverReportJson(r) + "}\n";
}

// The live page while the cutover runs (docs/cli.md, "cutover"): started
// before any change, so that a port in use stops nothing half done.
struct LivePage {
  std::unique_ptr<applier::StatusPage> page;
  std::unique_ptr<applier::MetricsServer> server;
};

Result<LivePage> StartLivePage(const std::string& listen, applier::CutoverOptions& o) {
  LivePage live;
  live.page = std::make_unique<applier::StatusPage>(StatusJson(applier::CutoverReport{}));
  applier::StatusPage* page = live.page.get();
  PGPARITY_ASSIGN_OR_RETURN(
      live.server, applier::MetricsServer::Start(
                       listen, [page](std::string_view path) { return page->Handle(path); },
                       "/status, /healthz"));
  o.on_update = [page](const applier::CutoverReport& r) { page->Publish(StatusJson(r)); };
  return live;
}

}  // namespace

int RunCutover(const std::vector<std::string>& args) {
  const po::options_description opts = CutoverOptionsDescription();
  po::variables_map vm;
  if (auto done = ParseCommandLine("cutover", args, opts, nullptr, vm)) return *done;
  auto options = ReadOptions(vm);
  if (!options.ok()) return Fail("cutover", std::string(options.status().message()), kExitUsage);
  LivePage live;
  if (vm.count("metrics-listen")) {
    auto started = StartLivePage(vm["metrics-listen"].as<std::string>(), *options);
    if (!started.ok()) {
      return Fail("cutover", std::string(started.status().message()), kExitUsage);
    }
    live = std::move(*started);
  }
  auto report = applier::RunCutover(*options);
  if (report.ok() && live.page) live.page->Publish(StatusJson(*report));
  if (!report.ok()) {
    return Fail("cutover", std::string(report.status().message()), ExitCodeFor(report.status()));
  }
  if (vm.count("report")) {
    Status s =
        WriteFileAtomically(vm["report"].as<std::string>(), applier::CutoverReportJson(*report));
    if (!s.ok()) return Fail("cutover", std::string(s.message()), kExitData);
  }
  PrintSummary(*report, std::cout);
  std::cout.flush();
  if (report->status == "aborted") {
    const Status why = applier::CutoverStatus(*report);
    Fail("cutover", std::string(why.message()) + " — nothing was switched", kExitOk);
    return report->divergent ? kExitDivergent : ExitCodeFor(why);
  }
  const bool canary_clean =
      !report->canary || (report->canary->failed == 0 && report->canary->in_doubt == 0 &&
                          (!report->canary_check || report->canary_check->missing == 0));
  return canary_clean ? kExitOk : kExitDivergent;
}

}  // namespace pgparity::cli
