// PgBouncer for `pgparity cutover` (issue 13, phases 4 and 8):
// - DatabasesFile on files in a temporary directory (pure): the entry is
//   repointed with every other key and line kept byte for byte, values
//   quoted as PgBouncer reads them, Restore, and what it refuses;
// - PgBouncerAdmin against a real PgBouncer 1.18 in front of the 14 source:
//   SHOW DATABASES, PAUSE measured against a client's open transaction, the
//   PAUSE timeout that must leave the database resumed;
// - the switch end to end on the 14 -> 16 pair: PAUSE, PointAt(target),
//   RELOAD, RESUME moves an open client session to 16; Restore + RELOAD
//   moves it back.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "common/testing/scratch_dir.h"
#include "pgparity/applier/cutover/pgbouncer.h"
#include "support/migration_env.h"
#include "support/pgbouncer.h"

namespace pgparity {
namespace {

using namespace std::chrono_literals;
using applier::DatabasesFile;
using applier::PgBouncerAdmin;
using Clock = std::chrono::steady_clock;

namespace fs = std::filesystem;

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A temporary directory per test, removed after it.
class DatabasesFileTest : public ::testing::Test {
 protected:
  fs::path Write(const std::string& text) {
    const fs::path p = dir_ / "databases.ini";
    WriteText(p, text);
    return p;
  }
  testing::ScratchDir scratch_{"dbfile"};
  const fs::path& dir_ = scratch_.path();
};

// Everything around appdb's entry that must survive: comments (one that
// looks like the entry), another database, other sections with an `appdb`
// key, odd spacing and a quoted password holding a space and a quote.
constexpr const char* kConfig =
    ";; written by hand\n"
    "[pgbouncer]\n"
    "listen_port = 6432\n"
    "\n"
    "[databases]\n"
    "# appdb = host=commented port=1 dbname=nope\n"
    "otherdb = host=h1 port=5432 dbname=other\n"
    "appdb = host=old.example port=5432   dbname=sourcedb user=app pool_size=20 "
    "password='p w''d'\n"
    "\n"
    "[users]\n"
    "appdb = pool_mode=session\n";

TEST_F(DatabasesFileTest, PointAtRewritesOnlyHostPortDbnameOfTheEntry) {
  const fs::path p = Write(kConfig);
  Result<DatabasesFile> f = DatabasesFile::Open(p.string(), "appdb");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->connect_string(),
            "host=old.example port=5432   dbname=sourcedb user=app pool_size=20 "
            "password='p w''d'");
  ASSERT_TRUE(f->PointAt("10.0.0.7", 5433, "targetdb").ok());
  std::string want = kConfig;
  const std::string old_line = "appdb = host=old.example port=5432   dbname=sourcedb";
  want.replace(want.find(old_line), old_line.size(),
               "appdb = host=10.0.0.7 port=5433   dbname=targetdb");
  EXPECT_EQ(testing::ReadFile(p), want);
  EXPECT_EQ(f->connect_string(),
            "host=10.0.0.7 port=5433   dbname=targetdb user=app pool_size=20 password='p w''d'");
  // The password still reads as PgBouncer reads it.
  Result<std::vector<applier::ConnectStringPair>> pairs =
      applier::ParseConnectString(f->connect_string());
  ASSERT_TRUE(pairs.ok()) << pairs.status().ToString();
  ASSERT_EQ(pairs->size(), 6u);  // host port dbname user pool_size password
  EXPECT_EQ((*pairs)[5].key, "password");
  EXPECT_EQ((*pairs)[5].value, "p w'd");
  // Nothing left behind beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(DatabasesFileTest, ValuesPgBouncerCannotReadBareAreQuoted) {
  const fs::path p = Write("[databases]\nappdb = host='old host' user=app\n");
  Result<DatabasesFile> f = DatabasesFile::Open(p.string(), "appdb");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  // host replaced in place (quotes and all); port and dbname were absent:
  // appended.
  ASSERT_TRUE(f->PointAt("/var/run/postgresql", 5432, "my db's").ok());
  EXPECT_EQ(testing::ReadFile(p),
            "[databases]\nappdb = host=/var/run/postgresql user=app port=5432 "
            "dbname='my db''s'\n");
  Result<std::vector<applier::ConnectStringPair>> pairs =
      applier::ParseConnectString(f->connect_string());
  ASSERT_TRUE(pairs.ok());
  EXPECT_EQ(pairs->back().value, "my db's");

