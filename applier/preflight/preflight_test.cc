// Preflight on real servers: a PostgreSQL 14 source and 16 target set up as
// in the quick start (sql/), made ready, then one problem at a time injected
// and removed again. Checks the Preflight class's findings directly; the
// pgparity binary's exit codes and messages are in preflight_cli_test.cc.
#include "pgparity/applier/preflight/preflight.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "preflight/preflight_test_env.h"

namespace pgparity::applier {
namespace {

using testing::PgServer;
using testing::SqlClient;

class PreflightTest : public PreflightFixture {};

TEST_F(PreflightTest, ReadyEnvironmentIsReadyAndChangesNothing) {
  SqlClient source(servers().source.Dsn());
  const std::string slots_before =
      source.Value("SELECT string_agg(slot_name, ',') FROM pg_replication_slots");

  PreflightReport r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  EXPECT_EQ(r.Count(Severity::kBlocking), 0) << Dump(r);
  EXPECT_EQ(r.source_version.substr(0, 3), std::to_string(testing::SourceMajor()) + ".");
  EXPECT_EQ(r.target_version.substr(0, 3), std::to_string(testing::TargetMajor()) + ".");
  EXPECT_EQ(r.publication, "my_publication");
  EXPECT_EQ(r.subscription, "my_subscription");  // found by default

  ExpectFinding(r, "wal_level", Severity::kInfo, "source wal_level");
  for (const char* budget : {"source max_replication_slots", "source max_wal_senders",
                             "target max_logical_replication_workers",
                             "target max_worker_processes", "target max_replication_slots"}) {
    const Finding& f = ExpectFinding(r, "capacity", Severity::kInfo, budget);
    EXPECT_NE(f.detail.find("used "), std::string::npos) << f.detail;
    EXPECT_NE(f.detail.find("needed "), std::string::npos) << f.detail;
    EXPECT_NE(f.detail.find("available "), std::string::npos) << f.detail;
  }
  // Copy done: 1 subscription slot used; needed = it + pgparity's own.
  EXPECT_EQ(ExpectFinding(r, "capacity", Severity::kInfo, "source max_replication_slots").detail,
            "used 1, needed 2 (0 other + 1 subscription + 0 tablesync (initial copy done) + 1 "
            "pgparity), available 10");
  ExpectFinding(r, "publication", Severity::kInfo, "publication my_publication");
  EXPECT_EQ(ExpectFinding(r, "schema", Severity::kInfo, "published tables").detail,
            "2 tables compared with the target (columns, types, replica identities): no "
            "blocking difference");
  ExpectFinding(r, "subscription", Severity::kInfo, "subscription my_subscription");
  ExpectFinding(r, "subscription_slot", Severity::kInfo, "source slot my_subscription");
  // The target runs without commit timestamps: recommended, for provenance.
  const Finding& commit_ts =
      ExpectFinding(r, "track_commit_timestamp", Severity::kInfo, "target track_commit_timestamp");
  EXPECT_NE(commit_ts.detail.find("cannot tell a local write on the target from a replicated one"),
            std::string::npos)
      << commit_ts.detail;
  EXPECT_EQ(commit_ts.fix.rfind("ALTER SYSTEM SET track_commit_timestamp = on; on the target, then "
                                "restart it",
                                0),
            0u)
      << commit_ts.fix;

  // Sequences are not replicated: the copied rows came with their ids, the
  // target's sequences were never used.
  const Finding& users =
      ExpectFinding(r, "sequence", Severity::kWarning, "sequence public.users_id_seq");
  EXPECT_NE(users.detail.find("source last_value 5, target unused"), std::string::npos)
      << users.detail;
  EXPECT_NE(users.fix.find("setval('public.users_id_seq'"), std::string::npos) << users.fix;
  ExpectFinding(r, "sequence", Severity::kWarning, "sequence public.orders_id_seq");
  // Nothing else to warn about.
  EXPECT_EQ(r.Count(Severity::kWarning), 2) << Dump(r);

  // Read-only: no slot created by the preflight.
  EXPECT_EQ(source.Value("SELECT string_agg(slot_name, ',') FROM pg_replication_slots"),
            slots_before);
}

TEST_F(PreflightTest, SequenceAtOrAboveTheSourceIsInfo) {
  SqlClient target(servers().target.Dsn());
  target.Exec("SELECT setval('users_id_seq', 100)");
  PreflightReport r = RunPreflight();
  target.Exec("SELECT setval('users_id_seq', 1, false)");
  const Finding& f = ExpectFinding(r, "sequence", Severity::kInfo, "sequence public.users_id_seq");
  EXPECT_EQ(f.detail, "source last_value 5, target 100");
}

TEST_F(PreflightTest, PublishedTableWithoutPrimaryKeyIsBlocking) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  const std::string ddl = "CREATE TABLE public.no_pk (a integer NOT NULL, b text)";
  source.Exec(ddl);
  target.Exec(ddl);
  Cleanup cleanup([&] {
    source.Exec("DROP TABLE IF EXISTS public.no_pk");
    target.Exec("DROP TABLE IF EXISTS public.no_pk");
  });

