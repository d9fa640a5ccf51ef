// ReplicationConnection, Feedback and LogicalStream against a real server of
// the pair's source major (14 by default; and 14 and 16 where the slot
// command's syntax differs).
#include "pgparity/conn/replication_connection.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <string>
#include <vector>

#include "conn/testing_servers.h"
#include "pgparity/conn/feedback.h"
#include "pgparity/conn/logical_stream.h"
#include "pgparity/conn/reconnect_policy.h"
#include "pgparity/wire/pgoutput.h"
#include "support/pg_server.h"
#include "support/sql_client.h"

namespace pgparity::conn {
namespace {

using pgparity::testing::PgServer;
using pgparity::testing::SqlClient;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::SharedServer;
using testing::WaitFor;
using wire::Lsn;

// The DSN as the command line's edge would parse it.
Result<std::unique_ptr<ReplicationConnection>> ConnectDsn(const std::string& dsn) {
  Result<ConnParams> params = ConnParams::Parse(dsn);
  if (!params.ok()) return params.status();
  return ReplicationConnection::Connect(*params);
}

std::unique_ptr<ReplicationConnection> MustConnect(const std::string& dsn) {
  auto conn = ConnectDsn(dsn);
  if (!conn.ok()) {
    ADD_FAILURE() << conn.status().ToString();
    return nullptr;
  }
  return std::move(*conn);
}

// A unique slot name per test (tests share a server).
std::string SlotName() {
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::string out = "t_";
  for (char c : name)
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_');
  return out.substr(0, 60);
}

Lsn SlotConfirmed(SqlClient& sql, const std::string& slot) {
  std::string v = sql.Value(
      "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
  return *Lsn::Parse(v);
}

// Runs `io` for `d` or until `stop` holds.
void RunFor(
    boost::asio::io_context& io, milliseconds d,
    const std::function<bool()>& stop = [] { return false; }) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  io.restart();
  while (std::chrono::steady_clock::now() < deadline && !stop()) {
    io.run_for(milliseconds(20));
    io.restart();
  }
}

// Table + publication + slot; the slot is created after the table's first
// row, so the stream starts after it.
struct StreamFixture {
  StreamFixture(PgServer& server, const std::string& slot, const std::string& table)
      : sql(server.Dsn()) {
    sql.Exec("DROP PUBLICATION IF EXISTS " + slot + "_pub; DROP TABLE IF EXISTS " + table +
             "; CREATE TABLE " + table + " (id int PRIMARY KEY, v text); INSERT INTO " + table +
             " VALUES (0, 'before'); CREATE PUBLICATION " + slot + "_pub FOR TABLE " + table);
    publication = slot + "_pub";
  }
  SqlClient sql;
  std::string publication;
};

// ---------------------------------------------------------------------------

TEST(ReplicationConnectionTest, IdentifySystemAndVersion) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  auto conn = MustConnect(server.Dsn());
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn->server_major(), pgparity::testing::SourceMajor());
  EXPECT_EQ(conn->wal_sender_timeout(), seconds(60));
  EXPECT_EQ(conn->dbname(), "sourcedb");
  Result<SystemIdentity> id = conn->IdentifySystem();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_FALSE(id->system_id.empty());
  EXPECT_EQ(id->system_id.find_first_not_of("0123456789"), std::string::npos);
  EXPECT_EQ(id->timeline, 1u);
  EXPECT_TRUE(id->xlogpos.valid());
  EXPECT_EQ(id->dbname, "sourcedb");

  // The walsender runs with the pinned formats too.
  SqlClient sql(server.Dsn());
  EXPECT_EQ(sql.Value("SELECT count(*) FROM pg_stat_replication WHERE pid = " +
                      std::to_string(conn->backend_pid()) + " AND application_name = 'pgparity'"),
            "1");
}

TEST(ReplicationConnectionTest, UserApplicationNameIsKept) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  auto conn = MustConnect(server.Dsn() + " application_name=mine");
  ASSERT_NE(conn, nullptr);
  SqlClient sql(server.Dsn());
  EXPECT_EQ(sql.Value("SELECT application_name FROM pg_stat_replication WHERE pid = " +
                      std::to_string(conn->backend_pid())),
            "mine");
}

