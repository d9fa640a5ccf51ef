// Least privilege (issue 18, docs/privileges.md): on a real 14 -> 16 pair,
// the roles are created by sql/pgparity-role-source.sql and
// sql/pgparity-role-target.sql, and every command of the binary runs as
// them. Then key grants are revoked one at a time: the command exits 2 with
// a message naming the missing grant and the GRANT that fixes it, and no
// slot of pgparity is left on the source.
#include <absl/cleanup/cleanup.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/scratch_dir.h"
#include "support/migration_env.h"
#include "support/subprocess.h"

namespace pgparity {
namespace {

using namespace std::chrono_literals;
using testing::MigrationServers;
using testing::PgServer;
using testing::ReadFile;
using testing::SqlClient;
using testing::Subprocess;

constexpr const char* kRole = "pgparity";
constexpr const char* kRepairRole = "pgparity_repair";
constexpr const char* kPassword = "least-privilege";

std::string DsnAs(const PgServer& s, const std::string& role) {
  return "host=127.0.0.1 port=" + std::to_string(s.port()) + " dbname=" + s.database() +
         " user=" + role + " password=" + kPassword;
}

class PrivilegesTest : public testing::MigrationFixture {
 protected:
  static void SetUpTestSuite() {
    MigrationFixture::SetUpTestSuite();
    MigrationServers& s = servers();
    testing::SetUpQuickStartPair(s);
    std::string out;
    // Twice each: the scripts are idempotent.
    for (int run = 0; run < 2; ++run) {
      if (testing::RunSqlScript(s.source, "pgparity-role-source.sql",
                                {{"role", kRole}, {"password", kPassword}}, &out) != 0 ||
          testing::RunSqlScript(s.target, "pgparity-role-target.sql",
                                {{"role", kRole},
                                 {"password", kPassword},
                                 {"repair_role", kRepairRole},
                                 {"repair_password", kPassword}},
                                &out) != 0) {
        throw std::runtime_error("the role scripts failed: " + out);
      }
    }
    SqlClient source(s.source.Dsn());
    testing::WaitForCatchUp(source, "my_subscription");
  }

  void SetUp() override {
    setenv("PGPASSFILE", (dir_ / "none").c_str(), 1);  // no ~/.pgpass of the test's user
  }

  std::string Source(const std::string& role = kRole) { return DsnAs(servers().source, role); }
  std::string Target(const std::string& role = kRole) { return DsnAs(servers().target, role); }

  // Runs pgparity with `args` to its end; its exit code, output in *log.
  int Run(const std::vector<std::string>& args, const std::string& name, std::string* log) {
    std::vector<std::string> argv{PGPARITY_CLI};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::filesystem::path file = dir_ / (name + ".log");
    std::filesystem::remove(file);  // Subprocess appends; *log is this run's
    Subprocess p(argv, file);
    const std::optional<int> code = p.WaitOrKill(120s);
    *log = ReadFile(file);
    return code.value_or(-1);
  }

  int Verify(std::string* log, const std::string& report = "") {
    std::vector<std::string> args{"verify", "--source",  Source(), "--target",
                                  Target(), "--timeout", "60"};
    if (!report.empty()) args.insert(args.end(), {"--report", report});
    return Run(args, "verify", log);
  }

  // Slots on the source other than the subscription's: a refused command
  // leaves none. Its temporary slot goes a moment after it exited: waited
  // for; a persistent one is there at once.
  std::string LeftoverSlots() {
    SqlClient source(servers().source.Dsn());
    testing::WaitForTemporarySlotsGone(source);
    return source.Value(
        "SELECT coalesce(string_agg(slot_name, ','), '') FROM pg_replication_slots "
        "WHERE slot_name <> 'my_subscription'");
  }

