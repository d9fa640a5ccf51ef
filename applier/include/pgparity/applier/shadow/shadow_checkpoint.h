// A checkpoint of the shadow state: every table's rows, digests, kept TOAST
// values and unresolved keys, as of the end LSN of one source commit, in
// one file written atomically (temporary file, fsync, rename, fsync of the
// directory) so that a crash leaves the previous checkpoint or the new one,
// never a mix. `pgparity audit` confirms its slot only up to the LSN of its
// last checkpoint, so after kill -9 it resumes from there and the slot
// resends exactly what followed: nothing lost, nothing counted twice.
//
// Between full checkpoints, `pgparity audit` writes deltas: the rows
// changed since the last full one, in "<file>.delta" beside it (see
// PrepareCheckpoint), so that a checkpoint costs the rows that changed,
// not the shadow's.
//
// Format 05 ("PGPSHD05"): magic, the LSN, the slot, the publication, the
// source's system identifier, the row store's checkpoint, the tables (each
// with its compared columns and their source types), and an XXH64 of
// everything before it. The byte layout is in shadow_checkpoint.cc, above
// each encode/parse pair; this file is the only one that knows it. Format
// 04 files (no types: a type changed while stopped is not found) and 03
// files (no row store either) are still read.
//
// A spilled state (ShadowState::store()): its rows are not in the file but
// in a RocksDB checkpoint beside it, "store.<LSN>", written first (flushed,
// hard links, synced); the file, renamed into place after it, is the
// commit point, and names it. Other "store.*" directories (older ones, or
// one a crash left half-written) are removed after the rename. Resuming
// opens a copy of the named one as the live store (the checkpoint itself is
// never written), so a crash at any point resumes from the last file and
// the store as it was then.
//
// Thread-safety: none of its own; the ShadowState's rules apply.
#ifndef PGPARITY_APPLIER_SHADOW_SHADOW_CHECKPOINT_H_
#define PGPARITY_APPLIER_SHADOW_SHADOW_CHECKPOINT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/applier/shadow/table_shadow.h"
#include "pgparity/mapped_file.h"
#include "pgparity/result.h"
#include "pgparity/wire/byte_reader.h"
#include "pgparity/wire/byte_writer.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::applier {

struct CheckpointMeta {
  std::string slot;
  std::string publication;
  std::string system_id;  // IDENTIFY_SYSTEM's, "" when unknown
};

// Writes `shadow` (REQUIRES: its lock held, not inside a transaction) as of
// `lsn` to `path`. IOError naming the file. PrepareCheckpoint then
// CommitCheckpoint.
Status WriteCheckpoint(const ShadowState& shadow, wire::Lsn lsn, const CheckpointMeta& meta,
                       const std::string& path);

// The full checkpoint a delta applies to: its LSN and its XXH64 (the
// file's last 8 bytes).
struct CheckpointBase {
  wire::Lsn lsn;
  uint64_t checksum = 0;
};

// A checkpoint in two steps, so that the shadow's lock is held only while
// its state is taken, not while the file is written and synced (most of
// the time: 34 MB for 1 M rows):
//   1. PrepareCheckpoint (REQUIRES: the lock held, not inside a
//      transaction): the row store's checkpoint "store.<LSN>" written, the
//      file's bytes encoded;
//   2. CommitCheckpoint (the lock not needed): the file written atomically
//      — the commit point — and, for a full checkpoint, the delta and the
//      other store checkpoints removed.
// Until 2 returns, the previous checkpoint is the one a restart finds. One
// checkpoint at a time per path.
//
// A delta ("<path>.delta") instead of a full checkpoint when `base` (the
// full checkpoint at `path`, from ReadCheckpoint or the last full one's
// PreparedCheckpoint::base) is given, the shadow tracks its changed rows
// (ShadowState::TrackDirtyRows), nothing spilled, and at most a quarter of
// its rows changed since `base`: the rows changed since, each with its
// whole state, and every table's totals. It replaces the previous delta
// (they are cumulative), so a restart reads the full checkpoint and at most
// one delta. A full checkpoint clears the changed rows.
struct PreparedCheckpoint {
  std::string path;   // the checkpoint, or its delta
  std::string store;  // "store.<LSN>" beside `path`, "" when nothing spilled
  std::vector<std::byte> file;
  // A full checkpoint: what later deltas apply to. nullopt for a delta.
  std::optional<CheckpointBase> base;
  uint64_t delta_rows = 0;  // a delta's changed rows (its whole tables not counted)
};
Result<PreparedCheckpoint> PrepareCheckpoint(ShadowState& shadow, wire::Lsn lsn,
                                             const CheckpointMeta& meta, const std::string& path,
                                             const std::optional<CheckpointBase>& base = {});
Status CommitCheckpoint(const PreparedCheckpoint& checkpoint);