  EXPECT_EQ(*applier::QuoteConnectStringValue("db.example-1:x"), "db.example-1:x");
  EXPECT_EQ(*applier::QuoteConnectStringValue("a b"), "'a b'");
  EXPECT_EQ(*applier::QuoteConnectStringValue("'x"), "'''x'");
  EXPECT_EQ(*applier::QuoteConnectStringValue("tab\there"), "'tab\there'");
}

TEST_F(DatabasesFileTest, RefusesValuesThatCannotBeWrittenAndLeavesTheFile) {
  const fs::path p = Write(kConfig);
  Result<DatabasesFile> f = DatabasesFile::Open(p.string(), "appdb");
  ASSERT_TRUE(f.ok());
  Status s = f->PointAt("", 5432, "targetdb");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("host"), std::string_view::npos) << s.ToString();
  s = f->PointAt("h", 5432, "two\nlines");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  s = f->PointAt("h", 70000, "db");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(testing::ReadFile(p), kConfig);
}

TEST_F(DatabasesFileTest, RestoreWritesBackWhatOpenReadAndIsIdempotent) {
  const fs::path p = Write(kConfig);
  ASSERT_EQ(chmod(p.c_str(), 0640), 0);
  Result<DatabasesFile> f = DatabasesFile::Open(p.string(), "appdb");
  ASSERT_TRUE(f.ok());
  const std::string before = f->connect_string();
  ASSERT_TRUE(f->PointAt("10.0.0.7", 5433, "targetdb").ok());
  ASSERT_NE(testing::ReadFile(p), kConfig);
  struct stat st {};
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);  // the mode survives the rename
  ASSERT_TRUE(f->Restore().ok());
  EXPECT_EQ(testing::ReadFile(p), kConfig);
  EXPECT_EQ(f->connect_string(), before);
  ASSERT_TRUE(f->Restore().ok());
  EXPECT_EQ(testing::ReadFile(p), kConfig);
}

TEST_F(DatabasesFileTest, EntryMissingIsNotFoundNamingTheFile) {
  // appdb only in a comment, in another section and as a longer name.
  const fs::path p =
      Write("[pgbouncer]\nappdb = host=x\n[databases]\n; appdb = host=y\nappdb2 = host=z\n");
  Result<DatabasesFile> f = DatabasesFile::Open(p.string(), "appdb");
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(f.status().IsNotFound()) << f.status().ToString();
  EXPECT_NE(f.status().message().find(p.string()), std::string_view::npos);
  EXPECT_NE(f.status().message().find("appdb"), std::string_view::npos);

  Result<DatabasesFile> none = DatabasesFile::Open((dir_ / "absent.ini").string(), "appdb");
  EXPECT_TRUE(none.status().code() == Status::Code::kIOError) << none.status().ToString();
}

