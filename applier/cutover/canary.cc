#include "pgparity/applier/cutover/canary.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>

#include "pgparity/conn/connect.h"
#include "pgparity/conn/row_reader.h"
#include "pgparity/utc_time.h"

namespace pgparity::applier {

namespace {

using Steady = std::chrono::steady_clock;
using Wall = std::chrono::system_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr const char* kInsertSql = "INSERT INTO pgparity_canary(run_id, seq) VALUES ($1, $2)";
constexpr const char* kReadSql = "SELECT seq FROM pgparity_canary WHERE run_id = $1 AND seq = $2";
constexpr const char* kProbeSql = "SELECT 1 FROM pgparity_canary LIMIT 0";

}  // namespace

namespace {

// A missing table is a setup step not done: say which and how.
Status MissingTable(std::string_view server) {
  return Status::NotFound(
      "table pgparity_canary does not exist on " + std::string(server) +
      " — create it on both servers with sql/canary.sql (psql -f sql/canary.sql), before the "
      "subscription is created or followed by ALTER SUBSCRIPTION ... REFRESH PUBLICATION");
}

// Whether the canary's table is there and readable.
Status ProbeTable(PGconn* c) {
  conn::PgResultPtr r(PQexecParams(c, kProbeSql, 0, nullptr, nullptr, nullptr, nullptr, 0));
  if (r != nullptr && PQresultStatus(r.get()) == PGRES_TUPLES_OK) return Status::OK();
  if (conn::SqlState(r.get()) == "42P01") return MissingTable(conn::DescribeConn(c));
  return conn::StatusFromStatement(c, r.get(), "canary", kProbeSql);
}

// One attempt's outcome.
enum class Outcome { kAcknowledged, kFailed, kInDoubt };
struct Attempt {
  Outcome outcome = Outcome::kAcknowledged;
  std::string error;
  bool lost = false;  // the connection is gone (or going): open a new one
};

// Runs one statement of the transaction; the error's Status when it did not
// return `want` (and, for the read, exactly one row; for COMMIT, the tag
// COMMIT — an aborted transaction's COMMIT answers ROLLBACK).
Status Step(PGconn* c, const char* sql, int n, const char* const* params, ExecStatusType want,
            std::string_view what) {
  conn::PgResultPtr r(PQexecParams(c, sql, n, nullptr, params, nullptr, nullptr, 0));
  if (r == nullptr || PQresultStatus(r.get()) != want) {
    return conn::StatusFromStatement(c, r.get(), what, sql);
  }
  if (want == PGRES_TUPLES_OK && PQntuples(r.get()) != 1) {
    return Status::Internal(std::string(what) + ": the row just inserted is not visible");
  }
  if (std::string_view(sql) == "COMMIT" && std::string_view(PQcmdStatus(r.get())) != "COMMIT") {
    return Status::Internal(std::string(what) + ": answered " + PQcmdStatus(r.get()));
  }
  return Status::OK();
}

// A lost connection (or a server going away) rather than a refusal.
bool Lost(PGconn* c, const Status& s) { return PQstatus(c) != CONNECTION_OK || s.IsUnavailable(); }

// BEGIN; INSERT; SELECT; COMMIT for `seq`.
Attempt RunTransaction(PGconn* c, const std::string& run_id, int64_t seq) {
  const std::string seq_text = std::to_string(seq);
  const char* params[] = {run_id.c_str(), seq_text.c_str()};
  const std::string prefix = "seq " + seq_text + " ";
  Status s = Step(c, "BEGIN", 0, nullptr, PGRES_COMMAND_OK, prefix + "BEGIN");
  if (s.ok()) s = Step(c, kInsertSql, 2, params, PGRES_COMMAND_OK, prefix + "INSERT");
  if (s.ok()) s = Step(c, kReadSql, 2, params, PGRES_TUPLES_OK, prefix + "SELECT");
  if (!s.ok()) {
    // Certainly not committed. The session may still be in the aborted
    // transaction: end it so the next attempt starts clean.
    // Its own failure does not matter: a session that cannot roll back is
    // lost, and the next attempt finds out.
    const bool lost = Lost(c, s);
    if (!lost) {
      conn::PgResultPtr(PQexecParams(c, "ROLLBACK", 0, nullptr, nullptr, nullptr, nullptr, 0));
    }
    return {Outcome::kFailed, std::string(s.message()), lost};
  }
  s = Step(c, "COMMIT", 0, nullptr, PGRES_COMMAND_OK, prefix + "COMMIT");
  if (s.ok()) return {Outcome::kAcknowledged, {}};
  // A COMMIT whose answer never came may have committed all the same.
  if (Lost(c, s)) {
    return {Outcome::kInDoubt, std::string(s.message()) + " (commit in doubt)", true};
  }
  return {Outcome::kFailed, std::string(s.message()), false};
}

}  // namespace

std::string MakeCanaryRunId() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "host");
  std::random_device rd;
  char tail[64];
  std::snprintf(tail, sizeof tail, "-%d-", static_cast<int>(getpid()));
  std::string stamp = UtcMillis(Wall::now());  // 2026-12-01T22:40:52.123Z
  std::erase_if(stamp, [](char ch) { return ch == '-' || ch == ':'; });
  char rnd[8];
  std::snprintf(rnd, sizeof rnd, "%04x", static_cast<unsigned>(rd() & 0xffff));
  return std::string(host) + tail + stamp.substr(0, 15) + "-" + rnd;
}