// Creating a slot with an exported snapshot, and importing that snapshot from
// another session while the replication connection stays open and idle, on
// both major versions (the command syntax differs).
class ExportSnapshotTest : public ::testing::TestWithParam<int> {};

TEST_P(ExportSnapshotTest, SnapshotImportsWhileConnectionIsIdle) {
  auto& server = SharedServer(GetParam());
  const std::string slot = "export_" + std::to_string(GetParam());
  SqlClient sql(server.Dsn());
  sql.Exec(
      "DROP TABLE IF EXISTS snap_t; CREATE TABLE snap_t (id int); INSERT INTO snap_t "
      "VALUES (1), (2)");
  auto conn = MustConnect(server.Dsn());
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn->server_major(), GetParam());

  Result<CreatedSlot> created = conn->CreateLogicalSlot(slot, false, SnapshotAction::kExport);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->slot_name, slot);
  EXPECT_EQ(created->output_plugin, "pgoutput");
  EXPECT_TRUE(created->consistent_point.valid());
  ASSERT_TRUE(created->snapshot_name.has_value());

  // A row committed after the slot: invisible in the snapshot.
  sql.Exec("INSERT INTO snap_t VALUES (3)");
  SqlClient importer(server.Dsn());
  importer.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
  importer.Exec("SET TRANSACTION SNAPSHOT '" + *created->snapshot_name + "'");
  EXPECT_EQ(importer.Value("SELECT count(*) FROM snap_t"), "2");
  importer.Exec("COMMIT");

  Result<std::optional<SlotState>> state = conn->ReadSlot(slot);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ASSERT_TRUE(state->has_value());
  EXPECT_EQ((*state)->plugin, "pgoutput");
  EXPECT_EQ((*state)->slot_type, "logical");
  EXPECT_EQ((*state)->database, "sourcedb");
  EXPECT_FALSE((*state)->temporary);
  EXPECT_EQ((*state)->confirmed_flush_lsn, created->consistent_point);
  EXPECT_EQ((*state)->wal_status, "reserved");

  // The next command on the replication connection ends the snapshot.
  ASSERT_TRUE(conn->IdentifySystem().ok());
  SqlClient late(server.Dsn());
  late.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
  EXPECT_THROW(late.Exec("SET TRANSACTION SNAPSHOT '" + *created->snapshot_name + "'"),
               std::runtime_error);

  EXPECT_TRUE(conn->DropSlot(slot).ok());
  EXPECT_FALSE(conn->ReadSlot(slot)->has_value());
}

INSTANTIATE_TEST_SUITE_P(Versions, ExportSnapshotTest, ::testing::Values(14, 16),
                         [](const auto& info) { return "PG" + std::to_string(info.param); });

TEST(ReplicationConnectionTest, NoExportSnapshotHasNoName) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  auto conn = MustConnect(server.Dsn());
  ASSERT_NE(conn, nullptr);
  Result<CreatedSlot> created = conn->CreateLogicalSlot(SlotName(), true, SnapshotAction::kNothing);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE(created->snapshot_name.has_value());
}

TEST(ReplicationConnectionTest, TemporarySlotVanishesOnDisconnect) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  const std::string slot = SlotName();
  SqlClient sql(server.Dsn());
  {
    auto conn = MustConnect(server.Dsn());
    ASSERT_NE(conn, nullptr);
    ASSERT_TRUE(conn->CreateLogicalSlot(slot, true, SnapshotAction::kNothing).ok());
    Result<std::optional<SlotState>> state = conn->ReadSlot(slot);
    ASSERT_TRUE(state.ok() && state->has_value());
    EXPECT_TRUE((*state)->temporary);
  }
  EXPECT_TRUE(WaitFor([&] {
    return sql.Value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot +
                     "'") == "0";
  }));
}

TEST(ReplicationConnectionTest, SlotAlreadyExists) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  auto conn = MustConnect(server.Dsn());
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->CreateLogicalSlot(SlotName(), true, SnapshotAction::kNothing).ok());
  auto other = MustConnect(server.Dsn());
  ASSERT_NE(other, nullptr);
  Result<CreatedSlot> again = other->CreateLogicalSlot(SlotName(), true, SnapshotAction::kNothing);
  EXPECT_EQ(again.status().code(), Status::Code::kAlreadyExists) << again.status().ToString();
  EXPECT_NE(again.status().ToString().find(SlotName()), std::string::npos);
}

