// Exactly once across failures, end to end through the `pgparity record`
// binary on a real PostgreSQL 14 under a pgbench write workload:
//
// - KillNineAndResume: the recorder is killed with SIGKILL twice while the
//   workload runs and started again on the same file; the recording equals,
//   commit for commit and by chained digest, an uninterrupted recording of
//   a twin slot (pg_copy_logical_replication_slot: the same start by
//   construction).
// - SourceRestartMidStream: the source restarts (pg_ctl -m fast restart)
//   under a running recorder, which reconnects with backoff, keeps
//   recording the writes after the restart and stops cleanly on SIGTERM;
//   again equal to the twin slot's uninterrupted recording.
// - RawRecordingHoldsTheFramesAfterItsHeader: `record --raw` stores the
//   CopyData frames after a header marked raw, and refuses to continue.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/scratch_dir.h"
#include "pgparity/record/record_file.h"
#include "pgparity/wire/lsn.h"
#include "support/pg_server.h"
#include "support/sql_client.h"
#include "support/subprocess.h"

namespace pgparity {
namespace {

using namespace std::chrono_literals;
using testing::PgServer;
using testing::ReadFile;
using testing::RunCommand;
using testing::SourcePath;
using testing::SqlClient;
using testing::Subprocess;

constexpr const char* kPublication = "pgparity_pub";

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string Hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

struct CommitRec {
  uint32_t xid = 0;
  uint64_t end_lsn = 0;
  uint64_t changes = 0;
  std::string chained_digest;  // hex
  uint64_t transactions = 0;

  std::string ToString() const {
    return "xid " + std::to_string(xid) + " end " + wire::Lsn(end_lsn).ToString() + " changes " +
           std::to_string(changes) + " #" + std::to_string(transactions) + " chain " +
           chained_digest;
  }
};

struct Recording {
  std::vector<CommitRec> commits;
  bool clean = true;  // read to a clean end of file
  std::string error;  // why not
};

// The Commit records of a recording. A file whose writer was killed may end
// in a torn record: `clean` says whether it read to the end.
Recording ReadRecording(const std::filesystem::path& path) {
  Recording out;
  auto reader = record::RecordFileReader::Open(path.string());
  if (!reader.ok()) {
    out.clean = false;
    out.error = reader.status().ToString();
    return out;
  }
  for (;;) {
    auto next = (*reader)->Next();
    if (!next.ok()) {
      out.clean = false;
      out.error = next.status().ToString();
      return out;
    }
    if (!next->has_value()) return out;
    const pgparity::v1::Record& r = **next;
    if (!r.has_commit()) continue;
    const auto& c = r.commit();
    out.commits.push_back(
        {c.xid(), c.end_lsn(), c.changes(), Hex(c.chained_digest()), c.transactions()});
  }
}

// Commits ending at or before `until`.
std::vector<CommitRec> UpTo(const std::vector<CommitRec>& commits, uint64_t until) {
  std::vector<CommitRec> out;
  for (const auto& c : commits)
    if (c.end_lsn <= until) out.push_back(c);
  return out;
}

uint64_t ParseLsn(const std::string& text) {
  auto lsn = wire::Lsn::Parse(text);
  if (!lsn.ok()) throw std::runtime_error("bad LSN " + text);
  return lsn->value();
}

// One changes per commit, in order, with the commit end: what "the same
// transactions, once each" means.
void ExpectSameCommits(const std::vector<CommitRec>& a, const std::vector<CommitRec>& b) {
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i].end_lsn == b[i].end_lsn &&
         a[i].changes == b[i].changes)
    ++i;
  if (i < a.size() || i < b.size()) {
    ADD_FAILURE() << "A has " << a.size() << " commits, B " << b.size()
                  << "; first difference at commit " << i << ": A "
                  << (i < a.size() ? a[i].ToString() : "<end>") << ", B "
                  << (i < b.size() ? b[i].ToString() : "<end>");
  }
  EXPECT_EQ(a.back().chained_digest, b.back().chained_digest);
  EXPECT_EQ(a.back().transactions, b.back().transactions);
  EXPECT_EQ(a.back().transactions, a.size()) << "the chain counts every commit of the file once";
}