TEST_F(DatabasesFileTest, QuotedIniKeysDuplicatesAndBadConnectStrings) {
  fs::path p = Write("[databases]\n  'app db' =\thost=h port=1 dbname=d  \n");
  Result<DatabasesFile> f = DatabasesFile::Open(p.string(), "app db");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->connect_string(), "host=h port=1 dbname=d");  // trailing blanks are not the value's

  p = Write("[databases]\nappdb = host=a\nappdb = host=b\n");
  f = DatabasesFile::Open(p.string(), "appdb");
  EXPECT_TRUE(f.status().IsInvalidArgument()) << f.status().ToString();
  EXPECT_NE(f.status().message().find("lines 2 and 3"), std::string_view::npos);

  p = Write("[databases]\nappdb = host='unterminated port=1\n");
  f = DatabasesFile::Open(p.string(), "appdb");
  EXPECT_TRUE(f.status().IsInvalidArgument()) << f.status().ToString();

  EXPECT_FALSE(applier::ParseConnectString("port=1 host=").ok());  // empty value
  // PgBouncer skips blanks after '=': "host= port=1" is host "port=1".
  Result<std::vector<applier::ConnectStringPair>> odd = applier::ParseConnectString("host= port=1");
  ASSERT_TRUE(odd.ok());
  ASSERT_EQ(odd->size(), 1u);
  EXPECT_EQ((*odd)[0].value, "port=1");
  Result<std::vector<applier::ConnectStringPair>> spaced =
      applier::ParseConnectString("host = h  port =1");
  ASSERT_TRUE(spaced.ok()) << spaced.status().ToString();
  ASSERT_EQ(spaced->size(), 2u);
  EXPECT_EQ((*spaced)[0].value, "h");
  EXPECT_EQ((*spaced)[1].value, "1");
}

// ---------------------------------------------------------------------------
// Against a real PgBouncer.

conn::ConnParams Params(const std::string& dsn) {
  Result<conn::ConnParams> p = conn::ConnParams::Parse(dsn);
  if (!p.ok()) throw std::runtime_error(p.status().ToString());
  return *p;
}

std::unique_ptr<PgBouncerAdmin> Admin(const testing::PgBouncer& bouncer) {
  Result<std::unique_ptr<PgBouncerAdmin>> a = PgBouncerAdmin::Connect(Params(bouncer.AdminDsn()));
  if (!a.ok()) throw std::runtime_error(a.status().ToString());
  return std::move(*a);
}

// A query sent without waiting, to see whether PgBouncer holds it.
class PendingQuery {
 public:
  PendingQuery(const std::string& dsn, const std::string& sql) : c_(PQconnectdb(dsn.c_str())) {
    if (PQstatus(c_.get()) != CONNECTION_OK || !PQsendQuery(c_.get(), sql.c_str())) {
      throw std::runtime_error(PQerrorMessage(c_.get()));
    }
  }
  // Whether the answer came within `timeout`; then Value() is its value.
  bool AnsweredWithin(std::chrono::milliseconds timeout) {
    const Clock::time_point deadline = Clock::now() + timeout;
    while (PQconsumeInput(c_.get()) && PQisBusy(c_.get())) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{PQsocket(c_.get()), POLLIN, 0};
      poll(&p, 1, static_cast<int>(left.count()));
    }
    return true;
  }
  std::string Value() {
    conn::PgResultPtr r(PQgetResult(c_.get()));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
      throw std::runtime_error(PQerrorMessage(c_.get()));
    std::string v = PQgetvalue(r.get(), 0, 0);
    while (PGresult* rest = PQgetResult(c_.get())) PQclear(rest);
    return v;
  }

 private:
  conn::PgConnPtr c_;
};

class PgBouncerAdminTest : public testing::MigrationFixture {
 protected:
  void SetUp() override {
    if (!testing::PgBouncer::Available()) GTEST_SKIP() << "pgbouncer is not on PATH";
    testing::PgBouncerOptions o;
    o.databases_include = true;
    bouncer_ = std::make_unique<testing::PgBouncer>(servers().source, o);
  }
  std::unique_ptr<testing::PgBouncer> bouncer_;
};

TEST_F(PgBouncerAdminTest, ShowDatabaseFindsAppdbAsConfigured) {
  auto admin = Admin(*bouncer_);
  EXPECT_EQ(admin->endpoint(), "127.0.0.1:" + std::to_string(bouncer_->port()) + "/pgbouncer");
  Result<applier::PgBouncerDatabase> db = admin->ShowDatabase("appdb");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(db->name, "appdb");
  EXPECT_EQ(db->host, "127.0.0.1");
  EXPECT_EQ(db->port, servers().source.port());
  EXPECT_EQ(db->database, "sourcedb");
  EXPECT_FALSE(db->paused);

  Result<applier::PgBouncerDatabase> none = admin->ShowDatabase("nosuchdb");
  EXPECT_TRUE(none.status().IsNotFound()) << none.status().ToString();
  EXPECT_NE(none.status().message().find("appdb"), std::string_view::npos);
  EXPECT_NE(none.status().message().find("nosuchdb"), std::string_view::npos);
}