// START_REPLICATION delivers Begin, Relation, Insert, Commit for an INSERT
// committed after the slot was created, and nothing from before it.
TEST(ReplicationConnectionTest, StreamsAnInsertAfterSlotCreation) {
  // Declared first: the io_context must outlive the connection it serves.
  boost::asio::io_context io;
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  const std::string slot = SlotName();
  StreamFixture fx(server, slot, "stream_t");
  auto conn = MustConnect(server.Dsn());
  ASSERT_NE(conn, nullptr);
  Result<CreatedSlot> created = conn->CreateLogicalSlot(slot, true, SnapshotAction::kNothing);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  fx.sql.Exec("INSERT INTO stream_t VALUES (1, 'after')");

  StreamOptions options;
  options.publication_names = {fx.publication};
  ASSERT_TRUE(conn->StartReplication(slot, created->consistent_point, options).ok());
  EXPECT_EQ(conn->proto_version(), pgparity::testing::SourceMajor() >= 14 ? 2 : 1);

  LogicalStream stream(io.get_executor(), *conn, created->consistent_point);
  std::string types;
  std::vector<std::string> inserted;
  Lsn commit_end;
  std::optional<Status> done;
  ASSERT_TRUE(stream
                  .Start(
                      [&](const wire::XLogData& x) -> Status {
                        wire::ParseOptions po;
                        po.protocol_version = conn->proto_version();
                        PGPARITY_ASSIGN_OR_RETURN(wire::Message m, wire::Parse(x.body, po));
                        types.push_back(static_cast<char>(wire::TypeOf(m)));
                        if (auto* ins = std::get_if<wire::Insert>(&m)) {
                          for (auto col : ins->new_tuple) {
                            if (col.kind == wire::ColumnKind::kText) {
                              inserted.emplace_back(col.text());
                            }
                          }
                        }
                        if (auto* c = std::get_if<wire::Commit>(&m)) {
                          commit_end = c->end_lsn;
                          stream.Stop();
                        }
                        return Status::OK();
                      },
                      [&](Status s) { done = std::move(s); })
                  .ok());
  RunFor(io, seconds(20), [&] { return done.has_value(); });
  ASSERT_TRUE(done.has_value()) << "no Commit within 20 s; got \"" << types << "\"";
  EXPECT_TRUE(done->ok()) << done->ToString();
  EXPECT_EQ(types, "BRIC");
  EXPECT_EQ(inserted, (std::vector<std::string>{"1", "after"}));
  EXPECT_GT(commit_end, created->consistent_point);
}

// The server asks for a reply when it heard nothing for wal_sender_timeout/2;
// Feedback answers at once, so the walsender keeps the stream (2 s timeout,
// 5 s idle, no periodic updates).
class ShortTimeoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqlClient sql(SharedServer(pgparity::testing::SourceMajor()).Dsn());
    sql.Exec("ALTER SYSTEM SET wal_sender_timeout = '2s'");  // not in a transaction block
    sql.Exec("SELECT pg_reload_conf()");
  }
  void TearDown() override {
    SqlClient sql(SharedServer(pgparity::testing::SourceMajor()).Dsn());
    sql.Exec("ALTER SYSTEM RESET wal_sender_timeout");
    sql.Exec("SELECT pg_reload_conf()");
  }
  // Connects once the reload reached new backends.
  std::unique_ptr<ReplicationConnection> ConnectWithShortTimeout() {
    std::unique_ptr<ReplicationConnection> conn;
    WaitFor([&] {
      conn = MustConnect(SharedServer(pgparity::testing::SourceMajor()).Dsn());
      return conn != nullptr && conn->wal_sender_timeout() == seconds(2);
    });
    return conn;
  }
};

