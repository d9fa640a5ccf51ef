// Replication origins on the target: one per subscription ("pg_<oid>") and
// per tablesync worker, each limited by the target's max_replication_slots;
// the subscription's origin's remote_lsn is how far it has applied.
//
// Read-only queries on a plain session to the target.
// Errors and thread-safety: as catalog.h says.
#ifndef PGPARITY_APPLIER_CATALOG_REPLICATION_ORIGINS_H_
#define PGPARITY_APPLIER_CATALOG_REPLICATION_ORIGINS_H_

#include <optional>
#include <string>
#include <vector>

#include "pgparity/applier/catalog/subscription.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::applier {

// The names of every replication origin (pg_replication_origin, readable
// by any role), sorted.
Result<std::vector<std::string>> ReadOriginNames(conn::PgSession& target);

// The subscription's applied position on the target: the remote_lsn of its
// replication origin (the end LSN of the last source commit it applied,
// moved in the same local commit); nullopt before it applied anything.
// PermissionDenied names the missing grant (SELECT on
// pg_replication_origin_status, EXECUTE on the function behind it).
Result<std::optional<wire::Lsn>> ReadRemoteLsn(conn::PgSession& target,
                                               const SubscriptionInfo& sub);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_REPLICATION_ORIGINS_H_
