// RecordSink: a ChangeSink that writes every delivered transaction to a
// recording (proto/pgparity.proto) and keeps the chained transaction digest
// (core::ChainedDigest) in each Commit record.
//
// Exactly once across crashes: the file is the consumer's durable state.
// Durable(end) syncs it; only then may the slot confirm `end`. A restarted
// `pgparity record` opens the file with Resume(), which cuts everything after
// the last complete Commit (a transaction half-written when the process
// died), and continues the chain from that Commit: the server resends from
// the slot's confirmed position, the decoder skips what the file already
// has (DecoderOptions::resume_lsn = resume_point()).
//
// Not thread-safe.
#ifndef PGPARITY_RECORD_RECORD_SINK_H_
#define PGPARITY_RECORD_RECORD_SINK_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "pgparity.pb.h"
#include "pgparity/core/chained_digest.h"
#include "pgparity/core/change_sink.h"
#include "pgparity/record/record_file.h"

namespace pgparity::record {

// Header.format_version of new recordings. 3: the row digests in the chain
// are digest definition 2 (a wide value enters as its MD5); 2: transaction
// digests and the chain are XXH3-128 (docs/digest.md); 1: they were MD5. A
// recording is only continued in its own format, so its chain stays one
// definition.
inline constexpr uint32_t kRecordFormatVersion = 3;

class RecordSink final : public core::ChangeSink {
 public:
  // A new recording at `path` starting with `header`.
  static Result<std::unique_ptr<RecordSink>> Create(const std::string& path,
                                                    const pgparity::v1::Header& header);
  // Continues the recording at `path`. Its header must name the same slot
  // and system as `expected` (FailedPrecondition otherwise).
  static Result<std::unique_ptr<RecordSink>> Resume(const std::string& path,
                                                    const pgparity::v1::Header& expected);

  Status OnBegin(const core::TxnInfo& txn) override;
  Status OnChange(const core::Change& change) override;
  Status OnTruncate(const core::TruncateEvent& truncate) override;
  Status OnLogicalMessage(const core::LogicalMessageEvent& message) override;
  Status OnCommit(const core::CommitInfo& commit) override;

  // The stream broke inside a transaction: forget its records (the server
  // sends it again whole).
  Status AbandonTransaction();
  // Syncs the file; everything up to the last commit is durable after it.
  Status Sync() { return writer_->Sync(); }
  Status Close() { return writer_->Close(); }

  // The end LSN of the last commit in the file (0/0 for none): where to resume.
  wire::Lsn resume_point() const { return chain_->state().last_commit_end; }
  const core::ChainState& chain() const { return chain_->state(); }
  uint64_t records() const { return writer_->records_written(); }

 private:
  RecordSink(std::unique_ptr<RecordFileWriter> writer, core::ChainState chain);
  Status WriteRelation(const core::RelationInfo& relation);

  std::unique_ptr<RecordFileWriter> writer_;
  std::unique_ptr<core::ChainedDigest> chain_;
  uint64_t committed_offset_ = 0;  // file offset after the last Commit record
  // Relations described in the current transaction. Each transaction
  // re-describes the relations it uses, so every transaction of the file
  // reads on its own (and a relation changed mid-stream is never stale).
  std::vector<uint32_t> written_relations_;
  // Each relation's record, serialized once per RelationInfo generation
  // (the same bytes are written in every transaction that uses it).
  struct SerializedRelation {
    uint64_t generation = 0;
    std::string bytes;
  };
  std::unordered_map<uint32_t, SerializedRelation> relation_records_;
  pgparity::v1::Record record_;         // reused
  pgparity::v1::Record change_record_;  // changes only: its Change is reused
  bool in_txn_ = false;
};

}  // namespace pgparity::record

#endif  // PGPARITY_RECORD_RECORD_SINK_H_
