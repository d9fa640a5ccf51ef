#include "pgparity/conn/replication_command.h"

#include <charconv>
#include <cstdint>
#include <string>

#include "pgparity/sql_quote.h"

namespace pgparity::conn {
namespace {

Status CheckName(std::string_view what, std::string_view name) {
  if (name.empty()) return Status::InvalidArgument(std::string(what) + " is empty");
  if (name.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(std::string(what) + " contains a NUL byte");
  }
  return Status::OK();
}

// The highest logical replication protocol version the server speaks.
int MaxProtoVersion(int server_version) {
  if (server_version >= 160000) return 4;
  if (server_version >= 150000) return 3;
  if (server_version >= 140000) return 2;
  return 1;
}

}  // namespace

Result<std::string> CreateLogicalSlotCommand(int server_version, std::string_view slot_name,
                                             bool temporary, SnapshotAction snapshot) {
  PGPARITY_RETURN_IF_ERROR(CheckName("slot name", slot_name));
  std::string cmd = "CREATE_REPLICATION_SLOT " + QuoteIdent(slot_name);
  if (temporary) cmd += " TEMPORARY";
  cmd += " LOGICAL pgoutput";
  const bool exporting = snapshot == SnapshotAction::kExport;
  if (server_version >= 150000) {
    cmd += exporting ? " (SNAPSHOT 'export')" : " (SNAPSHOT 'nothing')";
  } else {
    cmd += exporting ? " EXPORT_SNAPSHOT" : " NOEXPORT_SNAPSHOT";
  }
  return cmd;
}

Result<std::string> DropSlotCommand(std::string_view slot_name, bool wait) {
  PGPARITY_RETURN_IF_ERROR(CheckName("slot name", slot_name));
  std::string cmd = "DROP_REPLICATION_SLOT " + QuoteIdent(slot_name);
  if (wait) cmd += " WAIT";
  return cmd;
}

int EffectiveProtoVersion(int server_version, const StreamOptions& options) {
  if (options.proto_version != 0) return options.proto_version;
  return server_version >= 140000 ? 2 : 1;
}

Result<std::string> StartReplicationCommand(int server_version, std::string_view slot_name,
                                            wire::Lsn start, const StreamOptions& options) {
  PGPARITY_RETURN_IF_ERROR(CheckName("slot name", slot_name));
  if (options.publication_names.empty()) {
    return Status::InvalidArgument("START_REPLICATION needs at least one publication name");
  }
  const int proto = EffectiveProtoVersion(server_version, options);
  if (proto < 1 || proto > MaxProtoVersion(server_version)) {
    return Status::InvalidArgument("proto_version " + std::to_string(proto) +
                                   " is not supported by server version " +
                                   std::to_string(server_version) + " (1.." +
                                   std::to_string(MaxProtoVersion(server_version)) + ")");
  }
  std::string publications;
  for (const std::string& name : options.publication_names) {
    PGPARITY_RETURN_IF_ERROR(CheckName("publication name", name));
    if (!publications.empty()) publications.push_back(',');
    publications += QuoteIdent(name);
  }

  std::string cmd = "START_REPLICATION SLOT " + QuoteIdent(slot_name) + " LOGICAL " +
                    start.ToString() + " (proto_version " +
                    QuoteStandardLiteral(std::to_string(proto)) + ", publication_names " +
                    QuoteStandardLiteral(publications);
  // streaming and messages exist since PG14; streaming needs protocol 2.
  if (options.streaming && server_version >= 140000 && proto >= 2) cmd += ", streaming 'on'";
  if (options.messages && server_version >= 140000) cmd += ", messages 'true'";
  if (options.binary) cmd += ", binary 'true'";
  cmd += ")";
  return cmd;
}

Result<std::chrono::milliseconds> ParseGucMilliseconds(std::string_view text) {
  const std::string_view original = text;
  auto bad = [&] {
    return Status::InvalidArgument("cannot parse time setting \"" + std::string(original) + "\"");
  };
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  int64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin || value < 0) return bad();
  std::string_view unit(ptr, static_cast<size_t>(end - ptr));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  int64_t factor = 0;
  if (unit.empty() || unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = 1000;
  } else if (unit == "min") {
    factor = 60'000;
  } else if (unit == "h") {
    factor = 3'600'000;
  } else if (unit == "d") {
    factor = 86'400'000;
  } else {
    return bad();
  }
  if (value > INT64_MAX / factor) return bad();
  return std::chrono::milliseconds(value * factor);
}

}  // namespace pgparity::conn