  PreflightReport r = RunPreflight();
  EXPECT_FALSE(r.ready());
  const Finding& f = ExpectFinding(r, "replica_identity", Severity::kBlocking, "public.no_pk");
  EXPECT_NE(f.detail.find("no primary key and REPLICA IDENTITY DEFAULT"), std::string::npos);
  EXPECT_NE(f.fix.find("insert-only"), std::string::npos) << f.fix;
  EXPECT_EQ(r.Count(Severity::kBlocking), 1) << Dump(r);
  // FOR ALL TABLES published it at once; the subscription has not seen it.
  ExpectFinding(r, "subscription_table", Severity::kWarning, "public.no_pk");

  // REPLICA IDENTITY NOTHING is no better.
  source.Exec("ALTER TABLE public.no_pk REPLICA IDENTITY NOTHING");
  r = RunPreflight();
  EXPECT_NE(ExpectFinding(r, "replica_identity", Severity::kBlocking, "public.no_pk")
                .detail.find("REPLICA IDENTITY NOTHING"),
            std::string::npos);

  // FULL or an identity index fix it (the target needs no key for FULL).
  source.Exec("ALTER TABLE public.no_pk REPLICA IDENTITY FULL");
  r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  source.Exec(
      "CREATE UNIQUE INDEX no_pk_a ON public.no_pk (a);"
      "ALTER TABLE public.no_pk REPLICA IDENTITY USING INDEX no_pk_a");
  target.Exec("ALTER TABLE public.no_pk ADD PRIMARY KEY (a)");
  r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  EXPECT_EQ(FindFinding(r, "replica_identity", "public.no_pk"), nullptr);
}

TEST_F(PreflightTest, TableMissingOnTheTargetIsBlocking) {
  SqlClient source(servers().source.Dsn());
  source.Exec("CREATE TABLE public.only_on_source (id integer PRIMARY KEY)");
  Cleanup cleanup([&] { source.Exec("DROP TABLE IF EXISTS public.only_on_source"); });
  PreflightReport r = RunPreflight();
  EXPECT_FALSE(r.ready());
  const Finding& f =
      ExpectFinding(r, "table_missing", Severity::kBlocking, "public.only_on_source");
  EXPECT_NE(f.fix.find("pg_dump --schema-only"), std::string::npos) << f.fix;
  EXPECT_EQ(r.Count(Severity::kBlocking), 1) << Dump(r);
  EXPECT_EQ(ExpectFinding(r, "schema", Severity::kInfo, "published tables").detail,
            "3 tables compared with the target (columns, types, replica identities): 1 table "
            "with blocking problems");
}

TEST_F(PreflightTest, ColumnMissingOnTheTargetIsBlocking) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  source.Exec("CREATE TABLE public.wide (id integer PRIMARY KEY, note text, \"Mixed Case\" date)");
  target.Exec("CREATE TABLE public.wide (id integer PRIMARY KEY, \"Mixed Case\" date)");
  Cleanup cleanup([&] {
    source.Exec("DROP TABLE IF EXISTS public.wide");
    target.Exec("DROP TABLE IF EXISTS public.wide");
  });
  PreflightReport r = RunPreflight();
  EXPECT_FALSE(r.ready());
  const Finding& f = ExpectFinding(r, "column_missing", Severity::kBlocking, "public.wide.note");
  EXPECT_EQ(f.fix, "ALTER TABLE public.wide ADD COLUMN note text; on the target");
  EXPECT_EQ(r.Count(Severity::kBlocking), 1) << Dump(r);
}

TEST_F(PreflightTest, ColumnTypeMismatchIsBlocking) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  source.Exec("CREATE TABLE public.typed (id integer PRIMARY KEY, amount numeric(10,2))");
  target.Exec("CREATE TABLE public.typed (id integer PRIMARY KEY, amount real)");
  Cleanup cleanup([&] {
    source.Exec("DROP TABLE IF EXISTS public.typed");
    target.Exec("DROP TABLE IF EXISTS public.typed");
  });
  PreflightReport r = RunPreflight();
  EXPECT_FALSE(r.ready());
  const Finding& f = ExpectFinding(r, "column_type", Severity::kBlocking, "public.typed.amount");
  EXPECT_EQ(f.detail, "type differs: source numeric(10,2), target real");
  EXPECT_EQ(r.Count(Severity::kBlocking), 1) << Dump(r);

  // text -> integer: the subscriber fails on the first value that is no
  // number.
  source.Exec("ALTER TABLE public.typed ADD COLUMN code text");
  target.Exec("ALTER TABLE public.typed ADD COLUMN code integer");
  r = RunPreflight();
  const Finding& code = ExpectFinding(r, "column_type", Severity::kBlocking, "public.typed.code");
  EXPECT_EQ(code.detail, "type differs: source text, target integer");
  EXPECT_EQ(code.fix, "ALTER TABLE public.typed ALTER COLUMN code TYPE text; on the target");
  EXPECT_EQ(r.Count(Severity::kBlocking), 2) << Dump(r);
}

// Tables created on both sides for one test, dropped at its end.
class TablesOnBothSides {
 public:
  TablesOnBothSides(testing::MigrationServers& servers, const std::string& source_ddl,
                    const std::string& target_ddl, std::vector<std::string> names)
      : source_(servers.source.Dsn()), target_(servers.target.Dsn()), names_(std::move(names)) {
    Drop();
    source_.Exec(source_ddl);
    if (!target_ddl.empty()) target_.Exec(target_ddl);
  }
  ~TablesOnBothSides() {
    try {
      Drop();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup failed: " << e.what();
    }
  }
  SqlClient& source() { return source_; }
  SqlClient& target() { return target_; }

