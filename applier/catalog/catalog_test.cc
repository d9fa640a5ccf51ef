// The catalog module on a real PostgreSQL 14 -> 16 pair: a FOR ALL TABLES
// publication via the partition root (a partitioned table, a keyed table
// with a generated column and toast_tuple_target, a REPLICA IDENTITY FULL
// table, a serial), its subscription with every table ready, and each
// struct the module returns read back field by field.
#include "pgparity/applier/catalog/catalog.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pgparity/applier/catalog/relations.h"
#include "pgparity/applier/catalog/sequences.h"
#include "pgparity/applier/catalog/server_activity.h"
#include "pgparity/applier/catalog/server_settings.h"
#include "support/migration_env.h"

namespace pgparity::applier {
namespace {

using testing::SqlClient;

constexpr const char* kSchema =
    "CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL, "
    "note varchar(20) DEFAULT 'x', doubled bigint GENERATED ALWAYS AS (id * 2) STORED) "
    "WITH (toast_tuple_target = 256);"
    "CREATE TABLE events (at timestamptz, region text, payload jsonb, PRIMARY KEY (at, region)) "
    "PARTITION BY LIST (region);"
    "CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu') "
    "WITH (toast_tuple_target = 512);"
    "CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us');"
    "CREATE TABLE ledger (a integer, b text); ALTER TABLE ledger REPLICA IDENTITY FULL;"
    "CREATE TABLE tags (id serial PRIMARY KEY, tag text NOT NULL)";

// Polls `done` every 100 ms; throws after 60 s.
void WaitUntil(const std::function<bool()>& done, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("waiting for " + what);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

template <typename T>
T Ok(Result<T> r) {
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  return std::move(r).value();
}

class CatalogTest : public testing::MigrationFixture {
 protected:
  // The pair once per process: schema, rows, publication, subscription,
  // every table ready and its apply worker streaming.
  static void SetUpTestSuite() {
    if (testing::SourceMajor() < 13) return;  // SetUp skips each test
    MigrationFixture::SetUpTestSuite();
    SqlClient source(servers().source.Dsn());
    SqlClient target(servers().target.Dsn());
    source.Exec(kSchema);
    target.Exec(std::string(kSchema) +
                "; DROP TABLE events; CREATE TABLE events (at timestamptz, "
                "region text, payload jsonb, PRIMARY KEY (at, region))");
    source.Exec(
        "INSERT INTO accounts (id, name) VALUES (1, 'a'), (2, 'b');"
        "INSERT INTO events VALUES ('2024-01-01', 'eu', '{}'), ('2024-01-02', 'us', '{}');"
        "INSERT INTO tags (tag) VALUES ('x'), ('y'), ('z');"
        "CREATE PUBLICATION cat_pub FOR ALL TABLES WITH (publish_via_partition_root = true)");
    target.Exec("CREATE SUBSCRIPTION cat_sub CONNECTION '" +
                testing::SubscriptionConninfo(servers()) + "' PUBLICATION cat_pub");
    WaitUntil(
        [&] {
          return target.Value("SELECT count(*) FROM pg_subscription_rel WHERE srsubstate = 'r'") ==
                     "4" &&
                 source.Value("SELECT count(*) FROM pg_replication_slots WHERE active") == "1";
        },
        "cat_sub to copy every table and stream");
    source.Exec("INSERT INTO ledger VALUES (1, 'one')");  // an applied commit: remote_lsn
    testing::WaitForCatchUp(source, "cat_sub");
  }

  void SetUp() override {
    if (testing::SourceMajor() < 13) {
      GTEST_SKIP() << "the suite publishes a partitioned table via its root: "
                      "publish_via_partition_root needs a PostgreSQL 13+ source (this pair's is "
                   << testing::SourceMajor() << ")";
    }
  }

  conn::PgSession Source() { return Ok(conn::PgSession::Connect(servers().source.Dsn())); }
  conn::PgSession Target() { return Ok(conn::PgSession::Connect(servers().target.Dsn())); }
};

TEST_F(CatalogTest, PublicationItsTablesAndTheRelationsBehindThem) {
  conn::PgSession source = Source();
  const Publication p = Ok(ReadPublication(source, "cat_pub")).value();
  EXPECT_TRUE(p.all_tables && p.publish_insert && p.publish_update && p.publish_delete &&
              p.publish_truncate && p.via_root);
  const std::vector<RelationName> published = {
      {"public", "accounts"}, {"public", "events"}, {"public", "ledger"}, {"public", "tags"}};
  EXPECT_EQ(p.tables, published);  // the root, not its leaves
  EXPECT_FALSE(Ok(ReadPublication(source, "nope")).has_value());
  EXPECT_EQ(Ok(ReadPublicationNames(source)), std::vector<std::string>{"cat_pub"});

  const Relations relations = Ok(ReadRelations(source));
  const Relation& accounts = relations.at({"public", "accounts"});
  EXPECT_EQ(accounts.qualified, "public.accounts");
  EXPECT_EQ(accounts.relkind, 'r');
  EXPECT_EQ(accounts.persistence, 'p');
  EXPECT_EQ(accounts.replica_identity, 'd');
  EXPECT_TRUE(accounts.has_primary_key && accounts.HasReplicaIdentity());
  EXPECT_EQ(accounts.toast_tuple_target, 256);
  ASSERT_EQ(accounts.columns.size(), 4u);
  const RelationColumn& id = accounts.columns[0];
  EXPECT_TRUE(id.name == "id" && id.type == "bigint" && id.not_null && id.in_primary_key &&
              !id.toastable && !id.generated);
  const RelationColumn& note = accounts.columns[2];
  EXPECT_TRUE(note.type == "character varying(20)" && note.has_default && note.toastable &&
              !note.not_null && !note.in_primary_key);
  EXPECT_TRUE(accounts.columns[3].generated);
  EXPECT_EQ(accounts.SentKey(), std::vector<std::string>{"id"});
  EXPECT_EQ(accounts.LookupKey(), std::vector<std::string>{"id"});

  const Relation& events = relations.at({"public", "events"});
  EXPECT_EQ(events.relkind, 'p');
  const std::vector<RelationName> leaves = {{"public", "events_eu"}, {"public", "events_us"}};
  EXPECT_EQ(events.leaves, leaves);
  EXPECT_EQ(relations.at({"public", "events_eu"}).root, (RelationName{"public", "events"}));
  EXPECT_EQ(StorageOf(relations, events).size(), 2u);

  const Relation& ledger = relations.at({"public", "ledger"});
  EXPECT_TRUE(ledger.replica_identity == 'f' && !ledger.has_primary_key);
  EXPECT_TRUE(ledger.HasReplicaIdentity());
  EXPECT_EQ(ledger.SentKey(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(ledger.LookupKey().empty());  // the subscriber compares whole rows

  EXPECT_EQ(Ok(ReadRelation(source, {"public", "tags"}))->columns.size(), 2u);
  EXPECT_FALSE(Ok(ReadRelation(source, {"public", "nope"})).has_value());
  EXPECT_TRUE(Ok(HasRows(source, accounts)));
}

TEST_F(CatalogTest, PublishedTablesAsTableSpecs) {
  conn::PgSession source = Source();
  const std::vector<TableSpec> specs = Ok(LoadPublishedTables(source, "cat_pub"));
  ASSERT_EQ(specs.size(), 4u);
  const TableSpec& accounts = specs[0];
  EXPECT_EQ(accounts.QualifiedName(), "public.accounts");
  EXPECT_EQ(accounts.columns, (std::vector<std::string>{"id", "name", "note"}));  // not generated
  EXPECT_EQ(accounts.types, (std::vector<std::string>{"bigint", "text", "character varying(20)"}));
  EXPECT_EQ(accounts.toastable, (std::vector<bool>{false, true, true}));
  EXPECT_EQ(accounts.key_positions, std::vector<size_t>{0});
  EXPECT_TRUE(accounts.integer_key);
  EXPECT_EQ(accounts.toast_tuple_target, 256u);
  const TableSpec& events = specs[1];
  EXPECT_EQ(events.relkind, 'p');
  EXPECT_EQ(events.partitions, (std::vector<std::string>{"public.events_eu", "public.events_us"}));
  EXPECT_EQ(events.key_positions, (std::vector<size_t>{0, 1}));
  EXPECT_FALSE(events.integer_key);
  EXPECT_EQ(events.toast_tuple_target, 512u);   // the lowest of its leaves'
  EXPECT_TRUE(specs[2].key_positions.empty());  // ledger: FULL, no key
  EXPECT_EQ(Ok(ReadPartitions(source, events)), events.partitions);

  Result<std::vector<TableSpec>> none = LoadPublishedTables(source, "nope");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound);
}

TEST_F(CatalogTest, SubscriptionItsTablesSlotAndOrigin) {
  conn::PgSession source = Source();
  conn::PgSession target = Target();
  const std::vector<SubscriptionInfo> subs = Ok(ReadSubscriptions(target));
  ASSERT_EQ(subs.size(), 1u);
  const SubscriptionInfo& sub = subs[0];
  EXPECT_TRUE(sub.name == "cat_sub" && sub.enabled && sub.slot_name == "cat_sub" &&
              sub.in_current_database);
  EXPECT_EQ(sub.publications, std::vector<std::string>{"cat_pub"});
  EXPECT_TRUE(sub.Subscribes("cat_pub") && !sub.Subscribes("other"));
  EXPECT_TRUE(sub.OwnsSlot("cat_sub") && sub.OwnsSlot(sub.sync_prefix() + "16400_7") &&
              !sub.OwnsSlot("other"));
  EXPECT_TRUE(sub.OwnsOrigin(sub.origin()) && sub.OwnsOrigin(sub.origin() + "_16400"));
  EXPECT_EQ(Ok(FindSubscription(target, std::nullopt, "cat_pub")).oid, sub.oid);
  EXPECT_EQ(FindSubscription(target, "nope", "cat_pub").status().code(), Status::Code::kNotFound);

  const std::vector<SubscriptionTable> tables = Ok(ReadSubscriptionTables(target, sub));
  EXPECT_EQ(tables.size(), 4u);
  for (const SubscriptionTable& t : tables) EXPECT_EQ(t.state, 'r') << t.qualified;
  EXPECT_EQ(SubscriptionStateName('r'), "r: ready");
  const SubscriptionActivity activity = Ok(ReadSubscriptionActivity(target, sub));
  EXPECT_TRUE(activity.apply_worker_running);
  EXPECT_EQ(activity.apply_errors, 0);  // PostgreSQL 16 has the statistics
  EXPECT_EQ(activity.sync_errors, 0);

  const std::vector<ReplicationSlot> slots = Ok(ReadSlots(source, {"cat_sub", "absent"}));
  ASSERT_EQ(slots.size(), 1u);
  const ReplicationSlot& slot = slots[0];
  EXPECT_TRUE(slot.type == "logical" && slot.plugin == "pgoutput" && slot.database == "sourcedb");
  EXPECT_TRUE(slot.active && !slot.temporary);
  EXPECT_EQ(slot.wal_status, "reserved");
  ASSERT_TRUE(slot.confirmed_flush_lsn && slot.restart_lsn && slot.lag_bytes);
  EXPECT_EQ(*slot.lag_bytes,
            static_cast<int64_t>(slot.current_wal_lsn.value() - slot.confirmed_flush_lsn->value()));
  EXPECT_GE(slot.retained_bytes.value_or(-1), 0);
  EXPECT_NE(slot.retained_size, "none");
  EXPECT_EQ(Ok(ReadSlots(source)).size(), 1u);
  EXPECT_EQ(Ok(ReadSlotFlush(source, "cat_sub")), slot.confirmed_flush_lsn);
  EXPECT_GE(Ok(ReadCurrentWal(source)).value(), slot.current_wal_lsn.value());

  const std::vector<std::string> origins = Ok(ReadOriginNames(target));
  EXPECT_EQ(origins, std::vector<std::string>{sub.origin()});
  EXPECT_TRUE(Ok(ReadRemoteLsn(target, sub)).has_value());  // it applied a commit

  const Relations on_target = Ok(ReadRelations(target));
  std::vector<TableSpec> specs = Ok(LoadPublishedTables(source, "cat_pub"));
  const std::vector<TargetTable> targets = Ok(ReadTargetTables(target, specs, sub));
  ASSERT_EQ(targets.size(), 4u);
  EXPECT_TRUE(targets[1].exists && targets[1].relkind == 'r');  // events: not partitioned there
  EXPECT_EQ(targets[0].extra_columns, std::vector<std::string>{"doubled"});
  for (const TargetTable& t : targets) EXPECT_EQ(t.sync_state, 'r');
  EXPECT_EQ(on_target.at({"public", "events"}).relkind, 'r');
}

TEST_F(CatalogTest, SequencesSettingsAndWhatRuns) {
  conn::PgSession source = Source();
  conn::PgSession target = Target();
  const std::vector<SequenceState> seqs = Ok(ReadSequences(source));
  ASSERT_EQ(seqs.size(), 1u);
  EXPECT_TRUE(seqs[0].qualified == "public.tags_id_seq" && seqs[0].readable);
  EXPECT_EQ(seqs[0].last_value, 3);
  EXPECT_FALSE(Ok(ReadSequences(target))[0].last_value.has_value());  // never used there

  const ServerSettings s = Ok(ReadServerSettings(source));
  EXPECT_EQ(s.version.substr(0, 3), std::to_string(testing::SourceMajor()) + ".");
  EXPECT_EQ(s.version_num / 10000, testing::SourceMajor());
  EXPECT_EQ(s.wal_level, "logical");
  SqlClient sql(servers().source.Dsn());
  EXPECT_EQ(std::to_string(s.max_replication_slots), sql.Value("SHOW max_replication_slots"));
  EXPECT_EQ(std::to_string(s.max_wal_senders), sql.Value("SHOW max_wal_senders"));
  const ServerSettings t = Ok(ReadServerSettings(target));
  EXPECT_EQ(t.version_num / 10000, testing::TargetMajor());
  EXPECT_GT(t.max_logical_replication_workers, 0);
  EXPECT_GT(t.max_worker_processes, 0);
  EXPECT_GT(t.max_sync_workers_per_subscription, 0);

  // A session in a transaction that wrote, one holding a temporary table,
  // a large object.
  SqlClient open(servers().source.Dsn());
  const std::string pid = open.Value("SELECT pg_backend_pid()");
  open.Exec("CREATE TEMP TABLE scratch (a int)");  // committed: others see it
  open.Exec("BEGIN; SELECT txid_current()");
  sql.Exec("SELECT lo_create(0)");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  bool found_open = false, found_walsender = false;
  for (const ServerSession& session : Ok(ReadSessions(source))) {
    if (std::to_string(session.pid) == pid) {
      found_open = session.has_written && session.transaction_seconds >= 1 &&
                   session.backend_type == "client backend" &&
                   session.state == "idle in transaction" &&
                   session.transaction_age.starts_with("00:00:0");
    }
    found_walsender |= session.backend_type == "walsender" && session.application_name == "cat_sub";
  }
  EXPECT_TRUE(found_open);
  EXPECT_TRUE(found_walsender);
  const std::vector<std::string> temporary = Ok(ReadTemporaryTables(source));
  ASSERT_EQ(temporary.size(), 1u);
  EXPECT_TRUE(temporary[0].starts_with("pg_temp_") && temporary[0].ends_with(".scratch"));
  EXPECT_EQ(Ok(CountLargeObjects(source)), 1);
  EXPECT_TRUE(Ok(ReadPreparedTransactions(source)).empty());
  const std::optional<SessionRole> role = Ok(ReadSessionRole(source));
  ASSERT_TRUE(role.has_value());
  EXPECT_TRUE(role->sees_all_sessions);  // a superuser
}

}  // namespace
}  // namespace pgparity::applier
