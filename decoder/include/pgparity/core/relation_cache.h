// RelationCache: what the decoder knows about the source's relations and
// types, built from pgoutput's Relation ('R') and Type ('Y') messages.
//
// A Relation message describes a relation whole; each new one for a relid
// replaces the entry whole (and its RowDigester, since the columns may have
// changed). Lookups by relid are O(1) (a hash map).
//
// Pointer stability: a `const RelationInfo*` (or reference) returned by Find
// or Apply stays valid until the next Apply for the same relid, Clear(), or
// the cache's destruction, whichever comes first; entries for other relids
// do not move when the map rehashes (each entry is its own heap object).
// The decoder applies Relation messages only between sink callbacks, so a
// RelationInfo seen in a ChangeSink callback is valid for that callback.
//
// Thread-safety: none. RelationInfo::row_digester() hands out a mutable
// digester: use a cache from one thread only.
#ifndef PGPARITY_CORE_RELATION_CACHE_H_
#define PGPARITY_CORE_RELATION_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "pgparity/digest/row_digest.h"
#include "pgparity/wire/messages.h"

namespace pgparity::core {

// PostgreSQL sends "" for pg_catalog in Relation and Type messages (proto.c
// logicalrep_write_namespace); the cache stores the real name, as the apply
// worker does.
inline constexpr std::string_view kPgCatalog = "pg_catalog";

struct ColumnInfo {
  std::string name;
  wire::Oid type_oid = 0;
  int32_t typmod = -1;
  bool is_key = false;  // part of the replica identity (flag 1 on the wire)
};

class RelationInfo {
 public:
  // Copies everything it needs out of `message` (whose views may die next).
  explicit RelationInfo(const wire::Relation& message);

  RelationInfo(const RelationInfo&) = delete;
  RelationInfo& operator=(const RelationInfo&) = delete;

  wire::Oid relid() const noexcept { return relid_; }
  const std::string& schema() const noexcept { return schema_; }  // never "" (see kPgCatalog)
  const std::string& name() const noexcept { return name_; }
  wire::ReplicaIdentity replica_identity() const noexcept { return replica_identity_; }
  // In tuple order: the order of the columns in every TupleData of this
  // relation.
  const std::vector<ColumnInfo>& columns() const noexcept { return columns_; }
  size_t column_count() const noexcept { return columns_.size(); }

  // "schema.name", for messages.
  std::string QualifiedName() const { return schema_ + "." + name_; }

  // Unique to this RelationInfo among all created in the process (a new
  // Relation message for the same relid gives a new one): a key for caching
  // what is derived from it, safe where its address may be reused.
  uint64_t generation() const noexcept { return generation_; }

  // The row digester for this relation's tuples (docs/digest.md). It reuses
  // its buffers, hence mutable through a const RelationInfo; not thread-safe.
  digest::RowDigester& row_digester() const noexcept { return digester_; }

 private:
  uint64_t generation_;
  wire::Oid relid_;
  std::string schema_;
  std::string name_;
  wire::ReplicaIdentity replica_identity_;
  std::vector<ColumnInfo> columns_;
  mutable digest::RowDigester digester_;
};

struct TypeInfo {
  wire::Oid oid = 0;
  std::string schema;  // never "" (see kPgCatalog)
  std::string name;
};

class RelationCache {
 public:
  RelationCache() = default;
  RelationCache(const RelationCache&) = delete;
  RelationCache& operator=(const RelationCache&) = delete;

  // Replaces (or creates) the entry for message.relid. Pointers to the
  // previous entry for that relid become invalid.
  const RelationInfo& Apply(const wire::Relation& message);
  // nullptr when no Relation message for `relid` was applied.
  const RelationInfo* Find(wire::Oid relid) const noexcept;

  // Records (or replaces) a type's name.
  const TypeInfo& ApplyType(const wire::Type& message);
  const TypeInfo* FindType(wire::Oid oid) const noexcept;

  size_t size() const noexcept { return relations_.size(); }
  size_t type_count() const noexcept { return types_.size(); }
  void Clear() noexcept;

 private:
  // Looked up once per change: abseil's open addressing, not a node per entry.
  absl::flat_hash_map<wire::Oid, std::unique_ptr<RelationInfo>> relations_;
  std::unordered_map<wire::Oid, TypeInfo> types_;
};

}  // namespace pgparity::core

#endif  // PGPARITY_CORE_RELATION_CACHE_H_