void ExpectStrictlyIncreasing(const std::vector<CommitRec>& commits, const std::string& what) {
  for (size_t i = 1; i < commits.size(); ++i) {
    if (commits[i].end_lsn <= commits[i - 1].end_lsn) {
      ADD_FAILURE() << what << ": commit " << i << " (" << commits[i].ToString()
                    << ") does not follow " << commits[i - 1].ToString();
      return;
    }
  }
}

// The source: the environment's schema, a publication, and two slots with
// the same start (the second a copy of the first) before any workload.
class DecoderRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<PgServer>(testing::SourceMajor(), "sourcedb");
    std::string output;
    ASSERT_EQ(
        RunCommand("timeout 60 psql -X -q -v ON_ERROR_STOP=1 -d " + ShellQuote(server_->Dsn()) +
                       " -f " + ShellQuote(SourcePath("sql/init-source.sql").string()),
                   &output),
        0)
        << output;
    SqlClient db(server_->Dsn());
    db.Exec(std::string("CREATE PUBLICATION ") + kPublication + " FOR ALL TABLES");
    db.Exec("SELECT pg_create_logical_replication_slot('run_a', 'pgoutput')");
    db.Exec("SELECT pg_copy_logical_replication_slot('run_a', 'run_b')");
    // Many small transactions of every DML kind; each client keeps to its
    // own user's orders, so the clients never wait for or deadlock on each
    // other. Twice per script run: an order transaction and a new user.
    std::ofstream script(dir_ / "workload.sql");
    script
        << "\\set uid :client_id + 1\n"
           "BEGIN;\n"
           "INSERT INTO orders (user_id, product_name, quantity, price) "
           "VALUES (:uid, 'bench', 1, 1.00);\n"
           "UPDATE orders SET quantity = quantity + 1, price = price + 0.01 "
           "WHERE id = (SELECT max(id) FROM orders WHERE user_id = :uid);\n"
           "DELETE FROM orders WHERE id = (SELECT min(id) FROM orders "
           "WHERE user_id = :uid AND product_name = 'bench') "
           "AND (SELECT count(*) FROM orders WHERE user_id = :uid) > 20;\n"
           "END;\n"
           "INSERT INTO users (id, username, email) "
           "SELECT n, 'user' || n, 'user' || n || '@example.com' FROM nextval('users_id_seq') n;\n";
  }

  void TearDown() override { server_.reset(); }

  // pgbench for `seconds` with 2 clients at about 300 scripts/s.
  std::unique_ptr<Subprocess> StartWorkload(int seconds, const std::string& log) {
    return std::make_unique<Subprocess>(
        std::vector<std::string>{"timeout", "90", "pgbench", "-n", "-f",
                                 (dir_ / "workload.sql").string(), "-T", std::to_string(seconds),
                                 "-c", "2", "-R", "300", server_->Dsn()},
        dir_ / log);
  }

  std::unique_ptr<Subprocess> StartRecord(const std::string& slot, const std::string& out,
                                          const std::string& log,
                                          std::optional<std::string> until = std::nullopt,
                                          bool raw = false) {
    std::vector<std::string> argv = {PGPARITY_CLI,
                                     "record",
                                     "--source",
                                     server_->Dsn(),
                                     "--slot",
                                     slot,
                                     "--out",
                                     (dir_ / out).string(),
                                     "--publication",
                                     kPublication,
                                     "--status-interval",
                                     "0"};
    if (until) {
      argv.push_back("--until-lsn");
      argv.push_back(*until);
    }
    if (raw) argv.push_back("--raw");
    return std::make_unique<Subprocess>(argv, dir_ / log);
  }

  std::string Log(const std::string& name) { return ReadFile(dir_ / name); }

  // A killed client's walsender notices the closed socket by itself; until
  // then the slot is in use and a new consumer is refused.
  void WaitSlotInactive(const std::string& slot) {
    SqlClient db(server_->Dsn());
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (db.Value("SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'") !=
           "f") {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "slot " << slot << " still active 15 s after its client died";
      std::this_thread::sleep_for(50ms);
    }
  }

  std::string CurrentLsn() {
    SqlClient db(server_->Dsn());
    return db.Value("SELECT pg_current_wal_lsn()");
  }

  testing::ScratchDir scratch_{"restart"};
  const std::filesystem::path& dir_ = scratch_.path();
  std::unique_ptr<PgServer> server_;
};

