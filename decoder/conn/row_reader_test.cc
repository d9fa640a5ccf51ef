// RowReader on results built with libpq's own PGresult constructors: no
// server needed, and every error path reachable.
#include "pgparity/conn/row_reader.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <optional>
#include <string>
#include <vector>

namespace pgparity::conn {
namespace {

// One row; nullopt cells are NULL.
QueryResult OneRow(const std::vector<std::string>& names,
                   const std::vector<std::optional<std::string>>& cells) {
  PgResultPtr result(PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK));
  std::vector<PGresAttDesc> attrs(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    attrs[i] = PGresAttDesc{};
    attrs[i].name = const_cast<char*>(names[i].c_str());
    attrs[i].typlen = -1;
  }
  EXPECT_TRUE(PQsetResultAttrs(result.get(), static_cast<int>(attrs.size()), attrs.data()));
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::optional<std::string>& cell = cells[i];
    // PQsetvalue: a length of -1 (NULL_LEN) makes the value NULL.
    EXPECT_TRUE(PQsetvalue(result.get(), 0, static_cast<int>(i),
                           cell ? const_cast<char*>(cell->c_str()) : nullptr,
                           cell ? static_cast<int>(cell->size()) : -1));
  }
  return QueryResult(std::move(result));
}

TEST(RowReaderTest, ReadsEachTypeByName) {
  QueryResult r = OneRow({"n", "ok", "x", "at", "kind", "name"},
                         {"-42", "t", "1.5", "16/B374D848", "p", "orders"});
  RowReader row(r, 0, "reading test");
  EXPECT_EQ(*row.Int64("n"), -42);
  EXPECT_TRUE(*row.Bool("ok"));
  EXPECT_DOUBLE_EQ(*row.Double("x"), 1.5);
  EXPECT_EQ((*row.OptionalLsn("at"))->ToString(), "16/B374D848");
  EXPECT_EQ(*row.Char("kind"), 'p');
  EXPECT_EQ(*row.Text("name"), "orders");
}

TEST(RowReaderTest, NullIsAnErrorUnlessOptional) {
  QueryResult r = OneRow({"n", "s"}, {std::nullopt, std::nullopt});
  RowReader row(r, 0, "reading test");
  EXPECT_FALSE(row.OptionalInt64("n")->has_value());
  EXPECT_FALSE(row.OptionalText("s")->has_value());
  EXPECT_FALSE(row.OptionalLsn("s")->has_value());
  Result<int64_t> n = row.Int64("n");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "reading test: column \"n\" of row 0 is NULL");
  EXPECT_FALSE(row.Text("s").ok());
  EXPECT_FALSE(row.Bool("s").ok());
}

TEST(RowReaderTest, WrongFormsAreErrorsNeverZero) {
  QueryResult r = OneRow({"n", "big", "empty", "b", "lsn", "c"},
                         {"12abc", "9223372036854775808", "", "true", "16-1", "ab"});
  RowReader row(r, 0, "reading slots");
  Result<int64_t> n = row.Int64("n");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), Status::Code::kInternal);
  EXPECT_EQ(n.status().message(),
            "reading slots: column \"n\" of row 0 is not an integer: '12abc'");
  EXPECT_FALSE(row.Int64("big").ok());    // out of int64's range
  EXPECT_FALSE(row.Int64("empty").ok());  // "" is not 0
  EXPECT_FALSE(row.Double("empty").ok());
  EXPECT_FALSE(row.Bool("b").ok());  // only PostgreSQL's "t"/"f"
  EXPECT_FALSE(row.OptionalLsn("lsn").ok());
  EXPECT_FALSE(row.Char("c").ok());
}

TEST(RowReaderTest, UnknownColumnAndRowAreNamed) {
  QueryResult r = OneRow({"n"}, {"1"});
  Result<int64_t> missing = RowReader(r, 0, "q").Int64("m");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "q: column \"m\" of row 0 is not in the result");
  EXPECT_FALSE(RowReader(r, 1, "q").Int64("n").ok());
}

}  // namespace
}  // namespace pgparity::conn
