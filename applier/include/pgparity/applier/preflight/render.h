// The two forms of a PreflightReport: a table for people and a JSON object
// for scripts (docs/cli.md, "pgparity preflight"). Pure: no I/O besides the
// stream given.
#ifndef PGPARITY_APPLIER_PREFLIGHT_RENDER_H_
#define PGPARITY_APPLIER_PREFLIGHT_RENDER_H_

#include <ostream>
#include <string>

#include "pgparity/applier/preflight/preflight.h"
#include "pgparity/result.h"

namespace pgparity::applier {

// A heading naming both servers, then the findings grouped by check (in the
// order the checks ran), one line each: severity (BLOCKING in capitals),
// object, detail and " — fix: ..." when there is one. Control characters in
// names become spaces, so a finding is always one line. Ends with
// VerdictLine().
void RenderText(const PreflightReport& report, std::ostream& out);

// "verdict: ready — 0 blocking, 2 warnings, 9 info" or
// "verdict: 3 blocking problems — 2 warnings, 9 info".
std::string VerdictLine(const PreflightReport& report);

// {"ready": bool, "findings": [{"check","severity","object","detail","fix"}],
//  "summary": {...}} through protobuf's JSON printer (preflight_report.proto),
// indented, without a trailing newline. Fails only if the printer does.
Result<std::string> RenderJson(const PreflightReport& report);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_PREFLIGHT_RENDER_H_
