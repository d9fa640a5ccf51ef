// The catalog module (library pgparity_catalog): everything pgparity reads
// from the catalogs and statistics views of either side, as typed structs,
// through read-only queries on plain sessions. One header per concept:
//
//   publication.h          the publication, its tables as TableSpecs
//                          (LoadPublishedTables, ReadPartitions)
//   relations.h            every table with columns, keys, partitions
//   subscription.h         the subscription (FindSubscription), its tables'
//                          copy states, its workers
//   replication_slots.h    the source's slots and their lag (ReadSlots,
//                          ReadSlotFlush, ReadCurrentWal)
//   replication_origins.h  the target's origins, ReadRemoteLsn
//   target_tables.h        each published table on the target
//                          (ReadTargetTables), PlanComparison
//   not_subscribed.h       why a published table is not subscribed, the fix
//   sequences.h, server_settings.h, server_activity.h, server_defaults.h
//   privileges.h           what the connected role may do
//   database_control.h     the database's owner, who may fence it, its
//                          database-level settings (cutover's fence)
//
// Every reader runs read-only queries on the session it is given and
// returns values it owns. Errors: the session's Status for a failed query
// (Unavailable for a lost server, PermissionDenied for a catalog the role
// cannot read, ...), Internal (from conn::RowReader) for a value of the
// wrong form; never a silent default. A PgSession is used by one thread at
// a time, so a reader is too.
//
// This header includes the ones verify and audit read through.
#ifndef PGPARITY_APPLIER_CATALOG_CATALOG_H_
#define PGPARITY_APPLIER_CATALOG_CATALOG_H_

#include "pgparity/applier/catalog/publication.h"
#include "pgparity/applier/catalog/replication_origins.h"
#include "pgparity/applier/catalog/replication_slots.h"
#include "pgparity/applier/catalog/subscription.h"
#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/applier/catalog/target_tables.h"

#endif  // PGPARITY_APPLIER_CATALOG_CATALOG_H_
