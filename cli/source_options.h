// The options every command that streams from the source shares
// (--source, --publication, --slot, ...), parsed into SlotConsumerOptions.
#ifndef PGPARITY_CLI_SOURCE_OPTIONS_H_
#define PGPARITY_CLI_SOURCE_OPTIONS_H_

#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pgparity/consumer/slot_consumer.h"

namespace pgparity::cli {

// Adds --source, --publication, --until-lsn, --proto-version,
// --no-streaming, --max-buffer-mb, --spill-dir, --status-interval.
void AddSourceOptions(boost::program_options::options_description& opts);

// Fills `out` from the parsed options; InvalidArgument naming the option
// when a value is unusable.
Status ReadSourceOptions(const boost::program_options::variables_map& vm,
                         consumer::SlotConsumerOptions& out);

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
