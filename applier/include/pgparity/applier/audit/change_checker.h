// ChangeChecker: the continuous, per-change half of the target cross-check.
// Between full checks it looks at exactly the rows the source changed: once
// the target has applied a commit (the origin's remote_lsn is past it), the
// rows that commit touched are read from the target by key, in batches
// (target_rows.h: dense runs of integer keys by range; a big commit's keys
// shared out over `read_sessions` sessions), and
// their digests compared with the shadow state's — unless a later commit
// changed the same key again and may still be in flight (then the next
// round looks at it). A divergence in a changed row is found within a
// round, not at the next full scan.
//
// Rounds: R = remote_lsn; keys of commits in [cursor, R) (the commit at R
// itself may not be visible yet: the origin moves just before the commit
// becomes visible) — or up to and including the subscription slot's
// confirmed_flush_lsn when that is further (the subscriber confirms only
// what it committed, and it moves on keepalives, so on a quiet source the
// last commit is checked too); the target rows read; R2 = remote_lsn
// again; then,
// with the shadow at or past R2, every key touched by a commit at or after
// R is left out, and the rest compared. Tables without a key are left to
// the full check (their rows have no identity to look up).
//
// A target ahead of the shadow (pgparity's stream catching up a backlog):
// the rows read wait, with their R2, until the shadow gets there, and the
// next keys are read meanwhile — the target's reads overlap the stream
// instead of being thrown away. The comparison is the same: a key not
// changed from R to the shadow's last commit has one value over that span,
// the one the target showed somewhere in it. At most `max_waiting_keys`
// keys wait; rounds are compared in order, the cursor moving with them.
//
// A big streamed transaction the target has already applied (its commit
// end is known from the Stream Commit before the shadow replays it): its
// keys are read in chunks while the shadow applies it, once every commit
// before it was read (the shadow's key touches of the open transaction,
// ShadowState::KeyTouchesOf). Its round, when it committed in the shadow,
// reads only the keys not read yet and compares every key of the commit
// with the rows read — the same comparison: each row read is the target's
// as of a position at or past the commit's end.
//
// Earlier still, while such a transaction streams and the target's applied
// commits lead what pgparity's stream has received (a backlog:
// ChangeCheckOptions::stream_lead_bytes; its commit lies beyond what was
// received, so only then can it be applied already): the keys its prepared
// changes will touch (ShadowState::HandOutPreparedTouches, from the
// decoder's early delivery) are read in chunks as they arrive. At its
// Stream Commit those reads count as the first chunks of the read above
// if the target had applied its commit before each of them (the applied
// bound past its end), and as far as the replay touched the same keys in
// the same order (ShadowState::StreamedReplay: its changes applied as the
// ones prepared, none passed over); an abort in the stream takes back the
// keys of what it dropped. Otherwise they are read again. A row read is
// the target's at a position past the commit either way; what the
// bookkeeping decides is only which keys still need reading.
//
// Read-only on the target. Thread-safety: one thread.
#ifndef PGPARITY_APPLIER_AUDIT_CHANGE_CHECKER_H_
#define PGPARITY_APPLIER_AUDIT_CHANGE_CHECKER_H_

#include <absl/container/flat_hash_map.h>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "pgparity/applier/audit/target_rows.h"
#include "pgparity/applier/catalog/catalog.h"
#include "pgparity/applier/catalog/table_spec.h"
#include "pgparity/applier/report/verify_report.h"
#include "pgparity/applier/shadow/row_key.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/digest/digest128.h"
#include "pgparity/result.h"

namespace pgparity::applier {

struct ChangeRound {
  wire::Lsn from, to;           // commits with from <= end < to were looked at
  uint64_t rows_compared = 0;   // keys compared
  uint64_t rows_in_flight = 0;  // left out: changed again at or after `to`
  std::vector<std::pair<std::string, DivergentRow>> divergent;  // table, row
  // Tables whose changes in the round were not compared by key: tables
  // without a key, truncated ones, and rows the shadow does not fully know
  // (an unchanged TOAST value it never saw); left to the full check.
  std::set<std::string> left_to_full_check;
  // The target has applied more than this round took: it stopped at the
  // key cap (`capped`; the next round can go on at once), or the shadow has
  // not decoded as far as the target applied (`shadow_behind`: pgparity's
  // stream is catching up).
  bool capped = false;
  bool shadow_behind = false;
  // The shadow holds every commit the target applied, but the round
  // stopped short of the target's applied bound: the rest of it is the
  // subscriber's keepalive-moved flush position, and pgparity's stream has
  // not yet published that it decoded that far (set_decoded_before). A
  // catch-up's end waits on it.
  bool stream_short = false;
};

// About what one key waiting for the shadow takes (a short key: its string,
// its target digest in a hash map): read-ahead bytes to max_waiting_keys.
inline constexpr size_t kWaitingKeyBytes = 128;
// The keys of one round, counted as touched (a key changed twice counts
// twice; whole commits: a bigger commit is one round).
inline constexpr size_t kMaxKeysPerRound = 20000;

struct ChangeCheckOptions {
  size_t max_keys_per_round = kMaxKeysPerRound;
  size_t max_waiting_keys = (size_t{128} << 20) / kWaitingKeyBytes;
  // Target sessions a round's keys of one table are read on at once, when
  // they are many (target_rows.h: a big commit's; audit --jobs).
  size_t read_sessions = 1;
  // Keys of an open streamed transaction read at once (above): read when
  // the shadow has applied at least this many not read yet.
  size_t ahead_chunk_keys = 65536;
  // A streaming transaction's keys are read early only while the commits
  // the target applied (its origin) lead what pgparity's stream received
  // by more than this much WAL: a backlog. A live target leads it at most
  // by the difference between the two walsenders (milliseconds of WAL),
  // and its commit, past what was received, is not applied yet.
  uint64_t stream_lead_bytes = uint64_t{16} << 20;
  // Threads comparing one table's keys of a round, in parts of at least
  // `compare_part_keys` keys (an in-memory table's; a spilled one is
  // compared on one). The comparison holds the shadow's lock, so the
  // stream waits for it whatever it takes: a big commit's million keys
  // are lookups in two maps far beyond the caches, about 0.5 s on one
  // thread on the 2-CPU benchmark machine.
  size_t compare_threads = 2;
  size_t compare_part_keys = 65536;
};

class ChangeChecker {
 public:
  ChangeChecker(ShadowState& shadow, conn::ConnParams source, conn::ConnParams target,
                SubscriptionInfo subscription, ChangeCheckOptions options = {});
  ~ChangeChecker();

