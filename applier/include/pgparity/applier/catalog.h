// What verify and audit read from the catalogs of both sides: the
// published tables of the source (as TableSpecs), the subscription on the
// target that replicates them, how far it has applied, and how each table
// looks on the target. Read-only queries on plain sessions.
#ifndef PGPARITY_APPLIER_CATALOG_H_
#define PGPARITY_APPLIER_CATALOG_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/table_spec.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::applier {

// The tables of `publication` on the source, columns and keys as
// TableSpec describes. NotFound naming the publication and the fix when it
// does not exist; FailedPrecondition when it publishes no table.
Result<std::vector<TableSpec>> LoadPublishedTables(conn::PgSession& source,
                                                   const std::string& publication);

struct SubscriptionInfo {
  std::string oid;
  std::string name;
  bool enabled = false;
  std::string slot_name;  // on the source
  std::vector<std::string> publications;
  std::string origin() const { return "pg_" + oid; }
};

// The subscription named `name`, or (nullopt) the one subscription of the
// target's database that subscribes to `publication`. NotFound / a
// FailedPrecondition naming the candidates when there is none or several.
Result<SubscriptionInfo> FindSubscription(conn::PgSession& target,
                                          const std::optional<std::string>& name,
                                          const std::string& publication);

// The subscription's applied position on the target: the remote_lsn of its
// replication origin (the end LSN of the last source commit it applied,
// moved in the same local commit); nullopt before it applied anything.
Result<std::optional<wire::Lsn>> ReadRemoteLsn(conn::PgSession& target,
                                               const SubscriptionInfo& sub);
// confirmed_flush_lsn of the subscription's slot on the source: the target
// has applied and flushed every commit ending at or before it.
Result<std::optional<wire::Lsn>> ReadSlotFlush(conn::PgSession& source, const std::string& slot);
// pg_current_wal_lsn() of the source.
Result<wire::Lsn> ReadCurrentWal(conn::PgSession& source);

struct TargetTable {
  bool exists = false;
  char relkind = 'r';                        // 'p': partitioned on the target
  std::vector<std::string> missing_columns;  // source columns the target lacks
  std::vector<std::string> extra_columns;    // target columns the source lacks (ignored)
  std::vector<std::string> types;            // per spec column, format_type(); "" missing
  char sync_state = 0;                       // pg_subscription_rel.srsubstate, 0 = not listed
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

// The leaf partitions of partitioned table `spec` now, as "schema.name"
// sorted (TableSpec::partitions).
Result<std::vector<std::string>> ReadPartitions(conn::PgSession& source, const TableSpec& spec);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_H_