void LatencyHistogram::Add(int64_t micros) {
  const uint64_t v = micros < 0 ? 0 : static_cast<uint64_t>(micros);
  int index;
  if (v < 16) {
    index = static_cast<int>(v);
  } else {
    const int e = std::bit_width(v) - 1;  // 2^e <= v, e >= 4
    index = 16 + (e - 4) * 16 + static_cast<int>((v >> (e - 4)) & 15);
  }
  ++buckets_[std::min(index, kBuckets - 1)];
  ++count_;
  max_ = std::max<int64_t>(max_, static_cast<int64_t>(v));
}

int64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<int64_t>(q * static_cast<double>(count_) + 0.999999);
  int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen < std::max<int64_t>(rank, 1)) continue;
    if (i < 16) return i;
    const int e = (i - 16) / 16 + 4;
    const int64_t sub = (i - 16) % 16;
    // The bucket's upper bound, never above the largest value seen.
    return std::min(((16 + sub + 1) << (e - 4)) - 1, max_);
  }
  return max_;
}

std::string FormatMillis(microseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

// The measurements, guarded by `mu`; times on the steady clock, turned into
// wall-clock times through the start's pair.
struct Canary::State {
  mutable std::mutex mu;
  std::condition_variable_any wake;  // the backoff's sleep, ended by Stop
  CanaryStats stats;
  Steady::time_point start_steady;
  Steady::time_point last_ack;
  bool stopped = false;
  bool done = false;  // Run returned
  // The loop's connection's socket (-1: none), for Stop to cut a
  // transaction that outlives the grace. Set to -1 before the connection
  // is closed, so it never names a reused descriptor.
  int socket = -1;

  Wall::time_point WallAt(Steady::time_point t) const {
    return stats.started + duration_cast<Wall::duration>(t - start_steady);
  }
  // The stats with the interval since the last ack closed at `now`.
  CanaryStats At(Steady::time_point now) const {
    CanaryStats out = stats;
    out.stopped = WallAt(now);
    out.current_stall = duration_cast<microseconds>(now - last_ack);
    if (out.current_stall > out.longest_stall) {
      out.longest_stall = out.current_stall;
      out.longest_stall_began = WallAt(last_ack);
    }
    return out;
  }
  void KeepError(std::string message, size_t keep) {
    if (stats.errors.size() < keep) stats.errors.push_back(std::move(message));
  }
  void Record(const Attempt& a, int64_t seq, Steady::time_point begin, Steady::time_point end,
              size_t keep);
};

void Canary::State::Record(const Attempt& a, int64_t seq, Steady::time_point begin,
                           Steady::time_point end, size_t keep) {
  std::lock_guard lock(mu);
  if (a.outcome == Outcome::kFailed) {
    ++stats.failed;
    KeepError(a.error, keep);
    return;
  }
  if (a.outcome == Outcome::kInDoubt) {
    ++stats.in_doubt;
    stats.in_doubt_seqs.push_back(seq);
    KeepError(a.error, keep);
    return;
  }
  ++stats.acknowledged;
  stats.latency.Add(duration_cast<microseconds>(end - begin).count());
  if (const auto gap = duration_cast<microseconds>(end - last_ack); gap > stats.longest_stall) {
    stats.longest_stall = gap;
    stats.longest_stall_began = WallAt(last_ack);
  }
  last_ack = end;
  auto& ranges = stats.acknowledged_ranges;
  if (!ranges.empty() && ranges.back().second == seq - 1) {
    ranges.back().second = seq;
  } else {
    ranges.emplace_back(seq, seq);
  }
}

Canary::Canary(CanaryOptions options)
    : options_(std::move(options)), state_(std::make_unique<State>()) {
  if (options_.run_id.empty()) options_.run_id = MakeCanaryRunId();
}

Canary::~Canary() { Stop(); }

Status Canary::Start() {
  PGPARITY_ASSIGN_OR_RETURN(first_conn_, options_.dsn.Connect("canary connection"));
  PGPARITY_RETURN_IF_ERROR(ProbeTable(first_conn_.get()));
  {
    std::lock_guard lock(state_->mu);
    state_->stats.run_id = options_.run_id;
    state_->stats.started = Wall::now();
    state_->start_steady = Steady::now();
    state_->last_ack = state_->start_steady;
  }
  thread_ = std::jthread([this](std::stop_token stop) { Run(std::move(stop)); });
  return Status::OK();
}

void Canary::Run(std::stop_token stop) {
  conn::PgConnPtr c = std::move(first_conn_);
  SetSocket(c.get());
  int64_t seq = 0;
  while (!stop.stop_requested()) {
    if (c == nullptr || PQstatus(c.get()) != CONNECTION_OK) {
      SetSocket(nullptr);
      c.reset();
      {
        // A fixed short pause: never a hot loop, yet a stall it adds to
        // stays within the measurement's resolution.
        std::unique_lock lock(state_->mu);
        state_->wake.wait_for(lock, stop, options_.reconnect_backoff, [] { return false; });
      }
      if (stop.stop_requested()) break;
      Result<conn::PgConnPtr> fresh = options_.dsn.Connect("canary connection");
      std::lock_guard lock(state_->mu);
      if (!fresh.ok()) {
        ++state_->stats.connect_failures;
        state_->KeepError(std::string(fresh.status().message()), options_.kept_errors);
        continue;
      }
      ++state_->stats.reconnects;
      c = std::move(fresh).value();
      state_->socket = PQsocket(c.get());
      continue;
    }
    ++seq;
    const Steady::time_point begin = Steady::now();
    const Attempt a = RunTransaction(c.get(), options_.run_id, seq);
    state_->Record(a, seq, begin, Steady::now(), options_.kept_errors);
    // A server that said it is going away (57P01, 08xxx) may not have
    // closed the socket yet: do not spend the next attempt finding out.
    if (a.lost) {
      SetSocket(nullptr);
      c.reset();
    }
  }
  SetSocket(nullptr);
  std::lock_guard lock(state_->mu);
  state_->done = true;
  state_->wake.notify_all();
}

void Canary::SetSocket(PGconn* c) {
  std::lock_guard lock(state_->mu);
  state_->socket = c == nullptr ? -1 : PQsocket(c);
}

CanaryStats Canary::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    std::unique_lock lock(state_->mu);
    // A transaction still waiting after the grace (a PgBouncer paused for
    // good) is cut: its connection's socket shut down, so it fails (or is
    // in doubt) and is counted like any lost connection.
    if (!state_->wake.wait_for(lock, options_.stop_grace, [&] { return state_->done; }) &&
        state_->socket >= 0) {
      state_->KeepError("stopped: a transaction still waited after " +
                            std::to_string(options_.stop_grace.count()) +
                            " ms; its connection was closed",
                        options_.kept_errors);
      shutdown(state_->socket, SHUT_RDWR);
    }
    lock.unlock();
    thread_.join();
    lock.lock();
    state_->stats = state_->At(Steady::now());
    state_->stopped = true;
  }
  std::lock_guard lock(state_->mu);
  return state_->stopped ? state_->stats : state_->At(Steady::now());
}

