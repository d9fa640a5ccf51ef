#include "pgparity/conn/pg_handle.h"

#include <gtest/gtest.h>

#include <string>

#include "conn/testing_servers.h"
#include "support/pg_server.h"

namespace pgparity::conn {
namespace {

using testing::SharedServer;

TEST(ConnParamsTest, ParsesConninfoAndUri) {
  Result<ConnParams> a = ConnParams::Parse("host=h port=5433 dbname=d user=u");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->Get("host"), "h");
  EXPECT_EQ(a->Get("port"), "5433");
  EXPECT_EQ(a->Describe(), "h:5433/d");

  Result<ConnParams> b = ConnParams::Parse("postgresql://u:secret@h2:6000/db2?sslmode=disable");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->Get("host"), "h2");
  EXPECT_EQ(b->Get("dbname"), "db2");
  EXPECT_EQ(b->Get("sslmode"), "disable");
  EXPECT_EQ(b->Describe().find("secret"), std::string::npos);

  EXPECT_TRUE(ConnParams::Parse("").ok());
}

TEST(ConnParamsTest, ConninfoStringRoundTripsThroughLibpq) {
  ConnParams p;
  p.Set("host", "127.0.0.1");
  p.Set("password", "it's a \\ secret");
  p.Set("dbname", "db with space");
  const std::string text = ConninfoString(p);
  EXPECT_EQ(text, "host='127.0.0.1' password='it\\'s a \\\\ secret' dbname='db with space'");
  auto back = ConnParams::Parse(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->Get("password"), "it's a \\ secret");
  EXPECT_EQ(back->Get("dbname"), "db with space");
}

TEST(ConnParamsTest, InvalidDsnDoesNotEchoThePassword) {
  Result<ConnParams> p = ConnParams::Parse("host=h password=hunter2 bogus_keyword=1");
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.status().IsInvalidArgument());
  EXPECT_EQ(p.status().ToString().find("hunter2"), std::string::npos) << p.status().ToString();
}

TEST(ConnParamsTest, PinnedFormatsGoAfterTheUsersOptions) {
  ConnParams p = *ConnParams::Parse("host=h options='-c work_mem=8MB' client_encoding=LATIN1");
  ConnParams pinned = p.WithPinnedFormats();
  EXPECT_EQ(pinned.Get("options"), "-c work_mem=8MB " + std::string(kPinnedServerOptions));
  EXPECT_EQ(pinned.Get("client_encoding"), "UTF8");
  EXPECT_EQ(ConnParams().WithPinnedFormats().Get("options"), std::string(kPinnedServerOptions));
}

TEST(OneLineTest, CollapsesWhitespace) {
  EXPECT_EQ(OneLine("connection failed:\nFATAL:  password  wrong\n"),
            "connection failed: FATAL: password wrong");
}

TEST(PgSessionTest, PinsTextFormatsAndKeepsUserOptions) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  Result<PgSession> s = PgSession::Connect(server.Dsn() + " options='-c work_mem=8MB'");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<QueryResult> r = s->Query(
      "SELECT current_setting('DateStyle'), current_setting('IntervalStyle'), "
      "current_setting('TimeZone'), current_setting('extra_float_digits'), "
      "current_setting('bytea_output'), current_setting('client_encoding'), "
      "current_setting('work_mem'), current_setting('row_security')");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Value(0, 0).substr(0, 3), "ISO");
  EXPECT_EQ(r->Value(0, 1), "postgres");
  EXPECT_EQ(r->Value(0, 2), "UTC");
  EXPECT_EQ(r->Value(0, 3), "3");
  EXPECT_EQ(r->Value(0, 4), "hex");
  EXPECT_EQ(r->Value(0, 5), "UTF8");
  EXPECT_EQ(r->Value(0, 6), "8MB");
  EXPECT_EQ(r->Value(0, 7), "off");
  EXPECT_EQ(s->server_version() / 10000, pgparity::testing::SourceMajor());
}

TEST(PgSessionTest, ExecQueryParamsAndNulls) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  Result<PgSession> s = PgSession::Connect(server.Dsn());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(s->Exec("CREATE TEMP TABLE t(a int, b text); INSERT INTO t VALUES (1, 'x'), "
                      "(2, NULL)")
                  .ok());
  Result<QueryResult> r =
      s->Query("SELECT a, b FROM t WHERE a >= $1 OR b = $2 ORDER BY a", {"1", std::nullopt});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows(), 2);
  EXPECT_EQ(r->ColumnIndex("b"), 1);
  EXPECT_EQ(r->ColumnIndex("nope"), -1);
  EXPECT_EQ(r->Get(0, 1), std::optional<std::string_view>("x"));
  EXPECT_EQ(r->Get(1, 1), std::nullopt);
  EXPECT_TRUE(r->IsNull(1, 1));
}

TEST(PgSessionTest, ErrorsCarryTheServerMessageAndCode) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  Result<PgSession> s = PgSession::Connect(server.Dsn());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Status syntax = s->Exec("SELEC 1");
  EXPECT_TRUE(syntax.IsInvalidArgument()) << syntax.ToString();
  EXPECT_NE(syntax.ToString().find("42601"), std::string::npos) << syntax.ToString();
  Result<QueryResult> missing = s->Query("SELECT * FROM no_such_table");
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  EXPECT_NE(missing.status().ToString().find("no_such_table"), std::string::npos);
  // The session still works after an error.
  EXPECT_TRUE(s->Exec("SELECT 1").ok());
}

TEST(PgSessionTest, WrongPasswordIsAnAuthenticationError) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  std::string dsn = server.Dsn();
  dsn.replace(dsn.find("password=postgres"), 17, "password=wrong");
  Result<PgSession> s = PgSession::Connect(dsn);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kUnauthenticated) << s.status().ToString();
  EXPECT_NE(s.status().ToString().find("127.0.0.1:" + std::to_string(server.port())),
            std::string::npos)
      << s.status().ToString();
  EXPECT_EQ(s.status().ToString().find("=wrong"), std::string::npos);
}

TEST(PgSessionTest, MissingPasswordIsAnAuthenticationError) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  std::string dsn = server.Dsn();
  dsn.replace(dsn.find("password=postgres"), 17, "passfile=/nonexistent");
  Result<PgSession> s = PgSession::Connect(dsn);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kUnauthenticated) << s.status().ToString();
}

TEST(PgSessionTest, NothingListeningIsUnavailable) {
  const int port = pgparity::testing::FreePort();
  Result<PgSession> s = PgSession::Connect("host=127.0.0.1 port=" + std::to_string(port) +
                                           " dbname=x user=postgres connect_timeout=5");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsUnavailable()) << s.status().ToString();
  EXPECT_NE(s.status().ToString().find(std::to_string(port)), std::string::npos);
}

TEST(PgSessionTest, MissingDatabaseIsNotFound) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  Result<PgSession> s = PgSession::Connect(server.Dsn("no_such_db"));
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsNotFound()) << s.status().ToString();
}

}  // namespace
}  // namespace pgparity::conn