  // `command` exits 2 naming `grant`, and leaves no slot.
  void ExpectRefusedNaming(const std::vector<std::string>& command, const std::string& grant) {
    std::string log;
    EXPECT_EQ(Run(command, command[0], &log), 2) << log;
    EXPECT_NE(log.find(grant), std::string::npos) << "expected `" << grant << "` in:\n" << log;
    EXPECT_EQ(LeftoverSlots(), "");
  }

  testing::ScratchDir scratch_{"privileges"};
  const std::filesystem::path& dir_ = scratch_.path();
};

// audit until its first report, then SIGTERM; its slot dropped after.
void RunAuditBriefly(const std::string& source, const std::string& target,
                     const std::filesystem::path& dir) {
  const std::filesystem::path state = dir / "audit";
  const std::filesystem::path log = dir / "audit.log";
  Subprocess audit({PGPARITY_CLI, "audit", "--source", source, "--target", target, "--state-dir",
                    state.string(), "--slot", "privileges_audit", "--interval", "1"},
                   log);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!std::filesystem::exists(state / "report.json") && audit.Running() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(std::filesystem::exists(state / "report.json")) << ReadFile(log);
  audit.Signal(SIGTERM);
  EXPECT_EQ(audit.WaitOrKill(60s), 0) << ReadFile(log);
  EXPECT_EQ(ReadFile(log).find("warning full check failed"), std::string::npos) << ReadFile(log);
}

// tail until it shows a row inserted after its slot exists, then SIGTERM.
void RunTailBriefly(const std::string& source_dsn, SqlClient& source,
                    const std::filesystem::path& dir) {
  const std::filesystem::path log = dir / "tail.log";
  Subprocess tail({PGPARITY_CLI, "tail", "--source", source_dsn}, log);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  auto seen = [&](const std::string& text) {
    return ReadFile(log).find(text) != std::string::npos;
  };
  while (!seen("streaming") && tail.Running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  source.Exec("INSERT INTO users (username, email) VALUES ('tailed', 'tailed@example.com')");
  while (!seen("tailed@example.com") && tail.Running() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(seen("tailed@example.com")) << ReadFile(log);
  tail.Signal(SIGTERM);
  EXPECT_EQ(tail.WaitOrKill(60s), 0) << ReadFile(log);
}

TEST_F(PrivilegesTest, ReadOnlyCommandsRunAsTheScriptedRole) {
  std::string log;
  EXPECT_EQ(Run({"preflight", "--source", Source(), "--target", Target(), "--for",
                 "verify,audit,record,tail,digest,repair"},
                "preflight", &log),
            0)
      << log;
  EXPECT_NE(log.find("have what verify, audit, record, tail, digest, repair need"),
            std::string::npos)
      << log;
  // With the script's optional grants, preflight sees everything it reads.
  EXPECT_EQ(log.find("cannot see other roles' sessions"), std::string::npos) << log;
  EXPECT_EQ(log.find("not readable"), std::string::npos) << log;
  EXPECT_EQ(Verify(&log), 0) << log;
  for (const std::string& dsn : {Source(), Target()}) {
    EXPECT_EQ(Run({"digest", "--dsn", dsn, "--table", "public.users"}, "digest", &log), 0) << log;
    EXPECT_EQ(Run({"digest", "--dsn", dsn, "--table", "public.users", "--server-side"}, "sd", &log),
              0)
        << log;
  }
  RunAuditBriefly(Source(), Target(), dir_);
  SqlClient source(servers().source.Dsn());
  testing::DropSlotOnceReleased(source, "privileges_audit");

  const std::string lsn = source.Value("SELECT pg_current_wal_lsn()");
  EXPECT_EQ(Run({"record", "--source", Source(), "--slot", "privileges_record", "--out",
                 (dir_ / "rec").string(), "--until-lsn", lsn, "--status-interval", "0"},
                "record", &log),
            0)
      << log;
  testing::DropSlotOnceReleased(source, "privileges_record");
  EXPECT_EQ(LeftoverSlots(), "");
  RunTailBriefly(Source(), source, dir_);
  EXPECT_EQ(LeftoverSlots(), "");  // its slot was temporary
}

// A table whose policy shows the role no row, on both sides, and a row
// changed on the target only: the scripted role (BYPASSRLS) reads every
// row and names it. Before the scripts set BYPASSRLS and the sessions
// row_security=off, this verify read both sides as empty: "match".
TEST_F(PrivilegesTest, TheScriptedRoleReadsEveryRowOfATableWithRowLevelSecurity) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  const std::string id = target.Value("SELECT min(id) FROM orders");
  for (SqlClient* side : {&source, &target}) {
    side->Exec(
        "ALTER TABLE orders ENABLE ROW LEVEL SECURITY; CREATE POLICY nothing ON orders "
        "USING (false)");
  }
  target.Exec("UPDATE orders SET quantity = quantity + 1000 WHERE id = " + id);
  absl::Cleanup restore = [&] {
    target.Exec("UPDATE orders SET quantity = quantity - 1000 WHERE id = " + id);
    for (SqlClient* side : {&source, &target}) {
      side->Exec("DROP POLICY nothing ON orders; ALTER TABLE orders DISABLE ROW LEVEL SECURITY");
    }
  };
  std::string log;
  EXPECT_EQ(Verify(&log), 1) << log;
  EXPECT_NE(log.find("public.orders: mismatch"), std::string::npos) << log;
  EXPECT_NE(log.find("differs id=" + id + " columns: quantity"), std::string::npos) << log;
  EXPECT_EQ(LeftoverSlots(), "");
}

TEST_F(PrivilegesTest, RepairAppliesOnlyWithTheRepairRole) {
  SqlClient target(servers().target.Dsn());
  target.Exec("UPDATE users SET email = 'local@example.com' WHERE id = 1");
  const std::string report = (dir_ / "report.json").string();
  std::string log;
  ASSERT_EQ(Verify(&log, report), 1) << log;
  // Preflight says up front what the read-only role lacks for --apply.
  const std::vector<std::string> preflight{"preflight", "--source", Source(),      "--target",
                                           Target(),    "--for",    "repair-apply"};
  EXPECT_EQ(Run(preflight, "preflight", &log), 1) << log;
  for (const char* grant : {"GRANT SET ON PARAMETER session_replication_role TO \"",
                            "GRANT INSERT, UPDATE, DELETE ON TABLE \"public\".\"orders\", "
                            "\"public\".\"users\" TO \""}) {
    EXPECT_NE(log.find(grant + std::string(kRole) + "\""), std::string::npos) << grant << log;
  }
  EXPECT_EQ(Run({"preflight", "--source", Source(), "--target", Target(kRepairRole), "--for",
                 "repair-apply"},
                "preflight-repair", &log),
            0)
      << log;
  const std::vector<std::string> repair{"repair", "--source", Source(), "--target",
                                        Target(), "--report", report};
  EXPECT_EQ(Run(repair, "repair", &log), 0) << log;
  std::vector<std::string> apply = repair;
  apply.push_back("--apply");
  // The read-only role may not turn replication triggers off.
  ExpectRefusedNaming(
      apply, std::string("GRANT SET ON PARAMETER session_replication_role TO \"") + kRole + "\"");
  apply[4] = Target(kRepairRole);
  EXPECT_EQ(Run(apply, "apply", &log), 0) << log;
  EXPECT_EQ(Verify(&log), 0) << log;
}

TEST_F(PrivilegesTest, MissingOriginStatusGrantsAreNamed) {
  SqlClient target(servers().target.Dsn());
  const std::vector<std::string> verify{"verify", "--source",  Source(), "--target",
                                        Target(), "--timeout", "60"};
  target.Exec(std::string("REVOKE SELECT ON pg_replication_origin_status FROM ") + kRole);
  ExpectRefusedNaming(verify, std::string("GRANT SELECT ON pg_catalog.pg_replication_origin_status "
                                          "TO \"") +
                                  kRole + "\"");
  target.Exec(std::string("GRANT SELECT ON pg_replication_origin_status TO ") + kRole);
  target.Exec(std::string("REVOKE EXECUTE ON FUNCTION pg_show_replication_origin_status() FROM ") +
              kRole);
  ExpectRefusedNaming(verify, std::string("GRANT EXECUTE ON FUNCTION "
                                          "pg_catalog.pg_show_replication_origin_status() TO \"") +
                                  kRole + "\"");
  target.Exec(std::string("GRANT EXECUTE ON FUNCTION pg_show_replication_origin_status() TO ") +
              kRole);
}

TEST_F(PrivilegesTest, MissingReplicationAndTableGrantsAreNamed) {
  SqlClient source(servers().source.Dsn());
  const std::vector<std::string> verify{"verify", "--source",  Source(), "--target",
                                        Target(), "--timeout", "60"};
  source.Exec(std::string("ALTER ROLE ") + kRole + " NOREPLICATION");
  ExpectRefusedNaming(verify, std::string("ALTER ROLE \"") + kRole + "\" WITH LOGIN REPLICATION");
  const std::string lsn = source.Value("SELECT pg_current_wal_lsn()");
  ExpectRefusedNaming({"record", "--source", Source(), "--slot", "privileges_refused", "--out",
                       (dir_ / "rec").string(), "--until-lsn", lsn},
                      "WITH LOGIN REPLICATION");
  source.Exec(std::string("ALTER ROLE ") + kRole + " REPLICATION");

  source.Exec(std::string("REVOKE SELECT ON orders FROM ") + kRole);
  const std::string grant = std::string("GRANT SELECT ON TABLE \"orders\" TO \"") + kRole + "\"";
  ExpectRefusedNaming(verify, grant);
  ExpectRefusedNaming({"digest", "--dsn", Source(), "--table", "public.orders"}, grant);
  source.Exec(std::string("GRANT SELECT ON orders TO ") + kRole);
}

// Each grant of the scripts, revoked alone: preflight reports it up front
// (exit 1, blocking) with the statement that restores it, and verify,
// which needs it too, is refused naming it.
TEST_F(PrivilegesTest, PreflightNamesEachMissingGrantUpFront) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  const std::string role = kRole;
  const std::string to = " TO \"" + role + "\";";
  struct Revoked {
    SqlClient& side;
    std::string revoke, restore, grant;
  } cases[] = {
      {source, "ALTER ROLE " + role + " NOREPLICATION", "ALTER ROLE " + role + " REPLICATION",
       "ALTER ROLE \"" + role + "\" WITH LOGIN REPLICATION;"},
      // PUBLIC has USAGE on public by default on PostgreSQL 14.
      {source, "REVOKE USAGE ON SCHEMA public FROM PUBLIC, " + role,
       "GRANT USAGE ON SCHEMA public TO PUBLIC, " + role, "GRANT USAGE ON SCHEMA \"public\"" + to},
      {source, "REVOKE SELECT ON orders FROM " + role, "GRANT SELECT ON orders TO " + role,
       "GRANT SELECT ON TABLE \"public\".\"orders\"" + to},
      {target, "REVOKE SELECT ON users FROM " + role, "GRANT SELECT ON users TO " + role,
       "GRANT SELECT ON TABLE \"public\".\"users\"" + to},
      {target, "REVOKE SELECT ON pg_replication_origin_status FROM " + role,
       "GRANT SELECT ON pg_replication_origin_status TO " + role,
       "GRANT SELECT ON pg_catalog.pg_replication_origin_status" + to},
      {target, "REVOKE EXECUTE ON FUNCTION pg_show_replication_origin_status() FROM " + role,
       "GRANT EXECUTE ON FUNCTION pg_show_replication_origin_status() TO " + role,
       "GRANT EXECUTE ON FUNCTION pg_catalog.pg_show_replication_origin_status()" + to},
      // Row-level security without a policy shows the role no row: before
      // row_security=off, verify read both sides' orders as empty and
      // called them a match.
      {source, "ALTER TABLE orders ENABLE ROW LEVEL SECURITY; ALTER ROLE " + role + " NOBYPASSRLS",
       "ALTER ROLE " + role + " BYPASSRLS; ALTER TABLE orders DISABLE ROW LEVEL SECURITY",
       "ALTER ROLE \"" + role + "\" BYPASSRLS;"},
      {target, "ALTER TABLE users ENABLE ROW LEVEL SECURITY; ALTER ROLE " + role + " NOBYPASSRLS",
       "ALTER ROLE " + role + " BYPASSRLS; ALTER TABLE users DISABLE ROW LEVEL SECURITY",
       "ALTER ROLE \"" + role + "\" BYPASSRLS;"},
  };
  const std::vector<std::string> preflight{"preflight", "--source", Source(), "--target", Target()};
  const std::vector<std::string> verify{"verify", "--source",  Source(), "--target",
                                        Target(), "--timeout", "60"};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.revoke);
    c.side.Exec(c.revoke);
    std::string log;
    EXPECT_EQ(Run(preflight, "preflight", &log), 1) << log;
    EXPECT_NE(log.find("\nprivileges\n  BLOCKING"), std::string::npos) << log;
    EXPECT_NE(log.find(c.grant), std::string::npos) << c.grant << "\n" << log;
    // verify fails on it too, naming the grant (without the schema-qualified
    // table: the server's message has none).
    const std::string named = c.grant.substr(0, c.grant.find(" ON TABLE ") == std::string::npos
                                                    ? c.grant.size() - 1
                                                    : c.grant.find(" ON TABLE ") + 9);
    ExpectRefusedNaming(verify, named);
    c.side.Exec(c.restore);
  }
  std::string log;
  EXPECT_EQ(Run(preflight, "preflight", &log), 0) << log;
}