CanaryStats Canary::Snapshot() const {
  std::lock_guard lock(state_->mu);
  return state_->stopped ? state_->stats : state_->At(Steady::now());
}

namespace {

// "{1,5,9}" for a bigint[] parameter.
std::string ArrayText(const std::vector<int64_t>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

// The acknowledged seqs as ranges expanded on the server, minus what the
// table holds: the count and the first ten missing.
constexpr const char* kMissingSql =
    "SELECT count(*) OVER () AS missing, s FROM ("
    "SELECT s FROM unnest($2::bigint[], $3::bigint[]) AS r(lo, hi), generate_series(r.lo, r.hi) s "
    "EXCEPT SELECT seq FROM pgparity_canary WHERE run_id = $1) m ORDER BY s LIMIT 10";
constexpr const char* kInDoubtSql =
    "SELECT count(*) AS present FROM pgparity_canary WHERE run_id = $1 AND seq = ANY($2::bigint[])";

Status ReadMissing(conn::PgSession& s, const CanaryStats& stats, CanaryCheck& out) {
  std::vector<int64_t> lo;
  std::vector<int64_t> hi;
  for (const auto& [first, last] : stats.acknowledged_ranges) {
    lo.push_back(first);
    hi.push_back(last);
  }
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult r,
                            s.Query(kMissingSql, {stats.run_id, ArrayText(lo), ArrayText(hi)}));
  out.missing = 0;
  out.first_missing.clear();
  for (int i = 0; i < r.rows(); ++i) {
    conn::RowReader row(r, i, "canary check");
    PGPARITY_ASSIGN_OR_RETURN(out.missing, row.Int64("missing"));
    PGPARITY_ASSIGN_OR_RETURN(int64_t seq, row.Int64("s"));
    out.first_missing.push_back(seq);
  }
  return Status::OK();
}

}  // namespace

