// Provenance on real PostgreSQL 14 -> 16 pairs (docs/provenance.md): a row
// written on the target by a local session, a replicated row with the
// source commits pgparity's own stream saw, the target without
// track_commit_timestamp (unknown), and a subscription with apply errors
// and then disabled, in its health and the diagnosis.
#include "pgparity/applier/provenance/provenance.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stop_token>
#include <string>
#include <thread>

#include "pgparity/applier/report/row_provenance.h"
#include "pgparity/applier/session/check_session.h"
#include "pgparity/conn/connect.h"
#include "verify/schema_pair.h"

namespace pgparity::applier {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

class ProvenanceTest : public testing::MigrationFixture {
 protected:
  // The target's track_commit_timestamp set to `on` (a restart when it
  // changes; the subscriptions reconnect by themselves).
  static void CommitTimestamps(bool on) {
    SqlClient target(servers().target.Dsn());
    if ((target.Value("SHOW track_commit_timestamp") == "on") == on) return;
    target.Exec(std::string("ALTER SYSTEM SET track_commit_timestamp = ") + (on ? "on" : "off"));
    servers().target.Restart();
  }
};

constexpr const char* kTable =
    "CREATE TABLE t (id int PRIMARY KEY, v text);"
    "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5) g;";

conn::PgSession Connect(const std::string& dsn, std::string_view side) {
  auto params = conn::ParseServerDsn(dsn, side, "provenance_test");
  EXPECT_TRUE(params.ok()) << params.status().ToString();
  auto session = conn::ConnectSession(*params, side);
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  return std::move(*session);
}

// pgparity's own stream of the pair's source into a shadow (as verify runs it).
std::unique_ptr<CheckSession> StartStream(const SchemaPair& pair) {
  CheckSessionOptions o;
  o.source = *conn::ParseServerDsn(pair.SourceDsn(), "source", "provenance_test");
  o.target = *conn::ParseServerDsn(pair.TargetDsn(), "target", "provenance_test");
  o.publication = "pub";
  o.subscription = pair.subscription();
  auto session = CheckSession::Open(o);
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  StreamOptions stream;
  stream.slot = "pgparity_provenance_test";
  stream.temporary_slot = true;
  stream.reconnect_on_loss = false;
  stream.checkpoint_interval = std::chrono::milliseconds(100);
  EXPECT_TRUE((*session)->Start(stream).ok());
  EXPECT_TRUE((*session)->WaitForBasePoint(std::stop_token()));
  return std::move(*session);
}

// Until the stream has applied every commit the source made so far.
void AwaitStream(CheckSession& session, SqlClient source) {
  auto lsn = wire::Lsn::Parse(source.Value("SELECT pg_current_wal_lsn()"));
  ASSERT_TRUE(lsn.ok());
  const auto deadline = steady_clock::now() + seconds(30);
  while (steady_clock::now() < deadline) {
    {
      auto lk = session.shadow().Lock();
      if (session.shadow().last_commit_end() >= *lsn) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL() << "pgparity's stream did not reach " << lsn->ToString();
}

DivergentRow Row(int id, RowDivergence kind) {
  DivergentRow r;
  r.kind = kind;
  r.key.emplace_back("id", std::to_string(id));
  return r;
}

std::string KeyBytes(const ShadowState& shadow, size_t table, int id) {
  const std::string text = std::to_string(id);
  const std::vector<digest::ColumnValue> values{digest::ColumnValue::Value(text),
                                                digest::ColumnValue::Null()};
  std::string key;
  shadow.table(table).KeyOf(values, key);
  return key;
}

// Until `sql` on `db` returns "t".
void AwaitTrue(SqlClient db, const std::string& sql, const std::string& what) {
  const auto deadline = steady_clock::now() + seconds(30);
  while (steady_clock::now() < deadline) {
    if (db.Value(sql) == "t") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL() << "timed out waiting for " << what;
}

TEST_F(ProvenanceTest, WithoutCommitTimestampsTheOriginIsUnknown) {
  CommitTimestamps(false);
  SchemaPair pair(servers(), "prov_off", kTable, "CREATE TABLE t (id int PRIMARY KEY, v text);");
  pair.target().Exec("UPDATE t SET v = 'local' WHERE id = 1");
  auto session = StartStream(pair);
  conn::PgSession target = Connect(pair.TargetDsn(), "target");
  const size_t table = *session->shadow().FindTable("public", "t");
  auto reader = ProvenanceReader::Open(target, &session->source(), session->subscription());
  EXPECT_FALSE(reader.commit_timestamps());
  const RowProvenance p =
      reader.Explain(target, session->shadow(), table, 'r', Row(1, RowDivergence::kDiffers),
                     KeyBytes(session->shadow(), table, 1));
  EXPECT_EQ(p.target.origin, TargetOrigin::kUnknown);
  EXPECT_TRUE(p.target.xmin.has_value());
  EXPECT_NE(p.target.note.find("track_commit_timestamp is off"), std::string::npos)
      << p.target.note;
  EXPECT_EQ(p.diagnosis.rfind("unknown: ", 0), 0u) << p.diagnosis;
  const auto j = ProvenanceJson(p);
  EXPECT_EQ(j["target"]["origin"], "unknown");
  EXPECT_TRUE(j["target"]["commit_time"].is_null());
  EXPECT_EQ(j["subscription"]["enabled"], true);
}

TEST_F(ProvenanceTest, LocalWriteAndReplicatedRowAreToldApart) {
  CommitTimestamps(true);
  SchemaPair pair(servers(), "prov_on", kTable, "CREATE TABLE t (id int PRIMARY KEY, v text);");
  auto session = StartStream(pair);
  pair.source().Exec("UPDATE t SET v = 'replicated' WHERE id = 2");
  pair.source().Exec("INSERT INTO t VALUES (6, 'new')");
  pair.CatchUp();
  AwaitStream(*session, pair.source());
  pair.target().Exec("UPDATE t SET v = 'local' WHERE id = 1");
  pair.target().Exec("DELETE FROM t WHERE id = 3");
  conn::PgSession target = Connect(pair.TargetDsn(), "target");
  ShadowState& shadow = session->shadow();
  const size_t table = *shadow.FindTable("public", "t");
  auto reader = ProvenanceReader::Open(target, &session->source(), session->subscription());
  ASSERT_TRUE(reader.commit_timestamps());
  auto explain = [&](int id, RowDivergence kind) {
    return reader.Explain(target, shadow, table, 'r', Row(id, kind), KeyBytes(shadow, table, id));
  };

  const RowProvenance local = explain(1, RowDivergence::kDiffers);
  EXPECT_EQ(local.target.origin, TargetOrigin::kLocal);
  ASSERT_TRUE(local.target.commit_time.has_value());
  EXPECT_EQ(local.diagnosis.rfind("local write on the target at " + *local.target.commit_time, 0),
            0u)
      << local.diagnosis;
  EXPECT_TRUE(local.source_commits.empty());  // not changed on the source since the stream began

  const RowProvenance replicated = explain(2, RowDivergence::kDiffers);
  EXPECT_EQ(replicated.target.origin, TargetOrigin::kSubscription) << replicated.target.note;
  EXPECT_EQ(replicated.target.origin_name, session->subscription().origin());
  ASSERT_EQ(replicated.source_commits.size(), 1u);
  EXPECT_EQ(replicated.source_commits[0].op, 'U');
  EXPECT_EQ(replicated.source_commits[0].applied_on_target, true);
  EXPECT_EQ(replicated.diagnosis.rfind("unknown: last written by subscription", 0), 0u)
      << replicated.diagnosis;
  const auto j = ProvenanceJson(replicated);
  EXPECT_EQ(j["target"]["origin"], "subscription");
  EXPECT_EQ(j["source_commits"][0]["operation"], "update");
  EXPECT_EQ(j["source_commits"][0]["applied_on_target"], true);
  EXPECT_EQ(j["subscription"]["apply_worker_running"], true);
  if (testing::SourceMajor() >= 13) {
    EXPECT_EQ(j["subscription"]["slot_wal_status"], "reserved");
  } else {  // no wal_status before 13: unknown, not a status
    EXPECT_TRUE(j["subscription"]["slot_wal_status"].is_null()) << j.dump(2);
  }

  const RowProvenance gone = explain(3, RowDivergence::kMissingOnTarget);
  EXPECT_EQ(gone.target.origin, TargetOrigin::kNoRow);
  EXPECT_NE(gone.diagnosis.find("no such row"), std::string::npos) << gone.diagnosis;
  EXPECT_EQ(ProvenanceLine(gone), "provenance: " + gone.diagnosis);

  // `pgparity verify` puts the same into its report and its text output.
  const Verdict v = pair.Verify();
  EXPECT_EQ(v.code, 1) << v.output;
  const json* row = ReportRow(ReportTable(v.report, "public.t"), "id", "1");
  ASSERT_NE(row, nullptr) << v.report.dump(2);
  EXPECT_EQ((*row)["provenance"]["target"]["origin"], "local") << row->dump(2);
  EXPECT_EQ(
      (*row)["provenance"]["diagnosis"].get<std::string>().rfind("local write on the target", 0),
      0u)
      << row->dump(2);
  EXPECT_NE(v.output.find("provenance: local write on the target at "), std::string::npos)
      << v.output;
  const json* missing = ReportRow(ReportTable(v.report, "public.t"), "id", "3");
  ASSERT_NE(missing, nullptr) << v.report.dump(2);
  EXPECT_EQ((*missing)["provenance"]["target"]["origin"], "no_row");
}

TEST_F(ProvenanceTest, ApplyErrorsAndADisabledSubscriptionShowInTheHealth) {
  CommitTimestamps(true);
  SchemaPair pair(servers(), "prov_err", kTable, "CREATE TABLE t (id int PRIMARY KEY, v text);");
  auto session = StartStream(pair);
  // A unique violation on the target: the apply worker fails and retries.
  pair.target().Exec("INSERT INTO t VALUES (100, 'local first')");
  pair.source().Exec("INSERT INTO t VALUES (100, 'source')");
  AwaitStream(*session, pair.source());
  AwaitTrue(pair.target(),
            "SELECT coalesce((SELECT apply_error_count > 0 FROM pg_stat_subscription_stats s "
            "JOIN pg_subscription p ON p.oid = s.subid WHERE p.subname = '" +
                pair.subscription() + "'), false)",
            "an apply error");
  conn::PgSession target = Connect(pair.TargetDsn(), "target");
  ShadowState& shadow = session->shadow();
  const size_t table = *shadow.FindTable("public", "t");
  {
    auto reader = ProvenanceReader::Open(target, &session->source(), session->subscription());
    ASSERT_TRUE(reader.subscription().health.has_value());
    EXPECT_GT(reader.subscription().health->apply_errors.value_or(0), 0);
    const RowProvenance p =
        reader.Explain(target, shadow, table, 'r', Row(100, RowDivergence::kDiffers),
                       KeyBytes(shadow, table, 100));
    EXPECT_EQ(p.target.origin, TargetOrigin::kLocal);
    ASSERT_EQ(p.source_commits.size(), 1u);
    EXPECT_EQ(p.source_commits[0].op, 'I');
    EXPECT_EQ(p.source_commits[0].applied_on_target, false);
    EXPECT_GT(ProvenanceJson(p)["subscription"]["apply_error_count"].get<int64_t>(), 0);
  }
  // Resolve the conflict, then stop the subscription: a later source change
  // waits.
  pair.target().Exec("DELETE FROM t WHERE id = 100");
  pair.CatchUp();
  pair.target().Exec("ALTER SUBSCRIPTION " + pair.subscription() + " DISABLE");
  pair.source().Exec("UPDATE t SET v = 'waits' WHERE id = 4");
  AwaitStream(*session, pair.source());
  auto reader = ProvenanceReader::Open(target, &session->source(), session->subscription());
  ASSERT_TRUE(reader.subscription().health.has_value());
  EXPECT_FALSE(reader.subscription().health->enabled);
  const RowProvenance p = reader.Explain(
      target, shadow, table, 'r', Row(4, RowDivergence::kDiffers), KeyBytes(shadow, table, 4));
  EXPECT_EQ(p.diagnosis.rfind("subscription " + pair.subscription() + " is disabled", 0), 0u)
      << p.diagnosis;
  ASSERT_EQ(p.source_commits.size(), 1u);
  EXPECT_EQ(p.source_commits[0].applied_on_target, false);
  EXPECT_EQ(ProvenanceJson(p)["subscription"]["enabled"], false);
  // The initial copy's rows: written by the subscription's table copy.
  const RowProvenance copied = reader.Explain(
      target, shadow, table, 'r', Row(5, RowDivergence::kDiffers), KeyBytes(shadow, table, 5));
  EXPECT_EQ(copied.target.origin, TargetOrigin::kOtherOrigin) << copied.diagnosis;
  EXPECT_NE(copied.target.note.find("dropped since (a finished initial table copy"),
            std::string::npos)
      << copied.target.note;
  pair.target().Exec("ALTER SUBSCRIPTION " + pair.subscription() + " ENABLE");
}

}  // namespace
}  // namespace pgparity::applier
