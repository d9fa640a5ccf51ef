// The table digests (docs/digest.md) of several tables read on several
// sessions at once, big tables in key ranges (key_ranges.h): each unit
// digested on its session's thread, a table's range digests added (a
// table digest is a sum). What the full check reads on the target and
// `pgparity digest --jobs` on any server.
#ifndef PGPARITY_APPLIER_SCAN_RANGE_DIGEST_H_
#define PGPARITY_APPLIER_SCAN_RANGE_DIGEST_H_

#include <span>
#include <string_view>
#include <vector>

#include "pgparity/applier/scan/key_ranges.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/digest/digest128.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct DigestedTable {
  digest::TableDigest digest;  // over the spec's compared columns
  KeySplit split;              // how it was read
};

// The digest of every table of `tables` (its `read`, made ForDigest here)
// in `tables` order, read on `sessions` (all in one snapshot, the caller's
// choice), bounds planned on sessions[0]. `what` prefixes the progress
// and log lines ("target check"). Errors: the first scan's.
Result<std::vector<DigestedTable>> DigestTables(const std::vector<conn::PgSession*>& sessions,
                                                std::span<const TableToPlan> tables,
                                                const ScanPlanOptions& options,
                                                std::string_view what);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SCAN_RANGE_DIGEST_H_
