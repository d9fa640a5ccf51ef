// Pure: the SQL row_read.h builds for a publication's row filter — every
// read of the source keeps only the filter's rows, reads of the target all.
#include "pgparity/applier/scan/row_read.h"

#include <gtest/gtest.h>

namespace pgparity::applier {
namespace {

TableSpec Filtered() {
  TableSpec spec;
  spec.schema = "public";
  spec.name = "orders";
  spec.columns = {"id", "amount"};
  spec.types = {"integer", "integer"};
  spec.toastable = {false, false};
  spec.key_positions = {0};
  spec.row_filter = "(amount > 300)";
  return spec;
}

TEST(RowReadTest, SourceReadsKeepOnlyTheFilteredRows) {
  const TableSpec spec = Filtered();
  const TableRead source = SourceRead(spec);
  EXPECT_FALSE(source.plain);  // COPY relation (columns) cannot filter
  EXPECT_EQ(CopySql(source),
            "COPY (SELECT \"id\", \"amount\" FROM ONLY \"public\".\"orders\" WHERE ((amount > "
            "300))) TO STDOUT");
  EXPECT_EQ(SelectByKeysSql(source, spec, 2),
            "SELECT \"id\", \"amount\" FROM ONLY \"public\".\"orders\" WHERE (\"id\") IN (($1), "
            "($2)) AND "
            "((amount > 300))");
  EXPECT_EQ(WhereSql(source, "x = $1"), " WHERE x = $1 AND ((amount > 300))");
  EXPECT_NE(SelectByDigestSql(source, spec).find(" = $1 AND ((amount > 300))"), std::string::npos);
}

TEST(RowReadTest, AnIntegerKeyIsReadByRangeWithParameters) {
  TableSpec spec = Filtered();
  spec.integer_key = true;
  const TableRead target = TargetRead(spec, 'r');
  ASSERT_TRUE(ReadsIntegerKey(target, spec));
  EXPECT_EQ(SelectByKeyRangeSql(target, spec),
            "SELECT \"id\", \"amount\" FROM ONLY \"public\".\"orders\" WHERE \"id\" >= $1 AND "
            "\"id\" <= $2");
  EXPECT_EQ(SelectByKeyRangeSql(SourceRead(spec), spec),
            "SELECT \"id\", \"amount\" FROM ONLY \"public\".\"orders\" WHERE \"id\" >= $1 AND "
            "\"id\" <= $2 AND ((amount > 300))");
  // A key that became text on the target orders as text: not by range.
  spec.target_types = {"text", "integer"};
  EXPECT_FALSE(ReadsIntegerKey(TargetRead(spec, 'r'), spec));
  spec.target_types.clear();
  spec.integer_key = false;
  EXPECT_FALSE(ReadsIntegerKey(target, spec));
}

TEST(RowReadTest, TargetReadsAndUnfilteredSourcesReadEveryRow) {
  TableSpec spec = Filtered();
  const TableRead target = TargetRead(spec, 'r');
  EXPECT_TRUE(target.plain);
  EXPECT_EQ(CopySql(target), "COPY \"public\".\"orders\" (\"id\", \"amount\") TO STDOUT");
  EXPECT_EQ(WhereSql(target, ""), "");
  EXPECT_EQ(SelectByKeysSql(target, spec, 1),
            "SELECT \"id\", \"amount\" FROM ONLY \"public\".\"orders\" WHERE (\"id\") IN (($1))");
  spec.row_filter.clear();
  EXPECT_EQ(CopySql(SourceRead(spec)), "COPY \"public\".\"orders\" (\"id\", \"amount\") TO STDOUT");
  // A published generated column (PostgreSQL 18) is read by SELECT.
  spec.publishes_generated = true;
  EXPECT_EQ(CopySql(SourceRead(spec)),
            "COPY (SELECT \"id\", \"amount\" FROM ONLY \"public\".\"orders\") TO STDOUT");
}

TEST(RowReadTest, ATableOfNoColumnsCopiesWithoutAColumnList) {
  TableSpec spec;
  spec.schema = "public";
  spec.name = "leer";
  EXPECT_EQ(CopySql(TargetRead(spec, 'r')),
            "COPY (SELECT  FROM ONLY \"public\".\"leer\") TO STDOUT");
  EXPECT_EQ(CopySql(TargetRead(spec, 'p')), "COPY (SELECT  FROM \"public\".\"leer\") TO STDOUT");
}

TEST(RowReadTest, AKeyRangeNarrowsEveryReadAndCombinesWithTheFilter) {
  const TableSpec spec = Filtered();
  const TableRead target = KeyRangeRead(TargetRead(spec, 'r'), "\"id\" >= '5'::integer");
  EXPECT_FALSE(target.plain);  // COPY relation (columns) cannot narrow
  EXPECT_EQ(CopySql(target),
            "COPY (SELECT \"id\", \"amount\" FROM ONLY \"public\".\"orders\" WHERE (\"id\" >= "
            "'5'::integer)) TO STDOUT");
  const TableRead source = KeyRangeRead(SourceRead(spec), "\"id\" < '9'::integer");
  EXPECT_EQ(WhereSql(source, "x = $1"),
            " WHERE x = $1 AND (\"id\" < '9'::integer) AND ((amount > 300))");
  EXPECT_TRUE(KeyRangeRead(TargetRead(spec, 'r'), "").plain);
}

}  // namespace
}  // namespace pgparity::applier
