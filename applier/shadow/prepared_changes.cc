#include "pgparity/applier/shadow/prepared_changes.h"

namespace pgparity::applier {

void PreparedChanges::Add(wire::Xid xid, uint64_t entry, size_t table,
                          const TableShadow::PreparedChange& change) {
  Txn& txn = txns_[xid];
  Prepared p{entry,
             static_cast<uint32_t>(table),
             change.op,
             change.lsn,
             change.digest,
             txn.bytes.size(),
             static_cast<uint32_t>(change.old_key.size()),
             static_cast<uint32_t>(change.new_key.size()),
             static_cast<uint32_t>(change.kept.size())};
  txn.bytes.append(change.old_key).append(change.new_key).append(change.kept);
  txn.changes.push_back(p);
  bytes_ = bytes_ - txn.counted + txn.Bytes();
  txn.counted = txn.Bytes();
}

void PreparedChanges::Drop(absl::flat_hash_map<wire::Xid, Txn>::iterator it) {
  bytes_ -= it->second.counted;
  txns_.erase(it);
}

void PreparedChanges::Truncate(wire::Xid xid, uint64_t entries) {
  auto it = txns_.find(xid);
  if (it == txns_.end()) return;
  Txn& txn = it->second;
  while (!txn.changes.empty() && txn.changes.back().entry >= entries) {
    txn.bytes.resize(txn.changes.back().at);
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
  auto it = txns_.find(xid);
  if (it == txns_.end()) return std::nullopt;
  std::deque<Prepared>& changes = it->second.changes;
  while (!changes.empty() && changes.front().entry < entry) changes.pop_front();
  if (changes.empty() || changes.front().entry != entry) return std::nullopt;
  const Prepared p = changes.front();
  changes.pop_front();
  if (p.table != table || p.op != op || p.lsn != lsn) return std::nullopt;
  const std::string_view bytes(it->second.bytes);
  return TableShadow::PreparedChange{p.op,
                                     p.lsn,
                                     bytes.substr(p.at, p.old_len),
                                     bytes.substr(p.at + p.old_len, p.new_len),
                                     p.digest,
                                     bytes.substr(p.at + p.old_len + p.new_len, p.kept_len)};
}

}  // namespace pgparity::applier
