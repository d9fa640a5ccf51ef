// The replication slots of the source (pg_replication_slots) and how much
// WAL each holds back, measured against pg_current_wal_lsn() in the same
// query: what preflight judges, what metrics exports as slot lag, and what
// the checks bracket the target's snapshot with.
//
// Read-only queries on a plain session to the source (a primary: on a
// standby pg_current_wal_lsn() fails).
// Errors and thread-safety: as catalog.h says.
#ifndef PGPARITY_APPLIER_CATALOG_REPLICATION_SLOTS_H_
#define PGPARITY_APPLIER_CATALOG_REPLICATION_SLOTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::applier {

struct ReplicationSlot {
  std::string name;
  std::string type;      // "logical" or "physical"
  std::string plugin;    // "" for a physical slot
  std::string database;  // "" for a physical slot
  bool active = false;
  bool temporary = false;
  std::string wal_status;  // "reserved", "extended", "unreserved", "lost"; "" before 13
  std::optional<wire::Lsn> restart_lsn;
  std::optional<wire::Lsn> confirmed_flush_lsn;  // logical slots only
  wire::Lsn current_wal_lsn;                     // the source's, when read
  // current_wal_lsn - confirmed_flush_lsn: WAL not yet confirmed.
  std::optional<int64_t> lag_bytes;
  // current_wal_lsn - restart_lsn: WAL the slot keeps from being removed.
  std::optional<int64_t> retained_bytes;
  // The same two as pg_size_pretty prints them, for messages: "unknown"
  // and "none" when NULL.
  std::string lag_size;
  std::string retained_size;
};

// The slots named in `names`, or every slot when `names` is empty; sorted
// by name. A name without a slot is left out.
Result<std::vector<ReplicationSlot>> ReadSlots(conn::PgSession& source,
                                               const std::vector<std::string>& names = {});

// confirmed_flush_lsn of `slot` (the subscription's on the source: the
// target has applied and flushed every commit ending at or before it);
// nullopt when the slot does not exist or never confirmed.
Result<std::optional<wire::Lsn>> ReadSlotFlush(conn::PgSession& source, const std::string& slot);

// pg_current_wal_lsn() of the source.
Result<wire::Lsn> ReadCurrentWal(conn::PgSession& source);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_REPLICATION_SLOTS_H_
