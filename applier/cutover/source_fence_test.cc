// Pure: the fence's reading of test_decoding's output lines (the write
// detector), on lines as PostgreSQL 14 prints them.
#include "pgparity/applier/cutover/source_fence.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pgparity::applier {
namespace {

using Lines = std::vector<std::string>;

std::vector<std::string> Tables(const Lines& lines, size_t limit = 10) {
  Result<std::vector<std::string>> r = TablesWrittenInTestDecoding(lines, limit);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<std::string>{};
}

TEST(TestDecodingWrites, NoLinesNoWrites) { EXPECT_TRUE(Tables({}).empty()); }

TEST(TestDecodingWrites, EachActionNamesItsTable) {
  EXPECT_EQ(Tables({"BEGIN 731",
                    "table public.users: INSERT: id[integer]:7 username[character varying]:'a: "
                    "b' email[character varying]:'x'",
                    "table public.orders: UPDATE: id[integer]:1 quantity[integer]:2",
                    "table s2.t: DELETE: id[integer]:3", "COMMIT 731"}),
            (std::vector<std::string>{"public.users", "public.orders", "s2.t"}));
}

TEST(TestDecodingWrites, DistinctInFirstSeenOrder) {
  EXPECT_EQ(
      Tables({"table public.b: INSERT: id[integer]:1", "table public.a: INSERT: id[integer]:1",
              "table public.b: DELETE: id[integer]:1"}),
      (std::vector<std::string>{"public.b", "public.a"}));
}

TEST(TestDecodingWrites, TruncateOfSeveralTables) {
  EXPECT_EQ(Tables({"table public.a, public.b: TRUNCATE: (no-flags)",
                    "table public.c: TRUNCATE: restart_seqs cascade"}),
            (std::vector<std::string>{"public.a", "public.b", "public.c"}));
}

TEST(TestDecodingWrites, QuotedNamesStayAsPrinted) {
  // quote_identifier: upper case, spaces, '.', ':' and doubled quotes.
  EXPECT_EQ(Tables({"table \"My Schema\".\"a.b: c\": INSERT: id[integer]:1",
                    "table public.\"say \"\"hi\"\", then\": UPDATE: id[integer]:1",
                    "table \"Ü\".x, \"T, 1\".\"y\": TRUNCATE: (no-flags)"}),
            (std::vector<std::string>{"\"My Schema\".\"a.b: c\"", "public.\"say \"\"hi\"\", then\"",
                                      "\"Ü\".x", "\"T, 1\".\"y\""}));
}

TEST(TestDecodingWrites, MessagesAndTransactionsAreNoWrites) {
  EXPECT_TRUE(
      Tables({"BEGIN 9",
              "message: transactional: 1 prefix: pgparity, sz: 5 content:table x.y: INSERT:",
              "COMMIT 9", "BEGIN", "COMMIT"})
          .empty());
}

TEST(TestDecodingWrites, AtMostTheLimit) {
  Lines lines;
  for (int i = 0; i < 25; ++i)
    lines.push_back("table public.t" + std::to_string(i) + ": INSERT: x");
  std::vector<std::string> tables = Tables(lines);
  ASSERT_EQ(tables.size(), 10u);
  EXPECT_EQ(tables.front(), "public.t0");
  EXPECT_EQ(tables.back(), "public.t9");
  EXPECT_EQ(Tables(lines, 3).size(), 3u);
}

TEST(TestDecodingWrites, UnreadableTableLineIsAnError) {
  for (const std::string line :
       {"table public: INSERT: x", "table \"open.t: INSERT: x", "table public.t INSERT: x",
        "table public.t: MERGE: x", "table public.a, public.b: INSERT: x", "table : INSERT:"}) {
    Result<std::vector<std::string>> r = TablesWrittenInTestDecoding(Lines{line});
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(line), std::string::npos) << r.status().ToString();
  }
}

}  // namespace
}  // namespace pgparity::applier
