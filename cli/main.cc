// pgparity: verify a PostgreSQL logical replication migration (12..18 -> 15..18) independently of
// the subscriber. docs/cli.md is the reference of every command.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <exception>
#include <iostream>

#include "command.h"
#include "exit_codes.h"

namespace pgparity::cli {

namespace {

constexpr Command kCommands[] = {
    {"record", "stream a slot's decoded changes (or raw frames) into a file", RunRecord},
    {"dump", "print a recording", RunDump},
    {"tail", "show decoded changes live, like pg_recvlogical with test_decoding", RunTail},
    {"preflight", "check a logical replication migration is ready (read-only)", RunPreflight},
    {"verify", "is the target exactly the source? one-shot check, exit 0/1", RunVerify},
    {"audit", "verify continuously, checkpointed, resumable; a report after each check", RunAudit},
    {"digest", "a table's digest (docs/digest.md) on any server, from COPY or in SQL", RunDigest},
    {"repair", "the SQL that makes the target's listed rows equal the source's", RunRepair},
    {"cutover", "switch PgBouncer from source to target: fence, check, sequences, switch",
     RunCutover},
    {"canary", "write through the application's path; the stall and errors it saw", RunCanary},
};

void Usage(std::ostream& out) {
  out << "usage: pgparity <command> [options]   (pgparity <command> --help)\n\ncommands:\n";
  for (const auto& c : kCommands)
    out << "  " << c.name << std::string(10 - std::strlen(c.name), ' ') << c.summary << '\n';
  out << "\nexit codes: 0 ok, 1 divergent (preflight: blocking problems), 2 usage/configuration,\n"
         "3 connection/authentication, 4 timeout, 5 data or I/O error (docs/cli.md)\n";
}

}  // namespace

int Fail(const char* command, const std::string& message, int code) {
  std::cerr << "pgparity " << command << ": error: " << message << std::endl;
  return code;
}

}  // namespace pgparity::cli

int main(int argc, char** argv) {
  using namespace pgparity::cli;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    Usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? kExitUsage : kExitOk;
  }
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(spdlog::stderr_color_mt("pgparity"));
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    // The boundary: nothing escapes as a stack trace or an abort.
    try {
      return c.run(args);
    } catch (const std::exception& e) {
      return Fail(
          c.name,
          std::string("internal error: ") + e.what() + " — please report it with the command line",
          kExitData);
    }
  }
  return Fail(argv[1], "unknown command; run 'pgparity --help' for the list", kExitUsage);
}
