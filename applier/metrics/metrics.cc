#include "pgparity/applier/metrics.h"

#include <cstdio>
#include <ctime>
#include <sstream>

namespace pgparity::applier {

namespace {

// A Prometheus label value: backslash, double quote and newline escaped.
std::string Label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

class Exposition {
 public:
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void Sample(std::string_view name, std::string_view labels, double value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    out_ << ' ' << buf << '\n';
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

}  // namespace

MetricsCollector::MetricsCollector(MetricsSources sources) : src_(std::move(sources)) {}
MetricsCollector::~MetricsCollector() = default;

void MetricsCollector::SetReport(const VerifyReport& report) {
  std::lock_guard lk(mu_);
  report_ = report;
  ++full_checks_;
  last_check_unix_ = static_cast<double>(std::time(nullptr));
}

void MetricsCollector::AddChangeCheck(uint64_t rows_compared, uint64_t divergent_rows) {
  std::lock_guard lk(mu_);
  change_rows_ += rows_compared;
  change_divergent_ += divergent_rows;
}

HttpResponse MetricsCollector::Handle(std::string_view path) {
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", RenderMetrics()};
  }
  if (path == "/status") {
    std::lock_guard lk(mu_);
    if (!report_) {
      return {200, "application/json",
              "{\"status\": \"starting\", \"note\": \"no full check has finished yet\"}\n"};
    }
    return {200, "application/json", RenderReportJson(*report_) + "\n"};
  }
  return {404, "text/plain; charset=utf-8", "not found: try /metrics or /status\n"};
}

std::string MetricsCollector::RenderMetrics() {
  Exposition e;
  ShadowState& shadow = *src_.shadow;
  // In memory: the shadow state and the stream.
  struct TableOps {
    std::string name;
    ShadowState::OpCounts ops;
    int64_t rows;
  };
  std::vector<TableOps> tables;
  uint64_t txns = 0, changes = 0, rows = 0, bytes = 0;
  wire::Lsn processed;
  {
    auto lk = shadow.Lock();
    for (size_t i = 0; i < shadow.table_count(); ++i) {
      tables.push_back(
          {shadow.table(i).qualified_name(), shadow.ops(i), shadow.table(i).digest().rows});
    }
    txns = shadow.transactions();
    changes = shadow.changes();
    rows = shadow.TrackedRows();
    bytes = shadow.MemoryBytes();
    processed = shadow.last_commit_end();
  }
  e.Family("pgparity_transactions_total", "counter",
           "Source transactions decoded from pgparity's slot and applied to the shadow state.");
  e.Sample("pgparity_transactions_total", "", static_cast<double>(txns));
  e.Family("pgparity_changes_total", "counter",
           "Row changes (and truncates) decoded and applied, by table and operation.");
  for (const auto& t : tables) {
    const std::string l = "table=\"" + Label(t.name) + "\",op=";
    e.Sample("pgparity_changes_total", l + "\"insert\"", static_cast<double>(t.ops.inserts));
    e.Sample("pgparity_changes_total", l + "\"update\"", static_cast<double>(t.ops.updates));
    e.Sample("pgparity_changes_total", l + "\"delete\"", static_cast<double>(t.ops.deletes));
    e.Sample("pgparity_changes_total", l + "\"truncate\"", static_cast<double>(t.ops.truncates));
  }
  const auto now = std::chrono::steady_clock::now();
  double rate = 0;
  if (last_scrape_.time_since_epoch().count() != 0) {
    const double secs = std::chrono::duration<double>(now - last_scrape_).count();
    if (secs > 0) rate = (changes - changes_at_last_scrape_) / secs;
  }
  last_scrape_ = now;
  changes_at_last_scrape_ = changes;
  e.Family("pgparity_decode_rate_changes_per_second", "gauge",
           "Changes decoded per second since the previous scrape (0 on the first).");
  e.Sample("pgparity_decode_rate_changes_per_second", "", rate);
  e.Family(
      "pgparity_lsn_bytes", "gauge",
      "pgparity's stream positions as byte positions in the source's WAL: received (wal end "
      "seen), processed (last commit applied to the shadow), durable (confirmed to the slot).");
  e.Sample("pgparity_lsn_bytes", "position=\"received\"",
           static_cast<double>(src_.position->received.load()));
  e.Sample("pgparity_lsn_bytes", "position=\"processed\"", static_cast<double>(processed.value()));
  e.Sample("pgparity_lsn_bytes", "position=\"durable\"",
           static_cast<double>(src_.durable ? src_.durable().value() : processed.value()));
  e.Family("pgparity_shadow_rows", "gauge", "Rows the shadow state tracks.");
  e.Sample("pgparity_shadow_rows", "", static_cast<double>(rows));
  e.Family("pgparity_shadow_bytes", "gauge", "Memory of the shadow state's row maps.");
  e.Sample("pgparity_shadow_bytes", "", static_cast<double>(bytes));

  // From the servers, at scrape time.
  std::string errors;
  if (!source_) {
    auto s = conn::PgSession::Connect(src_.source_params);
    if (s.ok()) source_ = std::make_unique<conn::PgSession>(std::move(*s));
  }
  if (!target_) {
    auto s = conn::PgSession::Connect(src_.target_params);
    if (s.ok()) target_ = std::make_unique<conn::PgSession>(std::move(*s));
  }
  std::optional<wire::Lsn> current, sub_flush;
  struct SlotRow {
    std::string label;
    std::optional<double> lag, retained;
  };
  std::vector<SlotRow> slots;
  if (source_) {
    auto r = source_->Query(
        "SELECT slot_name, (pg_current_wal_lsn() - confirmed_flush_lsn)::float8, "
        "(pg_current_wal_lsn() - restart_lsn)::float8, pg_current_wal_lsn(), confirmed_flush_lsn "
        "FROM pg_replication_slots WHERE slot_name IN ($1, $2)",
        {src_.slot, src_.subscription.slot_name});
    if (r.ok()) {
      for (int i = 0; i < r->rows(); ++i) {
        SlotRow slot{"slot=\"" + Label(r->Value(i, 0)) + "\"", std::nullopt, std::nullopt};
        if (!r->IsNull(i, 1)) slot.lag = std::stod(std::string(r->Value(i, 1)));
        if (!r->IsNull(i, 2)) slot.retained = std::stod(std::string(r->Value(i, 2)));
        slots.push_back(std::move(slot));
        auto cur = wire::Lsn::Parse(r->Value(i, 3));
        if (cur.ok()) current = *cur;
        if (r->Value(i, 0) == src_.subscription.slot_name && !r->IsNull(i, 4)) {
          auto f = wire::Lsn::Parse(r->Value(i, 4));
          if (f.ok()) sub_flush = *f;
        }
      }
    } else {
      errors += "source: " + std::string(r.status().message()) + "; ";
      source_.reset();
    }
  }
  e.Family("pgparity_slot_lag_bytes", "gauge",
           "Source WAL not yet confirmed by the slot (pg_current_wal_lsn - confirmed_flush_lsn).");
  for (const auto& slot : slots) {
    if (slot.lag) e.Sample("pgparity_slot_lag_bytes", slot.label, *slot.lag);
  }
  e.Family("pgparity_slot_retained_wal_bytes", "gauge",
           "Source WAL the slot keeps from being removed (pg_current_wal_lsn - restart_lsn).");
  for (const auto& slot : slots) {
    if (slot.retained) e.Sample("pgparity_slot_retained_wal_bytes", slot.label, *slot.retained);
  }
  std::optional<wire::Lsn> remote;
  if (target_) {
    auto r = ReadRemoteLsn(*target_, src_.subscription);
    if (r.ok()) {
      remote = *r;
    } else {
      errors += "target: " + std::string(r.status().message()) + "; ";
      target_.reset();
    }
  }
  e.Family("pgparity_subscription_remote_lsn_bytes", "gauge",
           "The subscription's applied position on the target (its origin's remote_lsn).");
  if (remote)
    e.Sample("pgparity_subscription_remote_lsn_bytes", "", static_cast<double>(remote->value()));
  e.Family("pgparity_subscription_apply_lag_bytes", "gauge",
           "Source WAL the subscription has not applied: pg_current_wal_lsn minus the larger of "
           "remote_lsn and its slot's confirmed_flush_lsn (which also moves while idle).");
  if (current && (remote || sub_flush)) {
    wire::Lsn applied = std::max(remote.value_or(wire::Lsn()), sub_flush.value_or(wire::Lsn()));
    e.Sample("pgparity_subscription_apply_lag_bytes", "",
             current->value() > applied.value()
                 ? static_cast<double>(current->value() - applied.value())
                 : 0.0);
  }
  e.Family("pgparity_scrape_errors", "gauge", "1 when a server could not be read for this scrape.");
  e.Sample("pgparity_scrape_errors", "", errors.empty() ? 0 : 1);

  // The last full check, and the per-change checks.
  std::lock_guard lk(mu_);
  e.Family("pgparity_full_checks_total", "counter",
           "Full checks of the target that reached a verdict.");
  e.Sample("pgparity_full_checks_total", "", static_cast<double>(full_checks_));
  e.Family("pgparity_last_full_check_timestamp_seconds", "gauge",
           "Unix time of the last full check's verdict (0: none yet).");
  e.Sample("pgparity_last_full_check_timestamp_seconds", "", last_check_unix_);
  e.Family("pgparity_change_check_rows_total", "counter",
           "Changed rows compared on the target by the per-change checks.");
  e.Sample("pgparity_change_check_rows_total", "", static_cast<double>(change_rows_));
  e.Family("pgparity_change_check_divergent_rows_total", "counter",
           "Changed rows the per-change checks found divergent on the target.");
  e.Sample("pgparity_change_check_divergent_rows_total", "",
           static_cast<double>(change_divergent_));
  e.Family("pgparity_report_status", "gauge", "The last full check's verdict (one-hot).");
  if (report_) {
    for (auto s :
         {ReportStatus::kConsistent, ReportStatus::kDivergent, ReportStatus::kIncomplete}) {
      e.Sample("pgparity_report_status", "status=\"" + std::string(ReportStatusName(s)) + "\"",
               report_->status == s ? 1 : 0);
    }
  }
  e.Family("pgparity_table_status", "gauge",
           "Each table's status in the last full check (one-hot over match, mismatch, "
           "missing_on_target, unverified).");
  if (report_) {
    for (const auto& t : report_->tables) {
      const std::string l = "table=\"" + Label(t.table) + "\"";
      for (auto s : {TableStatus::kMatch, TableStatus::kMismatch, TableStatus::kMissingOnTarget,
                     TableStatus::kUnverified}) {
        e.Sample("pgparity_table_status", l + ",status=\"" + std::string(TableStatusName(s)) + "\"",
                 t.status == s ? 1 : 0);
      }
    }
  }
  e.Family("pgparity_table_divergent_rows", "gauge",
           "Divergent rows of each table in the last full check.");
  if (report_) {
    for (const auto& t : report_->tables) {
      e.Sample("pgparity_table_divergent_rows", "table=\"" + Label(t.table) + "\"",
               static_cast<double>(t.divergent_row_count));
    }
  }
  return e.str();
}

}  // namespace pgparity::applier
