// The migration pair every integration test runs against: a source
// (`sourcedb`) of SourceMajor() and a target (`targetdb`) of TargetMajor(),
// 14 and 16 unless tests/matrix.sh picks another pair; real servers on free
// ports, plus the steps of the environment's quick start.
//
// MigrationFixture starts the pair once per test suite and always stops it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/pg_server.h"
#include "support/sql_client.h"

namespace pgparity::testing {

struct MigrationServers {
  PgServer source{SourceMajor(), "sourcedb"};
  PgServer target{TargetMajor(), "targetdb"};
};

// Runs a file of sql/ with psql (the scripts use psql meta-commands) and
// -v ON_ERROR_STOP=1; returns psql's exit status, output in *output.
int RunSqlScript(const PgServer& server, const std::string& script,
                 const std::map<std::string, std::string>& variables = {},
                 std::string* output = nullptr);

// The conninfo the target server uses to reach the source.
std::string SubscriptionConninfo(const MigrationServers& servers);

// Bounded waits; throw std::runtime_error with the state seen on timeout.
// `explain`, when given, adds to the error (a server's log, say).
void WaitForSubscriptionReady(SqlClient& target, const std::string& subscription,
                              std::chrono::seconds timeout = std::chrono::seconds(60),
                              const std::function<std::string()>& explain = {});
// Until the subscription's slot on the source confirmed the source's
// current flush LSN, i.e. the target applied every commit before it.
void WaitForCatchUp(SqlClient& source, const std::string& subscription,
                    std::chrono::seconds timeout = std::chrono::seconds(60));

// Returns once no temporary slot is left on the source: a temporary slot
// goes with its walsender, which ends a moment after its client exited.
// Throws std::runtime_error naming them after `timeout`.
void WaitForTemporarySlotsGone(SqlClient& source,
                               std::chrono::seconds timeout = std::chrono::seconds(10));

// Returns once no walsender holds `slot`: a client that exited (or was
// killed) has its walsender go a moment later. Throws std::runtime_error
// naming the PID still holding it after `timeout`.
void WaitForSlotReleased(SqlClient& source, const std::string& slot,
                         std::chrono::seconds timeout = std::chrono::seconds(10));

// Drops `slot` on the source once no walsender holds it: a client that
// exited has its walsender go a moment later, and dropping before that
// fails ("is active for PID").
void DropSlotOnceReleased(SqlClient& source, const std::string& slot,
                          std::chrono::seconds timeout = std::chrono::seconds(30));

// The statement a pgparity session of `db`'s database is running while it
// waits for a lock, once one does (polled every 50 ms); "" after `timeout`.
// Tests hold a lock (a TRUNCATE in an open transaction) until pgparity
// waits on it, to commit at exactly that point.
std::string WaitForPgparityLockWait(SqlClient& db,
                                    std::chrono::seconds timeout = std::chrono::seconds(30));

// DROP DATABASE IF EXISTS `name` (an identifier, quoted here), ending its
// sessions first: WITH (FORCE) on 13+, pg_terminate_backend before.
void DropDatabaseIfExists(SqlClient& admin, const std::string& name);

// The quick start's pair: sql/init-*.sql, the publication and the
// subscription my_subscription, and every table past its initial copy
// (state 'r': preflight counts 's' as still copying). Throws
// std::runtime_error with psql's output when a script fails.
void SetUpQuickStartPair(MigrationServers& servers);

// Published tables of a publication as schema.name, sorted.
std::vector<std::string> PublishedTables(SqlClient& source, const std::string& publication);
// Every row of a table in a total order independent of collation.
std::vector<Row> TableRows(SqlClient& db, const std::string& table);
// "name type" per column in attnum order.
std::vector<Row> TableColumns(SqlClient& db, const std::string& table);

class MigrationFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  static MigrationServers& servers() { return *servers_; }

 private:
  static std::unique_ptr<MigrationServers> servers_;
};

}  // namespace pgparity::testing