// A PostgreSQL 14 target (here a 14 server in both roles): the
// target script runs there without GRANT SET ON PARAMETER, which 14 lacks,
// and preflight says repair --apply then needs a superuser; the read-only
// grants are the same as on 16.
TEST_F(PrivilegesTest, OnAPostgres14TargetRepairApplyNeedsASuperuser) {
  // The pair's source when it is a 14, else a 14 of the test's own.
  std::unique_ptr<PgServer> own;
  if (testing::SourceMajor() != 14) own = std::make_unique<PgServer>(14, "sourcedb");
  const PgServer& pg14 = own ? *own : servers().source;
  std::string out;
  ASSERT_EQ(testing::RunSqlScript(pg14, "pgparity-role-target.sql",
                                  {{"role", "pgparity_t14"},
                                   {"password", kPassword},
                                   {"repair_role", "pgparity_t14_repair"},
                                   {"repair_password", kPassword}},
                                  &out),
            0)
      << out;
  EXPECT_NE(out.find("PostgreSQL 14 cannot GRANT SET ON PARAMETER"), std::string::npos) << out;
  std::string log;
  EXPECT_EQ(Run({"preflight", "--source", Source(), "--target", DsnAs(pg14, "pgparity_t14"),
                 "--for", "digest,repair", "--subscription", "none_here"},
                "preflight14", &log),
            2)
      << log;  // no such subscription on the "target": named, exit 2
  EXPECT_EQ(Run({"preflight", "--source", Source(), "--target", DsnAs(pg14, "pgparity_t14_repair"),
                 "--for", "repair-apply"},
                "preflight14", &log),
            1)
      << log;
  EXPECT_NE(log.find("before PostgreSQL 15 only a superuser may set it (needed by repair-apply)"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("lacks"), std::string::npos) << log;  // every table grant is there
}

}  // namespace
}  // namespace pgparity