 private:
  void Drop() {
    for (const auto& n : names_) {
      source_.Exec("DROP TABLE IF EXISTS " + n + " CASCADE");
      target_.Exec("DROP TABLE IF EXISTS " + n + " CASCADE");
    }
  }
  SqlClient source_;
  SqlClient target_;
  std::vector<std::string> names_;
};

TEST_F(PreflightTest, WideningTypeChangesAreInfo) {
  TablesOnBothSides tables(
      servers(),
      "CREATE TABLE public.widened (id integer PRIMARY KEY, n smallint, name varchar(20), "
      "price numeric(10,2))",
      "CREATE TABLE public.widened (id bigint PRIMARY KEY, n integer, name text, "
      "price numeric(12,2))",
      {"public.widened"});
  PreflightReport r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  EXPECT_EQ(r.Count(Severity::kBlocking), 0) << Dump(r);
  for (const char* column : {"id", "n", "name", "price"}) {
    const Finding& f =
        ExpectFinding(r, "column_type", Severity::kInfo, std::string("public.widened.") + column);
    EXPECT_NE(f.detail.find("round-trip exactly"), std::string::npos) << f.detail;
    EXPECT_NE(f.detail.find("verify compares them as equal"), std::string::npos) << f.detail;
    EXPECT_EQ(f.fix, "");
  }
  EXPECT_EQ(ExpectFinding(r, "column_type", Severity::kInfo, "public.widened.id").detail,
            "type widened (source integer, target bigint): the values round-trip exactly and "
            "verify compares them as equal");
  EXPECT_NE(ExpectFinding(r, "column_type", Severity::kInfo, "public.widened.name")
                .detail.find("source character varying(20), target text"),
            std::string::npos);
  EXPECT_EQ(ExpectFinding(r, "schema", Severity::kInfo, "published tables").detail,
            "3 tables compared with the target (columns, types, replica identities): no "
            "blocking difference");
}

TEST_F(PreflightTest, ConversionTypeChangesAreWarningsSayingHowTheyAreCompared) {
  TablesOnBothSides tables(
      servers(),
      "CREATE TABLE public.converted (id integer PRIMARY KEY, at timestamp, doc json, f real)",
      "CREATE TABLE public.converted (id integer PRIMARY KEY, at timestamptz, doc jsonb, "
      "f double precision)",
      {"public.converted"});
  // Both databases' sessions (and the subscription's workers) get these.
  tables.source().Exec("ALTER DATABASE " + servers().source.database() +
                       " SET TimeZone = 'Europe/Paris'");
  tables.target().Exec("ALTER DATABASE " + servers().target.database() +
                       " SET TimeZone = 'Europe/Paris'");
  Cleanup reset([&] {
    tables.source().Exec("ALTER DATABASE " + servers().source.database() + " RESET TimeZone");
    tables.target().Exec("ALTER DATABASE " + servers().target.database() + " RESET TimeZone");
  });

  PreflightReport r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  const Finding& at = ExpectFinding(r, "column_type", Severity::kWarning, "public.converted.at");
  EXPECT_NE(at.detail.find("TimeZone"), std::string::npos) << at.detail;
  EXPECT_NE(at.detail.find("compared as the same instant in the source's TimeZone Europe/Paris"),
            std::string::npos)
      << at.detail;
  EXPECT_EQ(at.detail.find("the target's TimeZone is"), std::string::npos) << at.detail;
  const Finding& doc = ExpectFinding(r, "column_type", Severity::kWarning, "public.converted.doc");
  EXPECT_NE(doc.detail.find("not compared by verify (the column is reported unverified)"),
            std::string::npos)
      << doc.detail;
  const Finding& f = ExpectFinding(r, "column_type", Severity::kWarning, "public.converted.f");
  EXPECT_NE(f.detail.find("compared after casting back to real"), std::string::npos) << f.detail;

  // Another TimeZone on the target: the apply worker shifts the instants.
  tables.target().Exec("ALTER DATABASE " + servers().target.database() +
                       " SET TimeZone = 'Asia/Tokyo'");
  r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  const Finding& shifted =
      ExpectFinding(r, "column_type", Severity::kWarning, "public.converted.at");
  EXPECT_NE(shifted.detail.find("the target's TimeZone is Asia/Tokyo, not Europe/Paris"),
            std::string::npos)
      << shifted.detail;
  EXPECT_NE(shifted.detail.find("shifts every instant"), std::string::npos) << shifted.detail;
  EXPECT_NE(shifted.fix.find("ALTER SYSTEM SET TimeZone = 'Europe/Paris'"), std::string::npos)
      << shifted.fix;
}

constexpr const char* kPartitionedSource =
    "CREATE TABLE public.parted (id integer, region text, v text, PRIMARY KEY (id, region)) "
    "PARTITION BY LIST (region);"
    "CREATE TABLE public.parted_eu PARTITION OF public.parted FOR VALUES IN ('eu');"
    "CREATE TABLE public.parted_us PARTITION OF public.parted FOR VALUES IN ('us')";

