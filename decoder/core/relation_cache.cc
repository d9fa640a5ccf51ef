#include "pgparity/core/relation_cache.h"

#include <atomic>
#include <utility>

namespace pgparity::core {
namespace {

std::string_view SchemaName(std::string_view wire_namespace) {
  return wire_namespace.empty() ? kPgCatalog : wire_namespace;
}

std::vector<ColumnInfo> Columns(const wire::Relation& m) {
  std::vector<ColumnInfo> columns;
  columns.reserve(m.columns.size());
  for (const wire::RelationColumn& c : m.columns) {
    columns.push_back(ColumnInfo{std::string(c.name), c.type_oid, c.typmod, c.is_key()});
  }
  return columns;
}

std::vector<std::string_view> Names(const std::vector<ColumnInfo>& columns) {
  std::vector<std::string_view> names;
  names.reserve(columns.size());
  for (const ColumnInfo& c : columns) names.push_back(c.name);
  return names;
}

uint64_t NextGeneration() noexcept {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

RelationInfo::RelationInfo(const wire::Relation& message)
    : generation_(NextGeneration()),
      relid_(message.relid),
      schema_(SchemaName(message.namespace_name)),
      name_(message.name),
      replica_identity_(message.replica_identity),
      columns_(Columns(message)),
      digester_(schema_, name_, std::span<const std::string_view>(Names(columns_))) {}

const RelationInfo& RelationCache::Apply(const wire::Relation& message) {
  auto info = std::make_unique<RelationInfo>(message);
  std::unique_ptr<RelationInfo>& slot = relations_[message.relid];
  slot = std::move(info);
  return *slot;
}

const RelationInfo* RelationCache::Find(wire::Oid relid) const noexcept {
  const auto it = relations_.find(relid);
  return it == relations_.end() ? nullptr : it->second.get();
}

const TypeInfo& RelationCache::ApplyType(const wire::Type& message) {
  TypeInfo& t = types_[message.type_oid];
  t.oid = message.type_oid;
  t.schema = std::string(SchemaName(message.namespace_name));
  t.name = std::string(message.name);
  return t;
}

const TypeInfo* RelationCache::FindType(wire::Oid oid) const noexcept {
  const auto it = types_.find(oid);
  return it == types_.end() ? nullptr : &it->second;
}

void RelationCache::Clear() noexcept {
  relations_.clear();
  types_.clear();
}

}  // namespace pgparity::core
