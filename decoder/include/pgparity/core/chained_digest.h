// ChainedDigest: a ChangeSink that folds every delivered transaction, in
// commit order, into one running 128-bit digest. Two runs that delivered
// the same transactions, each exactly once and in the same order, end with
// the same chain; a transaction lost, repeated or altered changes it. This
// is what the "kill the consumer and restart" test compares: a consumer
// persists state() with each confirmed commit and resumes from it.
//
// Definition (docs/digest.md, "Chained transaction digest"):
//   record(change)  per change, from the row digests of pgparity::digest
//   txn_digest      = XXH3-128(record_1 || ... || record_n)
//   chain_0         = 0 (128 zero bits)
//   chain_k         = XXH3-128(hex(chain_k-1) || hex16(commit end LSN) || hex(txn_digest))
//
// Batching: row digests are MD5 (SQL recomputes them), which is slow one
// message at a time, so ChainedDigest encodes each change's rows into an
// Md5Batch and folds records, transactions and the chain later, in order,
// once a few hundred rows are pending (Flush). The results are the same as
// folding at once; state(), last_transaction_digest() and
// last_row_digests() flush first, so a caller never sees a lagging value.
// Errors (a transaction delivered twice) are still reported by the call
// that causes them.
//
// Allocation: none per change once its buffers have grown.
// Thread-safety: none.
#ifndef PGPARITY_CORE_CHAINED_DIGEST_H_
#define PGPARITY_CORE_CHAINED_DIGEST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pgparity/core/change_sink.h"
#include "pgparity/digest/digest128.h"
#include "pgparity/digest/md5_batch.h"
#include "pgparity/status.h"
#include "pgparity/wire/lsn.h"

namespace pgparity::core {

// What a consumer persists to resume the chain.
struct ChainState {
  digest::Digest128 chain;    // chain_k
  wire::Lsn last_commit_end;  // the commit end LSN folded last (0/0: none)
  uint64_t transactions = 0;  // k

  friend bool operator==(const ChainState&, const ChainState&) = default;
};

class ChainedDigest final : public ChangeSink {
 public:
  ChainedDigest();
  // Continues a chain saved from state().
  explicit ChainedDigest(const ChainState& resume);
  ~ChainedDigest() override;
  ChainedDigest(const ChainedDigest&) = delete;
  ChainedDigest& operator=(const ChainedDigest&) = delete;

  Status OnBegin(const TxnInfo& txn) override;
  Status OnChange(const Change& change) override;
  Status OnTruncate(const TruncateEvent& truncate) override;
  // Transactional messages are part of their transaction's digest;
  // non-transactional ones belong to no transaction and are not chained.
  Status OnLogicalMessage(const LogicalMessageEvent& message) override;
  // FailedPrecondition when the commit's end LSN is not after the last one
  // folded: a transaction delivered twice or out of order.
  Status OnCommit(const CommitInfo& commit) override;

  // Forgets a transaction begun but not committed (the connection broke
  // inside it; it will be delivered again whole). The chain is unchanged.
  void AbandonTransaction() noexcept;

  // Folds everything pending. Called by the accessors below.
  void Flush();

  const ChainState& state() {
    Flush();
    return state_;
  }
  // The digest of the last committed transaction.
  const digest::Digest128& last_transaction_digest() {
    Flush();
    return last_txn_;
  }

  // The row digests of the change OnChange took last, valid until the next
  // OnChange: a sink that also stores them (RecordSink) takes them from
  // here instead of hashing the rows a second time.
  struct RowDigests {
    bool has_old = false;  // old_kind != kNone (kKey digests the key-only tuple)
    bool has_new = false;  // not a Delete
    digest::Digest128 old_row;
    digest::Digest128 new_row;
  };
  const RowDigests& last_row_digests();

  // Appends the record of one change exactly as hashed (tests, docs).
  static void AppendChangeRecord(const Change& change, std::string& out);

 private:
  // A transaction whose records are (partly) in pending_.
  struct PendingTxn {
    size_t begin = 0;  // its records: pending_[begin, end)
    size_t end = 0;
    bool committed = false;
    wire::Lsn end_lsn;
  };
  // Where a row digest's 32 hex digits go once computed.
  struct HexSlot {
    size_t offset;  // in pending_
    size_t row;     // in rows_
  };
  struct Xxh;  // the streaming XXH3 state of a transaction larger than a batch

  Status RequireTransaction(const char* what) const;
  // Appends a change's record with room for its row digests.
  void AppendPendingChange(const Change& change);
  void FlushIfFull();
  void Chain(const digest::Digest128& txn, wire::Lsn end_lsn);

  ChainState state_;
  wire::Lsn last_end_;  // the last commit end taken (state_ may lag behind it)
  digest::Digest128 last_txn_;
  bool in_txn_ = false;

  digest::Md5Batch rows_;
  std::string pending_;  // records of the pending transactions, back to back
  std::vector<HexSlot> slots_;
  std::vector<PendingTxn> txns_;  // in commit order; only the last may be open
  // The open transaction's records before the last Flush went here.
  std::unique_ptr<Xxh> streaming_;
  bool open_streaming_ = false;
  size_t last_old_row_ = 0, last_new_row_ = 0;  // in rows_, for last_row_digests
  RowDigests last_rows_;
  bool last_rows_ready_ = true;
};

}  // namespace pgparity::core

#endif  // PGPARITY_CORE_CHAINED_DIGEST_H_
