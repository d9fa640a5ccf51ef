#include "pgparity/applier/catalog/replication_slots.h"

#include <algorithm>

#include "catalog/query_rows.h"

namespace pgparity::applier {

using catalog_internal::QueryOneRow;
using catalog_internal::QueryRows;
using conn::RowReader;

namespace {

Result<ReplicationSlot> ReadSlotRow(const RowReader& row) {
  ReplicationSlot s;
  PGPARITY_ASSIGN_OR_RETURN(s.name, row.Text("slot_name"));
  PGPARITY_ASSIGN_OR_RETURN(s.type, row.Text("slot_type"));
  PGPARITY_ASSIGN_OR_RETURN(s.plugin, row.Text("plugin"));
  PGPARITY_ASSIGN_OR_RETURN(s.database, row.Text("database"));
  PGPARITY_ASSIGN_OR_RETURN(s.active, row.Bool("active"));
  PGPARITY_ASSIGN_OR_RETURN(s.temporary, row.Bool("temporary"));
  PGPARITY_ASSIGN_OR_RETURN(s.wal_status, row.Text("wal_status"));
  PGPARITY_ASSIGN_OR_RETURN(s.restart_lsn, row.OptionalLsn("restart_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(s.confirmed_flush_lsn, row.OptionalLsn("confirmed_flush_lsn"));
  PGPARITY_ASSIGN_OR_RETURN(std::optional<wire::Lsn> current, row.OptionalLsn("current_wal"));
  if (!current) return Status::Internal("reading pg_replication_slots: no pg_current_wal_lsn()");
  s.current_wal_lsn = *current;
  PGPARITY_ASSIGN_OR_RETURN(s.lag_bytes, row.OptionalInt64("lag_bytes"));
  PGPARITY_ASSIGN_OR_RETURN(s.retained_bytes, row.OptionalInt64("retained_bytes"));
  PGPARITY_ASSIGN_OR_RETURN(s.lag_size, row.Text("lag_size"));
  PGPARITY_ASSIGN_OR_RETURN(s.retained_size, row.Text("retained_size"));
  return s;
}

}  // namespace

Result<std::vector<ReplicationSlot>> ReadSlots(conn::PgSession& source,
                                               const std::vector<std::string>& names) {
  const std::string wal_status =
      source.server_version() >= 130000 ? "coalesce(wal_status, '')" : "''";
  PGPARITY_ASSIGN_OR_RETURN(
      std::vector<ReplicationSlot> slots,
      QueryRows<ReplicationSlot>(
          source, "reading pg_replication_slots",
          "SELECT slot_name, slot_type, coalesce(plugin, '') AS plugin, coalesce(database::text, "
          "'') AS database, active, temporary, " +
              wal_status +
              " AS wal_status, restart_lsn, confirmed_flush_lsn, w.lsn AS current_wal, "
              "pg_wal_lsn_diff(w.lsn, confirmed_flush_lsn)::bigint AS lag_bytes, "
              "pg_wal_lsn_diff(w.lsn, restart_lsn)::bigint AS retained_bytes, "
              "coalesce(pg_size_pretty(pg_wal_lsn_diff(w.lsn, confirmed_flush_lsn)), "
              "'unknown') AS lag_size, "
              "coalesce(pg_size_pretty(pg_wal_lsn_diff(w.lsn, restart_lsn)), 'none') AS "
              "retained_size FROM pg_replication_slots, "
              "(SELECT pg_current_wal_lsn() AS lsn) w ORDER BY slot_name",
          {}, ReadSlotRow));
  if (names.empty()) return slots;
  std::erase_if(slots, [&](const ReplicationSlot& s) {
    return std::find(names.begin(), names.end(), s.name) == names.end();
  });
  return slots;
}

Result<std::optional<wire::Lsn>> ReadSlotFlush(conn::PgSession& source, const std::string& slot) {
  PGPARITY_ASSIGN_OR_RETURN(std::vector<ReplicationSlot> slots, ReadSlots(source, {slot}));
  if (slots.empty()) return std::optional<wire::Lsn>();
  return slots[0].confirmed_flush_lsn;
}

Result<wire::Lsn> ReadCurrentWal(conn::PgSession& source) {
  PGPARITY_ASSIGN_OR_RETURN(
      std::optional<wire::Lsn> lsn,
      QueryOneRow<std::optional<wire::Lsn>>(
          source, "reading pg_current_wal_lsn()", "SELECT pg_current_wal_lsn() AS lsn", {},
          [](const RowReader& row) { return row.OptionalLsn("lsn"); }));
  if (!lsn) return Status::Internal("pg_current_wal_lsn() is NULL");
  return *lsn;
}

}  // namespace pgparity::applier
