// What a pair of PostgreSQL majors means for the migration: whether pgparity
// supports it (sources 12 to 18, targets 15 to 18, the target no older than
// the source), and what the source's major lacks that the checks, verify and
// the metrics would otherwise rely on (docs/versions.md). Pure: unit-tested
// without a server.
#ifndef PGPARITY_APPLIER_PREFLIGHT_VERSION_PAIR_H_
#define PGPARITY_APPLIER_PREFLIGHT_VERSION_PAIR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "pgparity/applier/preflight/preflight.h"

namespace pgparity::applier::preflight {

struct ServerVersion {
  std::string version;      // server_version's first word ("12.22")
  int64_t version_num = 0;  // server_version_num (120022)
};

// The "server_version" findings: one per side (info when the pair is
// supported, a warning naming the supported range when not), then one info
// per limit of the source's major.
std::vector<Finding> VersionPairFindings(const ServerVersion& source, const ServerVersion& target);

}  // namespace pgparity::applier::preflight

#endif  // PGPARITY_APPLIER_PREFLIGHT_VERSION_PAIR_H_