TEST_F(ShortTimeoutTest, KeepaliveReplyRequestIsAnswered) {
  // Declared first: the io_context must outlive the connection it serves.
  boost::asio::io_context io;
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  const std::string slot = SlotName();
  StreamFixture fx(server, slot, "keepalive_t");
  auto conn = ConnectWithShortTimeout();
  ASSERT_NE(conn, nullptr);
  ASSERT_EQ(conn->wal_sender_timeout(), seconds(2));
  Result<CreatedSlot> created = conn->CreateLogicalSlot(slot, true, SnapshotAction::kNothing);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  StreamOptions options;
  options.publication_names = {fx.publication};
  ASSERT_TRUE(conn->StartReplication(slot, created->consistent_point, options).ok());

  // No periodic updates (timeout unknown, 1 h cap, never started): only the
  // replies to the server's requests keep the stream alive.
  Feedback feedback(
      io.get_executor(), [&](const wire::StandbyStatusUpdate& u) { conn->SendStatusUpdate(u); },
      created->consistent_point, FeedbackOptions{milliseconds(0), seconds(3600)});
  std::optional<Status> done;
  ASSERT_TRUE(conn->StartStreaming(
                      io.get_executor(),
                      [&](std::span<const std::byte> frame) -> Status {
                        PGPARITY_ASSIGN_OR_RETURN(wire::CopyMessage m, wire::ParseCopyData(frame));
                        if (auto* k = std::get_if<wire::PrimaryKeepalive>(&m)) {
                          feedback.OnKeepalive(*k);
                        }
                        return Status::OK();
                      },
                      [&](Status s) { done = std::move(s); })
                  .ok());
  RunFor(io, seconds(5), [&] { return done.has_value(); });
  EXPECT_FALSE(done.has_value()) << done->ToString();
  EXPECT_GE(feedback.replies_requested(), 2u);
  EXPECT_EQ(feedback.updates_sent(), feedback.replies_requested());
  SqlClient sql(server.Dsn());
  EXPECT_EQ(sql.Value("SELECT count(*) FROM pg_stat_replication WHERE pid = " +
                      std::to_string(conn->backend_pid())),
            "1");
}

// The control for the test above: without replies the walsender ends the
// stream after wal_sender_timeout, and the loss surfaces as Unavailable.
TEST_F(ShortTimeoutTest, WithoutFeedbackTheServerEndsTheStream) {
  // Declared first: the io_context must outlive the connection it serves.
  boost::asio::io_context io;
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  const std::string slot = SlotName();
  StreamFixture fx(server, slot, "nofeedback_t");
  auto conn = ConnectWithShortTimeout();
  ASSERT_NE(conn, nullptr);
  Result<CreatedSlot> created = conn->CreateLogicalSlot(slot, true, SnapshotAction::kNothing);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  StreamOptions options;
  options.publication_names = {fx.publication};
  ASSERT_TRUE(conn->StartReplication(slot, created->consistent_point, options).ok());
  std::optional<Status> done;
  ASSERT_TRUE(conn->StartStreaming(
                      io.get_executor(), [](std::span<const std::byte>) { return Status::OK(); },
                      [&](Status s) { done = std::move(s); })
                  .ok());
  RunFor(io, seconds(10), [&] { return done.has_value(); });
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->IsUnavailable()) << done->ToString();
  EXPECT_TRUE(ReconnectPolicy::IsTransient(*done));
  RecordProperty("message", done->ToString());
}