Result<CanaryCheck> Canary::Check(const CanaryStats& stats, const conn::ConnParams& server,
                                  milliseconds wait) {
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession s, conn::ConnectSession(server, "check server"));
  PGPARITY_RETURN_IF_ERROR(ProbeTable(s.get()));
  CanaryCheck out;
  out.server = s.endpoint();
  for (const auto& [first, last] : stats.acknowledged_ranges) out.checked += last - first + 1;
  const Steady::time_point start = Steady::now();
  for (;;) {
    PGPARITY_RETURN_IF_ERROR(ReadMissing(s, stats, out));
    out.waited = duration_cast<milliseconds>(Steady::now() - start);
    // Replication lag: what is missing now may still arrive.
    if (out.missing == 0 || out.waited >= wait) break;
    std::this_thread::sleep_for(std::min<milliseconds>(milliseconds(200), wait - out.waited));
  }
  if (!stats.in_doubt_seqs.empty()) {
    PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult r,
                              s.Query(kInDoubtSql, {stats.run_id, ArrayText(stats.in_doubt_seqs)}));
    PGPARITY_ASSIGN_OR_RETURN(out.in_doubt_present,
                              conn::RowReader(r, 0, "canary check").Int64("present"));
  }
  return out;
}

std::string CanaryReportJson(const CanaryStats& stats, const std::optional<CanaryCheck>& check) {
  using nlohmann::ordered_json;
  auto ms = [](microseconds d) { return static_cast<double>(d.count()) / 1000.0; };
  ordered_json doc;
  doc["run_id"] = stats.run_id;
  doc["started"] = UtcMillis(stats.started);
  doc["stopped"] = UtcMillis(stats.stopped);
  doc["duration_ms"] = ms(duration_cast<microseconds>(stats.stopped - stats.started));
  doc["acknowledged"] = stats.acknowledged;
  doc["failed"] = stats.failed;
  doc["in_doubt"] = stats.in_doubt;
  doc["reconnects"] = stats.reconnects;
  doc["connect_failures"] = stats.connect_failures;
  doc["errors"] = stats.errors;
  doc["longest_stall_ms"] = ms(stats.longest_stall);
  doc["longest_stall_began"] = UtcMillis(stats.longest_stall_began);
  doc["latency_ms"] = {{"p50", ms(microseconds(stats.latency.Quantile(0.5)))},
                       {"p99", ms(microseconds(stats.latency.Quantile(0.99)))},
                       {"max", ms(microseconds(stats.latency.max()))}};
  if (check) {
    doc["check"] = {{"server", check->server},
                    {"checked", check->checked},
                    {"missing", check->missing},
                    {"first_missing", check->first_missing},
                    {"in_doubt_present", check->in_doubt_present},
                    {"waited_ms", check->waited.count()}};
  } else {
    doc["check"] = nullptr;
  }
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace pgparity::applier
