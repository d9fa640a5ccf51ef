// Internal to pgparity_cutover: what the switch does beyond PgBouncer.
//  - The target must accept the application's writes: a database-level
//    default_transaction_read_only = on there (a previous cutover's fence,
//    when this one is the rollback) is reset, and put back on abort.
//  - --reverse: replication from the target back to the source, started
//    before the application writes to the target, so that a rollback loses
//    nothing: a publication of every table on the target, a subscription on
//    the source with copy_data = false (it has every row up to the fence),
//    and the forward subscription disabled — kept, not dropped.
#ifndef PGPARITY_APPLIER_CUTOVER_WAY_BACK_H_
#define PGPARITY_APPLIER_CUTOVER_WAY_BACK_H_

#include <optional>
#include <string>

#include "pgparity/applier/catalog/subscription.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier::cutover_internal {

// The database-level default_transaction_read_only of the session's
// database when it makes sessions read-only ("on", "true", ...), else nullopt.
Result<std::optional<std::string>> DatabaseReadOnly(conn::PgSession& session);

// ALTER DATABASE <current> RESET / SET default_transaction_read_only.
Status ResetDatabaseReadOnly(conn::PgSession& session);
Status SetDatabaseReadOnly(conn::PgSession& session, const std::string& value);

struct ReverseReplication {
  std::string name = "pgparity_reverse";  // the publication, subscription and slot
  conn::ConnParams target;                // how the source reaches the target
};

// Fails (AlreadyExists) before changing anything when the source has a
// subscription of that name.
Status StartReverse(conn::PgSession& source, conn::PgSession& target,
                    const SubscriptionInfo& forward, const ReverseReplication& reverse);
// Undoes StartReverse as far as it got: the subscription (and its slot on
// the target) and the publication dropped, the forward one enabled.
Status UndoReverse(conn::PgSession& source, conn::PgSession& target,
                   const SubscriptionInfo& forward, const ReverseReplication& reverse);

}  // namespace pgparity::applier::cutover_internal

#endif  // PGPARITY_APPLIER_CUTOVER_WAY_BACK_H_
