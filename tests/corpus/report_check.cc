#include "corpus/report_check.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace pgparity::corpus {

using nlohmann::json;

namespace {

const json* ReportTable(const json& report, const std::string& name) {
  if (!report.is_object() || !report.contains("tables")) return nullptr;
  for (const auto& t : report["tables"]) {
    if (t.value("table", "") == name) return &t;
  }
  return nullptr;
}

std::string Row(const TableDiff& t, const RowDiff& r) {
  std::string s = t.table + " " + KeyText(r.key) + " " + std::string(DiffKindName(r.kind));
  for (size_t i = 0; i < r.columns.size(); ++i) s += (i ? ", " : " columns: ") + r.columns[i];
  return s;
}

// A report row's key in the oracle's key order; nullopt when its columns
// are not the oracle's key columns.
std::optional<RowKey> KeyOf(const json& key, const TableDiff& t) {
  if (!key.is_object() || key.size() != t.key.size()) return std::nullopt;
  RowKey out;
  for (const auto& c : t.key) {
    if (!key.contains(c)) return std::nullopt;
    const json& v = key[c];
    out.emplace_back(c, v.is_null() ? Value() : Value(v.get<std::string>()));
  }
  return out;
}

void CheckKeyed(const json& rt, const TableDiff& t, std::vector<std::string>& problems) {
  std::map<RowKey, const RowDiff*> expected;
  for (const auto& r : t.rows) expected.emplace(r.key, &r);
  std::map<RowKey, bool> seen;
  for (const auto& row : rt.value("divergent_rows", json::array())) {
    const std::string kind = row.value("kind", "");
    const auto key = KeyOf(row["key"], t);
    if (!key) {
      problems.push_back(t.table + ": reported key " + row["key"].dump() + " (" + kind +
                         ") is not a key over the oracle's key columns");
      continue;
    }
    seen[*key] = true;
    auto it = expected.find(*key);
    if (it == expected.end()) {
      problems.push_back("false positive: " + t.table + " " + KeyText(*key) + " reported " + kind +
                         " " + row.value("columns", json::array()).dump() +
                         ", but the oracle finds the row equal on both sides");
      continue;
    }
    const RowDiff& want = *it->second;
    if (kind != DiffKindName(want.kind)) {
      problems.push_back("wrong kind: " + t.table + " " + KeyText(*key) + " reported " + kind +
                         ", the oracle finds " + std::string(DiffKindName(want.kind)));
    } else if (want.kind == DiffKind::kDiffers) {
      auto got = row.value("columns", std::vector<std::string>{});
      auto cols = want.columns;
      std::sort(got.begin(), got.end());
      std::sort(cols.begin(), cols.end());
      if (got != cols) {
        problems.push_back("wrong columns: " + t.table + " " + KeyText(*key) + " differs in " +
                           json(want.columns).dump() + " (oracle), reported " +
                           row.value("columns", json::array()).dump());
      }
    }
  }
  for (const auto& r : t.rows) {
    if (!seen.count(r.key)) problems.push_back("missed: " + Row(t, r) + " (not in the report)");
  }
}

void CheckKeyless(const json& rt, const TableDiff& t, std::vector<std::string>& problems) {
  size_t missing = 0, extra = 0;
  for (const auto& row : rt.value("divergent_rows", json::array())) {
    const std::string kind = row.value("kind", "");
    if (kind == "missing_on_target") {
      ++missing;
    } else if (kind == "extra_on_target") {
      ++extra;
    } else {
      problems.push_back(t.table + " (no key): reported kind " + kind + " for " + row.dump());
    }
  }
  if (missing != t.missing || extra != t.extra) {
    std::string rows;
    for (const auto& r : t.rows)
      rows += "\n      " + std::string(DiffKindName(r.kind)) + " " + r.row;
    problems.push_back(t.table + " (no key): reported " + std::to_string(missing) +
                       " missing_on_target and " + std::to_string(extra) +
                       " extra_on_target rows, the oracle finds " + std::to_string(t.missing) +
                       " and " + std::to_string(t.extra) + ":" + rows);
  }
}

// type_changes[] names exactly the columns whose type differs, each with
// its types and how docs/types.md compares it; unverified_columns[]
// exactly the json -> jsonb ones, each with a reason.
void CheckTypeChanges(const json& rt, const TableDiff& t, const std::string& zone,
                      std::vector<std::string>& problems) {
  std::map<std::string, json> reported;
  for (const auto& c : rt.value("type_changes", json::array())) reported[c.value("column", "")] = c;
  std::map<std::string, std::string> unverified;
  for (const auto& c : rt.value("unverified_columns", json::array())) {
    unverified[c.value("column", "")] = c.value("reason", "");
  }
  for (const auto& want : t.type_changes) {
    const std::string what = t.table + " column " + want.column + " (" + want.source_type + " -> " +
                             want.target_type + ")";
    const auto it = reported.find(want.column);
    const json got = it == reported.end() ? json() : it->second;
    reported.erase(want.column);
    const json expected = {{"source_type", want.source_type},
                           {"target_type", want.target_type},
                           {"compared_as", ComparedAs(want.rule, zone)}};
    for (const auto& [field, value] : expected.items()) {
      if (!got.is_object() || got.value(field, "") != value) {
        problems.push_back(what + ": type_changes[] says " + field + " " +
                           (got.is_object() ? got.value(field, json()).dump() : "(no entry)") +
                           ", docs/types.md: " + value.dump());
      }
    }
    if (want.rule != ReadRule::kText && got.is_object() && got.value("class", "") != "conversion") {
      problems.push_back(what + ": class " + got.value("class", "") + ", expected conversion");
    }
    const bool listed = unverified.count(want.column) != 0;
    if ((want.rule == ReadRule::kNotCompared) != listed ||
        (listed && unverified[want.column].empty())) {
      problems.push_back(what + (listed ? " is" : " is not") + " in unverified_columns[] (reason " +
                         json(unverified[want.column]).dump() + "), compared as " +
                         ComparedAs(want.rule, zone));
    }
    unverified.erase(want.column);
  }
  for (const auto& [column, entry] : reported) {
    problems.push_back(t.table + ": type_changes[] names " + column +
                       ", whose type is the same on both sides: " + entry.dump());
  }
  for (const auto& [column, reason] : unverified) {
    problems.push_back(t.table + ": unverified_columns[] names " + column + " (" + reason +
                       "), which the oracle compares");
  }
}

void CheckTable(const json& report, const TableDiff& t, const std::string& zone,
                std::vector<std::string>& problems) {
  const json* rt = ReportTable(report, t.table);
  if (rt == nullptr) {
    problems.push_back(t.table + ": published, but not in the report");
    return;
  }
  const std::string want = t.rows.empty() ? "match" : "mismatch";
  const std::string status = rt->value("status", "");
  if (status != want) {
    problems.push_back(t.table + ": status " + status + " (reason: " + rt->value("reason", "") +
                       "), the oracle expects " + want + " (" + std::to_string(t.rows.size()) +
                       " divergent rows)");
  }
  const auto count = rt->value("divergent_row_count", int64_t{0});
  if (count != static_cast<int64_t>(t.rows.size())) {
    problems.push_back(t.table + ": divergent_row_count " + std::to_string(count) +
                       ", the oracle finds " + std::to_string(t.rows.size()));
  }
  if (t.keyed) {
    CheckKeyed(*rt, t, problems);
  } else {
    CheckKeyless(*rt, t, problems);
  }
  CheckTypeChanges(*rt, t, zone, problems);
}

}  // namespace

