#include "pgparity/applier/table_scan.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "pgparity/applier/copy_text.h"

namespace pgparity::applier {

using Clock = std::chrono::steady_clock;

Status ScanTable(conn::PgSession& session, const TableRead& read, double estimated_rows,
                 std::string_view what, const RowCallback& on_row) {
  const std::string& table = read.qualified;
  const size_t columns = read.select_list.size();
  const std::string sql = CopySql(read);
  PGconn* conn = session.get();
  conn::PgResultPtr res(PQexec(conn, sql.c_str()));
  if (PQresultStatus(res.get()) != PGRES_COPY_OUT) {
    return conn::StatusFromResult(conn, res.get(), std::string(what) + ": scanning " + table);
  }
  CopyTextRow row;
  uint64_t rows = 0;
  const auto start = Clock::now();
  auto last_log = start;
  Status failed;
  // Receiving (libpq copies every row into a buffer of its own) and
  // digesting run on two threads: a reader fills batches of rows, this
  // thread parses and digests them. The reader alone touches the PGconn
  // until it has seen the end of the COPY.
  struct Batch {
    std::vector<std::pair<char*, int>> rows;
  };
  constexpr size_t kBatchRows = 256, kMaxQueued = 16;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Batch> queue;
  bool reader_done = false;
  Status read_error;
  std::thread reader([&] {
    Batch batch;
    auto push = [&](bool last) {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return queue.size() < kMaxQueued; });
      if (!batch.rows.empty()) queue.push_back(std::move(batch));
      batch = Batch();
      if (last) reader_done = true;
      cv.notify_all();
    };
    for (;;) {
      char* raw = nullptr;
      const int n = PQgetCopyData(conn, &raw, 0);
      if (n == -1) break;
      if (n == -2 || raw == nullptr) {
        read_error =
            Status::Unavailable(std::string(what) + ": scanning " + table + " on " +
                                session.endpoint() + ": " + conn::OneLine(PQerrorMessage(conn)));
        break;
      }
      batch.rows.emplace_back(raw, n);
      if (batch.rows.size() == kBatchRows) push(false);
    }
    push(true);
  });
  for (;;) {
    Batch batch;
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return !queue.empty() || reader_done; });
      if (queue.empty()) break;
      batch = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    for (auto [raw, n] : batch.rows) {
      conn::PgMemPtr<char> owned(raw);
      if (!failed.ok()) continue;  // drain the COPY before returning the error
      Status st = row.Parse(std::string_view(raw, static_cast<size_t>(n)), columns);
      if (st.ok()) st = on_row(row.values());
      if (!st.ok()) {
        failed =
            st.WithPrefix(std::string(what) + ": " + table + " row " + std::to_string(rows + 1));
        continue;
      }
      if ((++rows & 0xffff) == 0) {
        const auto now = Clock::now();
        if (now - last_log >= std::chrono::seconds(5)) {
          last_log = now;
          const double secs = std::chrono::duration<double>(now - start).count();
          const double rate = rows / secs;
          if (estimated_rows > rows) {
            spdlog::info("{}: {} {} rows ({:.0f}%), {:.0f} rows/s, ETA {:.0f} s", what, table, rows,
                         100.0 * rows / estimated_rows, rate, (estimated_rows - rows) / rate);
          } else {
            spdlog::info("{}: {} {} rows, {:.0f} rows/s", what, table, rows, rate);
          }
        }
      }
    }
  }
  reader.join();
  if (failed.ok() && !read_error.ok()) return read_error;
  if (!read_error.ok()) return failed;
  // The COPY's final result.
  for (;;) {
    conn::PgResultPtr r(PQgetResult(conn));
    if (!r) break;
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && failed.ok()) {
      failed = conn::StatusFromResult(conn, r.get(), std::string(what) + ": scanning " + table);
    }
  }
  PGPARITY_RETURN_IF_ERROR(failed);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (secs >= 5) {
    spdlog::info("{}: {} done, {} rows in {:.1f} s ({:.0f} rows/s)", what, table, rows, secs,
                 rows / secs);
  }
  return Status::OK();
}

Status ScanInParallel(std::vector<conn::PgSession*> sessions, const std::vector<size_t>& tables,
                      const std::vector<double>& weight,
                      const std::function<Status(conn::PgSession&, size_t)>& scan) {
  std::vector<size_t> order = tables;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return weight[a] > weight[b]; });
  std::mutex mu;
  size_t next = 0;
  Status first_error;
  auto worker = [&](conn::PgSession* session) {
    for (;;) {
      size_t t;
      {
        std::lock_guard lk(mu);
        if (next == order.size() || !first_error.ok()) return;
        t = order[next++];
      }
      Status st = scan(*session, t);
      if (!st.ok()) {
        std::lock_guard lk(mu);
        if (first_error.ok()) first_error = std::move(st);
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < sessions.size(); ++i) threads.emplace_back(worker, sessions[i]);
  worker(sessions[0]);
  for (auto& t : threads) t.join();
  return first_error;
}

}  // namespace pgparity::applier
