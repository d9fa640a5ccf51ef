// ChainedDigest: a ChangeSink that folds every delivered transaction, in
// commit order, into one running 128-bit digest. Two runs that delivered
// the same transactions, each exactly once and in the same order, end with
// the same chain; a transaction lost, repeated or altered changes it. This
// is what the "kill the consumer and restart" test compares: a consumer
// persists state() with each confirmed commit and resumes from it.
//
// Definition (docs/digest.md, "Chained transaction digest"):
//   record(change)  per change, from the row digests of pgparity::digest
//   txn_digest      = MD5(record_1 || ... || record_n)   (MD5("") when empty)
//   chain_0         = 0 (128 zero bits)
//   chain_k         = MD5(hex(chain_k-1) || hex16(commit end LSN) || hex(txn_digest))
//
// Allocation: none per change once its buffers have grown (row digests go
// through the relation's RowDigester; MD5 runs incrementally).
// Thread-safety: none.
#ifndef PGPARITY_CORE_CHAINED_DIGEST_H_
#define PGPARITY_CORE_CHAINED_DIGEST_H_

#include <cstdint>
#include <memory>
#include <string>

#include "pgparity/core/change_sink.h"
#include "pgparity/digest/digest128.h"
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
  void AbandonTransaction() noexcept { in_txn_ = false; }

  const ChainState& state() const noexcept { return state_; }
  // The digest of the last committed transaction.
  const digest::Digest128& last_transaction_digest() const noexcept { return last_txn_; }

  // The row digests of the change OnChange folded last, valid until the
  // next OnChange: a sink that also stores them (RecordSink) takes them from
  // here instead of hashing the rows a second time.
  struct RowDigests {
    bool has_old = false;  // old_kind != kNone (kKey digests the key-only tuple)
    bool has_new = false;  // not a Delete
    digest::Digest128 old_row;
    digest::Digest128 new_row;
  };
  const RowDigests& last_row_digests() const noexcept { return last_rows_; }

  // Appends the record of one change exactly as hashed (tests, docs).
  static void AppendChangeRecord(const Change& change, std::string& out);

 private:
  static void AppendChangeRecord(const Change& change, std::string& out, RowDigests& rows);

  struct Md5;  // the running MD5 context (OpenSSL's MD5_CTX)

  Status RequireTransaction(const char* what) const;
  void Update(const std::string& bytes);

  ChainState state_;
  digest::Digest128 last_txn_;
  bool in_txn_ = false;
  std::unique_ptr<Md5> md5_;
  std::string record_;  // the current record, reused
  RowDigests last_rows_;
};

}  // namespace pgparity::core

#endif  // PGPARITY_CORE_CHAINED_DIGEST_H_
