#include "pgparity/core/chained_digest.h"

// Incremental MD5 without EVP's per-context setup, as row_digest.cc (MD5 is
// the project's digest because SQL can recompute it; docs/digest.md).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/md5.h>

#include <bit>
#include <charconv>
#include <cstring>
#include <span>

#include "pgparity/digest/row_digest.h"

namespace pgparity::core {
namespace {

// 8 lower-case hex digits of v, most significant first, as the 8 bytes of
// the result in memory order (SWAR: no table, no byte stores).
uint64_t Hex8(uint32_t v) {
  uint64_t x = v;
  x = ((x & 0xffff0000u) << 16) | (x & 0xffffu);
  x = ((x & 0x0000ff000000ff00u) << 8) | (x & 0x000000ff000000ffu);
  x = ((x & 0x00f000f000f000f0u) << 4) | (x & 0x000f000f000f000fu);
  // One nibble per byte, most significant in the top byte. Digits above 9
  // get 'a' - '0' - 10 = 39 more.
  const uint64_t letters = ((x + 0x0606060606060606u) >> 4) & 0x0101010101010101u;
  x += 0x3030303030303030u + letters * 39;
  if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);
  return x;
}

// 16 hex digits of v at out.
void PutHex64(char* out, uint64_t v) {
  const uint64_t hi = Hex8(static_cast<uint32_t>(v >> 32));
  const uint64_t lo = Hex8(static_cast<uint32_t>(v));
  std::memcpy(out, &hi, 8);
  std::memcpy(out + 8, &lo, 8);
}

// Grows `out` by n bytes and returns where they start.
char* Extend(std::string& out, size_t n) {
  const size_t at = out.size();
  out.resize(at + n);
  return out.data() + at;
}

void AppendHex(std::string& out, const digest::Digest128& d) {
  char* p = Extend(out, 32);
  PutHex64(p, d.hi);
  PutHex64(p + 16, d.lo);
}

// 16 lower-case hex digits, zero-padded.
void AppendHex16(std::string& out, uint64_t v) { PutHex64(Extend(out, 16), v); }

// counted(schema) "." counted(name): the relation's digester has it ready.
void AppendTable(std::string& out, const RelationInfo& rel) {
  out.append(rel.row_digester().encoded_table());
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
  RowDigests rows;
  AppendChangeRecord(change, out, rows);
}

void ChainedDigest::AppendChangeRecord(const Change& change, std::string& out, RowDigests& rows) {
  digest::RowDigester& digester = change.relation.row_digester();
  rows.has_old = false;
  rows.has_new = false;
  out.push_back(static_cast<char>(change.op));
  AppendTable(out, change.relation);
  switch (change.op) {
    case ChangeOp::kInsert:
      out.push_back('N');
      rows.new_row = digester.Digest(change.new_tuple);
      rows.has_new = true;
      AppendHex(out, rows.new_row);
      break;
    case ChangeOp::kUpdate:
      out.push_back(OldMarker(change.old_kind));
      if (change.old_kind != wire::OldTupleKind::kNone) {
        rows.old_row = digester.Digest(change.old_tuple);
        rows.has_old = true;
        AppendHex(out, rows.old_row);
      }
      out.push_back('N');
      rows.new_row = digester.Digest(change.new_tuple);
      rows.has_new = true;
      AppendHex(out, rows.new_row);
      break;
    case ChangeOp::kDelete:
      out.push_back(OldMarker(change.old_kind));
      rows.old_row = digester.Digest(change.old_tuple);
      rows.has_old = true;
      AppendHex(out, rows.old_row);
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
  AppendChangeRecord(change, record_, last_rows_);
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
