#include "pgparity/core/relation_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pgparity/wire/tuple.h"

namespace pgparity::core {
namespace {

wire::Relation MakeRelation(wire::Oid relid, std::string_view schema, std::string_view name,
                            std::vector<std::string_view> columns) {
  wire::Relation r;
  r.relid = relid;
  r.namespace_name = schema;
  r.name = name;
  r.replica_identity = wire::ReplicaIdentity::kIndex;
  for (size_t i = 0; i < columns.size(); ++i) {
    wire::RelationColumn c;
    c.flags = i == 0 ? wire::RelationColumn::kFlagKey : 0;
    c.name = columns[i];
    c.type_oid = i == 0 ? 23 : 25;
    c.typmod = i == 0 ? -1 : 14;
    r.columns.push_back(c);
  }
  return r;
}

TEST(RelationCacheTest, ApplyCopiesEverything) {
  RelationCache cache;
  std::string schema = "public";
  std::string name = "users";
  std::string col = "email";
  {
    const wire::Relation r = MakeRelation(16384, schema, name, {"id", col});
    cache.Apply(r);
  }
  // The message's views die; the cache owns its strings.
  schema = "xxxxxx";
  name = "xxxxx";
  col = "xxxxx";
  const RelationInfo* info = cache.Find(16384);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->relid(), 16384u);
  EXPECT_EQ(info->schema(), "public");
  EXPECT_EQ(info->name(), "users");
  EXPECT_EQ(info->QualifiedName(), "public.users");
  EXPECT_EQ(info->replica_identity(), wire::ReplicaIdentity::kIndex);
  ASSERT_EQ(info->column_count(), 2u);
  EXPECT_EQ(info->columns()[0].name, "id");
  EXPECT_TRUE(info->columns()[0].is_key);
  EXPECT_EQ(info->columns()[0].type_oid, 23u);
  EXPECT_EQ(info->columns()[1].name, "email");
  EXPECT_FALSE(info->columns()[1].is_key);
  EXPECT_EQ(info->columns()[1].typmod, 14);
  EXPECT_EQ(cache.Find(16385), nullptr);
}

TEST(RelationCacheTest, EmptyNamespaceIsPgCatalog) {
  RelationCache cache;
  cache.Apply(MakeRelation(1259, "", "pg_class", {"oid"}));
  EXPECT_EQ(cache.Find(1259)->schema(), "pg_catalog");
  wire::Type t{std::nullopt, 16400, "", "mood"};
  cache.ApplyType(t);
  ASSERT_NE(cache.FindType(16400), nullptr);
  EXPECT_EQ(cache.FindType(16400)->schema, "pg_catalog");
  EXPECT_EQ(cache.FindType(16400)->name, "mood");
  EXPECT_EQ(cache.FindType(16401), nullptr);
}

TEST(RelationCacheTest, ReplacedWholeOtherEntriesStayPut) {
  RelationCache cache;
  const RelationInfo* other = &cache.Apply(MakeRelation(1, "public", "other", {"id"}));
  cache.Apply(MakeRelation(2, "public", "t", {"id", "a"}));
  // Many inserts make the map rehash; entries are separate heap objects.
  for (wire::Oid relid = 100; relid < 400; ++relid) {
    cache.Apply(MakeRelation(relid, "s", "x", {"id"}));
  }
  EXPECT_EQ(cache.Find(1), other);
  const RelationInfo& replaced = cache.Apply(MakeRelation(2, "public", "t", {"id", "a", "b"}));
  EXPECT_EQ(cache.Find(2), &replaced);
  EXPECT_EQ(replaced.column_count(), 3u);
  EXPECT_EQ(cache.Find(1), other);
  EXPECT_EQ(cache.size(), 302u);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Find(1), nullptr);
}

TEST(RelationCacheTest, RowDigesterFollowsTheRelation) {
  RelationCache cache;
  cache.Apply(MakeRelation(2, "public", "t", {"id", "a"}));
  wire::TupleBuilder row;
  row.AddText("1").AddText("x y");
  cache.Find(2)->row_digester().Digest(row.view());
  EXPECT_EQ(cache.Find(2)->row_digester().last_encoding(), "6:public.1:t1:aV3:x y2:idV1:1");

  // A new definition (a column added) rebuilds the digester.
  cache.Apply(MakeRelation(2, "public", "t", {"id", "a", "b"}));
  row.AddNull();
  cache.Find(2)->row_digester().Digest(row.view());
  EXPECT_EQ(cache.Find(2)->row_digester().last_encoding(), "6:public.1:t1:aV3:x y1:bN2:idV1:1");
}

}  // namespace
}  // namespace pgparity::core