TEST_F(DecoderRestart, KillNineAndResume) {
  auto workload = StartWorkload(10, "pgbench.log");
  std::this_thread::sleep_for(500ms);

  // Run 1: killed while the workload runs.
  auto run1 = StartRecord("run_a", "A.pb", "a1.log");
  std::this_thread::sleep_for(2500ms);
  ASSERT_TRUE(run1->Running()) << Log("a1.log");
  ASSERT_TRUE(workload->Running()) << "the workload ended before the first kill";
  run1->Signal(SIGKILL);
  ASSERT_EQ(run1->Wait(10s), 128 + SIGKILL);
  const Recording after1 = ReadRecording(dir_ / "A.pb");
  ASSERT_GT(after1.commits.size(), 0u) << "run 1 made nothing durable; " << Log("a1.log");
  WaitSlotInactive("run_a");

  // Run 2: continues the file, killed as well.
  auto run2 = StartRecord("run_a", "A.pb", "a2.log");
  std::this_thread::sleep_for(2500ms);
  ASSERT_TRUE(run2->Running()) << Log("a2.log");
  ASSERT_TRUE(workload->Running()) << "the workload ended before the second kill";
  run2->Signal(SIGKILL);
  ASSERT_EQ(run2->Wait(10s), 128 + SIGKILL);
  EXPECT_NE(Log("a2.log").find("continuing"), std::string::npos) << Log("a2.log");
  const Recording after2 = ReadRecording(dir_ / "A.pb");
  ASSERT_GT(after2.commits.size(), after1.commits.size()) << Log("a2.log");
  WaitSlotInactive("run_a");

  ASSERT_EQ(workload->WaitOrKill(60s), 0) << Log("pgbench.log");
  const std::string until = CurrentLsn();
  const uint64_t until_value = ParseLsn(until);

  // Run 3: to the end of the workload.
  auto run3 = StartRecord("run_a", "A.pb", "a3.log", until);
  ASSERT_EQ(run3->WaitOrKill(90s), 0) << Log("a3.log");
  // The twin slot, uninterrupted.
  auto runb = StartRecord("run_b", "B.pb", "b.log", until);
  ASSERT_EQ(runb->WaitOrKill(90s), 0) << Log("b.log");

  const Recording a = ReadRecording(dir_ / "A.pb");
  const Recording b = ReadRecording(dir_ / "B.pb");
  ASSERT_TRUE(a.clean) << a.error;
  ASSERT_TRUE(b.clean) << b.error;
  ExpectStrictlyIncreasing(a.commits, "A");
  ExpectStrictlyIncreasing(b.commits, "B");

  // The kills interrupted real work: each run added commits, and what run 1
  // made durable survives unchanged at the head of the final file.
  ASSERT_GT(a.commits.size(), after2.commits.size());
  ASSERT_GE(a.commits.size(), after1.commits.size());
  for (size_t i = 0; i < after1.commits.size(); ++i) {
    ASSERT_EQ(a.commits[i].end_lsn, after1.commits[i].end_lsn) << i;
    ASSERT_EQ(a.commits[i].chained_digest, after1.commits[i].chained_digest) << i;
  }
  const auto a_upto = UpTo(a.commits, until_value);
  const auto b_upto = UpTo(b.commits, until_value);
  ASSERT_GT(b_upto.size(), 1000u) << "the workload was too small to mean anything";
  ExpectSameCommits(a_upto, b_upto);
  uint64_t changes = 0;
  for (const auto& c : b_upto) changes += c.changes;
  EXPECT_GT(changes, 2000u);
  RecordProperty("commits", std::to_string(b_upto.size()));
  RecordProperty("after_kill_1", std::to_string(after1.commits.size()));
  RecordProperty("after_kill_2", std::to_string(after2.commits.size()));
}