TEST_F(PreflightTest, PartitionsPublishedViaTheRoot) {
  if (testing::SourceMajor() < 13) {
    GTEST_SKIP() << "publish_via_partition_root needs a PostgreSQL 13+ source (this pair's is "
                 << testing::SourceMajor() << ")";
  }
  TablesOnBothSides tables(servers(), kPartitionedSource,
                           "CREATE TABLE public.parted (id integer, region text, v text, "
                           "PRIMARY KEY (id, region))",
                           {"public.parted", "public.loose"});
  tables.source().Exec("ALTER PUBLICATION my_publication SET (publish_via_partition_root = true)");
  Cleanup reset([&] {
    tables.source().Exec(
        "ALTER PUBLICATION my_publication SET (publish_via_partition_root = false)");
  });

  // The target's table is not partitioned at all.
  PreflightReport r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  const Finding& mode =
      ExpectFinding(r, "partitions", Severity::kInfo, "publication my_publication");
  EXPECT_NE(mode.detail.find("publish_via_partition_root = true: changes of every partition are "
                             "published as its partitioned root (public.parted)"),
            std::string::npos)
      << mode.detail;
  EXPECT_EQ(FindFinding(r, "table_missing", "public.parted_eu"), nullptr) << Dump(r);
  ExpectFinding(r, "subscription_table", Severity::kWarning, "public.parted");

  // Partitioned another way, the key only on the partitions: the
  // subscriber routes each row and finds it by the partition's key.
  tables.target().Exec(
      "DROP TABLE public.parted;"
      "CREATE TABLE public.parted (id integer NOT NULL, region text NOT NULL, v text) "
      "PARTITION BY HASH (id);"
      "CREATE TABLE public.parted_h0 PARTITION OF public.parted "
      "FOR VALUES WITH (MODULUS 2, REMAINDER 0);"
      "CREATE TABLE public.parted_h1 PARTITION OF public.parted "
      "FOR VALUES WITH (MODULUS 2, REMAINDER 1);"
      "ALTER TABLE public.parted_h0 ADD PRIMARY KEY (id, region)");
  r = RunPreflight();
  EXPECT_FALSE(r.ready());
  const Finding& key = ExpectFinding(r, "target_identity", Severity::kBlocking, "public.parted_h1");
  EXPECT_EQ(key.fix, "ALTER TABLE public.parted_h1 ADD PRIMARY KEY (id, region); on the target");
  EXPECT_EQ(FindFinding(r, "target_identity", "public.parted_h0"), nullptr) << Dump(r);
  EXPECT_EQ(FindFinding(r, "target_identity", "public.parted"), nullptr) << Dump(r);
  tables.target().Exec("ALTER TABLE public.parted_h1 ADD PRIMARY KEY (id, region)");
  r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);

  // Without the root's name on the target nothing can be applied.
  tables.target().Exec("ALTER TABLE public.parted RENAME TO parted_other");
  r = RunPreflight();
  tables.target().Exec("ALTER TABLE public.parted_other RENAME TO parted");
  ExpectFinding(r, "table_missing", Severity::kBlocking, "public.parted");
  EXPECT_EQ(r.Count(Severity::kBlocking), 1) << Dump(r);

  // The replica identity that matters on the source is the partition's:
  // REPLICA IDENTITY FULL on the root does not reach its partitions.
  tables.source().Exec(
      "CREATE TABLE public.loose (a integer, b text) PARTITION BY RANGE (a);"
      "CREATE TABLE public.loose_1 PARTITION OF public.loose FOR VALUES FROM (0) TO (100);"
      "ALTER TABLE public.loose REPLICA IDENTITY FULL");
  tables.target().Exec("CREATE TABLE public.loose (a integer, b text)");
  r = RunPreflight();
  const Finding& leaf = ExpectFinding(r, "replica_identity", Severity::kBlocking, "public.loose_1");
  EXPECT_NE(leaf.detail.find("(a partition of public.loose)"), std::string::npos) << leaf.detail;
  EXPECT_EQ(FindFinding(r, "replica_identity", "public.loose"), nullptr) << Dump(r);
  EXPECT_EQ(r.Count(Severity::kBlocking), 1) << Dump(r);
}