std::vector<std::string> CompareReport(const json& report, const OracleResult& oracle) {
  std::vector<std::string> problems;
  if (!report.is_object()) return {"no report (or not JSON)"};
  const std::string want = oracle.DivergentRows() == 0 ? "consistent" : "divergent";
  if (report.value("status", "") != want) {
    problems.push_back("report status " + report.value("status", "") + ", the oracle expects " +
                       want + "; notes: " + report.value("notes", json::array()).dump());
  }
  for (const auto& t : oracle.tables) CheckTable(report, t, oracle.source_timezone, problems);
  for (const auto& rt : report.value("tables", json::array())) {
    if (oracle.Find(rt.value("table", "")) == nullptr) {
      problems.push_back(rt.value("table", "") + ": in the report, not published");
    }
  }
  return problems;
}

std::vector<std::string> FalsePerChangeLines(const std::string& log, const OracleResult& oracle) {
  static const std::string kTag = "per-change check: ";
  std::vector<std::string> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    const size_t at = line.find(kTag);
    if (at == std::string::npos) continue;
    const std::string rest = line.substr(at + kTag.size());
    bool divergent = false;
    for (const auto& t : oracle.tables) {
      for (const auto& r : t.rows) {
        divergent |= t.keyed && rest.rfind(t.table + " " + KeyText(r.key) + " ", 0) == 0;
      }
    }
    if (!divergent) out.push_back(line);
  }
  return out;
}

int64_t ReportSourceRows(const json& report, const std::string& table) {
  const json* t = ReportTable(report, table);
  return t == nullptr ? -1 : t->value("source_rows", int64_t{-1});
}

}  // namespace pgparity::corpus
