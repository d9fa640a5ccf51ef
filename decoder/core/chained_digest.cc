#include "pgparity/core/chained_digest.h"

// Incremental MD5 without EVP's per-context setup, as row_digest.cc (MD5 is
// the project's digest because SQL can recompute it; docs/digest.md).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/md5.h>

#include <charconv>
#include <span>

#include "pgparity/digest/row_digest.h"

namespace pgparity::core {
namespace {

void AppendHex(std::string& out, const digest::Digest128& d) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[32];
  for (int i = 0; i < 16; ++i) {
    buf[15 - i] = kDigits[(d.hi >> (4 * i)) & 0xf];
    buf[31 - i] = kDigits[(d.lo >> (4 * i)) & 0xf];
  }
  out.append(buf, sizeof buf);
}

// 16 lower-case hex digits, zero-padded.
void AppendHex16(std::string& out, uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[16];
  for (int i = 0; i < 16; ++i) buf[15 - i] = kDigits[(v >> (4 * i)) & 0xf];
  out.append(buf, sizeof buf);
}

void AppendTable(std::string& out, const RelationInfo& rel) {
  digest::AppendCounted(out, rel.schema());
  out.push_back('.');
  digest::AppendCounted(out, rel.name());
}

void AppendDecimal(std::string& out, uint64_t v) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
  out.append(digits, end);
}

char OldMarker(wire::OldTupleKind kind) {
  return kind == wire::OldTupleKind::kFull ? 'O' : kind == wire::OldTupleKind::kKey ? 'K' : '-';
}

digest::Digest128 Final(MD5_CTX& ctx) {
  unsigned char md[MD5_DIGEST_LENGTH];
  MD5_Final(md, &ctx);
  return digest::Digest128::FromBigEndian(std::span<const unsigned char, 16>(md, 16));
}

}  // namespace

struct ChainedDigest::Md5 {
  MD5_CTX ctx;
};

ChainedDigest::ChainedDigest() : md5_(std::make_unique<Md5>()) {}

ChainedDigest::ChainedDigest(const ChainState& resume) : ChainedDigest() { state_ = resume; }

ChainedDigest::~ChainedDigest() = default;

void ChainedDigest::AppendChangeRecord(const Change& change, std::string& out) {
  digest::RowDigester& digester = change.relation.row_digester();
  out.push_back(static_cast<char>(change.op));
  AppendTable(out, change.relation);
  switch (change.op) {
    case ChangeOp::kInsert:
      out.push_back('N');
      AppendHex(out, digester.Digest(change.new_tuple));
      break;
    case ChangeOp::kUpdate:
      out.push_back(OldMarker(change.old_kind));
      if (change.old_kind != wire::OldTupleKind::kNone) {
        AppendHex(out, digester.Digest(change.old_tuple));
      }
      out.push_back('N');
      AppendHex(out, digester.Digest(change.new_tuple));
      break;
    case ChangeOp::kDelete:
      out.push_back(OldMarker(change.old_kind));
      AppendHex(out, digester.Digest(change.old_tuple));
      break;
  }
}

Status ChainedDigest::RequireTransaction(const char* what) const {
  if (in_txn_) return Status::OK();
  return Status::FailedPrecondition(std::string("ChainedDigest: ") + what +
                                    " outside a transaction");
}

void ChainedDigest::Update(const std::string& bytes) {
  MD5_Update(&md5_->ctx, bytes.data(), bytes.size());
}

Status ChainedDigest::OnBegin(const TxnInfo& /*txn*/) {
  if (in_txn_) return Status::FailedPrecondition("ChainedDigest: Begin inside a transaction");
  MD5_Init(&md5_->ctx);
  in_txn_ = true;
  return Status::OK();
}

Status ChainedDigest::OnChange(const Change& change) {
  PGPARITY_RETURN_IF_ERROR(RequireTransaction("change"));
  record_.clear();
  AppendChangeRecord(change, record_);
  Update(record_);
  return Status::OK();
}

Status ChainedDigest::OnTruncate(const TruncateEvent& truncate) {
  PGPARITY_RETURN_IF_ERROR(RequireTransaction("truncate"));
  record_.clear();
  record_.push_back('T');
  AppendDecimal(record_, truncate.flags);
  record_.push_back(':');
  AppendDecimal(record_, truncate.relations.size());
  record_.push_back(':');
  for (const RelationInfo* rel : truncate.relations) AppendTable(record_, *rel);
  Update(record_);
  return Status::OK();
}

Status ChainedDigest::OnLogicalMessage(const LogicalMessageEvent& message) {
  if (!message.transactional) return Status::OK();
  PGPARITY_RETURN_IF_ERROR(RequireTransaction("transactional message"));
  record_.clear();
  record_.push_back('M');
  digest::AppendCounted(record_, message.prefix);
  digest::AppendCounted(record_,
                        std::string_view(reinterpret_cast<const char*>(message.content.data()),
                                         message.content.size()));
  Update(record_);
  return Status::OK();
}

Status ChainedDigest::OnCommit(const CommitInfo& commit) {
  PGPARITY_RETURN_IF_ERROR(RequireTransaction("commit"));
  in_txn_ = false;
  if (state_.last_commit_end.valid() && commit.end_lsn <= state_.last_commit_end) {
    return Status::FailedPrecondition(
        "ChainedDigest: commit end " + commit.end_lsn.ToString() + " (xid " +
        std::to_string(commit.xid) + ") is not after the last chained commit end " +
        state_.last_commit_end.ToString() + ": a transaction delivered twice or out of order");
  }
  last_txn_ = Final(md5_->ctx);

  record_.clear();
  AppendHex(record_, state_.chain);
  AppendHex16(record_, commit.end_lsn.value());
  AppendHex(record_, last_txn_);
  MD5_Init(&md5_->ctx);
  Update(record_);
  state_.chain = Final(md5_->ctx);
  state_.last_commit_end = commit.end_lsn;
  ++state_.transactions;
  return Status::OK();
}

}  // namespace pgparity::core
