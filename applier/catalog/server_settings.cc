#include "pgparity/applier/catalog/server_settings.h"

#include "catalog/query_rows.h"

namespace pgparity::applier {

Result<ServerSettings> ReadServerSettings(conn::PgSession& session) {
  return catalog_internal::QueryOneRow<ServerSettings>(
      session, "reading the server settings",
      "SELECT split_part(current_setting('server_version'), ' ', 1) AS server_version, "
      "current_setting('server_version_num') AS server_version_num, "
      "current_setting('wal_level') AS wal_level, "
      "current_setting('max_replication_slots') AS max_replication_slots, "
      "current_setting('max_wal_senders') AS max_wal_senders, "
      "current_setting('max_logical_replication_workers') AS max_logical_replication_workers, "
      "current_setting('max_worker_processes') AS max_worker_processes, "
      "current_setting('max_sync_workers_per_subscription') AS max_sync_workers",
      {}, [](const conn::RowReader& row) -> Result<ServerSettings> {
        ServerSettings s;
        PGPARITY_ASSIGN_OR_RETURN(s.version, row.Text("server_version"));
        PGPARITY_ASSIGN_OR_RETURN(s.version_num, row.Int64("server_version_num"));
        PGPARITY_ASSIGN_OR_RETURN(s.wal_level, row.Text("wal_level"));
        PGPARITY_ASSIGN_OR_RETURN(s.max_replication_slots, row.Int64("max_replication_slots"));
        PGPARITY_ASSIGN_OR_RETURN(s.max_wal_senders, row.Int64("max_wal_senders"));
        PGPARITY_ASSIGN_OR_RETURN(s.max_logical_replication_workers,
                                  row.Int64("max_logical_replication_workers"));
        PGPARITY_ASSIGN_OR_RETURN(s.max_worker_processes, row.Int64("max_worker_processes"));
        PGPARITY_ASSIGN_OR_RETURN(s.max_sync_workers_per_subscription,
                                  row.Int64("max_sync_workers"));
        return s;
      });
}

}  // namespace pgparity::applier
