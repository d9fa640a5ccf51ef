#include "pgparity/applier/report/verify_report.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace pgparity::applier {

std::string_view TableStatusName(TableStatus s) {
  switch (s) {
    case TableStatus::kMatch:
      return "match";
    case TableStatus::kMismatch:
      return "mismatch";
    case TableStatus::kMissingOnTarget:
      return "missing_on_target";
    case TableStatus::kUnverified:
      return "unverified";
  }
  return "unverified";
}

std::string_view ReportStatusName(ReportStatus s) {
  switch (s) {
    case ReportStatus::kConsistent:
      return "consistent";
    case ReportStatus::kDivergent:
      return "divergent";
    case ReportStatus::kIncomplete:
      return "incomplete";
  }
  return "incomplete";
}

std::string_view RowDivergenceName(RowDivergence k) {
  switch (k) {
    case RowDivergence::kMissingOnTarget:
      return "missing_on_target";
    case RowDivergence::kExtraOnTarget:
      return "extra_on_target";
    case RowDivergence::kDiffers:
      return "differs";
  }
  return "differs";
}

void VerifyReport::Decide() {
  bool divergent = false, unverified = false;
  for (const auto& t : tables) {
    divergent |= t.status == TableStatus::kMismatch || t.status == TableStatus::kMissingOnTarget;
    unverified |= t.status == TableStatus::kUnverified;
  }
  status = divergent    ? ReportStatus::kDivergent
           : unverified ? ReportStatus::kIncomplete
                        : ReportStatus::kConsistent;
}

namespace {

using nlohmann::ordered_json;

ordered_json ValueJson(const ShownValue& v) {
  if (v.null) return nullptr;
  return {{"text", v.text}, {"truncated", v.truncated}, {"bytes", v.bytes}, {"md5", v.md5}};
}

// "values": one entry per column, a side only where that side has the row.
ordered_json ValuesJson(const DivergentRow& d) {
  if (!d.values_shown) return nullptr;
  ordered_json values = ordered_json::array();
  for (const auto& c : d.values) {
    ordered_json j = {{"column", c.column}};
    if (c.source) j["source"] = ValueJson(*c.source);
    if (c.target) j["target"] = ValueJson(*c.target);
    values.push_back(std::move(j));
  }
  return values;
}

ordered_json DivergentRowJson(const DivergentRow& d, bool redacted) {
  ordered_json key = ordered_json::object();
  for (const auto& [c, v] : d.key) key[c] = v ? ordered_json(*v) : ordered_json(nullptr);
  ordered_json row = {{"key", key},
                      {"kind", RowDivergenceName(d.kind)},
                      {"columns", d.columns},
                      {"source_row_digest", d.source_row_digest ? ordered_json(*d.source_row_digest)
                                                                : ordered_json(nullptr)}};
  if (!redacted) row["values"] = ValuesJson(d);
  row["provenance"] = d.provenance ? ProvenanceJson(*d.provenance) : ordered_json(nullptr);
  return row;
}

// {"ranges": 8}, or {"ranges": 1, "why": "no key"}; null when not scanned.
ordered_json ScanJson(const TableReport& t) {
  if (t.scan_ranges == 0) return nullptr;
  ordered_json j;
  j["ranges"] = t.scan_ranges;
  if (!t.scan_why.empty()) j["why"] = t.scan_why;
  return j;
}

ordered_json RollingJson(const RollingProgress& p) {
  ordered_json j;
  j["scan_rate"] = p.scan_rate;
  j["period_seconds"] = p.period_seconds;
  j["period_measured"] = p.period_measured;
  j["walk_seconds"] = p.walk_seconds;
  j["longest_range_seconds"] = p.longest_range_seconds;
  j["walks"] = p.walks;
  j["position"] = {{"table", p.table}, {"range", p.range}};
  j["ranges_done"] = p.ranges_done;
  j["rows_compared"] = p.rows_compared;
  j["rows_left_out_in_flight"] = p.rows_left_out;
  ordered_json by_range = ordered_json::object(), whole = ordered_json::object();
  for (const auto& [t, how] : p.by_range) by_range[t] = how;
  for (const auto& [t, why] : p.whole) whole[t] = why;
  j["walked_by_range"] = by_range;
  j["read_whole"] = whole;
  return j;
}

}  // namespace

