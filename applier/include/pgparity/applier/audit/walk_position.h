// WalkPosition: where the rolling check (audit --scan-rate) goes on after a
// restart — the table it was walking and the lower bound of its next key
// range — kept in <state-dir>/rolling.json, replaced atomically after every
// range. Without it a restart walked from the first range again, and an
// audit restarted more often than its period never reached the last
// tables.
//
//   {"format": 1, "table": "public.pgbench_accounts", "next_from": 40001}
//
// `next_from` is a key value, not a range number: the next run plans its
// ranges again (the keys move), and starts at the one holding it. Absent
// or null: the table's first range. The file says nothing about verdicts:
// a restarted audit reports the tables it has not walked since as not
// walked whole yet.
#ifndef PGPARITY_APPLIER_AUDIT_WALK_POSITION_H_
#define PGPARITY_APPLIER_AUDIT_WALK_POSITION_H_

#include <cstdint>
#include <optional>
#include <string>

#include "pgparity/result.h"

namespace pgparity::applier {

struct WalkPosition {
  std::string table;                 // schema.name, as in the report
  std::optional<int64_t> next_from;  // nullopt: the table's first range

  bool operator==(const WalkPosition&) const = default;
};

// The file's text (one JSON object and a newline).
std::string RenderWalkPosition(const WalkPosition& position);
// InvalidArgument naming what is wrong when `text` is not such an object.
Result<WalkPosition> ParseWalkPosition(std::string_view text);

// Replaces `path` atomically (temporary file, fsync, rename).
Status WriteWalkPosition(const std::string& path, const WalkPosition& position);
// nullopt when there is no file; Corruption naming the file when it cannot
// be parsed.
Result<std::optional<WalkPosition>> ReadWalkPosition(const std::string& path);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_AUDIT_WALK_POSITION_H_
