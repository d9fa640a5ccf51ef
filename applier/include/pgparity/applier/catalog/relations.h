// The tables of one database as logical replication sees them: every
// ordinary and partitioned table outside the system schemas, its columns
// and the key facts both ends of a subscription act on (primary key,
// replica identity), and how partitions hang together — read in one query.
// Also what a database stores outside
// them that replication does not carry (temporary tables, large objects).
//
// Read-only queries on a plain session; errors are the session's (a
// Status naming the server's message) or Internal for a value of the wrong
// form. Values are plain structs, safe to share once read.
#ifndef PGPARITY_APPLIER_CATALOG_RELATIONS_H_
#define PGPARITY_APPLIER_CATALOG_RELATIONS_H_

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

// A relation by schema and name, as the catalogs spell them (unquoted).
struct RelationName {
  std::string schema;
  std::string name;
  auto operator<=>(const RelationName&) const = default;
};

struct RelationColumn {
  std::string name;
  std::string type;  // format_type()
  // atttypid and atttypmod: what pgoutput's Relation message says of it.
  uint32_t type_oid = 0;
  int32_t typmod = -1;
  bool not_null = false;
  bool has_default = false;
  bool generated = false;  // GENERATED ALWAYS AS (...) STORED
  bool in_primary_key = false;
  bool in_identity_index = false;  // in the REPLICA IDENTITY USING INDEX index
  bool toastable = false;          // attstorage is not 'p': a value may be stored out of line
};

struct Relation {
  std::string schema;
  std::string name;
  std::string qualified;        // format('%I.%I'), for messages and fixes
  char relkind = 'r';           // 'r' table, 'p' partitioned table
  char persistence = 'p';       // 'p' permanent, 'u' unlogged
  char replica_identity = 'd';  // pg_class.relreplident: 'd', 'n', 'f', 'i'
  bool has_primary_key = false;
  bool has_identity_index = false;
  double reltuples = -1;                      // the planner's estimate; -1 never analyzed
  int64_t updates_deletes = 0;                // pg_stat_user_tables, since the last reset
  std::optional<int64_t> toast_tuple_target;  // the storage parameter, when set
  std::vector<RelationColumn> columns;        // attnum order, generated ones included
  // A partition's partitioned table (pg_inherits).
  std::optional<RelationName> parent;
  // ReadRelations only: a partitioned table's leaf partitions at any depth,
  // and a leaf's topmost partitioned table.
  std::vector<RelationName> leaves;
  std::optional<RelationName> root;

  RelationName key() const { return {schema, name}; }
  const RelationColumn* Find(std::string_view column) const;
  // UPDATE and DELETE can be published: FULL, or the key DEFAULT or USING
  // INDEX names exists.
  bool HasReplicaIdentity() const;
  // The columns the publisher sends as the key of an UPDATE or DELETE
  // (pgoutput's attkeys): every column with FULL, else the identity
  // index's (the primary key's for DEFAULT); never a generated column.
  std::vector<std::string> SentKey() const;
  // The columns a PostgreSQL 16 subscriber looks rows up by: the replica
  // identity index, else the primary key (logicalrep_rel_mark_updatable);
  // empty: whole rows are compared.
  std::vector<std::string> LookupKey() const;
};

using Relations = std::map<RelationName, Relation>;

// Every table of the session's database (relkind 'r' and 'p', not
// temporary, outside pg_catalog, information_schema and pg_toast), with
// leaves and roots filled in.
Result<Relations> ReadRelations(conn::PgSession& session);

// One table as ReadRelations reads it (without leaves and root); nullopt
// when no table of that name exists.
Result<std::optional<Relation>> ReadRelation(conn::PgSession& session, const RelationName& name);

// The tables a relation's rows are stored in: its leaves (those in
// `relations`) when it is partitioned, else itself.
std::vector<const Relation*> StorageOf(const Relations& relations, const Relation& relation);

// Whether the table holds any row (SELECT EXISTS: reads user data, one row).
Result<bool> HasRows(conn::PgSession& session, const Relation& relation);

// Temporary tables of every session, as format('%I.%I'), sorted.
Result<std::vector<std::string>> ReadTemporaryTables(conn::PgSession& session);

// The number of large objects (pg_largeobject_metadata).
Result<int64_t> CountLargeObjects(conn::PgSession& session);

// A trigger that fires on replicated changes: not internal and enabled
// ALWAYS or REPLICA — the apply worker runs with session_replication_role
// = replica, where only those fire.
struct ReplicaTrigger {
  std::string name;     // format('%I')
  bool always = false;  // ENABLE ALWAYS; else ENABLE REPLICA
};

// Those triggers per table, each table's by name.
Result<std::map<RelationName, std::vector<ReplicaTrigger>>> ReadReplicaTriggers(
    conn::PgSession& session);

// Materialized views outside the system schemas, as format('%I.%I') ->
// whether populated (relispopulated: false after CREATE ... WITH NO DATA,
// as pg_dump --schema-only leaves them; a SELECT then fails). Logical
// replication never carries their rows.
Result<std::map<std::string, bool>> ReadMaterializedViews(conn::PgSession& session);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_RELATIONS_H_