// confirmed_flush_lsn moves only to what was marked durable while a
// transaction is pending, and to the keepalive's wal end only when idle.
TEST_F(ShortTimeoutTest, ConfirmsOnlyDurableOrIdlePositions) {
  // Declared first: the io_context must outlive the connection it serves.
  boost::asio::io_context io;
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  const std::string slot = SlotName();
  StreamFixture fx(server, slot, "confirm_t");
  SqlClient other_db(server.Dsn("postgres"));
  other_db.Exec("CREATE TABLE IF NOT EXISTS noise (x int)");
  auto conn = ConnectWithShortTimeout();
  ASSERT_NE(conn, nullptr);
  Result<CreatedSlot> created = conn->CreateLogicalSlot(slot, true, SnapshotAction::kNothing);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const Lsn start = created->consistent_point;
  StreamOptions options;
  options.publication_names = {fx.publication};
  ASSERT_TRUE(conn->StartReplication(slot, start, options).ok());

  LogicalStream stream(io.get_executor(), *conn, start);
  EXPECT_EQ(stream.feedback().interval(), seconds(1));
  Lsn commit_end;
  std::optional<Status> done;
  ASSERT_TRUE(stream
                  .Start(
                      [&](const wire::XLogData& x) -> Status {
                        wire::ParseOptions po;
                        po.protocol_version = conn->proto_version();
                        PGPARITY_ASSIGN_OR_RETURN(wire::Message m, wire::Parse(x.body, po));
                        if (auto* c = std::get_if<wire::Commit>(&m)) commit_end = c->end_lsn;
                        return Status::OK();
                      },
                      [&](Status s) { done = std::move(s); })
                  .ok());
  fx.sql.Exec("INSERT INTO confirm_t VALUES (1, 'x')");
  RunFor(io, seconds(10), [&] { return commit_end.valid() || done.has_value(); });
  ASSERT_TRUE(commit_end.valid());

  // Received but not durable: several periodic updates, nothing confirmed,
  // even with unrelated WAL flowing (its keepalives arrive while not idle).
  other_db.Exec("INSERT INTO noise SELECT generate_series(1, 1000)");
  RunFor(io, seconds(5), [&] { return done.has_value(); });
  ASSERT_FALSE(done.has_value()) << done->ToString();
  EXPECT_GE(stream.feedback().updates_sent(), 3u);
  EXPECT_EQ(SlotConfirmed(fx.sql, slot), start);

  // Durable: exactly the commit's end.
  stream.feedback().MarkDurable(commit_end);
  stream.feedback().SendNow();
  RunFor(io, seconds(5), [&] { return SlotConfirmed(fx.sql, slot) == commit_end; });
  EXPECT_EQ(SlotConfirmed(fx.sql, slot), commit_end);

  // Idle: WAL written in another database gets acknowledged past the commit.
  stream.feedback().SetIdle(true);
  other_db.Exec("INSERT INTO noise SELECT generate_series(1, 1000)");
  RunFor(io, seconds(10), [&] { return SlotConfirmed(fx.sql, slot) > commit_end; });
  EXPECT_GT(SlotConfirmed(fx.sql, slot), commit_end);
  EXPECT_FALSE(done.has_value());
  stream.Stop();
  RunFor(io, seconds(2), [&] { return done.has_value(); });
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->ok()) << done->ToString();
}

// ---------------------------------------------------------------------------
// Errors: each distinguishable, each naming the slot or host.

TEST(ReplicationErrorTest, WrongPasswordIsUnauthenticated) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  std::string dsn = server.Dsn();
  dsn.replace(dsn.find("password=postgres"), 17, "password=wrong");
  auto conn = ConnectDsn(dsn);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), Status::Code::kUnauthenticated) << conn.status().ToString();
  EXPECT_NE(conn.status().ToString().find("replication connection to 127.0.0.1:"),
            std::string::npos)
      << conn.status().ToString();
  EXPECT_FALSE(ReconnectPolicy::IsTransient(conn.status()));
  RecordProperty("message", conn.status().ToString());
}

TEST(ReplicationErrorTest, NothingListeningIsUnavailable) {
  const int port = pgparity::testing::FreePort();
  auto conn = ConnectDsn("postgresql://postgres:postgres@127.0.0.1:" + std::to_string(port) +
                         "/x?connect_timeout=5");
  ASSERT_FALSE(conn.ok());
  EXPECT_TRUE(conn.status().IsUnavailable()) << conn.status().ToString();
  EXPECT_NE(conn.status().ToString().find(std::to_string(port)), std::string::npos);
  EXPECT_TRUE(ReconnectPolicy::IsTransient(conn.status()));
  RecordProperty("message", conn.status().ToString());
}

TEST(ReplicationErrorTest, MissingSlot) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  auto conn = MustConnect(server.Dsn());
  ASSERT_NE(conn, nullptr);
  Result<SlotState> checked = conn->CheckSlot("no_such_slot");
  EXPECT_TRUE(checked.status().IsNotFound()) << checked.status().ToString();
  EXPECT_NE(checked.status().ToString().find("\"no_such_slot\""), std::string::npos);

  StreamOptions options;
  options.publication_names = {"p"};
  Status s = conn->StartReplication("no_such_slot", Lsn(), options);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.ToString().find("replication slot \"no_such_slot\" on 127.0.0.1:"), std::string::npos)
      << s.ToString();
  EXPECT_TRUE(conn->DropSlot("no_such_slot").IsNotFound());
  RecordProperty("message", s.ToString());
}

