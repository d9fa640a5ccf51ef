// The options every command that streams from the source shares
// (--source, --publication, --slot, ...), parsed into SlotConsumerOptions.
#ifndef PGPARITY_CLI_SOURCE_OPTIONS_H_
#define PGPARITY_CLI_SOURCE_OPTIONS_H_

#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/shadow/memory_limit.h"
#include "pgparity/conn/connect.h"
#include "pgparity/consumer/slot_consumer.h"

namespace pgparity::cli {

// Adds --source, --publication, --until-lsn, --proto-version,
// --no-streaming, --max-buffer-mb, --spill-dir, --status-interval.
void AddSourceOptions(boost::program_options::options_description& opts);

// Fills `out` from the parsed options; InvalidArgument naming the option
// when a value is unusable.
// `command` names the session in pg_stat_activity ("pgparity record").
Status ReadSourceOptions(const boost::program_options::variables_map& vm, std::string_view command,
                         consumer::SlotConsumerOptions& out);

// --until-lsn (record, tail, audit): unset when not given; InvalidArgument
// naming the option when it is not an LSN.
Status ReadUntilLsn(const boost::program_options::variables_map& vm, std::optional<wire::Lsn>& out);

// --jobs N, sessions reading at once (`what`, for --help), and its
// deprecated alias --parallel N.
void AddJobsOption(boost::program_options::options_description& opts, int default_jobs,
                   const std::string& what);
// --jobs (or --parallel), `default_jobs` when neither is given.
// InvalidArgument when both are given or the value is not 1 to 64.
Result<size_t> ReadJobs(const boost::program_options::variables_map& vm, int default_jobs);

// The options verify and audit share: --source, --target (both required),
// --publication, --subscription, --jobs (--parallel), --max-rows,
// --max-value-bytes, --redact, --metrics-listen, --quiet.
void AddCheckOptions(boost::program_options::options_description& opts);
struct CheckOptionValues {
  conn::ConnParams source;  // conn::ParseServerDsn's
  conn::ConnParams target;
  std::string publication;
  std::optional<std::string> subscription;
  size_t parallel = 2;  // --jobs
  size_t max_rows = 100;
  size_t max_value_bytes = 256;
  bool redact = false;
  std::string metrics_listen;
  bool quiet = false;            // --quiet: no scan progress (scan_progress_bar.h)
  applier::MemoryBudget memory;  // --memory-limit
};
// InvalidArgument naming the option when one is missing or unusable.
// `command` names the sessions in pg_stat_activity ("pgparity audit").
Status ReadCheckOptions(const boost::program_options::variables_map& vm, std::string_view command,
                        CheckOptionValues& out);
// Copies them into applier::VerifyOptions or applier::AuditOptions.
template <typename Options>
void ApplyCheckOptions(const CheckOptionValues& v, Options& out) {
  out.source = v.source;
  out.target = v.target;
  out.publication = v.publication;
  out.subscription = v.subscription;
  out.parallel = v.parallel;
  out.max_listed_rows = v.max_rows;
  out.values.max_bytes = v.max_value_bytes;
  out.values.redact = v.redact;
  out.metrics_listen = v.metrics_listen;
  out.memory = v.memory;
}

// Parses a command's args against opts (+ positionals). Returns an exit
// code when the command is done already: kExitOk after printing --help,
// kExitUsage after printing the one-line error. nullopt: go on.
std::optional<int> ParseCommandLine(
    const char* command, const std::vector<std::string>& args,
    const boost::program_options::options_description& opts,
    const boost::program_options::positional_options_description* positional,
    boost::program_options::variables_map& vm);

}  // namespace pgparity::cli

#endif  // PGPARITY_CLI_SOURCE_OPTIONS_H_
