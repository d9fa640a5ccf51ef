#include "pgparity/record/record_sink.h"

#include <algorithm>

#include "pgparity/record/record_builder.h"

namespace pgparity::record {

RecordSink::RecordSink(std::unique_ptr<RecordFileWriter> writer, core::ChainState chain)
    : writer_(std::move(writer)),
      chain_(std::make_unique<core::ChainedDigest>(chain)),
      committed_offset_(writer_->offset()) {}

Result<std::unique_ptr<RecordSink>> RecordSink::Create(const std::string& path,
                                                       const pgparity::v1::Header& header) {
  auto writer = RecordFileWriter::Create(path);
  if (!writer.ok()) return writer.status();
  pgparity::v1::Record r;
  *r.mutable_header() = header;
  PGPARITY_RETURN_IF_ERROR((*writer)->Write(r));
  PGPARITY_RETURN_IF_ERROR((*writer)->Sync());
  return std::unique_ptr<RecordSink>(new RecordSink(std::move(*writer), core::ChainState{}));
}

Result<std::unique_ptr<RecordSink>> RecordSink::Resume(const std::string& path,
                                                       const pgparity::v1::Header& expected) {
  auto reader = RecordFileReader::Open(path);
  if (!reader.ok()) return reader.status();
  auto first = (*reader)->Next();
  if (!first.ok() || !first->has_value() || !(*first)->has_header()) {
    return Status::FailedPrecondition(path +
                                      " exists but is not a pgparity recording; remove it "
                                      "or choose another --out");
  }
  const auto& h = (*first)->header();
  if (h.slot() != expected.slot() || h.system_identifier() != expected.system_identifier() ||
      h.raw() != expected.raw()) {
    return Status::FailedPrecondition(
        path + " is a recording of slot " + h.slot() + " on system " + h.system_identifier() +
        (h.raw() ? " (raw)" : "") + ", not of slot " + expected.slot() + " on system " +
        expected.system_identifier() + "; remove it or choose another --out");
  }
  if (h.format_version() != kRecordFormatVersion) {
    return Status::FailedPrecondition(
        path + " is in record format " + std::to_string(h.format_version()) +
        " (an older pgparity's chain definition); this pgparity writes format " +
        std::to_string(kRecordFormatVersion) +
        " and cannot continue its chain: remove it or choose another --out");
  }
  core::ChainState chain;
  uint64_t resume_offset = (*reader)->offset();
  for (;;) {
    auto next = (*reader)->Next();
    if (!next.ok()) break;  // a torn tail: cut below
    if (!next->has_value()) break;
    if ((*next)->has_commit()) {
      const auto& c = (*next)->commit();
      chain.chain = DigestFromBytes(c.chained_digest());
      chain.last_commit_end = wire::Lsn(c.end_lsn());
      chain.transactions = c.transactions();
      resume_offset = (*reader)->offset();
    }
  }
  auto writer = RecordFileWriter::Append(path, resume_offset);
  if (!writer.ok()) return writer.status();
  return std::unique_ptr<RecordSink>(new RecordSink(std::move(*writer), chain));
}

Status RecordSink::WriteRelation(const core::RelationInfo& relation) {
  if (std::find(written_relations_.begin(), written_relations_.end(), relation.relid()) !=
      written_relations_.end()) {
    return Status::OK();
  }
  written_relations_.push_back(relation.relid());
  SerializedRelation& cached = relation_records_[relation.relid()];
  if (cached.generation != relation.generation()) {
    BuildRelation(relation, record_);
    cached.bytes = RecordFileWriter::Delimited(record_);
    cached.generation = relation.generation();
  }
  return writer_->WriteSerialized(cached.bytes);
}

Status RecordSink::OnBegin(const core::TxnInfo& txn) {
  PGPARITY_RETURN_IF_ERROR(chain_->OnBegin(txn));
  in_txn_ = true;
  written_relations_.clear();
  BuildBegin(txn, record_);
  return writer_->Write(record_);
}

Status RecordSink::OnChange(const core::Change& change) {
  PGPARITY_RETURN_IF_ERROR(chain_->OnChange(change));
  PGPARITY_RETURN_IF_ERROR(WriteRelation(change.relation));
  BuildChange(change, chain_->last_row_digests(), change_record_);
  return writer_->Write(change_record_);
}

Status RecordSink::OnTruncate(const core::TruncateEvent& truncate) {
  PGPARITY_RETURN_IF_ERROR(chain_->OnTruncate(truncate));
  BuildTruncate(truncate, record_);
  return writer_->Write(record_);
}

Status RecordSink::OnLogicalMessage(const core::LogicalMessageEvent& message) {
  PGPARITY_RETURN_IF_ERROR(chain_->OnLogicalMessage(message));
  BuildMessage(message, record_);
  return writer_->Write(record_);
}

Status RecordSink::OnCommit(const core::CommitInfo& commit) {
  PGPARITY_RETURN_IF_ERROR(chain_->OnCommit(commit));
  BuildCommit(commit, chain_->state(), record_);
  PGPARITY_RETURN_IF_ERROR(writer_->Write(record_));
  committed_offset_ = writer_->offset();
  in_txn_ = false;
  return Status::OK();
}

Status RecordSink::AbandonTransaction() {
  if (!in_txn_) return Status::OK();
  in_txn_ = false;
  PGPARITY_RETURN_IF_ERROR(writer_->TruncateTo(committed_offset_));
  chain_->AbandonTransaction();
  return Status::OK();
}

}  // namespace pgparity::record
