#include "pgparity/conn/snapshot_transaction.h"

#include <gtest/gtest.h>

#include <string>

#include "conn/testing_servers.h"
#include "support/pg_server.h"

namespace pgparity::conn {
namespace {

using testing::SharedServer;

PgSession Connect() {
  Result<PgSession> s = PgSession::Connect(SharedServer(pgparity::testing::SourceMajor()).Dsn());
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(*s);
}

std::string Count(PgSession& s) {
  Result<QueryResult> r = s.Query("SELECT count(*) FROM snap_rows");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::string(r->Value(0, 0)) : "";
}

// An importer sees the exporter's instant, not the rows committed after it,
// and cannot write; a name no longer exported is refused.
TEST(SnapshotTransactionTest, ImportersReadTheExportersInstant) {
  PgSession writer = Connect();
  ASSERT_TRUE(writer
                  .Exec("DROP TABLE IF EXISTS snap_rows; CREATE TABLE snap_rows (id int); "
                        "INSERT INTO snap_rows VALUES (1), (2)")
                  .ok());
  PgSession exporter = Connect();
  Result<std::string> name = BeginExportedSnapshot(exporter);
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  ASSERT_TRUE(writer.Exec("INSERT INTO snap_rows VALUES (3)").ok());

  PgSession importer = Connect();
  ASSERT_TRUE(BeginInSnapshot(importer, *name).ok());
  EXPECT_EQ(Count(importer), "2");
  EXPECT_EQ(Count(exporter), "2");
  EXPECT_EQ(Count(writer), "3");
  const Status write = importer.Exec("INSERT INTO snap_rows VALUES (4)");
  EXPECT_FALSE(write.ok());
  EXPECT_NE(write.message().find("read-only"), std::string::npos) << write.ToString();

  ASSERT_TRUE(exporter.Exec("COMMIT").ok());
  PgSession late = Connect();
  const Status gone = BeginInSnapshot(late, *name);
  EXPECT_FALSE(gone.ok());
  EXPECT_NE(gone.message().find("snapshot"), std::string::npos) << gone.ToString();
  // A name with a quote reaches the server as data, not as SQL.
  PgSession odd = Connect();
  const Status quoted = BeginInSnapshot(odd, "x'; DROP TABLE snap_rows; --");
  EXPECT_FALSE(quoted.ok());
  EXPECT_EQ(Count(writer), "3");
}

}  // namespace
}  // namespace pgparity::conn
