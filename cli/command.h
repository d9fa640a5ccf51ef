// The subcommands of the pgparity binary. Each parses its own options and
// returns an exit code (exit_codes.h); errors are printed as one line
// "pgparity <command>: error: <what> — <fix>" by the command itself.
#ifndef PGPARITY_CLI_COMMAND_H_
#define PGPARITY_CLI_COMMAND_H_

#include <string>
#include <vector>

namespace pgparity::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

int RunDump(const std::vector<std::string>& args);
int RunRecord(const std::vector<std::string>& args);
int RunTail(const std::vector<std::string>& args);
int RunPreflight(const std::vector<std::string>& args);
int RunVerify(const std::vector<std::string>& args);
int RunAudit(const std::vector<std::string>& args);
int RunDigest(const std::vector<std::string>& args);
int RunRepair(const std::vector<std::string>& args);
int RunCanary(const std::vector<std::string>& args);
int RunCutover(const std::vector<std::string>& args);

// Prints "pgparity <command>: error: <message>" to stderr; returns `code`.
int Fail(const char* command, const std::string& message, int code);

}  // namespace pgparity::cli

#endif  // PGPARITY_CLI_COMMAND_H_