std::string RenderReportJson(const VerifyReport& r) {
  ordered_json doc;
  doc["status"] = ReportStatusName(r.status);
  doc["source"] = r.source;
  doc["target"] = r.target;
  doc["publication"] = r.publication;
  doc["subscription"] = r.subscription;
  doc["source_lsn"] = r.source_lsn;
  doc["target_lsn"] = r.target_lsn;
  doc["checked_at"] = r.checked_at;
  doc["seconds"] = r.seconds;
  doc["shadow"] = {{"rows", r.shadow_rows},
                   {"bytes", r.shadow_bytes},
                   {"memory_limit", r.memory_limit},
                   {"spilled_tables", r.spilled_tables},
                   {"store_bytes", r.store_bytes}};
  doc["redacted"] = r.redacted;
  ordered_json tables = ordered_json::array();
  for (const auto& t : r.tables) {
    ordered_json j;
    j["table"] = t.table;
    j["status"] = TableStatusName(t.status);
    j["source_rows"] = t.source_rows;
    j["target_rows"] = t.target_rows >= 0 ? ordered_json(t.target_rows) : ordered_json(nullptr);
    j["source_digest"] = t.source_digest;
    j["target_digest"] =
        t.target_digest.empty() ? ordered_json(nullptr) : ordered_json(t.target_digest);
    ordered_json rows = ordered_json::array();
    for (const auto& d : t.divergent_rows) rows.push_back(DivergentRowJson(d, r.redacted));
    j["divergent_rows"] = rows;
    j["divergent_row_count"] = t.divergent_row_count;
    j["rows_changed_after"] = t.rows_changed_after;
    j["extra_columns"] = t.extra_columns;
    ordered_json changes = ordered_json::array();
    for (const auto& c : t.type_changes) {
      changes.push_back({{"column", c.column},
                         {"source_type", c.source_type},
                         {"target_type", c.target_type},
                         {"class", c.change_class},
                         {"compared_as", c.compared_as},
                         {"note", c.note}});
    }
    j["type_changes"] = changes;
    ordered_json unverified = ordered_json::array();
    for (const auto& [c, why] : t.unverified_columns) {
      unverified.push_back({{"column", c}, {"reason", why}});
    }
    j["unverified_columns"] = unverified;
    j["reason"] = t.reason;
    j["row_filter"] = t.row_filter.empty() ? ordered_json(nullptr) : ordered_json(t.row_filter);
    j["columns"] =
        t.published_columns.empty() ? ordered_json(nullptr) : ordered_json(t.published_columns);
    j["scan"] = ScanJson(t);
    tables.push_back(std::move(j));
  }
  doc["tables"] = tables;
  doc["notes"] = r.notes;
  if (r.rolling) doc["rolling"] = RollingJson(*r.rolling);
  // Invalid UTF-8 in a value must not throw: replace it.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// A value in the text output: NULL, or E'...' (EscapeForText), a cut one
// followed by its whole length and MD5.
std::string ValueText(const ShownValue& v) {
  if (v.null) return "NULL";
  std::string s = "E'" + EscapeForText(v.text) + "'";
  if (v.truncated) s += "... (cut: " + std::to_string(v.bytes) + " bytes, md5 " + v.md5 + ")";
  return s;
}

// One line per divergent row, then one per shown column.
void DivergentRowText(const DivergentRow& d, bool redacted, std::ostream& out) {
  out << "      " << RowDivergenceName(d.kind) << " ";
  for (size_t i = 0; i < d.key.size(); ++i) {
    const auto& [column, value] = d.key[i];
    out << (i ? ", " : "") << EscapeForText(column) << "="
        << (value ? EscapeForText(*value) : std::string("NULL"));
  }
  if (!d.columns.empty()) {
    out << " columns:";
    for (const auto& c : d.columns) out << " " << EscapeForText(c);
  }
  out << '\n';
  if (d.provenance) out << "        " << EscapeControls(ProvenanceLine(*d.provenance)) << '\n';
  if (redacted) return;
  for (const auto& c : d.values) {
    out << "        " << EscapeForText(c.column) << ":";
    if (c.source) out << " source " << ValueText(*c.source);
    if (c.source && c.target) out << ",";
    if (c.target) out << " target " << ValueText(*c.target);
    out << '\n';
  }
}

}  // namespace

void RenderReportText(const VerifyReport& r, std::ostream& out) {
  size_t match = 0;
  for (const auto& t : r.tables) match += t.status == TableStatus::kMatch;
  for (const auto& t : r.tables) {
    out << "  " << t.table << ": " << TableStatusName(t.status) << " (source " << t.source_rows
        << " rows";
    if (t.target_rows >= 0) out << ", target " << t.target_rows << " rows";
    out << ")";
    if (!t.reason.empty()) out << " — " << t.reason;
    out << '\n';
    if (!t.row_filter.empty()) {
      out << "      compared through the publication's row filter " << EscapeControls(t.row_filter)
          << '\n';
    }
    if (!t.published_columns.empty()) {
      out << "      compared through the publication's column list, "
          << EscapeControls(t.published_columns) << '\n';
    }
    for (const auto& [c, why] : t.unverified_columns) {
      out << "      column " << c << " not compared: " << why << '\n';
    }
    for (const auto& d : t.divergent_rows) DivergentRowText(d, r.redacted, out);
    if (t.divergent_row_count > t.divergent_rows.size()) {
      out << "      ... " << (t.divergent_row_count - t.divergent_rows.size())
          << " more divergent rows (see the report)\n";
    }
  }
  for (const auto& n : r.notes) out << "  note: " << n << '\n';
  out << "verify: " << ReportStatusName(r.status) << " — " << match << " of " << r.tables.size()
      << " tables match at source LSN " << r.source_lsn << " (target applied " << r.target_lsn
      << ")\n";
}

}  // namespace pgparity::applier