  // Starts at `lsn` (the shadow's base point when the audit starts).
  void set_cursor(wire::Lsn lsn) {
    cursor_ = read_cursor_ = lsn;
    waiting_.clear();
    waiting_keys_ = 0;
    open_txn_.reset();
    early_.reset();
  }
  wire::Lsn cursor() const { return cursor_; }
  // The stream has decoded every commit ending before `lsn` into the shadow
  // (its received position while idle), though the shadow's last commit may
  // be older: a quiet source's rounds may then reach `lsn`. Only raises.
  void set_decoded_before(wire::Lsn lsn) { decoded_before_ = std::max(decoded_before_, lsn); }
  // The highest WAL end pgparity's stream has received (frames and
  // keepalives). A streaming transaction's keys are read early only while
  // the target's applied commits lead it (above). Only raises.
  void set_stream_received(wire::Lsn lsn) { stream_received_ = std::max(stream_received_, lsn); }

  // One round: the rounds read before whose R2 the shadow has reached are
  // compared, then the next keys read (compared at once when the shadow is
  // there, else they wait). The result sums what was compared; an empty
  // one (nothing applied since, or only reads waiting for the shadow)
  // leaves the cursor where it was.
  Result<ChangeRound> RunOnce();
  // Rows read that wait for the shadow to reach what the target showed, or
  // for the commit of the streamed transaction read while it streamed.
  bool waiting_for_shadow() const { return !waiting_.empty() || early_.has_value(); }
  // Keys of open streamed transactions read before their commit (above),
  // since the start: what the read-ahead saved the rounds after commits.
  uint64_t keys_read_while_applied() const { return keys_read_while_applied_; }
  // Keys of streamed transactions read while they streamed, and of those
  // the ones that counted at their commit (above), since the start.
  uint64_t keys_read_while_streamed() const { return keys_read_while_streamed_; }
  uint64_t keys_read_while_streamed_used() const { return keys_read_while_streamed_used_; }
  // Sleeps until the shadow holds what the oldest waiting read needs (or,
  // none waiting, the commit of the transaction read while it streamed), or
  // `until`; true when it does (RunOnce then goes on at once).
  bool WaitForShadow(std::chrono::steady_clock::time_point until) const;

