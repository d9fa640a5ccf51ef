// The canary: a client that writes and reads through the application's path
// (normally PgBouncer) in a tight loop, one transaction at a time, and
// measures what an application saw during a cutover — the longest write
// stall, the failed transactions, the commits in doubt — and afterwards
// whether every acknowledged write is on a given server (issue 13, item 3).
//
// Each iteration is one explicit transaction:
//   BEGIN; INSERT INTO pgparity_canary(run_id, seq) VALUES ($1, $2);
//   SELECT seq FROM pgparity_canary WHERE run_id = $1 AND seq = $2; COMMIT
// with parameters only (PQexecParams, no named prepared statement:
// PgBouncer's transaction pooling may hand each transaction another server
// connection). Every attempt gets a new seq, so a seq is never reused.
//
// Outcomes of one attempt:
//   acknowledged - COMMIT returned success (command tag COMMIT);
//   failed       - an error before COMMIT was sent, or COMMIT itself
//                  answered with an error on a connection still alive: the
//                  transaction certainly did not commit;
//   in doubt     - the connection was lost while COMMIT was in flight: it
//                  may or may not have committed. Not acknowledged.
// A lost connection is re-established after a short fixed backoff (never a
// hot loop); failed attempts to connect are counted apart.
//
// Thread-safety: Start/Stop/Check from one controlling thread; Snapshot may
// be called from any thread while the canary runs (it takes a mutex). The
// loop itself runs on the canary's own std::jthread.
#ifndef PGPARITY_APPLIER_CUTOVER_CANARY_H_
#define PGPARITY_APPLIER_CUTOVER_CANARY_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"
#include "pgparity/status.h"

namespace pgparity::applier {

// The table every canary writes (sql/canary.sql creates it).
inline constexpr std::string_view kCanaryTable = "pgparity_canary";

struct CanaryOptions {
  // The application's path (conn::ParseServerDsn's). Connected without the
  // pinned text formats: PgBouncer refuses the startup parameter `options`
  // unless its ignore_startup_parameters lists it, and the canary reads
  // only integers.
  conn::ConnParams dsn;
  // Unique per run; empty: MakeCanaryRunId().
  std::string run_id;
  std::chrono::milliseconds reconnect_backoff{50};
  // How long Stop waits for the transaction in flight before it closes
  // that connection (which counts the transaction failed or in doubt).
  std::chrono::milliseconds stop_grace{10000};
  // How many error messages are kept (the first ones).
  size_t kept_errors = 5;
};

// "<hostname>-<pid>-<UTC yyyymmddThhmmss>-<4 random hex digits>".
std::string MakeCanaryRunId();

// Latencies in microseconds, in log-linear buckets (16 per power of two, at
// most 1/16 = 6% too high), so a run of hours keeps a fixed size.
class LatencyHistogram {
 public:
  void Add(int64_t micros);
  int64_t count() const { return count_; }
  int64_t max() const { return max_; }
  // The upper bound of the bucket holding the q-quantile (0 < q <= 1);
  // 0 when empty.
  int64_t Quantile(double q) const;

 private:
  static constexpr int kBuckets = 16 + 16 * 40;
  std::array<int64_t, kBuckets> buckets_{};
  int64_t count_ = 0;
  int64_t max_ = 0;
};

// What the canary measured so far (Snapshot) or in all (Stop).
struct CanaryStats {
  std::string run_id;
  std::chrono::system_clock::time_point started;
  std::chrono::system_clock::time_point stopped;  // = the snapshot's time while running
  int64_t acknowledged = 0;
  int64_t failed = 0;
  int64_t in_doubt = 0;
  int64_t reconnects = 0;        // connections re-established after a loss
  int64_t connect_failures = 0;  // attempts to (re)connect that failed
  // The first `kept_errors` messages ("seq 17 INSERT: ... (SQLSTATE 25006)").
  std::vector<std::string> errors;
  // The longest interval between two consecutive acknowledged writes, also
  // counting start -> first ack and last ack -> stop (or now), and when it
  // began. Covers failed and in-doubt attempts inside it.
  std::chrono::microseconds longest_stall{0};
  std::chrono::system_clock::time_point longest_stall_began;
  // Since the last acknowledged write (or the start).
  std::chrono::microseconds current_stall{0};
  // BEGIN sent to COMMIT returned, of acknowledged transactions.
  LatencyHistogram latency;
  // The acknowledged seqs as closed ranges [first, last], ascending.
  std::vector<std::pair<int64_t, int64_t>> acknowledged_ranges;
  std::vector<int64_t> in_doubt_seqs;
};

// Whether the acknowledged writes are on a server.
struct CanaryCheck {
  std::string server;                  // "host:port/dbname"
  int64_t checked = 0;                 // acknowledged writes looked for
  int64_t missing = 0;                 // of them, not there
  std::vector<int64_t> first_missing;  // ascending, at most 10
  int64_t in_doubt_present = 0;        // in-doubt writes that did commit
  std::chrono::milliseconds waited{0};
};

class Canary {
 public:
  explicit Canary(CanaryOptions options);
  ~Canary();  // stops the loop if it runs
  Canary(const Canary&) = delete;
  Canary& operator=(const Canary&) = delete;

  // Connects, checks that pgparity_canary exists (NotFound naming the table
  // and sql/canary.sql when not), then starts the loop on its own thread.
  // Connection errors as conn::ConnParams::Connect's.
  // REQUIRES: not started before.
  [[nodiscard]] Status Start();
  // Ends the loop after the transaction in flight and returns the final
  // measurements. A transaction still waiting after options.stop_grace
  // (PgBouncer paused for good) has its connection closed. Idempotent.
  CanaryStats Stop();
  // The measurements so far; safe while running.
  CanaryStats Snapshot() const;
  const std::string& run_id() const { return options_.run_id; }

  // Looks for every acknowledged write of `stats` on `server` (one query),
  // again every 200 ms until none is missing or `wait` has passed
  // (replication lag). NotFound when the table is missing there.
  [[nodiscard]] static Result<CanaryCheck> Check(const CanaryStats& stats,
                                                 const conn::ConnParams& server,
                                                 std::chrono::milliseconds wait);

 private:
  struct State;
  void Run(std::stop_token stop);
  void SetSocket(PGconn* c);

  CanaryOptions options_;
  std::unique_ptr<State> state_;
  conn::PgConnPtr first_conn_;  // Start's connection, handed to the loop
  std::jthread thread_;
};

// The JSON report of a canary run (docs/cli.md, "canary"); `check` when
// one was made.
std::string CanaryReportJson(const CanaryStats& stats, const std::optional<CanaryCheck>& check);

// "12.3 ms" style: milliseconds with one decimal.
std::string FormatMillis(std::chrono::microseconds d);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CUTOVER_CANARY_H_
