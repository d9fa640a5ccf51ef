#include "pgparity/wire/lsn.h"

#include <gtest/gtest.h>

#include <sstream>

namespace pgparity::wire {
namespace {

TEST(LsnTest, ParsesAndPrintsLikePostgres) {
  EXPECT_EQ(Lsn::Parse("0/16B3748")->value(), 0x16B3748u);
  EXPECT_EQ(Lsn::Parse("16/b374d848")->value(), 0x16B374D848u);
  EXPECT_EQ(Lsn::Parse("FFFFFFFF/FFFFFFFF")->value(), UINT64_MAX);
  EXPECT_EQ(Lsn(0x16B374D848).ToString(), "16/B374D848");
  EXPECT_EQ(Lsn().ToString(), "0/0");
  EXPECT_EQ(Lsn(0x100000000).ToString(), "1/0");
  for (const char* text : {"0/0", "1/0", "0/1", "A/BCDEF012", "FFFFFFFF/FFFFFFFF"}) {
    EXPECT_EQ(Lsn::Parse(text)->ToString(), text);
  }
}

TEST(LsnTest, RejectsMalformedText) {
  for (const char* text : {"", "/", "0/", "/0", "0", "0//0", "0/0/0", "g/0", "0/-1", " 0/0", "0/0 ",
                           "123456789/0", "0/123456789", "+1/0", "0x1/0"}) {
    Result<Lsn> r = Lsn::Parse(text);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << text;
  }
  EXPECT_EQ(Lsn::Parse("zz").status().message(),
            "invalid LSN \"zz\": expected X/X, 1 to 8 hex digits each");
}

TEST(LsnTest, ComparesAsNumbers) {
  EXPECT_LT(*Lsn::Parse("0/FFFFFFFF"), *Lsn::Parse("1/0"));
  EXPECT_EQ(*Lsn::Parse("1/A"), Lsn(0x10000000A));
  EXPECT_GT(Lsn(2), Lsn(1));
  EXPECT_FALSE(Lsn().valid());
  EXPECT_TRUE(Lsn(1).valid());
}

TEST(LsnTest, StreamsAsText) {
  std::ostringstream os;
  os << Lsn(0x16B3748);
  EXPECT_EQ(os.str(), "0/16B3748");
}

}  // namespace
}  // namespace pgparity::wire