TEST(ReplicationErrorTest, SlotInUseByAnotherConnection) {
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  const std::string slot = SlotName();
  StreamFixture fx(server, slot, "inuse_t");
  auto owner = MustConnect(server.Dsn());
  ASSERT_NE(owner, nullptr);
  Result<CreatedSlot> created = owner->CreateLogicalSlot(slot, false, SnapshotAction::kNothing);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  StreamOptions options;
  options.publication_names = {fx.publication};
  ASSERT_TRUE(owner->StartReplication(slot, Lsn(), options).ok());
  // The owner's own view: in use by itself is fine.
  EXPECT_TRUE(owner->CheckSlot(slot).ok()) << owner->CheckSlot(slot).status().ToString();

  auto second = MustConnect(server.Dsn());
  ASSERT_NE(second, nullptr);
  Result<SlotState> checked = second->CheckSlot(slot);
  EXPECT_EQ(checked.status().code(), Status::Code::kFailedPrecondition)
      << checked.status().ToString();
  EXPECT_NE(
      checked.status().ToString().find("in use by PID " + std::to_string(owner->backend_pid())),
      std::string::npos)
      << checked.status().ToString();

  Status s = second->StartReplication(slot, Lsn(), options);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.ToString().find("in use"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find(slot), std::string::npos);

  auto third = MustConnect(server.Dsn());
  ASSERT_NE(third, nullptr);
  Status drop = third->DropSlot(slot, /*wait=*/false);
  EXPECT_EQ(drop.code(), Status::Code::kFailedPrecondition) << drop.ToString();

  RecordProperty("check_message", checked.status().ToString());
  RecordProperty("start_message", s.ToString());
  owner.reset();  // releases the slot; DROP ... WAIT then succeeds
  EXPECT_TRUE(third->DropSlot(slot, /*wait=*/true).ok());
}

// The source accepts an unknown publication at START_REPLICATION; the
// walsender fails when it decodes the first change.
// CheckPublications finds it before streaming.
TEST(ReplicationErrorTest, UnknownPublication) {
  // Declared first: the io_context must outlive the connection it serves.
  boost::asio::io_context io;
  auto& server = SharedServer(pgparity::testing::SourceMajor());
  const std::string slot = SlotName();
  StreamFixture fx(server, slot, "nopub_t");
  auto conn = MustConnect(server.Dsn());
  ASSERT_NE(conn, nullptr);
  Status early = conn->CheckPublications({fx.publication, "no_such_pub"});
  EXPECT_TRUE(early.IsNotFound()) << early.ToString();
  EXPECT_NE(early.ToString().find("\"no_such_pub\""), std::string::npos);
  EXPECT_TRUE(conn->CheckPublications({fx.publication}).ok());

  Result<CreatedSlot> created = conn->CreateLogicalSlot(slot, true, SnapshotAction::kNothing);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  StreamOptions options;
  options.publication_names = {"no_such_pub"};
  ASSERT_TRUE(conn->StartReplication(slot, created->consistent_point, options).ok())
      << "the walsender checks publications lazily";
  fx.sql.Exec("INSERT INTO nopub_t VALUES (1, 'x')");

  LogicalStream stream(io.get_executor(), *conn, created->consistent_point);
  std::string types;
  std::optional<Status> done;
  ASSERT_TRUE(stream
                  .Start(
                      [&](const wire::XLogData& x) -> Status {
                        types.push_back(static_cast<char>(x.body.empty() ? '?' : char(x.body[0])));
                        return Status::OK();
                      },
                      [&](Status s) { done = std::move(s); })
                  .ok());
  RunFor(io, seconds(20), [&] { return done.has_value(); });
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->IsNotFound()) << done->ToString();
  EXPECT_NE(done->ToString().find("publication \"no_such_pub\" does not exist"), std::string::npos)
      << done->ToString();
  EXPECT_FALSE(ReconnectPolicy::IsTransient(*done));
  // What the source sent before failing: Begin before 15; from 15 on,
  // pgoutput sends Begin with the transaction's first published change
  // (empty transactions are skipped), so nothing.
  RecordProperty("frames_before_error", types);
  RecordProperty("message", done->ToString());
  EXPECT_EQ(types, pgparity::testing::SourceMajor() >= 15 ? "" : "B");
}

