#include "pgparity/applier/metrics/metrics.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>
#include <vector>

#include "pgparity/applier/catalog/replication_slots.h"
#include "pgparity/applier/metrics/status_page.h"

namespace pgparity::applier {

// What one scrape read from the servers.
struct ScrapedServers {
  struct Slot {
    std::string label;  // slot="name"
    std::optional<double> lag, retained;
    std::string wal_status;  // "" when the server does not say (before 13)
  };
  std::vector<Slot> slots;
  std::optional<wire::Lsn> current_wal;         // the source's pg_current_wal_lsn()
  std::optional<wire::Lsn> subscription_flush;  // the subscription slot's confirmed_flush_lsn
  std::optional<wire::Lsn> remote;              // the subscription origin's remote_lsn
  bool error = false;                           // a server could not be read
};

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

// pgparity's slot and the subscription's, as catalog::ReadSlots read them.
void AddSlotRows(const std::vector<ReplicationSlot>& slots, const std::string& subscription_slot,
                 ScrapedServers& v) {
  const auto bytes = [](std::optional<int64_t> n) {
    return n ? std::optional<double>(static_cast<double>(*n)) : std::nullopt;
  };
  for (const ReplicationSlot& slot : slots) {
    v.slots.push_back({"slot=\"" + Label(slot.name) + "\"", bytes(slot.lag_bytes),
                       bytes(slot.retained_bytes), slot.wal_status});
    v.current_wal = slot.current_wal_lsn;
    if (slot.name == subscription_slot && slot.confirmed_flush_lsn) {
      v.subscription_flush = slot.confirmed_flush_lsn;
    }
  }
}

// Everything one scrape renders.
struct Scrape {
  const StreamFigures& stream;
  double decode_rate;
  const ScrapedServers& servers;
  const CheckFigures& checks;
};

struct Sample {
  std::string labels;
  double value;
};
using Samples = std::vector<Sample>;

// A metric family: its header, and its samples in a scrape.
struct Family {
  std::string_view name;
  std::string_view type;
  std::string_view help;
  Samples (*samples)(const Scrape&);
};

Samples One(double value) { return {{"", value}}; }
Samples OneIf(std::optional<double> value) { return value ? One(*value) : Samples(); }

Samples ChangesByTable(const Scrape& s) {
  Samples out;
  for (const auto& t : s.stream.tables) {
    const std::string l = "table=\"" + Label(t.name) + "\",op=";
    out.push_back({l + "\"insert\"", static_cast<double>(t.ops.inserts)});
    out.push_back({l + "\"update\"", static_cast<double>(t.ops.updates)});
    out.push_back({l + "\"delete\"", static_cast<double>(t.ops.deletes)});
    out.push_back({l + "\"truncate\"", static_cast<double>(t.ops.truncates)});
  }
  return out;
}

Samples StreamPositions(const Scrape& s) {
  return {{"position=\"received\"", static_cast<double>(s.stream.received.value())},
          {"position=\"processed\"", static_cast<double>(s.stream.processed.value())},
          {"position=\"durable\"", static_cast<double>(s.stream.durable.value())}};
}

// One sample per slot that has the figure `field`.
template <std::optional<double> ScrapedServers::Slot::*field>
Samples PerSlot(const Scrape& s) {
  Samples out;
  for (const auto& slot : s.servers.slots) {
    if (slot.*field) out.push_back({slot.label, *(slot.*field)});
  }
  return out;
}

// One-hot over pg_replication_slots.wal_status, so that an alert can match
// status="lost" == 1 and a dashboard can show which value holds.
Samples SlotWalStatus(const Scrape& s) {
  Samples out;
  for (const auto& slot : s.servers.slots) {
    if (slot.wal_status.empty()) continue;
    for (std::string_view st : {"reserved", "extended", "unreserved", "lost"}) {
      out.push_back(
          {slot.label + ",status=\"" + std::string(st) + "\"", slot.wal_status == st ? 1.0 : 0.0});
    }
  }
  return out;
}

Samples RemoteLsn(const Scrape& s) {
  const auto& remote = s.servers.remote;
  return OneIf(remote ? std::optional<double>(static_cast<double>(remote->value())) : std::nullopt);
}

// pg_current_wal_lsn minus the larger of remote_lsn and the subscription
// slot's confirmed_flush_lsn (which also moves while idle).
Samples ApplyLag(const Scrape& s) {
  const ScrapedServers& v = s.servers;
  if (!v.current_wal || (!v.remote && !v.subscription_flush)) return {};
  const wire::Lsn applied =
      std::max(v.remote.value_or(wire::Lsn()), v.subscription_flush.value_or(wire::Lsn()));
  return One(v.current_wal->value() > applied.value()
                 ? static_cast<double>(v.current_wal->value() - applied.value())
                 : 0.0);
}

Samples ReportStatusOneHot(const Scrape& s) {
  if (!s.checks.report) return {};
  Samples out;
  for (auto st : {ReportStatus::kConsistent, ReportStatus::kDivergent, ReportStatus::kIncomplete}) {
    out.push_back({"status=\"" + std::string(ReportStatusName(st)) + "\"",
                   s.checks.report->status == st ? 1.0 : 0.0});
  }
  return out;
}

Samples TableStatusOneHot(const Scrape& s) {
  if (!s.checks.report) return {};
  Samples out;
  for (const auto& t : s.checks.report->tables) {
    const std::string l = "table=\"" + Label(t.table) + "\"";
    for (auto st : {TableStatus::kMatch, TableStatus::kMismatch, TableStatus::kMissingOnTarget,
                    TableStatus::kUnverified}) {
      out.push_back(
          {l + ",status=\"" + std::string(TableStatusName(st)) + "\"", t.status == st ? 1.0 : 0.0});
    }
  }
  return out;
}

Samples TableDivergentRows(const Scrape& s) {
  if (!s.checks.report) return {};
  Samples out;
  for (const auto& t : s.checks.report->tables) {
    out.push_back({"table=\"" + Label(t.table) + "\"", static_cast<double>(t.divergent_row_count)});
  }
  return out;
}

// Every family, in the order of the exposition (docs/cli.md, "Metrics").
const Family kFamilies[] = {
    // In memory: the shadow state and the stream.
    {"pgparity_transactions_total", "counter",
     "Source transactions decoded from pgparity's slot and applied to the shadow state.",
     [](const Scrape& s) { return One(static_cast<double>(s.stream.transactions)); }},
    {"pgparity_changes_total", "counter",
     "Row changes (and truncates) decoded and applied, by table and operation.", ChangesByTable},
    {"pgparity_decode_rate_changes_per_second", "gauge",
     "Changes decoded per second since the previous scrape (0 on the first).",
     [](const Scrape& s) { return One(s.decode_rate); }},
    {"pgparity_lsn_bytes", "gauge",
     "pgparity's stream positions as byte positions in the source's WAL: received (wal end "
     "seen), processed (last commit applied to the shadow), durable (confirmed to the slot).",
     StreamPositions},
    {"pgparity_shadow_rows", "gauge", "Rows the shadow state tracks.",
     [](const Scrape& s) { return One(static_cast<double>(s.stream.tracked_rows)); }},
    {"pgparity_shadow_bytes", "gauge", "Memory of the shadow state's row maps.",
     [](const Scrape& s) { return One(static_cast<double>(s.stream.shadow_bytes)); }},
    // From the servers, at scrape time.
    {"pgparity_slot_lag_bytes", "gauge",
     "Source WAL not yet confirmed by the slot (pg_current_wal_lsn - confirmed_flush_lsn).",
     PerSlot<&ScrapedServers::Slot::lag>},
    {"pgparity_slot_retained_wal_bytes", "gauge",
     "Source WAL the slot keeps from being removed (pg_current_wal_lsn - restart_lsn).",
     PerSlot<&ScrapedServers::Slot::retained>},
    {"pgparity_slot_wal_status", "gauge",
     "The slot's wal_status in pg_replication_slots (one-hot over reserved, extended, "
     "unreserved, lost).",
     SlotWalStatus},
    {"pgparity_subscription_remote_lsn_bytes", "gauge",
     "The subscription's applied position on the target (its origin's remote_lsn).", RemoteLsn},
    {"pgparity_subscription_apply_lag_bytes", "gauge",
     "Source WAL the subscription has not applied: pg_current_wal_lsn minus the larger of "
     "remote_lsn and its slot's confirmed_flush_lsn (which also moves while idle).",
     ApplyLag},
    {"pgparity_scrape_errors", "gauge", "1 when a server could not be read for this scrape.",
     [](const Scrape& s) { return One(s.servers.error ? 1 : 0); }},
    // The last full check, and the per-change checks.
    {"pgparity_full_checks_total", "counter", "Full checks of the target that reached a verdict.",
     [](const Scrape& s) { return One(static_cast<double>(s.checks.full_checks)); }},
    {"pgparity_last_full_check_timestamp_seconds", "gauge",
     "Unix time of the last full check's verdict (0: none yet).",
     [](const Scrape& s) { return One(s.checks.last_check_unix); }},
    {"pgparity_change_check_rows_total", "counter",
     "Changed rows compared on the target by the per-change checks.",
     [](const Scrape& s) { return One(static_cast<double>(s.checks.change_rows)); }},
    {"pgparity_change_check_divergent_rows_total", "counter",
     "Changed rows the per-change checks found divergent on the target.",
     [](const Scrape& s) { return One(static_cast<double>(s.checks.change_divergent)); }},
    {"pgparity_report_status", "gauge", "The last full check's verdict (one-hot).",
     ReportStatusOneHot},
    {"pgparity_table_status", "gauge",
     "Each table's status in the last full check (one-hot over match, mismatch, "
     "missing_on_target, unverified).",
     TableStatusOneHot},
    {"pgparity_table_divergent_rows", "gauge",
     "Divergent rows of each table in the last full check.", TableDivergentRows},
};

HttpResponse Probe(const std::string& problem) {
  if (problem.empty()) return {200, "text/plain; charset=utf-8", "ok\n", {kNoStoreHeader}};
  return {503, "text/plain; charset=utf-8", problem + "\n", {kNoStoreHeader}};
}

}  // namespace