// Reads `path` into `shadow` (fresh, with the same tables, not streaming
// yet: its base point becomes the checkpoint's LSN), then its delta when
// there is one that applies to it (a delta left by a crash before a newer
// full checkpoint removed it does not, and is ignored); returns the LSN of
// the last of the two and fills `meta`. nullopt when there is no file.
// The delta's rows are marked changed (TrackDirtyRows first), and `base`,
// when given and the shadow tracks them, is set to the full checkpoint's.
// Errors as ParseCheckpoint's and ParseDelta's, and IOError when a file
// cannot be read. On error `shadow` may hold part of the checkpoint:
// discard it.
Result<std::optional<wire::Lsn>> ReadCheckpoint(const std::string& path, ShadowState& shadow,
                                                CheckpointMeta& meta,
                                                std::optional<CheckpointBase>* base = nullptr);

// ReadCheckpoint in two halves: the files' bytes, which need no shadow (a
// caller maps them while it connects and reads the catalogs the shadow is
// made from), then their load. IOError when a file cannot be read. Mapped,
// not copied (mapped_file.h): a restart's first step waited for the copy of
// a 1 M-row checkpoint longer than for both sides' catalogs.
struct CheckpointFiles {
  std::optional<MappedFile> full;   // nullopt: no checkpoint
  std::optional<MappedFile> delta;  // nullopt: none beside it
};
Result<CheckpointFiles> ReadCheckpointFiles(const std::string& path);
Result<std::optional<wire::Lsn>> LoadCheckpoint(const CheckpointFiles& files,
                                                const std::string& path, ShadowState& shadow,
                                                CheckpointMeta& meta,
                                                std::optional<CheckpointBase>* base = nullptr);

// What LoadCheckpoint will resume from, without the rows: the LSN it will
// return (its delta's when one applies), the meta, and the full
// checkpoint's base — so that a caller can check the slot and start the
// stream while the rows load. Checks both files' magic, checksum and
// header, with ParseCheckpoint's and ParseDelta's errors: LoadCheckpoint's
// errors after it are about the tables only. nullopt when there is no
// checkpoint.
struct CheckpointHead {
  wire::Lsn lsn;
  CheckpointMeta meta;
  CheckpointBase full;
};
Result<std::optional<CheckpointHead>> PeekCheckpoint(const CheckpointFiles& files,
                                                     const std::string& path);

// ---- The format itself, without I/O (the two functions above and tests).

// The bytes of a checkpoint of `shadow` as of `lsn` (REQUIRES as for
// WriteCheckpoint).
// `store`: the name of the row store checkpoint taken for it ("" when the
// shadow has no store).
std::vector<std::byte> EncodeCheckpoint(const ShadowState& shadow, wire::Lsn lsn,
                                        const CheckpointMeta& meta, std::string_view store = {});

// Parses a whole checkpoint file as ReadCheckpoint describes; `path` names
// it in messages, and its directory holds the row store checkpoint the file
// names (opened with ShadowState::OpenStoreFromCheckpoint). Every error says how to start over
// (remove the state directory):
//   Corruption "checkpoint <path> is damaged (<what>); ..." when the file is
//     too short, not a checkpoint, fails its checksum, or a header field
//     cannot be read ("header: slot: need 14 bytes at offset 24, 2 left");
//   FailedPrecondition "... written by an older pgparity (format 1) ...";
//   FailedPrecondition "<what> (<path>); the published tables changed since
//     it was written ..." when the tables in the file are not the shadow's
//     (another table, other compared columns, too few or too many), with
//     ParseTableSection's message as <what>.
Result<wire::Lsn> ParseCheckpoint(std::span<const std::byte> file, std::string_view path,
                                  ShadowState& shadow, CheckpointMeta& meta);

// The delta beside the checkpoint at `checkpoint_path`.
std::string DeltaPath(std::string_view checkpoint_path);
// The bytes of a delta of `shadow` (REQUIRES as for PrepareCheckpoint) as
// of `lsn` against `base`: its changed rows (ShadowState::dirty_rows()).
std::vector<std::byte> EncodeDelta(const ShadowState& shadow, wire::Lsn lsn,
                                   const CheckpointBase& base);
// Applies a delta to `shadow`, read from the full checkpoint `base` (as
// ParseCheckpoint left it); returns its LSN, or nullopt when it is not a
// delta of `base` (then `shadow` is unchanged). Corruption "checkpoint
// <path> is damaged (...)" as ParseCheckpoint's, and "delta of table
// public.t: patches[3].state: value 7 at offset 90" kinds of errors as
// FailedPrecondition, worded as ParseCheckpoint's for changed tables.
Result<std::optional<wire::Lsn>> ParseDelta(std::span<const std::byte> file, std::string_view path,
                                            const CheckpointBase& base, ShadowState& shadow);

// One table's section of the file. Parsing refills `table` (TableShadow's
// Restore* calls); Corruption naming the table and the field:
// "table public.t: keyed_rows[3].digest: need 8 bytes at offset 301, 2 left",
// "checkpoint holds table public.u where public.t was expected".
// A spilled table's section holds no rows: `store` (the table's index
// there `index`) has them. `format` 3 sections lack the in_store byte, 3
// and 4 the compared columns' types.
void EncodeTableSection(const TableShadow& table, wire::ByteWriter& out);
[[nodiscard]] Status ParseTableSection(wire::ByteReader& in, TableShadow& table,
                                       RowStore* store = nullptr, uint32_t index = 0,
                                       int format = 5);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_SHADOW_SHADOW_CHECKPOINT_H_