TEST_F(PreflightTest, PartitionsPublishedUnderTheirOwnNames) {
  TablesOnBothSides tables(servers(), kPartitionedSource,
                           "CREATE TABLE public.parted (id integer, region text, v text, "
                           "PRIMARY KEY (id, region))",
                           {"public.parted", "public.parted_eu", "public.parted_us"});
  if (testing::SourceMajor() >= 13) {  // pubviaroot is 13+; 12 always publishes the leaves
    ASSERT_EQ(tables.source().Value(
                  "SELECT pubviaroot FROM pg_publication WHERE pubname = 'my_publication'"),
              "f");
  }
  // Without publish_via_partition_root the source lists the leaves, not the root.
  EXPECT_EQ(tables.source().Value("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM "
                                  "pg_publication_tables WHERE tablename LIKE 'parted%'"),
            "parted_eu,parted_us");

  // The target has the root's name only: each leaf is missing.
  PreflightReport r = RunPreflight();
  EXPECT_FALSE(r.ready());
  const Finding& mode =
      ExpectFinding(r, "partitions", Severity::kInfo, "publication my_publication");
  EXPECT_NE(mode.detail.find("publish_via_partition_root = false: each leaf partition is "
                             "published under its own name (public.parted_eu, public.parted_us, "
                             "partitions of public.parted)"),
            std::string::npos)
      << mode.detail;
  EXPECT_NE(mode.detail.find("arrive as DELETE + INSERT"), std::string::npos) << mode.detail;
  for (const char* leaf : {"public.parted_eu", "public.parted_us"}) {
    const Finding& f = ExpectFinding(r, "table_missing", Severity::kBlocking, leaf);
    EXPECT_NE(f.fix.find("publish_via_partition_root = true"), std::string::npos) << f.fix;
  }
  EXPECT_EQ(r.Count(Severity::kBlocking), 2) << Dump(r);
  EXPECT_EQ(FindFinding(r, "table_missing", "public.parted"), nullptr) << Dump(r);

  // Tables of the leaves' names, partitions of nothing: fine.
  tables.target().Exec(
      "CREATE TABLE public.parted_eu (id integer, region text, v text, PRIMARY KEY (id, region));"
      "CREATE TABLE public.parted_us (id integer, region text, v text, PRIMARY KEY (id, region))");
  r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  ExpectFinding(r, "subscription_table", Severity::kWarning, "public.parted_eu");
}

TEST_F(PreflightTest, TableCreatedAfterTheSubscriptionIsNotSubscribed) {
  TablesOnBothSides tables(servers(), "CREATE TABLE public.late (id integer PRIMARY KEY)",
                           "CREATE TABLE public.late (id integer PRIMARY KEY)", {"public.late"});
  PreflightReport r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  const Finding& f = ExpectFinding(r, "subscription_table", Severity::kWarning, "public.late");
  EXPECT_NE(f.detail.find("not subscribed"), std::string::npos) << f.detail;
  EXPECT_EQ(f.fix, "ALTER SUBSCRIPTION my_subscription REFRESH PUBLICATION; on the target");

  // Refreshed: copied and ready, nothing to report.
  tables.target().Exec("ALTER SUBSCRIPTION my_subscription REFRESH PUBLICATION");
  WaitUntil(
      [&] {
        return tables.target().Value(
                   "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate = 'r' AND "
                   "srrelid = 'public.late'::regclass") == "1";
      },
      "public.late to be ready");
  r = RunPreflight();
  EXPECT_EQ(FindFinding(r, "subscription_table", "public.late"), nullptr) << Dump(r);

  // Missing on the target as well: created there first, then refreshed.
  tables.source().Exec("CREATE TABLE public.later (id integer PRIMARY KEY)");
  Cleanup drop([&] { tables.source().Exec("DROP TABLE IF EXISTS public.later"); });
  r = RunPreflight();
  EXPECT_NE(ExpectFinding(r, "subscription_table", Severity::kWarning, "public.later")
                .fix.find("create it on the target"),
            std::string::npos);
  ExpectFinding(r, "table_missing", Severity::kBlocking, "public.later");
}

TEST_F(PreflightTest, ExtraTargetColumnsAndColumnOrder) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  source.Exec("CREATE TABLE public.extra (id integer PRIMARY KEY, a integer, b integer)");
  target.Exec(
      "CREATE TABLE public.extra (id integer PRIMARY KEY, b integer, a integer, "
      "nullable_col text, defaulted integer NOT NULL DEFAULT 0, computed integer GENERATED "
      "ALWAYS AS (a + 1) STORED)");
  Cleanup cleanup([&] {
    source.Exec("DROP TABLE IF EXISTS public.extra");
    target.Exec("DROP TABLE IF EXISTS public.extra");
  });
  PreflightReport r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  ExpectFinding(r, "column_extra", Severity::kWarning, "public.extra.nullable_col");
  ExpectFinding(r, "column_extra", Severity::kWarning, "public.extra.defaulted");
  EXPECT_EQ(FindFinding(r, "column_extra", "public.extra.computed"), nullptr) << Dump(r);
  const Finding& order = ExpectFinding(r, "column_order", Severity::kInfo, "public.extra");
  EXPECT_NE(order.detail.find("source: id, a, b; target: id, b, a"), std::string::npos)
      << order.detail;

  // NOT NULL without a default: every INSERT the subscriber applies fails.
  target.Exec("ALTER TABLE public.extra ADD COLUMN required text NOT NULL");
  r = RunPreflight();
  EXPECT_FALSE(r.ready());
  ExpectFinding(r, "column_extra", Severity::kBlocking, "public.extra.required");
}

// Found by the corpus: PostgreSQL 16's subscriber compares every column of
// a keyless FULL table, so a target-only default makes it miss every row.
TEST_F(PreflightTest, TargetOnlyDefaultOnAKeylessFullTableIsBlocking) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  source.Exec(
      "CREATE TABLE public.ledger (a integer, b text); ALTER TABLE public.ledger REPLICA "
      "IDENTITY FULL");
  target.Exec("CREATE TABLE public.ledger (a integer, b text, added integer DEFAULT 0)");
  Cleanup cleanup([&] {
    source.Exec("DROP TABLE IF EXISTS public.ledger");
    target.Exec("DROP TABLE IF EXISTS public.ledger");
  });
  PreflightReport r = RunPreflight();
  EXPECT_FALSE(r.ready()) << Dump(r);
  const Finding& f = ExpectFinding(r, "column_extra", Severity::kBlocking, "public.ledger.added");
  EXPECT_NE(f.detail.find("every replicated UPDATE and DELETE silently misses its row"),
            std::string::npos)
      << f.detail;
  // Without the default rows get NULL, which the comparison matches.
  target.Exec("ALTER TABLE public.ledger ALTER COLUMN added DROP DEFAULT");
  r = RunPreflight();
  ExpectFinding(r, "column_extra", Severity::kWarning, "public.ledger.added");
}

