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

// TLS and the password are libpq's: the DSN's sslmode and sslrootcert
// reach it untouched, and pgparity adds no password of its own (libpq then
// takes PGPASSWORD or the .pgpass file at connect).
TEST(ParseServerDsnTest, PassesTlsKeywordsThroughAndAddsNoPassword) {
  for (const char* dsn : {"host=h dbname=d sslmode=require sslrootcert=/x",
                          "postgresql://u@h/d?sslmode=require&sslrootcert=/x"}) {
    Result<ConnParams> p = ParseServerDsn(dsn, "source", "verify");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->Get("sslmode"), "require") << dsn;
    EXPECT_EQ(p->Get("sslrootcert"), "/x") << dsn;
    EXPECT_EQ(p->Get("password"), std::nullopt) << dsn;
    EXPECT_EQ(p->Get("passfile"), std::nullopt) << dsn;
  }
}

// libpq's reasons quote the offending token or the whole URI; the message
// keeps the reason and masks the password, in every form it was written.
TEST(ParseServerDsnTest, ErrorsMaskThePassword) {
  for (const char* dsn :
       {"postgresql://u:zq%2Fxw%zz@h/d", "postgresql://u:zq%2Fxw@[::1/d",
        "postgresql://u@h/d?password=zq%2Fxw%zz", "host=h password='zq/xw' nosuchkeyword=1"}) {
    Result<ConnParams> p = ParseServerDsn(dsn, "source", "verify");
    ASSERT_FALSE(p.ok()) << dsn;
    const std::string message(p.status().message());
    EXPECT_EQ(message.find("zq"), std::string::npos) << message;
    EXPECT_EQ(message.rfind("--source: invalid connection string: ", 0), 0u) << message;
  }
}

}  // namespace
}  // namespace pgparity::conn
