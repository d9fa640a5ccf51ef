#include "pgparity/core/chained_digest.h"

// XXH3-128 for the transaction digests and the chain (docs/digest.md): they
// are pgparity's own, no SQL recomputes them, and the chain step is the one
// hash that cannot be batched.
#include <xxhash.h>

#include <bit>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <charconv>
#include <cstring>
#include <span>

#include "pgparity/digest/row_digest.h"

namespace pgparity::core {
namespace {

// 16 lower-case hex digits of v at out, most significant first. SSE2 (the
// x86-64 baseline): split nibbles, interleave, map 0-9 / 10-15 to ASCII.
void PutHex64(char* out, uint64_t v) {
#if defined(__SSE2__)
  const __m128i bytes = _mm_cvtsi64_si128(static_cast<long long>(__builtin_bswap64(v)));
  const __m128i mask = _mm_set1_epi8(0x0f);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
  const __m128i lo = _mm_and_si128(bytes, mask);
  const __m128i nibbles = _mm_unpacklo_epi8(hi, lo);
  const __m128i letters =
      _mm_and_si128(_mm_cmpgt_epi8(nibbles, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
  const __m128i ascii = _mm_add_epi8(_mm_add_epi8(nibbles, _mm_set1_epi8('0')), letters);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), ascii);
#else
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kDigits[v & 0xf];
#endif
}

// Grows `out` by n bytes and returns where they start.
char* Extend(std::string& out, size_t n) {
  const size_t at = out.size();
  out.resize(at + n);
  return out.data() + at;
}

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

digest::Digest128 FromXxh(XXH128_hash_t h) {
  digest::Digest128 d;
  d.hi = h.high64;  // XXH128's canonical (big-endian) form, as xxhsum -H2 prints it
  d.lo = h.low64;
  return d;
}

digest::Digest128 Xxh128(const char* p, size_t n) { return FromXxh(XXH3_128bits(p, n)); }

void PutHex(char* out, const digest::Digest128& d) {
  PutHex64(out, d.hi);
  PutHex64(out + 16, d.lo);
}

// Appends a change's record (docs/digest.md) in one resize: op, table, the
// old marker (not for inserts) and the old row's digest, "N" and the new
// row's. put_row(tuple, is_old, at) fills the 32 hex digits at `at` (or
// leaves them to be filled later).
template <typename PutRow>
void AppendRecord(const Change& change, std::string& out, PutRow&& put_row) {
  const std::string_view table = change.relation.row_digester().encoded_table();
  const bool marker = change.op != ChangeOp::kInsert;
  const bool has_old = change.old_kind != wire::OldTupleKind::kNone;
  const bool has_new = change.op != ChangeOp::kDelete;
  const size_t size = 1 + table.size() + (marker ? 1 : 0) + (has_old ? 32 : 0) + (has_new ? 33 : 0);
  char* p = Extend(out, size);
  *p++ = static_cast<char>(change.op);
  std::memcpy(p, table.data(), table.size());
  p += table.size();
  if (marker) *p++ = OldMarker(change.old_kind);
  if (has_old) {
    put_row(change.old_tuple, true, p);
    p += 32;
  }
  if (has_new) {
    *p++ = 'N';
    put_row(change.new_tuple, false, p);
  }
}

// Folding a transaction pending flush happens in batches; below this many
// rows (or bytes of records) a batch keeps growing. 256 rows fill 16 lanes
// 16 times over, and the records stay in L2.
constexpr size_t kBatchRows = 256;
constexpr size_t kBatchBytes = size_t{256} << 10;

}  // namespace

struct ChainedDigest::Xxh {
  Xxh() : state(XXH3_createState()) {}
  ~Xxh() { XXH3_freeState(state); }
  XXH3_state_t* state;
};

ChainedDigest::ChainedDigest() : streaming_(std::make_unique<Xxh>()) {
  // A batch's worth, so that steady state never grows them.
  pending_.reserve(kBatchBytes + 4096);
  txns_.reserve(kBatchRows + 1);
  slots_.reserve(2 * kBatchRows + 2);
}

ChainedDigest::ChainedDigest(const ChainState& resume) : ChainedDigest() {
  state_ = resume;
  last_end_ = resume.last_commit_end;
}

ChainedDigest::~ChainedDigest() = default;

void ChainedDigest::AppendChangeRecord(const Change& change, std::string& out) {
  digest::RowDigester& digester = change.relation.row_digester();
  AppendRecord(change, out,
               [&](const wire::TupleView& t, bool, char* at) { PutHex(at, digester.Digest(t)); });
}

void ChainedDigest::AppendPendingChange(const Change& change) {
  digest::RowDigester& digester = change.relation.row_digester();
  last_rows_.has_old = change.old_kind != wire::OldTupleKind::kNone;
  last_rows_.has_new = change.op != ChangeOp::kDelete;
  last_rows_ready_ = false;
  // The digests' places are filled at Flush, or now for a row too large to
  // batch.
  AppendRecord(change, pending_, [&](const wire::TupleView& tuple, bool old, char* at) {
    size_t& row = old ? last_old_row_ : last_new_row_;
    digest::Digest128& now = old ? last_rows_.old_row : last_rows_.new_row;
    row = digester.EncodeInto(tuple, rows_, now);
    if (row == digest::RowDigester::kHashedNow) {
      PutHex(at, now);
    } else {
      slots_.push_back(HexSlot{static_cast<size_t>(at - pending_.data()), row});
    }
  });
}

const ChainedDigest::RowDigests& ChainedDigest::last_row_digests() {
  if (!last_rows_ready_) {
    rows_.Compute();
    // A row hashed at once has its digest in last_rows_ already.
    if (last_rows_.has_old && last_old_row_ != digest::RowDigester::kHashedNow) {
      last_rows_.old_row = rows_.digest(last_old_row_);
    }
    if (last_rows_.has_new && last_new_row_ != digest::RowDigester::kHashedNow) {
      last_rows_.new_row = rows_.digest(last_new_row_);
    }
    last_rows_ready_ = true;
  }
  return last_rows_;
}

void ChainedDigest::Flush() {
  if (txns_.empty()) return;
  rows_.Compute();
  (void)last_row_digests();  // they stay readable after the batch is cleared
  for (const HexSlot& slot : slots_) PutHex(pending_.data() + slot.offset, rows_.digest(slot.row));
  bool open = false;
  for (size_t i = 0; i < txns_.size(); ++i) {
    PendingTxn& t = txns_[i];
    if (!t.committed) t.end = pending_.size();  // the open one, always last
    const char* p = pending_.data() + t.begin;
    const size_t n = t.end - t.begin;
    // Only the first pending transaction can have records before this batch.
    const bool continued = i == 0 && open_streaming_;
    if (t.committed) {
      if (continued) {
        XXH3_128bits_update(streaming_->state, p, n);
        Chain(FromXxh(XXH3_128bits_digest(streaming_->state)), t.end_lsn);
        open_streaming_ = false;
      } else {
        Chain(Xxh128(p, n), t.end_lsn);
      }
    } else {
      if (!continued) XXH3_128bits_reset(streaming_->state);
      XXH3_128bits_update(streaming_->state, p, n);
      open_streaming_ = true;
      open = true;
    }
  }
  txns_.clear();
  if (open) txns_.push_back(PendingTxn{});
  pending_.clear();
  slots_.clear();
  rows_.Clear();
}

void ChainedDigest::FlushIfFull() {
  // Transactions count too: a run of empty ones (PostgreSQL 14 sends them
  // for transactions that touched no published table) adds no rows.
  if (rows_.size() >= kBatchRows || pending_.size() >= kBatchBytes || txns_.size() > kBatchRows) {
    Flush();
  }
}

void ChainedDigest::Chain(const digest::Digest128& txn, wire::Lsn end_lsn) {
  char input[80];
  PutHex(input, state_.chain);
  PutHex64(input + 32, end_lsn.value());
  PutHex(input + 48, txn);
  state_.chain = Xxh128(input, sizeof input);
  state_.last_commit_end = end_lsn;
  ++state_.transactions;
  last_txn_ = txn;
}

void ChainedDigest::AbandonTransaction() noexcept {
  if (!in_txn_) return;
  in_txn_ = false;
  if (txns_.empty() || txns_.back().committed) return;
  const size_t begin = txns_.back().begin;
  pending_.resize(begin);
  while (!slots_.empty() && slots_.back().offset >= begin) slots_.pop_back();
  if (txns_.size() == 1) open_streaming_ = false;  // its earlier records go too
  txns_.pop_back();
  // Its rows stay in rows_, hashed and unused.
}

Status ChainedDigest::RequireTransaction(const char* what) const {
  if (in_txn_) return Status::OK();
  return Status::FailedPrecondition(std::string("ChainedDigest: ") + what +
                                    " outside a transaction");
}

Status ChainedDigest::OnBegin(const TxnInfo& /*txn*/) {
  if (in_txn_) return Status::FailedPrecondition("ChainedDigest: Begin inside a transaction");
  txns_.push_back(PendingTxn{pending_.size(), pending_.size(), false, wire::Lsn()});
  in_txn_ = true;
  return Status::OK();
}

Status ChainedDigest::OnChange(const Change& change) {
  PGPARITY_RETURN_IF_ERROR(RequireTransaction("change"));
  AppendPendingChange(change);
  FlushIfFull();
  return Status::OK();
}

Status ChainedDigest::OnTruncate(const TruncateEvent& truncate) {
  PGPARITY_RETURN_IF_ERROR(RequireTransaction("truncate"));
  pending_.push_back('T');
  AppendDecimal(pending_, truncate.flags);
  pending_.push_back(':');
  AppendDecimal(pending_, truncate.relations.size());
  pending_.push_back(':');
  for (const RelationInfo* rel : truncate.relations) AppendTable(pending_, *rel);
  return Status::OK();
}

Status ChainedDigest::OnLogicalMessage(const LogicalMessageEvent& message) {
  if (!message.transactional) return Status::OK();
  PGPARITY_RETURN_IF_ERROR(RequireTransaction("transactional message"));
  pending_.push_back('M');
  digest::AppendCounted(pending_, message.prefix);
  digest::AppendCounted(pending_,
                        std::string_view(reinterpret_cast<const char*>(message.content.data()),
                                         message.content.size()));
  FlushIfFull();
  return Status::OK();
}

Status ChainedDigest::OnCommit(const CommitInfo& commit) {
  PGPARITY_RETURN_IF_ERROR(RequireTransaction("commit"));
  if (last_end_.valid() && commit.end_lsn <= last_end_) {
    // Refused whole: the transaction leaves no trace, as if abandoned.
    AbandonTransaction();
    return Status::FailedPrecondition(
        "ChainedDigest: commit end " + commit.end_lsn.ToString() + " (xid " +
        std::to_string(commit.xid) + ") is not after the last chained commit end " +
        last_end_.ToString() + ": a transaction delivered twice or out of order");
  }
  in_txn_ = false;
  PendingTxn& t = txns_.back();
  t.committed = true;
  t.end = pending_.size();
  t.end_lsn = commit.end_lsn;
  last_end_ = commit.end_lsn;
  FlushIfFull();
  return Status::OK();
}

}  // namespace pgparity::core