TEST_F(PreflightTest, TargetKeyTheSourceDoesNotSendIsBlocking) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  source.Exec("CREATE TABLE public.keyed (id integer PRIMARY KEY, code text NOT NULL UNIQUE)");
  target.Exec("CREATE TABLE public.keyed (id integer NOT NULL, code text PRIMARY KEY)");
  Cleanup cleanup([&] {
    source.Exec("DROP TABLE IF EXISTS public.keyed");
    target.Exec("DROP TABLE IF EXISTS public.keyed");
  });
  PreflightReport r = RunPreflight();
  EXPECT_FALSE(r.ready());
  ExpectFinding(r, "target_identity", Severity::kBlocking, "public.keyed");

  // No key at all on the target, the source sending only its key.
  target.Exec("ALTER TABLE public.keyed DROP CONSTRAINT keyed_pkey");
  r = RunPreflight();
  const Finding& f = ExpectFinding(r, "target_identity", Severity::kBlocking, "public.keyed");
  EXPECT_EQ(f.fix, "ALTER TABLE public.keyed ADD PRIMARY KEY (id); on the target");

  target.Exec("ALTER TABLE public.keyed ADD PRIMARY KEY (id)");
  r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
}

TEST_F(PreflightTest, UnloggedTableIsOnlyAWarning) {
  SqlClient source(servers().source.Dsn());
  source.Exec("CREATE UNLOGGED TABLE public.scratch (id integer PRIMARY KEY)");
  Cleanup cleanup([&] { source.Exec("DROP TABLE IF EXISTS public.scratch"); });
  PreflightReport r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  ExpectFinding(r, "unlogged_table", Severity::kWarning, "public.scratch");
  // Never published, so not missing on the target either.
  EXPECT_EQ(FindFinding(r, "table_missing", "public.scratch"), nullptr);
}

// A target trigger enabled ALWAYS or REPLICA fires on replicated changes;
// one left at its default (ORIGIN) does not, and is not named.
TEST_F(PreflightTest, TargetTriggersThatFireOnReplicatedChangesAreNamed) {
  SqlClient target(servers().target.Dsn());
  target.Exec(
      "CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS "
      "$$BEGIN NEW.email := lower(NEW.email); RETURN NEW; END$$;"
      "CREATE TRIGGER \"Stempel\" BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION "
      "public.stamp();"
      "CREATE TRIGGER only_origin BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION "
      "public.stamp();"
      "ALTER TABLE public.users ENABLE ALWAYS TRIGGER \"Stempel\"");
  Cleanup cleanup([&] {
    target.Exec(
        "DROP TRIGGER IF EXISTS \"Stempel\" ON public.users;"
        "DROP TRIGGER IF EXISTS only_origin ON public.users;"
        "DROP FUNCTION IF EXISTS public.stamp()");
  });
  PreflightReport r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  const Finding& f = ExpectFinding(r, "target_trigger", Severity::kWarning, "public.users");
  EXPECT_EQ(f.detail.find("only_origin"), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find("trigger \"Stempel\" (ALWAYS) fires on replicated changes"),
            std::string::npos)
      << f.detail;
  EXPECT_EQ(f.fix.substr(0, f.fix.find(" on the target")),
            "ALTER TABLE public.users ENABLE TRIGGER \"Stempel\";");
  EXPECT_EQ(FindFinding(r, "target_trigger", "public.orders"), nullptr);
}

// Materialized views are never replicated: one missing on the target, one
// there WITH NO DATA (as pg_dump --schema-only creates it), one populated,
// one populated on neither side.
TEST_F(PreflightTest, MaterializedViewsAreNamedWithTheirRefresh) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  for (SqlClient* side : {&source, &target}) {
    side->Exec(
        "CREATE MATERIALIZED VIEW public.\"Umsatz\" AS SELECT 1 AS n WITH NO DATA;"
        "CREATE MATERIALIZED VIEW public.filled AS SELECT 2 AS n;"
        "CREATE MATERIALIZED VIEW public.never AS SELECT 4 AS n WITH NO DATA");
  }
  source.Exec(
      "REFRESH MATERIALIZED VIEW public.\"Umsatz\";"
      "CREATE MATERIALIZED VIEW public.only_source AS SELECT 3 AS n");
  Cleanup cleanup([&] {
    for (SqlClient* side : {&source, &target}) {
      side->Exec(
          "DROP MATERIALIZED VIEW IF EXISTS public.\"Umsatz\", public.filled, "
          "public.only_source, public.never");
    }
  });
  PreflightReport r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  const Finding& empty =
      ExpectFinding(r, "materialized_view", Severity::kWarning, "public.\"Umsatz\"");
  EXPECT_NE(empty.detail.find("not populated on the target"), std::string::npos) << empty.detail;
  EXPECT_EQ(empty.fix,
            "REFRESH MATERIALIZED VIEW public.\"Umsatz\"; on the target before the switch");
  const Finding& missing =
      ExpectFinding(r, "materialized_view", Severity::kWarning, "public.only_source");
  EXPECT_NE(missing.detail.find("missing on the target"), std::string::npos) << missing.detail;
  ExpectFinding(r, "materialized_view", Severity::kInfo, "public.filled");
  // Not populated on the source either: as the application has it.
  const Finding& never = ExpectFinding(r, "materialized_view", Severity::kInfo, "public.never");
  EXPECT_NE(never.detail.find("not populated on either side"), std::string::npos) << never.detail;
}

