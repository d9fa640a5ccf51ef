#include "support/migration_env.h"

#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

namespace pgparity::testing {

std::unique_ptr<MigrationServers> MigrationFixture::servers_;

void MigrationFixture::SetUpTestSuite() {
  if (!servers_) servers_ = std::make_unique<MigrationServers>();
}

void MigrationFixture::TearDownTestSuite() { servers_.reset(); }

int RunSqlScript(const PgServer& server, const std::string& script,
                 const std::map<std::string, std::string>& variables, std::string* output) {
  std::string cmd = "PGPASSWORD=postgres psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " +
                    std::to_string(server.port()) + " -U postgres -d " + server.database();
  for (const auto& [name, value] : variables) {
    cmd += " -v " + name + "=\"" + value + "\"";
  }
  cmd += " -f " + SourcePath("sql/" + script).string();
  return RunCommand(cmd, output);
}

std::string SubscriptionConninfo(const MigrationServers& servers) {
  return "host=127.0.0.1 port=" + std::to_string(servers.source.port()) +
         " dbname=sourcedb user=postgres password=postgres";
}

namespace {

template <typename Done>
void WaitUntil(std::chrono::seconds timeout, Done done, const std::string& what) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (!done(&last)) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("timed out after " + std::to_string(timeout.count()) +
                               "s waiting for " + what + " (last state: " + last + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

void WaitForSubscriptionReady(SqlClient& target, const std::string& subscription,
                              std::chrono::seconds timeout,
                              const std::function<std::string()>& explain) {
  const auto ready = [&](std::string* last) {
    const auto rows = target.Query(
        "SELECT coalesce(string_agg(r.srrelid::regclass || ':' || r.srsubstate::text, ',' "
        "ORDER BY 1), ''), count(*) FILTER (WHERE r.srsubstate NOT IN ('r', 's')) "
        "FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid "
        "WHERE s.subname = $1",
        {subscription});
    *last = rows.at(0).at(0).value_or("");
    return rows.at(0).at(1) == "0";
  };
  try {
    WaitUntil(timeout, ready, "subscription " + subscription + " to finish its initial copy");
  } catch (const std::runtime_error& e) {
    if (!explain) throw;
    throw std::runtime_error(std::string(e.what()) + "\n" + explain());
  }
}

void SetUpQuickStartPair(MigrationServers& s) {
  std::string out;
  if (RunSqlScript(s.source, "init-source.sql", {}, &out) != 0 ||
      RunSqlScript(s.target, "init-target.sql", {}, &out) != 0 ||
      RunSqlScript(s.source, "setup-replication.sql", {}, &out) != 0 ||
      RunSqlScript(s.target, "setup-subscription.sql",
                   {{"source_conninfo", SubscriptionConninfo(s)}}, &out) != 0) {
    throw std::runtime_error("setting up the pair failed: " + out);
  }
  SqlClient target(s.target.Dsn());
  WaitForSubscriptionReady(target, "my_subscription", std::chrono::seconds(120));
  WaitUntil(
      std::chrono::seconds(120),
      [&](std::string* last) {
        *last = target.Value("SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'");
        return *last == "0";
      },
      "every table of my_subscription in state r");
}

void WaitForCatchUp(SqlClient& source, const std::string& subscription,
                    std::chrono::seconds timeout) {
  const std::string goal = source.Value("SELECT pg_current_wal_flush_lsn()");
  WaitUntil(
      timeout,
      [&](std::string* last) {
        *last = source
                    .Scalar(
                        "SELECT coalesce(confirmed_flush_lsn::text, 'no slot') FROM "
                        "pg_replication_slots WHERE slot_name = $1",
                        {subscription})
                    .value_or("no slot");
        return source
                   .Scalar(
                       "SELECT coalesce(bool_and(confirmed_flush_lsn >= $1::pg_lsn), false) "
                       "FROM pg_replication_slots WHERE slot_name = $2",
                       {goal, subscription})
                   .value_or("f") == "t";
      },
      "the target to apply up to source LSN " + goal);
}

void WaitForTemporarySlotsGone(SqlClient& source, std::chrono::seconds timeout) {
  WaitUntil(
      timeout,
      [&](std::string* last) {
        *last = source.Value(
            "SELECT coalesce(string_agg(slot_name, ','), '') FROM pg_replication_slots "
            "WHERE temporary");
        return last->empty();
      },
      "the temporary slots to go with their sessions");
}

void WaitForSlotReleased(SqlClient& source, const std::string& slot, std::chrono::seconds timeout) {
  WaitUntil(
      timeout,
      [&](std::string* last) {
        *last = source
                    .Scalar(
                        "SELECT coalesce(string_agg(active_pid::text, ','), 'none') FROM "
                        "pg_replication_slots WHERE slot_name = $1 AND active",
                        {slot})
                    .value_or("none");
        return *last == "none";
      },
      "slot " + slot + " to be released by its walsender");
}

void DropSlotOnceReleased(SqlClient& source, const std::string& slot,
                          std::chrono::seconds timeout) {
  WaitForSlotReleased(source, slot, timeout);
  source.Exec("SELECT pg_drop_replication_slot($1)", {slot});
}

std::string WaitForPgparityLockWait(SqlClient& db, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::string query = db.Value(
        "SELECT coalesce(max(query), '') FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND application_name LIKE 'pgparity%' AND datname = current_database()");
    if (!query.empty() || std::chrono::steady_clock::now() > deadline) return query;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void DropDatabaseIfExists(SqlClient& admin, const std::string& name) {
  // DROP and ALTER DATABASE take no parameters: the server quotes the name.
  auto statement = [&](const char* format) {
    return admin.Scalar("SELECT format($1, $2::text)", {format, name}).value_or("");
  };
  if (std::stoi(admin.Value("SHOW server_version_num")) >= 130000) {
    admin.Exec(statement("DROP DATABASE IF EXISTS %I WITH (FORCE)"));
    return;
  }
  // Before 13: no FORCE; no new session can start while the database is
  // not allowed connections.
  if (admin.Scalar("SELECT count(*) FROM pg_database WHERE datname = $1", {name}) == "0") return;
  admin.Exec(statement("ALTER DATABASE %I ALLOW_CONNECTIONS false"));
  admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", {name});
  WaitUntil(
      std::chrono::seconds(30),
      [&](std::string* last) {
        *last = admin.Scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", {name})
                    .value_or("0");
        return *last == "0";
      },
      "the sessions of database " + name + " to end");
  admin.Exec(statement("DROP DATABASE IF EXISTS %I"));
}

std::vector<std::string> PublishedTables(SqlClient& source, const std::string& publication) {
  std::vector<std::string> tables;
  for (auto& row : source.Query("SELECT format('%I.%I', schemaname, tablename) FROM "
                                "pg_publication_tables WHERE pubname = $1 ORDER BY 1",
                                {publication})) {
    tables.push_back(*row[0]);
  }
  return tables;
}

std::vector<Row> TableRows(SqlClient& db, const std::string& table) {
  return db.Query("SELECT * FROM " + table + " AS r ORDER BY r::text COLLATE \"C\"");
}

std::vector<Row> TableColumns(SqlClient& db, const std::string& table) {
  return db.Query(
      "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
      "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
      {table});
}

}  // namespace pgparity::testing