TEST_F(PgBouncerAdminTest, ConnectNeedsTheConsoleAndNamesTheEndpoint) {
  Result<std::unique_ptr<PgBouncerAdmin>> wrong = PgBouncerAdmin::Connect(Params(bouncer_->Dsn()));
  EXPECT_TRUE(wrong.status().IsInvalidArgument()) << wrong.status().ToString();
  EXPECT_NE(wrong.status().message().find("dbname=pgbouncer"), std::string_view::npos);

  const int dead = testing::FreePort();
  Result<std::unique_ptr<PgBouncerAdmin>> gone = PgBouncerAdmin::Connect(
      Params("host=127.0.0.1 port=" + std::to_string(dead) + " dbname=pgbouncer user=postgres"));
  EXPECT_TRUE(gone.status().IsUnavailable()) << gone.status().ToString();
  EXPECT_NE(gone.status().message().find("127.0.0.1:" + std::to_string(dead)),
            std::string_view::npos)
      << gone.status().ToString();
  // No pinned options are sent (this PgBouncer does not ignore `options`)...
  Result<std::unique_ptr<PgBouncerAdmin>> ok =
      PgBouncerAdmin::Connect(Params(bouncer_->AdminDsn()));
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  // ...but libpq sends PGOPTIONS from the environment: the error says so.
  setenv("PGOPTIONS", "-c statement_timeout=0", 1);
  Result<std::unique_ptr<PgBouncerAdmin>> env =
      PgBouncerAdmin::Connect(Params(bouncer_->AdminDsn()));
  unsetenv("PGOPTIONS");
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.status().message().find("unset PGOPTIONS"), std::string_view::npos)
      << env.status().ToString();
}

TEST_F(PgBouncerAdminTest, PauseReturnsOnlyOnceTheOpenTransactionCommits) {
  testing::SqlClient app(bouncer_->Dsn());
  app.Exec("BEGIN");
  app.Value("SELECT 1");  // holds a server connection until COMMIT
  auto admin = Admin(*bouncer_);
  Clock::time_point paused_at;
  Status pause;
  std::thread t([&] {
    pause = admin->Pause("appdb", 30s);
    paused_at = Clock::now();
  });
  std::this_thread::sleep_for(700ms);
  const Clock::time_point commit_at = Clock::now();
  app.Exec("COMMIT");
  t.join();
  ASSERT_TRUE(pause.ok()) << pause.ToString();
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(paused_at - commit_at);
  std::cout << "  PAUSE returned " << waited.count() << " ms after COMMIT" << std::endl;
  EXPECT_GE(paused_at, commit_at);
  EXPECT_LT(waited, 5s);

  auto other = Admin(*bouncer_);
  EXPECT_TRUE(other->ShowDatabase("appdb")->paused);
  // While paused a new query waits rather than failing; RESUME lets it on.
  PendingQuery q(bouncer_->Dsn(), "SELECT 42");
  EXPECT_FALSE(q.AnsweredWithin(500ms));
  ASSERT_TRUE(admin->Resume("appdb").ok());
  ASSERT_TRUE(q.AnsweredWithin(5s));
  EXPECT_EQ(q.Value(), "42");
  EXPECT_FALSE(admin->ShowDatabase("appdb")->paused);
  const Status again = admin->Resume("appdb");  // not paused: still OK
  EXPECT_TRUE(again.ok()) << again.ToString();
  const Status unknown = admin->Resume("nosuchdb");
  EXPECT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("nosuchdb"), std::string_view::npos) << unknown.ToString();
}

