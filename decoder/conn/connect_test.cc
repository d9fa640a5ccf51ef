// ParseServerDsn: the defaults every command's connections share, and the
// error that names the flag the DSN came from. Pure: nothing connects.
#include "pgparity/conn/connect.h"

#include <gtest/gtest.h>

namespace pgparity::conn {
namespace {

TEST(ParseServerDsnTest, AddsTimeoutAndNamesTheCommand) {
  Result<ConnParams> p = ParseServerDsn("host=h dbname=d", "source", "audit");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->Get("connect_timeout"), "10");
  EXPECT_EQ(p->Get("application_name"), "pgparity audit");
  EXPECT_EQ(p->Get("host"), "h");
}

TEST(ParseServerDsnTest, TheUsersValuesWin) {
  Result<ConnParams> p = ParseServerDsn(
      "postgresql://u@h/d?connect_timeout=3&application_name=migration", "target", "verify");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->Get("connect_timeout"), "3");
  EXPECT_EQ(p->Get("application_name"), "migration");
}

TEST(ParseServerDsnTest, ErrorNamesTheFlagAndAnExample) {
  Result<ConnParams> p = ParseServerDsn("host=h nosuchkeyword=1", "dsn", "digest");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Status::Code::kInvalidArgument);
  const std::string message(p.status().message());
  EXPECT_EQ(message.rfind("--dsn: ", 0), 0u) << message;
  EXPECT_NE(message.find("nosuchkeyword"), std::string::npos) << message;
  EXPECT_NE(message.find("e.g. 'host=..."), std::string::npos) << message;
}

}  // namespace
}  // namespace pgparity::conn