TEST_F(PreflightTest, StaleSlotIsAWarningWithItsSize) {
  SqlClient source(servers().source.Dsn());
  source.Exec("SELECT pg_create_logical_replication_slot('forgotten', 'pgoutput')");
  Cleanup cleanup([&] { source.Exec("SELECT pg_drop_replication_slot('forgotten')"); });
  source.Exec(
      "CREATE TABLE public.filler AS SELECT g FROM generate_series(1, 20000) g;"
      "DROP TABLE public.filler");
  PreflightReport r = RunPreflight();
  EXPECT_TRUE(r.ready()) << Dump(r);
  const Finding& f = ExpectFinding(r, "slot", Severity::kWarning, "source slot forgotten");
  EXPECT_NE(f.detail.find("not active, retains "), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find(" kB of WAL"), std::string::npos) << f.detail;
  EXPECT_EQ(f.fix,
            "SELECT pg_drop_replication_slot('forgotten'); on the source if nothing uses it any "
            "more");
  // It counts against the source's slot budget.
  EXPECT_EQ(ExpectFinding(r, "capacity", Severity::kInfo, "source max_replication_slots").detail,
            "used 2, needed 3 (1 other + 1 subscription + 0 tablesync (initial copy done) + 1 "
            "pgparity), available 10");
}