TEST_F(PgBouncerAdminTest, PauseTimeoutUndoesThePause) {
  testing::SqlClient app(bouncer_->Dsn());
  app.Exec("BEGIN");
  app.Value("SELECT 1");
  auto admin = Admin(*bouncer_);
  const Clock::time_point start = Clock::now();
  const Status s = admin->Pause("appdb", 300ms);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  std::cout << "  " << s.ToString() << " after " << took.count() << " ms" << std::endl;
  EXPECT_TRUE(s.code() == Status::Code::kDeadlineExceeded) << s.ToString();
  EXPECT_NE(s.message().find("300 ms"), std::string_view::npos) << s.ToString();
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);
  // The same admin object still works (its blocked connection replaced), and
  // appdb is not paused: a new client's query goes through at once.
  Result<applier::PgBouncerDatabase> db = admin->ShowDatabase("appdb");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_FALSE(db->paused);
  PendingQuery q(bouncer_->Dsn(), "SELECT 7");
  ASSERT_TRUE(q.AnsweredWithin(5s)) << "appdb is still paused";
  EXPECT_EQ(q.Value(), "7");
  app.Exec("COMMIT");
  EXPECT_EQ(app.Value("SELECT 1"), "1");
  EXPECT_TRUE(admin->Reload().ok());
}

TEST_F(PgBouncerAdminTest, ScramAdminUserWithPassword) {
  testing::PgBouncerOptions o;
  o.scram = true;
  testing::PgBouncer scram(servers().source, o);
  Result<std::unique_ptr<PgBouncerAdmin>> a = PgBouncerAdmin::Connect(Params(scram.AdminDsn()));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE((*a)->ShowDatabase("appdb").ok());
  Result<std::unique_ptr<PgBouncerAdmin>> wrong =
      PgBouncerAdmin::Connect(Params("host=127.0.0.1 port=" + std::to_string(scram.port()) +
                                     " dbname=pgbouncer user=postgres password=wrong"));
  EXPECT_TRUE(wrong.status().code() == Status::Code::kUnauthenticated) << wrong.status().ToString();
}

// The switch: an application session opened before it reaches 16 after it,
// and the abort path's Restore + RELOAD brings it back to 14.
TEST_F(PgBouncerAdminTest, SwitchMovesAnOpenSessionToTheTargetAndRestoreBack) {
  const testing::PgServer& source = servers().source;
  const testing::PgServer& target = servers().target;
  const std::string where = "SELECT current_setting('port') || ' ' || current_database()";
  testing::SqlClient app(bouncer_->Dsn());
  ASSERT_EQ(app.Value(where), std::to_string(source.port()) + " sourcedb");

  auto admin = Admin(*bouncer_);
  Result<DatabasesFile> file = DatabasesFile::Open(bouncer_->databases_file().string(), "appdb");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const std::string before = testing::ReadFile(bouncer_->databases_file());
  ASSERT_TRUE(admin->Pause("appdb", 10s).ok());
  ASSERT_TRUE(file->PointAt("127.0.0.1", target.port(), "targetdb").ok());
  ASSERT_TRUE(admin->Reload().ok());
  Result<applier::PgBouncerDatabase> db = admin->ShowDatabase("appdb");
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db->port, target.port());
  EXPECT_EQ(db->database, "targetdb");
  EXPECT_TRUE(db->paused);  // RELOAD keeps the pause
  ASSERT_TRUE(admin->Resume("appdb").ok());
  EXPECT_EQ(app.Value(where), std::to_string(target.port()) + " targetdb");
  EXPECT_GE(std::stoi(app.Value("SHOW server_version_num")), 160000);
  // user/password kept: PgBouncer logged into 16 with them.
  EXPECT_NE(file->connect_string().find("user=postgres password=postgres"), std::string::npos);

  ASSERT_TRUE(file->Restore().ok());
  EXPECT_EQ(testing::ReadFile(bouncer_->databases_file()), before);
  ASSERT_TRUE(admin->Reload().ok());
  EXPECT_EQ(app.Value(where), std::to_string(source.port()) + " sourcedb");
  EXPECT_LT(std::stoi(app.Value("SHOW server_version_num")), 150000);
}

}  // namespace
}  // namespace pgparity
