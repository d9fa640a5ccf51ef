// RecordBuilder: a ChangeSink event as a pgparity.v1.Record
// (proto/pgparity.proto). Shared by the recording writer (RecordSink) and
// `pgparity tail`, which prints the same records live.
//
// Each Build* clears `out` and fills it; a Change carries its row digests
// (docs/digest.md) and its replica identity key. RelationRecord describes a
// relation so a reader can name the columns.
#ifndef PGPARITY_RECORD_RECORD_BUILDER_H_
#define PGPARITY_RECORD_RECORD_BUILDER_H_

#include <string>

#include "pgparity.pb.h"
#include "pgparity/core/chained_digest.h"
#include "pgparity/core/change_sink.h"

namespace pgparity::record {

void BuildRelation(const core::RelationInfo& relation, pgparity::v1::Record& out);
void BuildBegin(const core::TxnInfo& txn, pgparity::v1::Record& out);
void BuildChange(const core::Change& change, pgparity::v1::Record& out);
// The same with the row digests already computed (ChainedDigest hashed the
// change's rows: RecordSink passes them on instead of hashing them again).
// Reuses the Change `out` holds, its tuples and string buffers included: a
// Record kept for changes only builds each change without allocating once
// it has grown.
void BuildChange(const core::Change& change, const core::ChainedDigest::RowDigests& digests,
                 pgparity::v1::Record& out);
void BuildTruncate(const core::TruncateEvent& truncate, pgparity::v1::Record& out);
void BuildMessage(const core::LogicalMessageEvent& message, pgparity::v1::Record& out);
// `chain`: the chained digest after this commit.
void BuildCommit(const core::CommitInfo& commit, const core::ChainState& chain,
                 pgparity::v1::Record& out);

// 16 bytes, big-endian, as records store digests; and back.
std::string DigestBytes(const digest::Digest128& d);
digest::Digest128 DigestFromBytes(const std::string& bytes);

}  // namespace pgparity::record

#endif  // PGPARITY_RECORD_RECORD_BUILDER_H_