MetricsCollector::MetricsCollector(const CheckState& state, ScrapeTargets targets)
    : state_(state), targets_(std::move(targets)) {}
MetricsCollector::~MetricsCollector() = default;

HttpResponse MetricsCollector::Handle(std::string_view path) {
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", RenderMetrics()};
  }
  if (path == "/status") {
    const CheckFigures checks = state_.ReadChecks();
    if (!checks.report) {
      return {200, "application/json",
              "{\"status\": \"starting\", \"note\": \"no full check has finished yet\"}\n"};
    }
    return {200, "application/json", RenderReportJson(*checks.report) + "\n"};
  }
  if (path == "/healthz") return Probe(Unhealthy(state_.ReadLiveness()));
  if (path == "/readyz") return Probe(Unready(state_.ReadLiveness()));
  if (auto asset = WebAssetResponse(path)) return std::move(*asset);
  return {404, "text/plain; charset=utf-8",
          "not found: try /, /metrics, /status, /healthz or /readyz\n"};
}

std::string Unhealthy(const Liveness& l) {
  if (!l.stream_ended) return "";
  return l.stream_error.empty() ? "the replication stream stopped"
                                : "the replication stream ended: " + l.stream_error;
}

std::string Unready(const Liveness& l) {
  if (std::string why = Unhealthy(l); !why.empty()) return why;
  if (!l.base_point)
    return "no base point yet: the bootstrap scan, or the load of a checkpoint, is running";
  if (!l.check_error.empty()) return "the last full check failed: " + l.check_error;
  return "";
}

