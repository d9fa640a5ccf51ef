#include "preflight/version_pair.h"

#include <utility>

namespace pgparity::applier::preflight {
namespace {

using enum Severity;

constexpr int kOldestSource = 12;
constexpr int kOldestTarget = 15;
constexpr int kNewest = 18;

Finding Note(Severity severity, std::string object, std::string detail, std::string fix = {}) {
  return {"server_version", severity, std::move(object), std::move(detail), std::move(fix)};
}

// Why the pair is outside what pgparity supports; "" when it is supported.
std::string Unsupported(int source_major, int target_major) {
  if (source_major < kOldestSource || source_major > kNewest) {
    return "sources of PostgreSQL 12 to 18 are supported";
  }
  if (target_major < kOldestTarget || target_major > kNewest) {
    return "targets of PostgreSQL 15 to 18 are supported";
  }
  if (target_major < source_major) return "the target is older than the source";
  return "";
}

// What the source's major lacks, each with its consequence.
void AddSourceLimits(int major, const std::string& shown, std::vector<Finding>& out) {
  if (major < 13) {
    out.push_back(Note(kInfo, "source wal_status",
                       "unknown on " + shown +
                           " (pg_replication_slots.wal_status and max_slot_wal_keep_size are "
                           "13+): a slot retains WAL without bound, and nothing says when it is "
                           "about to be lost",
                       "watch the free space of the source's pg_wal while a subscriber lags"));
    out.push_back(Note(kInfo, "source partitions",
                       "partitioned tables are published as their partitions on " + shown +
                           " (publish_via_partition_root is 13+): the target needs each "
                           "partition as a table of the same name"));
  }
  if (major < 14) {
    out.push_back(Note(kInfo, "source pgoutput",
                       "protocol 1 on " + shown +
                           ": a transaction is sent once it commits (streaming of in-progress "
                           "transactions is 14+), logical decoding messages are not sent (14+)"));
  }
}

}  // namespace

std::vector<Finding> VersionPairFindings(const ServerVersion& source, const ServerVersion& target) {
  const int source_major = static_cast<int>(source.version_num / 10000);
  const int target_major = static_cast<int>(target.version_num / 10000);
  const std::string source_shown = "PostgreSQL " + source.version;
  const std::string target_shown = "PostgreSQL " + target.version;
  std::vector<Finding> out;
  const std::string why = Unsupported(source_major, target_major);
  if (why.empty()) {
    out.push_back(Note(kInfo, "source", source_shown));
    out.push_back(Note(kInfo, "target", target_shown));
  } else {
    const std::string pair = source_shown + " -> " + target_shown + ": " + why;
    out.push_back(Note(kWarning, "source", pair,
                       "expect differences in what the checks report (docs/versions.md)"));
    out.push_back(Note(kInfo, "target", target_shown));
  }
  AddSourceLimits(source_major, source_shown, out);
  return out;
}

}  // namespace pgparity::applier::preflight