 private:
  // The keys of one table a round looks at, and the target's rows of them
  // (target_rows.h).
  struct TableRows {
    std::vector<std::string> keys;
    TargetRowDigests on_target;
  };
  // One round's reads: commits [from, to), the target's rows as it showed
  // them with everything before `shown` applied.
  struct ReadRound {
    wire::Lsn from, to, shown;
    std::map<size_t, TableRows> by_table;
    std::set<std::string> left_to_full_check;
    size_t keys = 0;
  };
  // The streamed transaction ending at `end`, read while the shadow applies
  // it: its first `taken` key touches, the rows found by table, and the
  // target's applied position after the last read.
  struct OpenTxnRead {
    wire::Lsn end, shown;
    size_t taken = 0;
    std::map<size_t, TargetRowDigests> on_target;
    wire::Xid xid = 0;
    size_t counted = 0;   // keys read, among the waiting keys
    bool settled = true;  // `taken` known; else as far as the replay confirms it (SettleOpenTxn)
  };
  // The streamed transaction `xid`'s keys read while it streams (above):
  // `applied` the lowest applied bound before a read, `shown` the highest
  // after one.
  struct EarlyRead {
    wire::Xid xid = 0;
    uint64_t reader = 0;  // to PreparedChanges::HandOut: each early read its own
    wire::Lsn applied, shown;
    size_t keys = 0;
    std::map<size_t, TargetRowDigests> on_target;
  };
  Status Connect();
  // Every target session the reads of `keys` keys use, opened as needed.
  Result<std::vector<conn::PgSession*>> ReadSessions(size_t keys);
  // The end (exclusive) of the commits the target has applied and shows.
  Result<wire::Lsn> AppliedBound();
  // `keys` (table, key) grouped by table, with the target's rows of them;
  // truncates and tables without a key left out.
  Result<std::map<size_t, TableRows>> ReadChangedRows(
      std::vector<std::pair<size_t, std::string>> keys, std::set<std::string>& left_to_full_check);
  // `keys` grouped by table, without truncates and tables without a key.
  std::map<size_t, TableRows> GroupByTable(std::vector<std::pair<size_t, std::string>> keys,
                                           std::set<std::string>& left_to_full_check) const;
  // Reads the next chunk of the open streamed transaction's keys when the
  // target applied its commit and every commit before it was read (shadow
  // lock in `lk`, released for the read). True when it read one.
  Result<bool> ReadOpenTxn(std::unique_lock<std::mutex>& lk, wire::Lsn applied);
  // Reads the next chunk of a streaming transaction's keys when the target
  // has applied commits the shadow lacks (`behind`), as ReadOpenTxn. True
  // when it read one.
  Result<bool> ReadStreamedTxn(std::unique_lock<std::mutex>& lk, wire::Lsn applied, bool behind);
  // The early read becomes open_txn_ once its transaction's Stream Commit
  // came and the target had applied it before every read; else it goes
  // when its transaction does. REQUIRES: the shadow's lock held.
  void AdoptEarlyRead();
  void DropEarlyRead();
  // Whether open_txn_'s `taken` is known: the replay confirmed it, or
  // ended short of it (then it is cut to what the replay confirmed).
  // REQUIRES: the shadow's lock held.
  bool SettleOpenTxn();
  // Adds the target's rows of `keys` of `table` to `rows`.
  Status ReadTable(size_t table, std::span<const std::string> keys, TargetRowDigests& rows);
  // Adds the target's rows of `keys` to `on_target` (by table; truncates
  // and tables without a key left out).
  Status ReadInto(std::vector<std::pair<size_t, std::string>> keys,
                  std::map<size_t, TargetRowDigests>& on_target);
  // A chunk read ahead of a commit (ReadOpenTxn, ReadStreamedTxn):
  // ReadInto, then the target's applied position it showed them at most
  // at (its origin read after; `applied` when it has none).
  Result<wire::Lsn> ReadAhead(std::vector<std::pair<size_t, std::string>> keys,
                              std::map<size_t, TargetRowDigests>& on_target, wire::Lsn applied);
  // open_txn_, no longer counted among the waiting keys; reset.
  OpenTxnRead TakeOpenTxn();
  // The round of the commit open_txn_ read (`keys`: all of the round's):
  // the keys not read yet read, every key grouped with the rows read.
  Status FinishOpenTxn(std::vector<std::pair<size_t, std::string>> keys, ReadRound& read);
  // Compares one table's rows with the shadow's, leaving out keys changed
  // at or after `to`. REQUIRES: the shadow's lock held.
  void CompareTable(size_t table, const TableRows& rows, wire::Lsn to, ChangeRound& round) const;
  // Keys [begin, end) of `rows`, in order, into `round`.
  static void CompareKeys(const TableShadow& ts, const TableRows& rows, size_t begin, size_t end,
                          const StringSet& again, ChangeRound& round);
  static void CompareRow(const TableShadow& ts, const std::string& key, const TableRows& rows,
                         const StringSet& again, ChangeRound& round);
  // Reads the keys of the next commits (from read_cursor_) when the target
  // applied some; sets round.capped / shadow_behind.
  Status ReadNext(ChangeRound& round);
  // Compares, in order, the waiting reads the shadow has caught up with.
  void CompareCaughtUp(ChangeRound& round);

  ShadowState& shadow_;
  conn::ConnParams source_params_;
  conn::ConnParams target_params_;
  SubscriptionInfo sub_;
  ChangeCheckOptions options_;
  wire::Lsn cursor_;       // rounds compared up to here
  wire::Lsn read_cursor_;  // ... and read up to here (>= cursor_)
  std::deque<ReadRound> waiting_;
  size_t waiting_keys_ = 0;
  wire::Lsn decoded_before_;
  wire::Lsn stream_received_;
  wire::Lsn remote_applied_;  // the target's remote_lsn as AppliedBound last read it
  std::optional<OpenTxnRead> open_txn_;
  std::optional<EarlyRead> early_;
  uint64_t keys_read_while_applied_ = 0;
  uint64_t keys_read_while_streamed_ = 0;
  uint64_t keys_read_while_streamed_used_ = 0;
  std::unique_ptr<conn::PgSession> source_;
  std::unique_ptr<conn::PgSession> target_;
  std::vector<std::unique_ptr<conn::PgSession>> more_targets_;  // ReadSessions' others
};

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_AUDIT_CHANGE_CHECKER_H_