TEST_F(PreflightTest, LargeObjectsAndLongTransactionsAreWarnings) {
  SqlClient source(servers().source.Dsn());
  const std::string oid = source.Value("SELECT lo_create(0)");
  Cleanup drop_lo([&] { source.Exec("SELECT lo_unlink(" + oid + ")"); });
  SqlClient idle(servers().source.Dsn());
  const std::string pid = idle.Value("SELECT pg_backend_pid()");
  idle.Exec("BEGIN; SELECT txid_current()");
  Cleanup rollback([&] { idle.Exec("ROLLBACK"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  PreflightOptions options;
  options.long_transaction = std::chrono::seconds(1);
  PreflightReport r = RunPreflight(options);
  EXPECT_TRUE(r.ready()) << Dump(r);
  const Finding& lo = ExpectFinding(r, "large_objects", Severity::kWarning, "source large objects");
  EXPECT_NE(lo.detail.find("1 large object:"), std::string::npos) << lo.detail;
  const Finding& tx =
      ExpectFinding(r, "long_transaction", Severity::kWarning, "source backend " + pid);
  EXPECT_NE(tx.detail.find("has written"), std::string::npos) << tx.detail;
  EXPECT_EQ(tx.fix,
            "let it finish, or end it: SELECT pg_terminate_backend(" + pid + "); on the source");
  // The default threshold is 5 minutes.
  EXPECT_EQ(FindFinding(RunPreflight(), "long_transaction", "source backend " + pid), nullptr);
}

TEST_F(PreflightTest, DisabledSubscriptionIsBlocking) {
  SqlClient source(servers().source.Dsn());
  SqlClient target(servers().target.Dsn());
  target.Exec("ALTER SUBSCRIPTION my_subscription DISABLE");
  Cleanup enable([&] {
    target.Exec("ALTER SUBSCRIPTION my_subscription ENABLE");
    WaitForApplyWorker(source, target);
  });
  PreflightReport r = RunPreflight();
  EXPECT_FALSE(r.ready());
  const Finding& f =
      ExpectFinding(r, "subscription", Severity::kBlocking, "subscription my_subscription");
  EXPECT_EQ(f.fix, "ALTER SUBSCRIPTION my_subscription ENABLE; on the target");
}

TEST_F(PreflightTest, BeforeTheSubscriptionExists) {
  // A second target database without a subscription, one table already
  // holding rows, the other missing.
  SqlClient admin(servers().target.Dsn("postgres"));
  admin.Exec("CREATE DATABASE fresh");
  Cleanup drop([&] { admin.Exec("DROP DATABASE IF EXISTS fresh WITH (FORCE)"); });
  {
    SqlClient fresh(servers().target.Dsn("fresh"));
    fresh.Exec(
        "CREATE TABLE users (id serial PRIMARY KEY, username varchar(50) NOT NULL UNIQUE, "
        "email varchar(100) NOT NULL, created_at timestamptz NOT NULL DEFAULT now());"
        "INSERT INTO users (username, email) VALUES ('x', 'x@example.com')");
  }
  PreflightReport r = RunPreflight({}, servers().target.Dsn("fresh"));
  EXPECT_EQ(r.subscription, "");
  ExpectFinding(r, "subscription", Severity::kInfo, "subscription my_subscription");
  ExpectFinding(r, "target_not_empty", Severity::kWarning, "public.users");
  ExpectFinding(r, "table_missing", Severity::kBlocking, "public.orders");
  // The initial copy is still ahead: tablesync slots count.
  EXPECT_EQ(ExpectFinding(r, "capacity", Severity::kInfo, "source max_replication_slots").detail,
            "used 1, needed 5 (1 other + 1 subscription + 2 tablesync during the initial copy + "
            "1 pgparity), available 10");
  // The existing subscription's slot is just another slot for this target
  // (a warning while its walsender is not connected).
  EXPECT_NE(FindFinding(r, "slot", "source slot my_subscription"), nullptr) << Dump(r);
}

TEST_F(PreflightTest, UnknownPublicationOrSubscriptionIsNotFound) {
  PreflightOptions options;
  options.publication = "nope";
  Result<PreflightReport> r = TryPreflight(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("publication \"nope\" does not exist on the source"),
            std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("it has: my_publication"), std::string::npos);

  options = {};
  options.subscription = "other_subscription";
  r = TryPreflight(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("subscription \"other_subscription\" does not exist"),
            std::string::npos)
      << r.status().ToString();
}

TEST_F(PreflightTest, UnprivilegedRoleIsToldWhatItCannotSee) {
  const std::string role =
      "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'plain') THEN "
      "CREATE ROLE plain LOGIN PASSWORD 'plain'; END IF; END $$";
  SqlClient(servers().source.Dsn()).Exec(role);
  SqlClient(servers().target.Dsn()).Exec(role);
  auto dsn = [](const PgServer& s) {
    return "host=127.0.0.1 port=" + std::to_string(s.port()) + " dbname=" + s.database() +
           " user=plain password=plain";
  };
  // By default preflight checks the roles for verify and audit: plain has
  // none of their grants (tests/privileges_test.cc checks each one).
  PreflightReport r = RunPreflight({}, dsn(servers().target), dsn(servers().source));
  EXPECT_FALSE(r.ready()) << Dump(r);
  const Finding& replication =
      ExpectFinding(r, "privileges", Severity::kBlocking, "source role plain");
  EXPECT_EQ(replication.fix,
            "ALTER ROLE \"plain\" WITH LOGIN REPLICATION; (as a superuser on the source)");
  ExpectFinding(r, "privileges", Severity::kBlocking,
                "target pg_catalog.pg_replication_origin_status");
  PreflightOptions unchecked;
  unchecked.commands.clear();
  r = RunPreflight(unchecked, dsn(servers().target), dsn(servers().source));
  EXPECT_TRUE(r.ready()) << Dump(r);
  EXPECT_EQ(FindFinding(r, "privileges", "source role plain"), nullptr);
  ExpectFinding(r, "visibility", Severity::kWarning, "source role plain");
  ExpectFinding(r, "visibility", Severity::kWarning, "target role plain");
  const Finding& seq =
      ExpectFinding(r, "sequence", Severity::kWarning, "sequence public.users_id_seq");
  EXPECT_NE(seq.detail.find("not readable"), std::string::npos) << seq.detail;
}

// wal_level=replica and a prepared transaction need server settings of
// their own: a third server, a PostgreSQL 14 source restarted with them
// (pgenv.sh always starts with wal_level=logical; a server with logical
// slots would refuse wal_level=replica, this one has none).
TEST_F(PreflightTest, WalLevelReplicaAndPreparedTransaction) {
  PgServer other(testing::SourceMajor(), "sourcedb");
  ASSERT_EQ(testing::RunSqlScript(other, "init-source.sql"), 0);
  ASSERT_EQ(testing::RunSqlScript(other, "setup-replication.sql"), 0);
  RestartWithSettings(other,
                      "-c wal_level=replica -c max_prepared_transactions=4 "
                      "-c max_replication_slots=10 -c max_wal_senders=10");
  SqlClient source(other.Dsn());
  ASSERT_EQ(source.Value("SHOW wal_level"), "replica");
  source.Exec(
      "BEGIN; INSERT INTO users (username, email) VALUES ('p', 'p@example.com');"
      "PREPARE TRANSACTION 'pgparity test gid'");
  Cleanup rollback([&] { source.Exec("ROLLBACK PREPARED 'pgparity test gid'"); });

  PreflightReport r = RunPreflight({}, servers().target.Dsn(), other.Dsn());
  EXPECT_FALSE(r.ready());
  const Finding& w = ExpectFinding(r, "wal_level", Severity::kBlocking, "source wal_level");
  EXPECT_EQ(w.fix, "ALTER SYSTEM SET wal_level = logical; on the source, then restart it");
  const Finding& p = ExpectFinding(r, "prepared_transaction", Severity::kWarning,
                                   "source prepared transaction 'pgparity test gid'");
  EXPECT_NE(p.fix.find("COMMIT PREPARED 'pgparity test gid'"), std::string::npos) << p.fix;
  // The target's subscription points at the fixture's source, whose slot
  // this server does not have.
  ExpectFinding(r, "subscription_slot", Severity::kBlocking, "source slot my_subscription");
}

}  // namespace
}  // namespace pgparity::applier
