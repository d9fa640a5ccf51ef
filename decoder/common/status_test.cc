#include "pgparity/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "pgparity/result.h"

namespace pgparity {
namespace {

TEST(StatusTest, OkIsOnePointerAndHasNoMessage) {
  static_assert(sizeof(Status) == sizeof(void*));
  const Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s, Status::OK());
}

TEST(StatusTest, FactoriesSetCodeAndMessage) {
  EXPECT_EQ(Status::Corruption("bad").ToString(), "Corruption: bad");
  EXPECT_TRUE(Status::Corruption("bad").IsCorruption());
  EXPECT_TRUE(Status::NotSupported("x").IsNotSupported());
  EXPECT_TRUE(Status::InvalidArgument("x").IsInvalidArgument());
  EXPECT_EQ(Status::IOError("disk").code(), Status::Code::kIOError);
  EXPECT_EQ(Status::Internal("bug").ToString(), "Internal: bug");
  EXPECT_FALSE(Status::Corruption("").ok());  // an empty message is still an error
}

TEST(StatusTest, CopyIsDeepAndMoveLeavesSourceOk) {
  Status a = Status::Corruption("one");
  Status b = a;
  EXPECT_EQ(a, b);
  b = Status::IOError("two");
  EXPECT_EQ(a.message(), "one");
  Status c = std::move(b);
  EXPECT_EQ(c.message(), "two");
  const Status& alias = a;
  a = alias;  // self-assignment keeps the status
  EXPECT_EQ(a.message(), "one");
}

TEST(StatusTest, WithPrefixAddsContextAndKeepsCode) {
  const Status s = Status::Corruption("Insert.relid: need 4 bytes at offset 1, 2 left");
  const Status p = s.WithPrefix("LSN 0/16B3748");
  EXPECT_EQ(p.ToString(),
            "Corruption: LSN 0/16B3748: Insert.relid: need 4 bytes at offset 1, 2 left");
  EXPECT_EQ(s.message(), "Insert.relid: need 4 bytes at offset 1, 2 left");  // unchanged
  EXPECT_TRUE(Status::OK().WithPrefix("x").ok());
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::InvalidArgument("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  PGPARITY_ASSIGN_OR_RETURN(const int h, Half(v));
  PGPARITY_ASSIGN_OR_RETURN(auto q, Half(h));
  return q;
}

Status CheckEven(int v) {
  PGPARITY_RETURN_IF_ERROR(Half(v).status());
  return Status::OK();
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> ok = Half(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok.status().ok());
  EXPECT_EQ(*ok, 4);
  EXPECT_EQ(ok.value(), 4);

  Result<int> bad = Half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().ToString(), "Invalid argument: odd");
}

TEST(ResultTest, MacrosPropagateErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_FALSE(CheckEven(1).ok());
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ResultTest, OkStatusBecomesInternalError) {
  Result<int> r(Status::OK());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInternal);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> bad = Half(3);
  EXPECT_DEATH(static_cast<void>(bad.value()), "value\\(\\) of a failed Result");
}

}  // namespace
}  // namespace pgparity
