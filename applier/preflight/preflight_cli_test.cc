// `pgparity preflight` as a user runs it: exit codes, one-line errors
// naming the side, the JSON document, and bounded waits.
#include <arpa/inet.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "preflight/preflight_test_env.h"

namespace pgparity::applier {
namespace {

using testing::FreePort;
using testing::PgServer;
using testing::SqlClient;

size_t CountLines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

std::string Dsn(const PgServer& s, const std::string& password = "postgres") {
  return "host=127.0.0.1 port=" + std::to_string(s.port()) + " dbname=" + s.database() +
         " user=postgres password=" + password;
}

// Without servers.

class PreflightCliUsageTest : public ::testing::Test {
 protected:
  static Cli Run(const std::string& args) { return RunCli(args); }
};

TEST_F(PreflightCliUsageTest, BadOptionsAreUsageErrors) {
  auto r = Run("preflight --source x --target y --bogus");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_EQ(CountLines(r.output), 1u) << r.output;
  EXPECT_EQ(r.output.rfind("pgparity preflight: error: ", 0), 0u) << r.output;

  r = Run("preflight --target 'host=127.0.0.1'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--source is required"), std::string::npos) << r.output;

  r = Run("preflight --source 'host=127.0.0.1'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--target is required"), std::string::npos) << r.output;

  // The target's DSN is checked before the source is connected.
  r = Run("preflight --source 'host=127.0.0.1 port=1' --target 'port=5432 dbname'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--target: invalid connection string"), std::string::npos) << r.output;

  r = Run("preflight --source 'this is not a dsn' --target 'host=127.0.0.1'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--source: invalid connection string"), std::string::npos) << r.output;

  r = Run("preflight --help");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("--subscription"), std::string::npos) << r.output;
}

TEST_F(PreflightCliUsageTest, NothingListeningIsAConnectionError) {
  const std::string dsn =
      "host=127.0.0.1 port=" + std::to_string(FreePort()) + " dbname=x user=postgres";
  auto r = Run("preflight --source " + ShellQuote(dsn) + " --target " + ShellQuote(dsn));
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_EQ(CountLines(r.output), 1u) << r.output;
  EXPECT_NE(r.output.find("pgparity preflight: error: cannot connect to the source ("),
            std::string::npos)
      << r.output;
}

// A listener that accepts TCP connections but never speaks: without
// connect_timeout in the DSN, pgparity adds 10 s instead of hanging.
TEST_F(PreflightCliUsageTest, SilentServerTimesOutInsteadOfHanging) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string dsn = "host=127.0.0.1 port=" + std::to_string(ntohs(addr.sin_port)) +
                          " dbname=x user=postgres password=x";
  const auto start = std::chrono::steady_clock::now();
  auto r = Run("preflight --source " + ShellQuote(dsn) + " --target " + ShellQuote(dsn));
  const auto took = std::chrono::steady_clock::now() - start;
  close(fd);
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("cannot connect to the source ("), std::string::npos) << r.output;
  EXPECT_EQ(CountLines(r.output), 1u) << r.output;
  EXPECT_LT(took, std::chrono::seconds(30));
}

// With the migration pair.

class PreflightCliTest : public PreflightFixture {};

TEST_F(PreflightCliTest, ReadyIsExitZeroWithParsableJson) {
  const std::string args = "preflight --source " + ShellQuote(Dsn(servers().source)) +
                           " --target " + ShellQuote(Dsn(servers().target));
  auto text = RunCli(args);
  EXPECT_EQ(text.code, 0) << text.output;
  EXPECT_NE(text.output.find("\nverdict: ready — 0 blocking, 2 warnings"), std::string::npos)
      << text.output;

  auto json = RunCli(args + " --json", /*stdout_only=*/true);
  EXPECT_EQ(json.code, 0) << json.output;
  google::protobuf::Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.output, &doc).ok()) << json.output;
  EXPECT_TRUE(doc.fields().at("ready").bool_value());
  int sequences = 0;
  for (const auto& v : doc.fields().at("findings").list_value().values()) {
    const auto& f = v.struct_value().fields();
    for (const char* key : {"check", "severity", "object", "detail", "fix"}) {
      EXPECT_TRUE(f.contains(key)) << key;
    }
    EXPECT_NE(f.at("severity").string_value(), "blocking");
    if (f.at("check").string_value() == "sequence") {
      ++sequences;
      EXPECT_NE(f.at("detail").string_value().find("source last_value"), std::string::npos);
    }
  }
  EXPECT_EQ(sequences, 2);
  const auto& summary = doc.fields().at("summary").struct_value().fields();
  EXPECT_EQ(summary.at("blocking").number_value(), 0);
  EXPECT_EQ(summary.at("publication").string_value(), "my_publication");
  EXPECT_EQ(summary.at("subscription").string_value(), "my_subscription");
}

