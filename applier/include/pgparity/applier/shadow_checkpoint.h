// A checkpoint of the shadow state: every table's rows, digests, kept TOAST
// values and unresolved keys, as of the end LSN of one source commit, in
// one file written atomically (temporary file, fsync, rename, fsync of the
// directory) so that a crash leaves the previous checkpoint or the new one,
// never a mix. `pgparity audit` confirms its slot only up to the LSN of its
// last checkpoint, so after kill -9 it resumes from there and the slot
// resends exactly what followed: nothing lost, nothing counted twice.
//
// Format ("PGPSHD01"): magic, the LSN, the slot, the publication, the
// source's system identifier, the tables (TableShadow::SaveTo), and an
// XXH64 of everything before it.
#ifndef PGPARITY_APPLIER_SHADOW_CHECKPOINT_H_
#define PGPARITY_APPLIER_SHADOW_CHECKPOINT_H_

#include <optional>
#include <string>

#include "pgparity/applier/shadow_state.h"
#include "pgparity/result.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::applier {

struct CheckpointMeta {
  std::string slot;
  std::string publication;
  std::string system_id;  // IDENTIFY_SYSTEM's, "" when unknown
};

// Writes `shadow` (REQUIRES: its lock held, not inside a transaction) as of
// `lsn` to `path`.
Status WriteCheckpoint(const ShadowState& shadow, wire::Lsn lsn, const CheckpointMeta& meta,
                       const std::string& path);

// Reads `path` into `shadow` (fresh, with the same tables); returns the
// checkpoint's LSN and fills `meta`. nullopt when there is no file.
// Corruption on a damaged file; FailedPrecondition when it belongs to other
// tables, another slot or publication (the fix: remove the state dir).
Result<std::optional<wire::Lsn>> ReadCheckpoint(const std::string& path, ShadowState& shadow,
                                                CheckpointMeta& meta);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_CHECKPOINT_H_
