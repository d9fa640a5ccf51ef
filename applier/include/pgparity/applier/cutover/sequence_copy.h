// Sequences at cutover: logical replication does not carry them, so once
// the source is fenced (no more nextval there) every sequence of the
// source that was ever used is set on the target to the source's
// last_value plus a margin, then read back.
//
// The target's value never goes down: a sequence the target already moved
// past (a local nextval) is left as it is and reported. A sequence missing
// on the target, or one the role cannot read, is an error before anything
// is set (FailedPrecondition / PermissionDenied naming it).
// Thread-safety: one thread; the sessions are the caller's.
#ifndef PGPARITY_APPLIER_CUTOVER_SEQUENCE_COPY_H_
#define PGPARITY_APPLIER_CUTOVER_SEQUENCE_COPY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct SequenceCopied {
  std::string sequence;                 // schema.name as format('%I.%I')
  std::optional<int64_t> source_value;  // nullopt: never used on the source (left alone)
  std::optional<int64_t> target_before;
  std::optional<int64_t> target_after;  // read back
  bool set = false;                     // setval ran
};

// Sets the target's sequences from the source's (see above); returns one
// entry per source sequence, in name order.
Result<std::vector<SequenceCopied>> CopySequences(conn::PgSession& source, conn::PgSession& target,
                                                  int64_t margin);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CUTOVER_SEQUENCE_COPY_H_