TEST_F(PreflightCliTest, BlockingProblemIsExitOneAndWarningsAreNot) {
  SqlClient source(servers().source.Dsn());
  const std::string args = "preflight --source " + ShellQuote(Dsn(servers().source)) +
                           " --target " + ShellQuote(Dsn(servers().target));
  source.Exec("CREATE UNLOGGED TABLE public.cli_scratch (id integer PRIMARY KEY)");
  Cleanup drop_unlogged([&] { source.Exec("DROP TABLE IF EXISTS public.cli_scratch"); });
  auto r = RunCli(args);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("warning   public.cli_scratch"), std::string::npos) << r.output;

  source.Exec("CREATE TABLE public.cli_only_source (id integer PRIMARY KEY)");
  Cleanup drop([&] { source.Exec("DROP TABLE IF EXISTS public.cli_only_source"); });
  r = RunCli(args);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("BLOCKING  public.cli_only_source"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\nverdict: 1 blocking problem — "), std::string::npos) << r.output;

  auto json = RunCli(args + " --json", /*stdout_only=*/true);
  EXPECT_EQ(json.code, 1);
  google::protobuf::Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.output, &doc).ok()) << json.output;
  EXPECT_FALSE(doc.fields().at("ready").bool_value());
}

TEST_F(PreflightCliTest, WrongPasswordNamesTheSide) {
  auto r = RunCli("preflight --source " + ShellQuote(Dsn(servers().source)) + " --target " +
                  ShellQuote(Dsn(servers().target, "wrong")));
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_EQ(CountLines(r.output), 1u) << r.output;
  EXPECT_NE(r.output.find("error: cannot connect to the target ("), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("password"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("wrong"), std::string::npos) << "password leaked: " << r.output;

  r = RunCli("preflight --source " + ShellQuote(Dsn(servers().source, "wrong")) + " --target " +
             ShellQuote(Dsn(servers().target)));
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("error: cannot connect to the source ("), std::string::npos) << r.output;
}

TEST_F(PreflightCliTest, UnknownPublicationOrSubscriptionIsUsageError) {
  const std::string args = "preflight --source " + ShellQuote(Dsn(servers().source)) +
                           " --target " + ShellQuote(Dsn(servers().target));
  auto r = RunCli(args + " --publication nope");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_EQ(CountLines(r.output), 1u) << r.output;
  EXPECT_NE(r.output.find("error: publication \"nope\" does not exist on the source"),
            std::string::npos)
      << r.output;

  r = RunCli(args + " --subscription nope --json");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("error: subscription \"nope\" does not exist"), std::string::npos)
      << r.output;

  r = RunCli(args + " --subscription my_subscription --publication my_publication");
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST_F(PreflightCliTest, TargetNotListeningIsAConnectionError) {
  auto r = RunCli("preflight --source " + ShellQuote(Dsn(servers().source)) +
                  " --target 'host=127.0.0.1 port=" + std::to_string(FreePort()) +
                  " dbname=targetdb user=postgres password=postgres'");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_EQ(CountLines(r.output), 1u) << r.output;
  EXPECT_NE(r.output.find("error: cannot connect to the target ("), std::string::npos) << r.output;
}

}  // namespace
}  // namespace pgparity::applier
