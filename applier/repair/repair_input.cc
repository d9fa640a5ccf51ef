#include "repair/repair_input.h"

#include <nlohmann/json.hpp>

#include "pgparity/file_util.h"

namespace pgparity::applier {

namespace {

// ordered: a key's columns keep the report's order (the key's).
using json = nlohmann::ordered_json;

Status Malformed(const std::string& path, const std::string& what) {
  return Status::Corruption("--report " + path + ": not a pgparity verify report (" + what +
                            ") — pass the file `pgparity verify --report` or audit wrote");
}

Result<RepairKind> KindOf(const std::string& name) {
  if (name == "missing_on_target") return RepairKind::kMissingOnTarget;
  if (name == "extra_on_target") return RepairKind::kExtraOnTarget;
  if (name == "differs") return RepairKind::kDiffers;
  return Status::InvalidArgument("unknown kind '" + name + "'");
}

bool IsDigestHex(const std::optional<std::string>& hex) {
  return hex && hex->size() == 32 &&
         hex->find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

// One divergent_rows[] entry; throws json errors for wrong types.
Result<ListedRow> ReadRow(const json& r) {
  ListedRow row;
  for (const auto& [column, value] : r.at("key").items()) {
    if (value.is_null()) {
      row.key.emplace_back(column, std::nullopt);
    } else {
      row.key.emplace_back(column, value.get<std::string>());
    }
  }
  if (row.key.empty()) return Status::InvalidArgument("a row without a key");
  row.kind_name = r.at("kind").get<std::string>();
  PGPARITY_ASSIGN_OR_RETURN(row.kind, KindOf(row.kind_name));
  if (r.contains("columns")) row.columns = r["columns"].get<std::vector<std::string>>();
  if (!r.contains("source_row_digest")) {
    return Status::InvalidArgument("no source_row_digest (a report of an older pgparity)");
  }
  if (!r["source_row_digest"].is_null()) {
    row.source_row_digest = r["source_row_digest"].get<std::string>();
  }
  if (!row.source_row_digest && row.kind != RepairKind::kExtraOnTarget) {
    return Status::InvalidArgument("a " + row.kind_name + " row without source_row_digest");
  }
  if (row.source_row_digest && !IsDigestHex(row.source_row_digest)) {
    return Status::InvalidArgument("source_row_digest is not 32 hex digits");
  }
  if (row.key[0].first == "row_digest" && !IsDigestHex(row.key[0].second)) {
    return Status::InvalidArgument("row_digest is not 32 hex digits");
  }
  return row;
}

Result<RepairInput> ParseReport(const json& j) {
  RepairInput in;
  in.source = j.at("source").get<std::string>();
  in.target = j.at("target").get<std::string>();
  in.publication = j.at("publication").get<std::string>();
  in.subscription = j.at("subscription").get<std::string>();
  in.source_lsn = j.at("source_lsn").get<std::string>();
  for (const auto& t : j.at("tables")) {
    ListedTable table;
    table.table = t.at("table").get<std::string>();
    if (!t.contains("divergent_rows") || t["divergent_rows"].empty()) continue;
    table.divergent_row_count = t.value("divergent_row_count", uint64_t{0});
    for (const auto& r : t["divergent_rows"]) {
      auto row = ReadRow(r);
      if (!row.ok()) {
        return Status::InvalidArgument(table.table + ": " + std::string(row.status().message()));
      }
      table.rows.push_back(std::move(*row));
    }
    in.tables.push_back(std::move(table));
  }
  return in;
}

}  // namespace

Result<RepairInput> ReadRepairInput(const std::string& path) {
  auto text = ReadFileIfExists(path);
  if (!text.ok() || !*text) {
    return Status::InvalidArgument(
        "--report " + path + ": cannot read the file" +
        (text.ok() ? " (no such file)" : " (" + std::string(text.status().message()) + ")") +
        " — pass the report `pgparity verify --report FILE` wrote");
  }
  const json j = json::parse(**text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Malformed(path, "invalid JSON");
  if (!j.is_object()) return Malformed(path, "not a JSON object");
  try {
    auto in = ParseReport(j);
    if (!in.ok()) return Malformed(path, std::string(in.status().message()));
    return in;
  } catch (const json::exception& e) {
    return Malformed(path, e.what());
  }
}

std::string DatabaseOf(const std::string& endpoint) {
  const size_t slash = endpoint.rfind('/');
  return slash == std::string::npos ? endpoint : endpoint.substr(slash + 1);
}

}  // namespace pgparity::applier