TEST(ValidateSlotTest, ReadStates) {
  SlotState s;
  s.slot_name = "s";
  s.plugin = "pgoutput";
  s.slot_type = "logical";
  s.database = "db";
  s.wal_status = "reserved";
  EXPECT_TRUE(ValidateSlot(s, "db", 0, "h:1/db").ok());

  SlotState lost = s;
  lost.wal_status = "lost";
  Status st = ValidateSlot(lost, "db", 0, "h:1/db");
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(
      st.ToString().find("replication slot \"s\" on h:1/db is invalidated (wal_status = lost)"),
      std::string::npos)
      << st.ToString();

  SlotState active = s;
  active.active = true;
  active.active_pid = 4242;
  EXPECT_NE(ValidateSlot(active, "db", 1, "h").ToString().find("in use by PID 4242"),
            std::string::npos);
  EXPECT_TRUE(ValidateSlot(active, "db", 4242, "h").ok());

  SlotState other_db = s;
  other_db.database = "elsewhere";
  EXPECT_EQ(ValidateSlot(other_db, "db", 0, "h").code(), Status::Code::kFailedPrecondition);
  SlotState decoding = s;
  decoding.plugin = "test_decoding";
  EXPECT_NE(ValidateSlot(decoding, "db", 0, "h").ToString().find("test_decoding"),
            std::string::npos);
  SlotState physical = s;
  physical.slot_type = "physical";
  EXPECT_EQ(ValidateSlot(physical, "db", 0, "h").code(), Status::Code::kFailedPrecondition);
}

// A slot that fell behind max_slot_wal_keep_size is invalidated at the next
// checkpoint (wal_status = lost): CheckSlot and START_REPLICATION say so.
// Own server: the setting affects every slot.
TEST(ReplicationErrorTest, InvalidatedSlot) {
  if (pgparity::testing::SourceMajor() < 13) {
    GTEST_SKIP() << "max_slot_wal_keep_size and wal_status need a PostgreSQL 13+ source (this "
                    "pair's is "
                 << pgparity::testing::SourceMajor() << ")";
  }
  PgServer server(pgparity::testing::SourceMajor(), "sourcedb");
  SqlClient sql(server.Dsn());
  sql.Exec("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'");
  sql.Exec("SELECT pg_reload_conf()");
  const std::string slot = "doomed";
  {
    auto conn = MustConnect(server.Dsn());
    ASSERT_NE(conn, nullptr);
    ASSERT_TRUE(conn->CreateLogicalSlot(slot, false, SnapshotAction::kNothing).ok());
  }
  sql.Exec("CREATE TABLE filler (x int)");
  for (int i = 0; i < 4; ++i) {
    sql.Exec("INSERT INTO filler SELECT generate_series(1, 1000)");
    sql.Value("SELECT pg_switch_wal()");
  }
  sql.Exec("CHECKPOINT");
  ASSERT_TRUE(WaitFor([&] {
    return sql.Value("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'doomed'") ==
           "lost";
  })) << "could not provoke wal_status = lost";

  auto conn = MustConnect(server.Dsn());
  ASSERT_NE(conn, nullptr);
  Result<SlotState> checked = conn->CheckSlot(slot);
  EXPECT_EQ(checked.status().code(), Status::Code::kFailedPrecondition)
      << checked.status().ToString();
  EXPECT_NE(checked.status().ToString().find("wal_status = lost"), std::string::npos);

  StreamOptions options;
  options.publication_names = {"p"};
  Status s = conn->StartReplication(slot, Lsn(), options);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.ToString().find("replication slot \"doomed\" on 127.0.0.1:" +
                              std::to_string(server.port()) + "/sourcedb is invalidated"),
            std::string::npos)
      << s.ToString();
  EXPECT_FALSE(ReconnectPolicy::IsTransient(s));
  RecordProperty("check_message", checked.status().ToString());
  RecordProperty("start_message", s.ToString());
}

}  // namespace
}  // namespace pgparity::conn
