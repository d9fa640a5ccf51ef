#include "pgparity/applier/scan/table_scan.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "pgparity/applier/scan/copy_text.h"
#include "pgparity/applier/scan/scan_display.h"

namespace pgparity::applier {

namespace {

// Raw COPY rows (libpq's buffers, one per row), handed in batches from the
// thread receiving them to the thread parsing them, so that receiving and
// digesting overlap; at most kMaxQueued batches wait.
class RowQueue {
 public:
  struct Batch {
    std::vector<std::pair<char*, int>> rows;
  };
  static constexpr size_t kBatchRows = 256;

  // Receiver: queues `batch` unless empty and clears it, waiting while the
  // queue is full; `last` ends the queue.
  void Push(Batch& batch, bool last) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return queue_.size() < kMaxQueued; });
    if (!batch.rows.empty()) queue_.push_back(std::move(batch));
    batch = Batch();
    if (last) done_ = true;
    cv_.notify_all();
  }
  // Parser: the next batch; false once the queue has ended and is empty.
  bool Pop(Batch& batch) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) return false;
    batch = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return true;
  }

 private:
  static constexpr size_t kMaxQueued = 16;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  bool done_ = false;
};

// Receives every row of the COPY running on `session` into `queue`, then
// ends it. Alone touches the PGconn until it has seen the end of the COPY.
Status ReceiveCopy(conn::PgSession& session, RowQueue& queue, std::string_view what,
                   const std::string& table) {
  PGconn* conn = session.get();
  Status error;
  RowQueue::Batch batch;
  for (;;) {
    char* raw = nullptr;
    const int n = PQgetCopyData(conn, &raw, 0);
    if (n == -1) break;
    if (n == -2 || raw == nullptr) {
      error = Status::Unavailable(std::string(what) + ": scanning " + table + " on " +
                                  session.endpoint() + ": " + conn::OneLine(PQerrorMessage(conn)));
      break;
    }
    batch.rows.emplace_back(raw, n);
    if (batch.rows.size() == RowQueue::kBatchRows) queue.Push(batch, false);
  }
  queue.Push(batch, true);
  return error;
}

// Counts a scan's rows and tells the display (scan_display.h).
class ScanProgress {
 public:
  ScanProgress(std::string_view what, const std::string& table, double estimated_rows)
      : what_(what), table_(table), display_(CurrentScanDisplay()) {
    display_.Begin(what_, table_, estimated_rows);
  }
  ~ScanProgress() { display_.End(what_, table_, rows_, complete_); }
  void Complete() { complete_ = true; }

  void Row() {
    if (++rows_ % ScanDisplay::kProgressRows == 0) display_.Progress(what_, table_, rows_);
  }
  // "bootstrap: public.t row 12", for an error in the next row.
  std::string NextRow() const {
    return std::string(what_) + ": " + table_ + " row " + std::to_string(rows_ + 1);
  }

 private:
  std::string_view what_;
  const std::string& table_;
  ScanDisplay& display_;
  uint64_t rows_ = 0;
  bool complete_ = false;
};

// Parses every queued row and hands it to `on_row`. After the first error
// the rest is drained — the COPY must end before the session is usable —
// and the error returned.
Status ParseRows(RowQueue& queue, const TableRead& read, const RowCallback& on_row,
                 ScanProgress& progress) {
  CopyTextRow row;
  Status failed;
  RowQueue::Batch batch;
  while (queue.Pop(batch)) {
    for (auto [raw, n] : batch.rows) {
      conn::PgMemPtr<char> owned(raw);
      if (!failed.ok()) continue;
      Status st = row.Parse(std::string_view(raw, static_cast<size_t>(n)), read.fields());
      if (st.ok()) st = row.FoldWideValues(read.wide_read);
      if (st.ok()) st = on_row(row.values());
      if (!st.ok()) {
        failed = st.WithPrefix(progress.NextRow());
        continue;
      }
      progress.Row();
    }
  }
  return failed;
}

// The COPY's final result; `failed` (the first error) wins.
Status FinishCopy(PGconn* conn, Status failed, std::string_view what, const std::string& table) {
  for (;;) {
    conn::PgResultPtr r(PQgetResult(conn));
    if (!r) break;
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && failed.ok()) {
      failed = conn::StatusFromResult(conn, r.get(), std::string(what) + ": scanning " + table);
    }
  }
  return failed;
}

}  // namespace

Status ScanTable(conn::PgSession& session, const TableRead& read, double estimated_rows,
                 std::string_view what, const RowCallback& on_row) {
  const std::string& table = read.qualified;
  PGconn* conn = session.get();
  conn::PgResultPtr res(PQexec(conn, CopySql(read).c_str()));
  if (PQresultStatus(res.get()) != PGRES_COPY_OUT) {
    return conn::StatusFromResult(conn, res.get(), std::string(what) + ": scanning " + table);
  }
  RowQueue queue;
  Status read_error;
  std::thread receiver([&] { read_error = ReceiveCopy(session, queue, what, table); });
  ScanProgress progress(what, table, estimated_rows);
  Status failed = ParseRows(queue, read, on_row, progress);
  receiver.join();
  if (failed.ok() && !read_error.ok()) return read_error;
  if (!read_error.ok()) return failed;
  PGPARITY_RETURN_IF_ERROR(FinishCopy(conn, std::move(failed), what, table));
  progress.Complete();
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
