#include "pgparity/applier/audit/walk_position.h"

#include <nlohmann/json.hpp>

#include "pgparity/file_util.h"

namespace pgparity::applier {

namespace {

constexpr int kFormat = 1;

}  // namespace

std::string RenderWalkPosition(const WalkPosition& position) {
  nlohmann::json j;
  j["format"] = kFormat;
  j["table"] = position.table;
  j["next_from"] = position.next_from ? nlohmann::json(*position.next_from) : nlohmann::json();
  return j.dump() + "\n";
}

Result<WalkPosition> ParseWalkPosition(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::InvalidArgument("not a JSON object");
  if (!j.contains("format") || j["format"] != kFormat) {
    return Status::InvalidArgument("format is not " + std::to_string(kFormat));
  }
  if (!j.contains("table") || !j["table"].is_string() || j["table"].get<std::string>().empty()) {
    return Status::InvalidArgument("no table");
  }
  WalkPosition position;
  position.table = j["table"].get<std::string>();
  if (j.contains("next_from") && !j["next_from"].is_null()) {
    if (!j["next_from"].is_number_integer()) {
      return Status::InvalidArgument("next_from is not an integer");
    }
    position.next_from = j["next_from"].get<int64_t>();
  }
  return position;
}

Status WriteWalkPosition(const std::string& path, const WalkPosition& position) {
  return WriteFileAtomically(path, RenderWalkPosition(position));
}

Result<std::optional<WalkPosition>> ReadWalkPosition(const std::string& path) {
  PGPARITY_ASSIGN_OR_RETURN(const std::optional<std::string> text, ReadFileIfExists(path));
  if (!text) return std::optional<WalkPosition>();
  Result<WalkPosition> position = ParseWalkPosition(*text);
  if (!position.ok()) {
    return Status::Corruption(path + ": " + std::string(position.status().message()) +
                              "; remove it to walk from the first range");
  }
  return std::optional<WalkPosition>(*std::move(position));
}

}  // namespace pgparity::applier
