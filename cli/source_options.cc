#include "source_options.h"

#include <iostream>

#include "command.h"
#include "exit_codes.h"

namespace po = boost::program_options;

namespace pgparity::cli {

void AddSourceOptions(po::options_description& opts) {
  opts.add_options()("source", po::value<std::string>(),
                     "libpq connection string or URI of the source database (required)")(
      "publication", po::value<std::vector<std::string>>(),
      "publication to decode (repeatable; default my_publication)")(
      "until-lsn", po::value<std::string>(),
      "stop once everything up to this LSN (X/X) was received")(
      "proto-version", po::value<int>()->default_value(0),
      "pgoutput protocol version (0: newest the server supports)")(
      "no-streaming", "do not ask the server to stream large in-progress transactions")(
      "max-buffer-mb", po::value<size_t>()->default_value(64),
      "memory for buffered streamed transactions before spilling to disk")(
      "spill-dir", po::value<std::string>()->default_value(""),
      "where spill files go (default: the temp directory)")(
      "status-interval", po::value<double>()->default_value(10),
      "seconds between status lines (0: none)");
}

void AddCheckOptions(po::options_description& opts) {
  opts.add_options()(
      "source", po::value<std::string>(),
      "libpq connection string or URI of the source (PostgreSQL 12 to 18 publisher) (required)")(
      "target", po::value<std::string>(),
      "libpq connection string or URI of the target (PostgreSQL 16 subscriber) (required)")(
      "publication", po::value<std::string>()->default_value("my_publication"),
      "the publication the subscription replicates")(
      "subscription", po::value<std::string>(),
      "the subscription on the target (default: the one subscribing to the publication)")(
      "max-rows", po::value<int>()->default_value(100), "divergent rows listed per table")(
      "max-value-bytes", po::value<int>()->default_value(256),
      "bytes of each value shown for a listed divergent row; longer ones are cut (with their "
      "length and MD5)")("redact",
                         "leave every column value out of the report and the output (keys stay)")(
      "metrics-listen", po::value<std::string>(),
      "HOST:PORT to serve /metrics (Prometheus text) and /status (the report, JSON) on")(
      "quiet", "no scan progress (a bar on a terminal, else a line every 5 s of a long scan)")(
      "memory-limit", po::value<std::string>(),
      "memory for the shadow state (e.g. 256MiB, 4GiB; 0: no limit); beyond it the largest "
      "tables go to an on-disk store (default: 1GiB or a quarter of RAM, whichever is smaller)");
  AddJobsOption(opts, 2, "sessions per side scanning tables (big tables in key ranges)");
}

void AddJobsOption(po::options_description& opts, int default_jobs, const std::string& what) {
  opts.add_options()("jobs", po::value<int>(),
                     (what + " (default " + std::to_string(default_jobs) + ")").c_str())(
      "parallel", po::value<int>(), "deprecated: the old name of --jobs");
}

Result<size_t> ReadJobs(const po::variables_map& vm, int default_jobs) {
  if (vm.count("jobs") && vm.count("parallel")) {
    return Status::InvalidArgument("--parallel is the old name of --jobs: give only --jobs");
  }
  const char* given = vm.count("parallel") ? "parallel" : "jobs";
  const int jobs = vm.count(given) ? vm[given].as<int>() : default_jobs;
  if (jobs < 1 || jobs > 64) {
    return Status::InvalidArgument(std::string("--") + given + " must be 1 to 64");
  }
  return static_cast<size_t>(jobs);
}

Status ReadCheckOptions(const po::variables_map& vm, std::string_view command,
                        CheckOptionValues& out) {
  for (const char* required : {"source", "target"}) {
    if (!vm.count(required)) {
      return Status::InvalidArgument(std::string("--") + required + " is required — e.g. --" +
                                     required + " 'host=... dbname=...'");
    }
  }
  // Both DSNs are checked before either side is connected.
  PGPARITY_ASSIGN_OR_RETURN(
      out.source, conn::ParseServerDsn(vm["source"].as<std::string>(), "source", command));
  PGPARITY_ASSIGN_OR_RETURN(
      out.target, conn::ParseServerDsn(vm["target"].as<std::string>(), "target", command));
  out.publication = vm["publication"].as<std::string>();
  if (vm.count("subscription")) out.subscription = vm["subscription"].as<std::string>();
  if (out.publication.empty() || (out.subscription && out.subscription->empty())) {
    return Status::InvalidArgument("--publication and --subscription need a name");
  }
  PGPARITY_ASSIGN_OR_RETURN(out.parallel, ReadJobs(vm, 2));
  const int max_rows = vm["max-rows"].as<int>();
  if (max_rows < 0) return Status::InvalidArgument("--max-rows must be 0 or more");
  const int max_value_bytes = vm["max-value-bytes"].as<int>();
  if (max_value_bytes < 0) return Status::InvalidArgument("--max-value-bytes must be 0 or more");
  out.max_value_bytes = static_cast<size_t>(max_value_bytes);
  out.redact = vm.count("redact") > 0;
  out.quiet = vm.count("quiet") > 0;
  out.max_rows = static_cast<size_t>(max_rows);
  if (vm.count("metrics-listen")) out.metrics_listen = vm["metrics-listen"].as<std::string>();
  out.memory.limit = applier::DefaultMemoryLimit();
  if (vm.count("memory-limit")) {
    Result<size_t> limit = applier::ParseByteSize(vm["memory-limit"].as<std::string>());
    if (!limit.ok()) return limit.status().WithPrefix("--memory-limit");
    if (*limit != 0 && *limit < (size_t{1} << 20)) {
      return Status::InvalidArgument("--memory-limit " + vm["memory-limit"].as<std::string>() +
                                     " is below 1MiB; give 1MiB or more (or 0 for no limit)");
    }
    out.memory.limit = *limit;
  }
  return Status::OK();
}

Status ReadUntilLsn(const po::variables_map& vm, std::optional<wire::Lsn>& out) {
  if (!vm.count("until-lsn")) return Status::OK();
  auto lsn = wire::Lsn::Parse(vm["until-lsn"].as<std::string>());
  if (!lsn.ok()) {
    return Status::InvalidArgument("--until-lsn: " + std::string(lsn.status().message()) +
                                   " — an LSN looks like 0/16B3748");
  }
  out = *lsn;
  return Status::OK();
}

Status ReadSourceOptions(const po::variables_map& vm, std::string_view command,
                         consumer::SlotConsumerOptions& out) {
  if (!vm.count("source")) {
    return Status::InvalidArgument("--source is required — e.g. --source 'host=... dbname=...'");
  }
  PGPARITY_ASSIGN_OR_RETURN(
      out.source, conn::ParseServerDsn(vm["source"].as<std::string>(), "source", command));
  out.publications = vm.count("publication") ? vm["publication"].as<std::vector<std::string>>()
                                             : std::vector<std::string>{"my_publication"};
  out.proto_version = vm["proto-version"].as<int>();
  if (out.proto_version < 0 || out.proto_version > 4) {
    return Status::InvalidArgument("--proto-version must be 0 (auto) or 1 to 4");
  }
  PGPARITY_RETURN_IF_ERROR(ReadUntilLsn(vm, out.until_lsn));
  out.streaming = !vm.count("no-streaming");
  out.max_buffered_bytes = vm["max-buffer-mb"].as<size_t>() << 20;
  out.spill_dir = vm["spill-dir"].as<std::string>();
  const double status = vm["status-interval"].as<double>();
  if (status < 0) return Status::InvalidArgument("--status-interval must be >= 0");
  out.status_interval = std::chrono::milliseconds(static_cast<int64_t>(status * 1000));
  return Status::OK();
}

std::optional<int> ParseCommandLine(const char* command, const std::vector<std::string>& args,
                                    const po::options_description& opts,
                                    const po::positional_options_description* positional,
                                    po::variables_map& vm) {
  try {
    auto parser = po::command_line_parser(args).options(opts);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(command, std::string(e.what()) + " — see pgparity " + command + " --help",
                kExitUsage);
  }
  if (vm.count("help")) {
    std::cout << opts << '\n';
    return kExitOk;
  }
  return std::nullopt;
}

}  // namespace pgparity::cli
