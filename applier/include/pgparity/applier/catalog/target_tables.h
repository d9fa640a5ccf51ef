// How each published table looks on the target (TargetTable: exists, its
// relkind, which columns it lacks or adds, each column's type there, its
// copy state in the subscription, or the relatives listed in its place), and the comparison plan
// that follows from those types (PlanComparison, docs/types.md).
//
// Read-only queries on a plain session to the target (relations.h,
// subscription.h); PlanComparison is pure.
// Errors and thread-safety: as catalog.h says.
#ifndef PGPARITY_APPLIER_CATALOG_TARGET_TABLES_H_
#define PGPARITY_APPLIER_CATALOG_TARGET_TABLES_H_

#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/catalog/not_subscribed.h"
#include "pgparity/applier/catalog/subscription.h"
#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct TargetTable {
  bool exists = false;
  char relkind = 'r';                        // 'p': partitioned on the target
  std::vector<std::string> missing_columns;  // source columns the target lacks
  std::vector<std::string> extra_columns;    // target columns the source lacks (ignored)
  std::vector<std::string> types;            // per spec column, format_type(); "" missing
  char sync_state = 0;                       // pg_subscription_rel.srsubstate, 0 = not listed
  SubscribedInstead subscribed_instead;      // when not listed: its relatives listed
  double estimated_rows = -1;
};

// How each spec's table looks on the target, in `specs` order.
Result<std::vector<TargetTable>> ReadTargetTables(conn::PgSession& target,
                                                  const std::vector<TableSpec>& specs,
                                                  const SubscriptionInfo& sub);

// Fills each spec's comparison plan (TableSpec::compare) from the target's
// column types: the class of each type change and its rule (type_change.h).
// REQUIRES: targets[i] describes specs[i] (ReadTargetTables).
void PlanComparison(const std::vector<TargetTable>& targets, std::string_view source_timezone,
                    std::vector<TableSpec>& specs);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_TARGET_TABLES_H_