std::string MetricsCollector::RenderMetrics() {
  const StreamFigures stream = state_.ReadStream();
  const double rate = DecodeRate(stream.changes);
  const ScrapedServers servers = ReadServers();
  const CheckFigures checks = state_.ReadChecks();
  const Scrape scrape{stream, rate, servers, checks};
  Exposition e;
  for (const Family& family : kFamilies) {
    e.Family(family.name, family.type, family.help);
    for (const Sample& s : family.samples(scrape)) e.Sample(family.name, s.labels, s.value);
  }
  return e.str();
}

double MetricsCollector::DecodeRate(uint64_t changes) {
  const auto now = std::chrono::steady_clock::now();
  double rate = 0;
  if (last_scrape_.time_since_epoch().count() != 0) {
    const double secs = std::chrono::duration<double>(now - last_scrape_).count();
    if (secs > 0) rate = (changes - changes_at_last_scrape_) / secs;
  }
  last_scrape_ = now;
  changes_at_last_scrape_ = changes;
  return rate;
}

ScrapedServers MetricsCollector::ReadServers() {
  ScrapedServers v;
  if (!source_) {
    auto s = conn::PgSession::Connect(targets_.source);
    if (s.ok()) source_ = std::make_unique<conn::PgSession>(std::move(*s));
  }
  if (!target_) {
    auto s = conn::PgSession::Connect(targets_.target);
    if (s.ok()) target_ = std::make_unique<conn::PgSession>(std::move(*s));
  }
  const std::string& subscription_slot = targets_.subscription.slot_name;
  if (source_) {
    auto rows = ReadSlots(*source_, {targets_.slot, subscription_slot});
    if (rows.ok()) {
      AddSlotRows(*rows, subscription_slot, v);
    } else {
      v.error = true;
      source_.reset();
    }
  }
  if (target_) {
    auto remote = ReadRemoteLsn(*target_, targets_.subscription);
    if (remote.ok()) {
      v.remote = *remote;
    } else {
      v.error = true;
      target_.reset();
    }
  }
  return v;
}

}  // namespace pgparity::applier
