#include "pgparity/applier/shadow/prepared_changes.h"

#include <limits>
#include <string_view>

namespace pgparity::applier {

bool PreparedChanges::Add(wire::Xid xid, uint64_t entry, size_t table,
                          const TableShadow::PreparedChange& change, size_t message) {
  const bool added = Append(xid, entry, table, change, message);
  // Also when declined: its encoding went to the batch all the same.
  if (md5_.bytes() >= digest::Md5Batch::kComputeBytes) Hash();
  return added;
}

bool PreparedChanges::Append(wire::Xid xid, uint64_t entry, size_t table,
                             const TableShadow::PreparedChange& change, size_t message) {
  constexpr size_t kMaxKey = std::numeric_limits<uint16_t>::max();
  if (!has_room() || change.old_key.size() > kMaxKey || change.new_key.size() > kMaxKey) {
    return false;
  }
  const bool same_key = change.op != core::ChangeOp::kDelete && change.old_key == change.new_key;
  const std::string_view old_key = same_key ? std::string_view() : change.old_key;
  Txn& txn = txns_[xid];
  txn.changes.push_back(Prepared{entry, change.lsn, change.digest, static_cast<uint32_t>(table),
                                 static_cast<uint32_t>(change.kept.size()),
                                 static_cast<uint16_t>(old_key.size()),
                                 static_cast<uint16_t>(change.new_key.size()), change.op});
  txn.bytes.append(old_key).append(change.new_key).append(change.kept);
  if (message != digest::RowDigester::kHashedNow) {
    waiting_.push_back({xid, txn.popped + txn.changes.size() - 1, message});
  }
  bytes_ = bytes_ - txn.counted + txn.Bytes();
  txn.counted = txn.Bytes();
  return true;
}

void PreparedChanges::Hash() {
  md5_.Compute();
  Txn* txn = nullptr;
  wire::Xid xid = 0;
  for (const WaitingDigest& w : waiting_) {
    if (txn == nullptr || w.xid != xid) {
      // There: Take and Truncate, the only ways out, hash first.
      txn = &txns_.find(w.xid)->second;
      xid = w.xid;
    }
    txn->changes[w.index - txn->popped].digest = md5_.digest(w.message);
  }
  waiting_.clear();
  md5_.Clear();
}

void PreparedChanges::Drop(absl::flat_hash_map<wire::Xid, Txn>::iterator it) {
  bytes_ -= it->second.counted;
  txns_.erase(it);
}

void PreparedChanges::Truncate(wire::Xid xid, uint64_t entries) {
  if (!waiting_.empty()) Hash();
  auto it = txns_.find(xid);
  if (it == txns_.end()) return;
  Txn& txn = it->second;
  while (!txn.changes.empty() && txn.changes.back().entry >= entries) {
    const Prepared& last = txn.changes.back();
    if (txn.popped + txn.changes.size() <= txn.handed.changes) {  // handed out: taken back
      --txn.handed.changes;
      txn.handed.bytes -= last.Span();
      txn.handed.touches -= Touches(last);
    }
    txn.bytes.resize(txn.bytes.size() - last.Span());
    txn.changes.pop_back();
  }
  if (entries == 0 || txn.changes.empty()) {
    Drop(it);
    return;
  }
  // The deque's and the buffer's memory stay until the transaction goes.
}

std::optional<TableShadow::PreparedChange> PreparedChanges::Take(wire::Xid xid, uint64_t entry,
                                                                 size_t table, core::ChangeOp op,
                                                                 wire::Lsn lsn) {
  if (!waiting_.empty()) Hash();
  auto it = txns_.find(xid);
  if (it == txns_.end()) return std::nullopt;
  Txn& txn = it->second;
  const auto pop = [&txn] {
    txn.front_at += txn.changes.front().Span();
    txn.changes.pop_front();
    ++txn.popped;
  };
  for (; !txn.changes.empty() && txn.changes.front().entry < entry; ++passed_) pop();
  if (txn.changes.empty() || txn.changes.front().entry != entry) return std::nullopt;
  const Prepared p = txn.changes.front();
  const std::string_view bytes = std::string_view(txn.bytes).substr(txn.front_at, p.Span());
  pop();
  if (p.table != table || p.op != op || p.lsn != lsn) {
    ++passed_;
    return std::nullopt;
  }
  return Unpack(p, bytes);
}

TableShadow::PreparedChange PreparedChanges::Unpack(const Prepared& p, std::string_view bytes) {
  const std::string_view new_key = bytes.substr(p.old_len, p.new_len);
  const bool same_key = p.op != core::ChangeOp::kDelete && p.old_len == 0;
  return TableShadow::PreparedChange{
      p.op,    p.lsn,    same_key ? new_key : bytes.substr(0, p.old_len),
      new_key, p.digest, bytes.substr(size_t{p.old_len} + p.new_len, p.kept_len)};
}

size_t PreparedChanges::HandOut(wire::Xid xid, uint64_t reader, size_t max, wire::Lsn below,
                                std::vector<std::pair<size_t, std::string>>& out) {
  auto it = txns_.find(xid);
  if (it == txns_.end() || it->second.popped > 0) return 0;
  Txn& txn = it->second;
  if (txn.handed.reader != reader) txn.handed = HandedOutPart{.reader = reader};
  HandedOutPart& h = txn.handed;
  size_t touches = 0;
  for (; h.changes < txn.changes.size() && touches < max; ++h.changes) {
    const Prepared& p = txn.changes[h.changes];
    if (p.lsn >= below) break;
    const auto change = Unpack(p, std::string_view(txn.bytes).substr(h.bytes, p.Span()));
    TableShadow::ForEachTouchedKey(change, [&](std::string_view key) {
      out.emplace_back(p.table, key);
      ++touches;
    });
    h.bytes += p.Span();
  }
  h.touches += touches;
  return touches;
}

std::pair<uint64_t, size_t> PreparedChanges::HandedOut(wire::Xid xid) const {
  const auto it = txns_.find(xid);
  if (it == txns_.end()) return {0, 0};
  return {it->second.handed.reader, it->second.handed.touches};
}

size_t PreparedChanges::NotHandedOut(wire::Xid xid, uint64_t reader) const {
  const auto it = txns_.find(xid);
  if (it == txns_.end()) return 0;
  const Txn& txn = it->second;
  const size_t all = txn.popped + txn.changes.size();
  return all - (txn.handed.reader == reader ? txn.handed.changes : 0);
}

std::optional<wire::Xid> PreparedChanges::Largest() const {
  std::optional<wire::Xid> largest;
  size_t most = 0;
  for (const auto& [xid, txn] : txns_) {
    if (txn.changes.size() > most) {
      most = txn.changes.size();
      largest = xid;
    }
  }
  return largest;
}

}  // namespace pgparity::applier