// `record --raw` stores the CopyData frames themselves, after a header that
// says so; the twin slot's decoded recording of the same span has commits.
TEST_F(DecoderRestart, RawRecordingHoldsTheFramesAfterItsHeader) {
  auto workload = StartWorkload(2, "pgbench.log");
  ASSERT_EQ(workload->WaitOrKill(60s), 0) << Log("pgbench.log");
  const std::string until = CurrentLsn();
  auto raw = StartRecord("run_a", "raw.pb", "raw.log", until, /*raw=*/true);
  ASSERT_EQ(raw->WaitOrKill(60s), 0) << Log("raw.log");
  auto decoded = StartRecord("run_b", "B.pb", "b.log", until);
  ASSERT_EQ(decoded->WaitOrKill(60s), 0) << Log("b.log");

  auto reader = record::RecordFileReader::Open((dir_ / "raw.pb").string());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  size_t headers = 0, frames = 0, other = 0;
  for (;;) {
    auto next = (*reader)->Next();
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    if (!next->has_value()) break;
    const pgparity::v1::Record& r = **next;
    if (r.has_header()) {
      ++headers;
      EXPECT_TRUE(r.header().raw());
      EXPECT_EQ(r.header().slot(), "run_a");
    } else if (r.has_raw()) {
      ++frames;
      EXPECT_FALSE(r.raw().data().empty());
    } else {
      ++other;
    }
  }
  EXPECT_EQ(headers, 1u);
  EXPECT_EQ(other, 0u) << "a raw recording holds no decoded records";
  const Recording b = ReadRecording(dir_ / "B.pb");
  ASSERT_GT(b.commits.size(), 100u);
  // At least one XLogData frame per message: Begin, a change, Commit.
  EXPECT_GE(frames, 3 * b.commits.size());
  // A raw recording is never continued: a second run refuses the file.
  auto again = StartRecord("run_a", "raw.pb", "again.log", until, /*raw=*/true);
  EXPECT_EQ(again->WaitOrKill(30s), 2) << Log("again.log");
  EXPECT_NE(Log("again.log").find("raw recordings are not continued"), std::string::npos);
}

TEST_F(DecoderRestart, SourceRestartMidStream) {
  auto recorder = StartRecord("run_a", "A.pb", "a.log");
  auto workload1 = StartWorkload(6, "pgbench1.log");
  std::this_thread::sleep_for(2500ms);
  ASSERT_TRUE(recorder->Running()) << Log("a.log");
  ASSERT_TRUE(workload1->Running()) << Log("pgbench1.log");
  const uint64_t before_restart = ParseLsn(CurrentLsn());
  server_->Restart();
  // The workload's clients lost their connections: it ends with an error.
  ASSERT_TRUE(workload1->WaitOrKill(60s).has_value());
  const uint64_t after_restart = ParseLsn(CurrentLsn());

  // Writes after the restart.
  auto workload2 = StartWorkload(3, "pgbench2.log");
  ASSERT_EQ(workload2->WaitOrKill(60s), 0) << Log("pgbench2.log");
  const std::string until = CurrentLsn();
  const uint64_t until_value = ParseLsn(until);

  auto runb = StartRecord("run_b", "B.pb", "b.log", until);
  ASSERT_EQ(runb->WaitOrKill(90s), 0) << Log("b.log");
  const Recording b = ReadRecording(dir_ / "B.pb");
  ASSERT_TRUE(b.clean) << b.error;
  const auto b_upto = UpTo(b.commits, until_value);
  ASSERT_FALSE(b_upto.empty());
  const uint64_t last_end = b_upto.back().end_lsn;

  // Wait (bounded) until the recorder caught up with the last commit, then
  // stop it as an operator would.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    ASSERT_TRUE(recorder->Running()) << Log("a.log");
    const Recording a = ReadRecording(dir_ / "A.pb");
    if (!a.commits.empty() && a.commits.back().end_lsn >= last_end) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "the recorder did not reach " << wire::Lsn(last_end).ToString()
        << " within 60 s; it has " << (a.commits.empty() ? "nothing" : a.commits.back().ToString())
        << "\n"
        << Log("a.log");
    std::this_thread::sleep_for(200ms);
  }
  recorder->Signal(SIGTERM);
  ASSERT_EQ(recorder->WaitOrKill(30s), 0) << Log("a.log");
  const std::string log = Log("a.log");
  EXPECT_NE(log.find("reconnecting"), std::string::npos) << log;

  const Recording a = ReadRecording(dir_ / "A.pb");
  ASSERT_TRUE(a.clean) << a.error;
  ExpectStrictlyIncreasing(a.commits, "A");
  const auto a_upto = UpTo(a.commits, until_value);
  // It recorded on both sides of the restart.
  ASSERT_FALSE(a_upto.empty());
  EXPECT_LT(a_upto.front().end_lsn, before_restart);
  EXPECT_GT(a_upto.back().end_lsn, after_restart);
  ASSERT_GT(b_upto.size(), 1000u) << "the workload was too small to mean anything";
  ExpectSameCommits(a_upto, b_upto);
}

}  // namespace
}  // namespace pgparity
