// pgparity's exit codes (docs/cli.md): part of the contract, scripts rely on
// them. A Status maps to one at the command boundary.
#ifndef PGPARITY_CLI_EXIT_CODES_H_
#define PGPARITY_CLI_EXIT_CODES_H_

#include "pgparity/status.h"

namespace pgparity::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitDivergent = 1,   // verify/audit: the target differs from the source
  kExitUsage = 2,       // bad arguments or configuration (unknown slot, publication, ...)
  kExitConnection = 3,  // cannot connect or authenticate, or lost the server for good
  kExitTimeout = 4,     // waited for the target (or an --until-lsn) longer than allowed
  kExitData = 5,        // malformed stream or file, I/O error, internal error
};

inline int ExitCodeFor(const Status& s) {
  using C = Status::Code;
  switch (s.code()) {
    case C::kOk:
      return kExitOk;
    case C::kInvalidArgument:
    case C::kNotFound:
    case C::kAlreadyExists:
    case C::kFailedPrecondition:
    case C::kPermissionDenied:
    case C::kNotSupported:
    case C::kSchemaChanged:  // the state no longer fits the tables: start over
      return kExitUsage;
    case C::kUnavailable:
    case C::kUnauthenticated:
      return kExitConnection;
    case C::kDeadlineExceeded:
      return kExitTimeout;
    default:
      return kExitData;
  }
}

}  // namespace pgparity::cli

#endif  // PGPARITY_CLI_EXIT_CODES_H_
