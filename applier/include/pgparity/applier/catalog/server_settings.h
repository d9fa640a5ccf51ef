// The server settings a logical-replication migration depends on: the
// version, wal_level and the budgets of slots, WAL senders and workers
// (current_setting, readable by any role).
//
// A read-only query on a plain session to either side.
// Errors and thread-safety: as catalog.h says.
#ifndef PGPARITY_APPLIER_CATALOG_SERVER_SETTINGS_H_
#define PGPARITY_APPLIER_CATALOG_SERVER_SETTINGS_H_

#include <cstdint>
#include <string>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct ServerSettings {
  std::string version;      // server_version's first word ("16.4")
  int64_t version_num = 0;  // server_version_num (160004)
  std::string wal_level;
  int64_t max_replication_slots = 0;  // slots on a publisher, origins on a subscriber
  int64_t max_wal_senders = 0;
  int64_t max_logical_replication_workers = 0;
  int64_t max_worker_processes = 0;
  int64_t max_sync_workers_per_subscription = 0;
};

Result<ServerSettings> ReadServerSettings(conn::PgSession& session);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_SERVER_SETTINGS_H_
