// The options every command that streams from the source shares
// (--source, --publication, --slot, ...), parsed into SlotConsumerOptions.
#ifndef PGPARITY_CLI_SOURCE_OPTIONS_H_
#define PGPARITY_CLI_SOURCE_OPTIONS_H_

#include <boost/program_options.hpp>
#include <string>

#include "pgparity/consumer/slot_consumer.h"

namespace pgparity::cli {

// Adds --source, --publication, --proto-version, --no-streaming,
// --max-buffer-mb, --spill-dir, --status-interval.
void AddSourceOptions(boost::program_options::options_description& opts);

// Fills `out` from the parsed options; InvalidArgument naming the option
// when a value is unusable.
Status ReadSourceOptions(const boost::program_options::variables_map& vm,
                         consumer::SlotConsumerOptions& out);

// Parses args against opts (+ positionals); a one-line error on failure.
Status ParseArgs(const std::vector<std::string>& args,
                 const boost::program_options::options_description& opts,
                 const boost::program_options::positional_options_description* positional,
                 boost::program_options::variables_map& vm);

}  // namespace pgparity::cli

#endif  // PGPARITY_CLI_SOURCE_OPTIONS_H_
