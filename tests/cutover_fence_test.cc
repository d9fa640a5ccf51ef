// The fence of the source (cutover phase 4, applier/cutover/source_fence.h)
// on a real 14 -> 16 pair with the quick start's subscription running: the
// application role's sessions terminated and its new ones refused, the
// subscription's walsender untouched, the write detector naming a write
// that slipped past, Lower restoring the database's setting exactly, and
// Check's refusals (a prepared transaction, a role without the rights).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pgparity/applier/cutover/source_fence.h"
#include "pgparity/conn/connect.h"
#include "pgparity/wire/lsn.h"
#include "support/migration_env.h"

namespace pgparity {
namespace {

using applier::FenceOptions;
using applier::FenceRecord;
using applier::SourceFence;
using testing::MigrationServers;
using testing::SqlClient;

// The test's own sessions are "pgparity..." so the fence keeps them.
constexpr char kControlApp[] = "pgparity fence test";

std::string RoleDsn(const testing::PgServer& server, const std::string& role) {
  return "host=127.0.0.1 port=" + std::to_string(server.port()) + " dbname=" + server.database() +
         " user=" + role + " password=" + role + " connect_timeout=10";
}

conn::ConnParams Params(const std::string& dsn, const std::string& application_name) {
  Result<conn::ConnParams> p = conn::ParseServerDsn(dsn, "source", "cutover");
  if (!p.ok()) throw std::runtime_error(p.status().ToString());
  p->Set("application_name", application_name);
  return *p;
}

conn::PgSession Connect(const std::string& dsn, const std::string& application_name) {
  Result<conn::PgSession> s = conn::PgSession::Connect(Params(dsn, application_name));
  if (!s.ok()) throw std::runtime_error(s.status().ToString());
  return std::move(*s);
}

std::unique_ptr<SourceFence> OpenFence(const std::string& dsn) {
  Result<std::unique_ptr<SourceFence>> f = SourceFence::Open(Params(dsn, kControlApp), {});
  if (!f.ok()) throw std::runtime_error(f.status().ToString());
  return std::move(*f);
}

class CutoverFenceTest : public ::testing::Test {
 protected:
  // A setup that throws would only skip the tests: keep its reason, fail each.
  static void SetUpTestSuite() {
    try {
      SetUpServers();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  void SetUp() override {
    if (!setup_error_.empty()) GTEST_FAIL() << "setting up the 14 -> 16 pair: " << setup_error_;
  }
  // The source allows prepared transactions (ALTER SYSTEM + restart: pgenv.sh
  // does not set max_prepared_transactions on the command line).
  static void SetUpServers() {
    servers_ = std::make_unique<MigrationServers>();
    SqlClient(servers_->source.Dsn()).Exec("ALTER SYSTEM SET max_prepared_transactions = 4");
    servers_->source.Restart();
    testing::SetUpQuickStartPair(*servers_);
    SqlClient source(servers_->source.Dsn());
    source.Exec(
        "CREATE ROLE app LOGIN PASSWORD 'app';"
        "GRANT SELECT, INSERT, UPDATE, DELETE ON users TO app;"
        "GRANT USAGE ON SEQUENCE users_id_seq TO app;"
        "CREATE ROLE weak LOGIN PASSWORD 'weak';"
        // Every right but superuser: may fence, but not end a superuser's session.
        "CREATE ROLE fencer LOGIN REPLICATION PASSWORD 'fencer';"
        "GRANT pg_signal_backend, pg_read_all_stats TO fencer;"
        "GRANT postgres TO fencer");
  }
  static void TearDownTestSuite() { servers_.reset(); }

  static MigrationServers& servers() { return *servers_; }
  static std::string SourceDsn() { return servers_->source.Dsn(); }
  SqlClient Control() { return SqlClient(SourceDsn() + " application_name='" + kControlApp + "'"); }

  // The database-level settings of sourcedb ("" when it has none).
  std::string DatabaseSettings() {
    return Control().Value(
        "SELECT coalesce(array_to_string(setconfig, ','), '') FROM pg_database d LEFT JOIN "
        "pg_db_role_setting s ON s.setdatabase = d.oid AND s.setrole = 0 "
        "WHERE d.datname = 'sourcedb'");
  }
  std::string DetectorSlots() {
    return Control().Value(
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'pgparity_fence_%'");
  }

 private:
  static std::unique_ptr<MigrationServers> servers_;
  static std::string setup_error_;
};

std::unique_ptr<MigrationServers> CutoverFenceTest::servers_;
std::string CutoverFenceTest::setup_error_;

TEST_F(CutoverFenceTest, RaiseEndsTheApplicationsSessionsAndRefusesItsWrites) {
  const std::string app = RoleDsn(servers().source, "app");
  conn::PgSession idle = Connect(app, "app idle");
  conn::PgSession open = Connect(app, "app open");
  ASSERT_TRUE(
      open.Exec("BEGIN; INSERT INTO users (username, email) VALUES ('fence-open', 'o')").ok());
  std::unique_ptr<SourceFence> fence = OpenFence(SourceDsn());
  EXPECT_EQ(fence->database(), "sourcedb");
  ASSERT_TRUE(fence->Check().ok());
  // The end of the last write acknowledged before the fence (its commit).
  SqlClient writer = Control();
  writer.Exec("INSERT INTO users (username, email) VALUES ('fence-before', 'b')");
  Result<wire::Lsn> acknowledged =
      wire::Lsn::Parse(writer.Value("SELECT pg_current_wal_insert_lsn()"));
  ASSERT_TRUE(acknowledged.ok());

  Result<FenceRecord> record = fence->Raise();
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_TRUE(record->lsn.valid());
  EXPECT_GE(record->lsn, *acknowledged);
  EXPECT_GE(record->terminated, 2);
  EXPECT_EQ(record->previous, std::nullopt);
  EXPECT_EQ(DatabaseSettings(), "default_transaction_read_only=on");

  EXPECT_FALSE(idle.Query("SELECT 1").ok());
  EXPECT_FALSE(open.Exec("COMMIT").ok());
  SqlClient control = Control();
  EXPECT_EQ(control.Value("SELECT count(*) FROM users WHERE username = 'fence-open'"), "0");
  EXPECT_EQ(control.Value("SELECT count(*) FROM pg_stat_replication WHERE application_name = "
                          "'my_subscription'"),
            "1");

  conn::PgSession late = Connect(app, "app late");
  Status refused = late.Exec("INSERT INTO users (username, email) VALUES ('fence-late', 'l')");
  EXPECT_NE(refused.message().find("SQLSTATE 25006"), std::string::npos) << refused.ToString();

  Result<std::vector<std::string>> writes = fence->WritesSinceFence();
  ASSERT_TRUE(writes.ok()) << writes.status().ToString();
  EXPECT_TRUE(writes->empty());

  // A superuser may lift the fence for its own session: the detector sees it.
  conn::PgSession bold = Connect(SourceDsn(), "bold");
  ASSERT_TRUE(bold.Exec("SET default_transaction_read_only = off").ok());
  ASSERT_TRUE(bold.Exec("INSERT INTO users (username, email) VALUES ('fence-bold', 'b')").ok());
  writes = fence->WritesSinceFence();
  ASSERT_TRUE(writes.ok()) << writes.status().ToString();
  EXPECT_EQ(*writes, std::vector<std::string>{"public.users"});
  writes = fence->WritesSinceFence();  // peeked, not consumed
  ASSERT_TRUE(writes.ok());
  EXPECT_EQ(*writes, std::vector<std::string>{"public.users"});
  EXPECT_EQ(DetectorSlots(), "1");

  ASSERT_TRUE(fence->Lower().ok());
  EXPECT_EQ(DatabaseSettings(), "");
  EXPECT_EQ(DetectorSlots(), "0");
  EXPECT_TRUE(fence->Lower().ok());  // idempotent
  conn::PgSession after = Connect(app, "app after");
  EXPECT_TRUE(after.Exec("INSERT INTO users (username, email) VALUES ('fence-after', 'a')").ok());
}

TEST_F(CutoverFenceTest, LowerRestoresThePreviousSettingExactly) {
  Control().Exec("ALTER DATABASE sourcedb SET default_transaction_read_only = off");
  std::unique_ptr<SourceFence> fence = OpenFence(SourceDsn());
  Result<FenceRecord> record = fence->Raise();
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->previous, std::optional<std::string>("off"));
  EXPECT_EQ(DatabaseSettings(), "default_transaction_read_only=on");
  EXPECT_FALSE(fence->Raise().ok());  // already raised
  ASSERT_TRUE(fence->Lower().ok());
  EXPECT_EQ(DatabaseSettings(), "default_transaction_read_only=off");
  EXPECT_EQ(DetectorSlots(), "0");
  Control().Exec("ALTER DATABASE sourcedb RESET default_transaction_read_only");
}

TEST_F(CutoverFenceTest, KeepLeavesTheDatabaseReadOnlyAndDropsTheDetector) {
  std::unique_ptr<SourceFence> fence = OpenFence(SourceDsn());
  ASSERT_TRUE(fence->Raise().ok());
  ASSERT_TRUE(fence->Keep().ok());
  EXPECT_EQ(DatabaseSettings(), "default_transaction_read_only=on");
  EXPECT_EQ(DetectorSlots(), "0");
  ASSERT_TRUE(fence->Lower().ok());  // the way back still works
  EXPECT_EQ(DatabaseSettings(), "");
}

// The fence's session lost after Raise (its temporary slot went with it):
// Lower reconnects to a database that is read-only by now and restores it.
TEST_F(CutoverFenceTest, LowerAfterTheFencesSessionWasLost) {
  Result<std::unique_ptr<SourceFence>> opened =
      SourceFence::Open(Params(SourceDsn(), "pgparity lost fence"), {});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<SourceFence> fence = std::move(*opened);
  ASSERT_TRUE(fence->Raise().ok());
  EXPECT_EQ(Control().Value("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE application_name = 'pgparity lost fence'"),
            "1");
  Status lowered = fence->Lower();
  ASSERT_TRUE(lowered.ok()) << lowered.ToString();
  EXPECT_EQ(DatabaseSettings(), "");
  EXPECT_EQ(DetectorSlots(), "0");
}

// The detector's slot waits for every transaction holding an xid on the
// server, also in another database (whose sessions the fence leaves alone):
// bounded by the timeout, and Lower still restores.
TEST_F(CutoverFenceTest, DetectorWaitIsBounded) {
  SqlClient other(servers().source.Dsn("postgres"));
  other.Exec("BEGIN; SELECT txid_current()");
  FenceOptions options;
  options.timeout = std::chrono::milliseconds(500);
  Result<std::unique_ptr<SourceFence>> opened =
      SourceFence::Open(Params(SourceDsn(), kControlApp), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<SourceFence> fence = std::move(*opened);
  Result<FenceRecord> record = fence->Raise();
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), Status::Code::kDeadlineExceeded) << record.status().ToString();
  other.Exec("COMMIT");
  ASSERT_TRUE(fence->Lower().ok());
  EXPECT_EQ(DatabaseSettings(), "");
  EXPECT_EQ(DetectorSlots(), "0");
}

TEST_F(CutoverFenceTest, PreparedTransactionIsRefused) {
  SqlClient control = Control();
  if (control.Value("SHOW max_prepared_transactions") == "0") {
    GTEST_SKIP() << "max_prepared_transactions is 0 on the source";
  }
  control.Exec(
      "BEGIN; INSERT INTO users (username, email) VALUES ('fence-2pc', 'p');"
      "PREPARE TRANSACTION 'fence gid 1'");
  std::unique_ptr<SourceFence> fence = OpenFence(SourceDsn());
  Status check = fence->Check();
  EXPECT_TRUE(check.code() == Status::Code::kFailedPrecondition) << check.ToString();
  EXPECT_NE(check.message().find("'fence gid 1'"), std::string::npos) << check.ToString();
  // Raise looks again after the sessions are gone, and refuses too.
  Result<FenceRecord> record = fence->Raise();
  EXPECT_FALSE(record.ok());
  EXPECT_NE(record.status().message().find("'fence gid 1'"), std::string::npos)
      << record.status().ToString();
  ASSERT_TRUE(fence->Lower().ok());
  EXPECT_EQ(DatabaseSettings(), "");
  control.Exec("ROLLBACK PREPARED 'fence gid 1'");
  EXPECT_TRUE(fence->Check().ok());
}

TEST_F(CutoverFenceTest, RoleWithoutRightsIsToldWhatToGrant) {
  std::unique_ptr<SourceFence> fence = OpenFence(RoleDsn(servers().source, "weak"));
  Status check = fence->Check();
  ASSERT_TRUE(check.code() == Status::Code::kPermissionDenied) << check.ToString();
  for (const char* fix : {"GRANT \"postgres\" TO \"weak\";", "GRANT pg_signal_backend TO \"weak\";",
                          "GRANT pg_read_all_stats TO \"weak\";", "REPLICATION"}) {
    EXPECT_NE(check.message().find(fix), std::string::npos) << fix << " in " << check.ToString();
  }
}

TEST_F(CutoverFenceTest, SuperusersSessionNeedsASuperuser) {
  conn::PgSession superuser = Connect(SourceDsn(), "psql");
  std::unique_ptr<SourceFence> fence = OpenFence(RoleDsn(servers().source, "fencer"));
  Status check = fence->Check();
  ASSERT_TRUE(check.code() == Status::Code::kPermissionDenied) << check.ToString();
  EXPECT_NE(check.message().find("of superuser postgres"), std::string::npos) << check.ToString();
  EXPECT_EQ(check.message().find("GRANT"), std::string::npos) << check.ToString();
}

}  // namespace
}  // namespace pgparity
