// pgparity canary --dsn DSN [--duration SECS] [--check DSN]
//                 [--check-timeout SECS] [--report FILE] [--progress SECS]
//
// Writes and reads through the application's path (normally PgBouncer)
// until --duration passes or SIGINT/SIGTERM, then prints what an
// application would have seen (docs/cli.md, "canary"): acknowledged writes,
// failed transactions, commits in doubt, the longest write stall; with
// --check, whether every acknowledged write is on that server.
#include <boost/program_options.hpp>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <stop_token>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/applier/cutover/canary.h"
#include "pgparity/conn/connect.h"
#include "pgparity/file_util.h"
#include "pgparity/utc_time.h"
#include "source_options.h"
#include "stop_signals.h"

namespace po = boost::program_options;

namespace pgparity::cli {

namespace {

using std::chrono::duration;
using std::chrono::microseconds;
using std::chrono::steady_clock;

struct CanaryCliOptions {
  applier::CanaryOptions canary;
  std::optional<conn::ConnParams> check;
  std::optional<double> duration_s;
  double check_timeout_s = 0;
  double progress_s = 5;
  std::optional<std::string> report;
};

Status ReadCanaryOptions(const po::variables_map& vm, CanaryCliOptions& out) {
  if (!vm.count("dsn")) {
    return Status::InvalidArgument(
        "--dsn is required — the application's path, e.g. PgBouncer's "
        "'host=127.0.0.1 port=6432 dbname=appdb user=...'");
  }
  PGPARITY_ASSIGN_OR_RETURN(out.canary.dsn,
                            conn::ParseServerDsn(vm["dsn"].as<std::string>(), "dsn", "canary"));
  if (vm.count("check")) {
    PGPARITY_ASSIGN_OR_RETURN(
        out.check, conn::ParseServerDsn(vm["check"].as<std::string>(), "check", "canary"));
  }
  if (vm.count("duration")) {
    out.duration_s = vm["duration"].as<double>();
    if (!(*out.duration_s > 0)) return Status::InvalidArgument("--duration must be positive");
  }
  out.check_timeout_s = vm["check-timeout"].as<double>();
  out.progress_s = vm["progress"].as<double>();
  if (!(out.check_timeout_s >= 0) || !(out.progress_s > 0)) {
    return Status::InvalidArgument("--check-timeout must be >= 0 and --progress > 0 seconds");
  }
  if (vm.count("check-timeout") && !vm["check-timeout"].defaulted() && !out.check) {
    return Status::InvalidArgument("--check-timeout needs --check DSN");
  }
  if (vm.count("run-id")) out.canary.run_id = vm["run-id"].as<std::string>();
  if (vm.count("report")) out.report = vm["report"].as<std::string>();
  return Status::OK();
}

void PrintProgress(const applier::CanaryStats& s) {
  std::cerr << "pgparity canary: " << s.acknowledged << " acknowledged, " << s.failed << " failed, "
            << s.in_doubt << " in doubt; current stall " << applier::FormatMillis(s.current_stall)
            << ", longest " << applier::FormatMillis(s.longest_stall) << std::endl;
}

// Until --duration passes or a stop signal; progress every --progress.
void WaitForEnd(const CanaryCliOptions& o, applier::Canary& canary, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  const auto start = steady_clock::now();
  const auto every =
      std::chrono::duration_cast<steady_clock::duration>(duration<double>(o.progress_s));
  auto next_progress = start + every;
  std::unique_lock lock(mu);
  while (!stop.stop_requested()) {
    auto until = next_progress;
    if (o.duration_s) {
      const auto end = start + std::chrono::duration_cast<steady_clock::duration>(
                                   duration<double>(*o.duration_s));
      if (steady_clock::now() >= end) return;
      until = std::min(until, end);
    }
    cv.wait_until(lock, stop, until, [] { return false; });
    if (steady_clock::now() >= next_progress) {
      PrintProgress(canary.Snapshot());
      next_progress += every;
    }
  }
}

void PrintSummary(const applier::CanaryStats& s, const std::optional<applier::CanaryCheck>& c) {
  const double secs = duration<double>(s.stopped - s.started).count();
  std::cout << "canary run " << s.run_id << ": " << s.acknowledged << " acknowledged, " << s.failed
            << " failed, " << s.in_doubt << " in doubt (" << s.reconnects << " reconnects, "
            << s.connect_failures << " failed connects) in " << secs << " s\n";
  std::cout << "longest write stall: " << applier::FormatMillis(s.longest_stall) << ", began "
            << UtcMillis(s.longest_stall_began) << "\n";
  std::cout << "latency: p50 " << applier::FormatMillis(microseconds(s.latency.Quantile(0.5)))
            << ", p99 " << applier::FormatMillis(microseconds(s.latency.Quantile(0.99))) << ", max "
            << applier::FormatMillis(microseconds(s.latency.max())) << "\n";
  if (c) {
    std::cout << "check on " << c->server << ": " << c->checked << " acknowledged writes, "
              << c->missing << " missing";
    for (size_t i = 0; i < c->first_missing.size(); ++i) {
      std::cout << (i == 0 ? " (seq " : ", ") << c->first_missing[i];
    }
    if (!c->first_missing.empty()) std::cout << (c->missing > 10 ? ", ...)" : ")");
    std::cout << "; " << c->in_doubt_present << " of " << s.in_doubt
              << " in-doubt writes present; waited " << c->waited.count() << " ms\n";
  }
  for (const std::string& e : s.errors) std::cout << "  error: " << e << "\n";
  std::cout.flush();
}

}  // namespace

int RunCanary(const std::vector<std::string>& args) {
  po::options_description opts("pgparity canary --dsn DSN [options]");
  opts.add_options()("help,h", "this help")("dsn", po::value<std::string>(),
                                            "the application's path (normally PgBouncer)")(
      "duration", po::value<double>(), "seconds to run (default: until SIGINT/SIGTERM)")(
      "check", po::value<std::string>(), "afterwards, look for every acknowledged write here")(
      "check-timeout", po::value<double>()->default_value(0),
      "seconds to wait for them to arrive (replication lag)")(
      "report", po::value<std::string>(), "write the JSON report to FILE (replaced atomically)")(
      "progress", po::value<double>()->default_value(5), "seconds between progress lines")(
      "run-id", po::value<std::string>(), "the run's id (default: host-pid-time-random)");
  po::variables_map vm;
  if (auto done = ParseCommandLine("canary", args, opts, nullptr, vm)) return *done;
  CanaryCliOptions o;
  if (Status s = ReadCanaryOptions(vm, o); !s.ok()) {
    return Fail("canary", std::string(s.message()), kExitUsage);
  }
  std::stop_source stop;
  StopSignals signals([&] { stop.request_stop(); });
  applier::Canary canary(o.canary);
  if (Status s = canary.Start(); !s.ok()) {
    return Fail("canary", std::string(s.message()), ExitCodeFor(s));
  }
  std::cerr << "pgparity canary: run " << canary.run_id() << " writing through "
            << o.canary.dsn.Describe() << std::endl;
  WaitForEnd(o, canary, stop.get_token());
  const applier::CanaryStats stats = canary.Stop();
  std::optional<applier::CanaryCheck> check;
  Status check_status;
  if (o.check) {
    auto r = applier::Canary::Check(
        stats, *o.check,
        std::chrono::duration_cast<std::chrono::milliseconds>(duration<double>(o.check_timeout_s)));
    if (r.ok())
      check = std::move(r).value();
    else
      check_status = std::move(r).status();
  }
  if (o.report) {
    Status s = WriteFileAtomically(*o.report, applier::CanaryReportJson(stats, check));
    if (!s.ok()) return Fail("canary", std::string(s.message()), kExitData);
  }
  PrintSummary(stats, check);
  if (!check_status.ok()) {
    return Fail("canary", std::string(check_status.message()), ExitCodeFor(check_status));
  }
  const bool lost = check && check->missing > 0;
  const bool errors = stats.failed > 0 || stats.in_doubt > 0 || stats.connect_failures > 0;
  return lost || errors ? kExitDivergent : kExitOk;
}

}  // namespace pgparity::cli
