#include "pgparity/applier/audit/change_checker.h"

#include <absl/container/flat_hash_map.h>

#include "pgparity/applier/audit/target_rows.h"
#include "pgparity/applier/scan/row_read.h"
#include "pgparity/applier/shadow/row_key.h"
#include "pgparity/digest/row_digest.h"

namespace pgparity::applier {

ChangeChecker::ChangeChecker(ShadowState& shadow, conn::ConnParams source, conn::ConnParams target,
                             SubscriptionInfo subscription, size_t max_keys_per_round)
    : shadow_(shadow),
      source_params_(std::move(source)),
      target_params_(std::move(target)),
      sub_(std::move(subscription)),
      max_keys_(max_keys_per_round) {}

ChangeChecker::~ChangeChecker() = default;

Status ChangeChecker::Connect() {
  if (!target_) {
    PGPARITY_ASSIGN_OR_RETURN(conn::PgSession s, conn::PgSession::Connect(target_params_));
    PGPARITY_RETURN_IF_ERROR(s.Exec("SET default_transaction_read_only = on"));
    target_ = std::make_unique<conn::PgSession>(std::move(s));
  }
  if (!source_) {
    PGPARITY_ASSIGN_OR_RETURN(conn::PgSession s, conn::PgSession::Connect(source_params_));
    source_ = std::make_unique<conn::PgSession>(std::move(s));
  }
  return Status::OK();
}

Result<wire::Lsn> ChangeChecker::AppliedBound() {
  PGPARITY_ASSIGN_OR_RETURN(auto applied, ReadRemoteLsn(*target_, sub_));
  remote_applied_ = applied.value_or(wire::Lsn());
  std::optional<wire::Lsn> flush;
  if (!sub_.slot_name.empty()) {
    PGPARITY_ASSIGN_OR_RETURN(flush, ReadSlotFlush(*source_, sub_.slot_name));
  }
  // Commits ending before r are applied and visible.
  wire::Lsn r = applied.value_or(wire::Lsn());
  if (flush && flush->value() + 1 > r.value()) r = wire::Lsn(flush->value() + 1);
  return r;
}

Result<std::map<size_t, ChangeChecker::TableRows>> ChangeChecker::ReadChangedRows(
    std::vector<std::pair<size_t, std::string>> keys, ChangeRound& round) {
  std::map<size_t, TableRows> by_table;
  for (auto& [t, k] : keys) {
    if (k.empty() || !shadow_.table(t).spec().keyed()) {  // truncate / keyless
      round.left_to_full_check.insert(shadow_.table(t).qualified_name());
      continue;
    }
    by_table[t].keys.push_back(std::move(k));
  }
  for (auto& [t, rows] : by_table) {
    PGPARITY_ASSIGN_OR_RETURN(rows.on_target,
                              ReadTargetRowDigests(*target_, shadow_.table(t).spec(), rows.keys));
  }
  return by_table;
}

void ChangeChecker::CompareTable(size_t table, const TableRows& rows, wire::Lsn to,
                                 ChangeRound& round) const {
  const TableShadow& ts = shadow_.table(table);
  bool truncated = false;
  // Changed at or after `to` (r, or where the key cap cut the round):
  // possibly in flight, or not yet taken by this round.
  const auto again = shadow_.ChangedAfter(table, wire::Lsn(to.value() - 1), truncated);
  if (truncated) return;
  for (const auto& k : rows.keys) {
    if (again.contains(k)) {
      ++round.rows_in_flight;
      continue;
    }
    if (ts.IsUnresolved(k)) {  // the shadow lacks a value (unchanged TOAST)
      round.left_to_full_check.insert(ts.qualified_name());
      continue;
    }
    ++round.rows_compared;
    const auto held = ts.Find(k);
    auto it = rows.on_target.find(k);
    const bool there = it != rows.on_target.end();
    if (!held && !there) continue;  // deleted on both
    if (held && there && *held == it->second) continue;
    DivergentRow row;
    row.kind = !there  ? RowDivergence::kMissingOnTarget
               : !held ? RowDivergence::kExtraOnTarget
                       : RowDivergence::kDiffers;
    row.key = KeyColumns(ts.spec(), k);
    round.divergent.emplace_back(ts.qualified_name(), std::move(row));
  }
}

Result<ChangeRound> ChangeChecker::RunOnce() {
  ChangeRound round;
  round.from = round.to = cursor_;
  PGPARITY_RETURN_IF_ERROR(Connect());
  PGPARITY_ASSIGN_OR_RETURN(wire::Lsn r, AppliedBound());
  if (r <= cursor_) return round;
  std::vector<std::pair<size_t, std::string>> keys;
  wire::Lsn to;
  {
    auto lk = shadow_.Lock();
    // Only commits the shadow knows: those ending at or before its last.
    const wire::Lsn known(std::max(shadow_.last_commit_end().value() + 1, decoded_before_.value()));
    if (known < r) r = known;
    // A commit the target applied that the shadow lacks (not only the
    // subscriber's keepalive-moved flush position ahead of pgparity's).
    round.shadow_behind = known <= remote_applied_;
    if (r <= cursor_) return round;
    keys = shadow_.KeysChanged(cursor_, r, max_keys_, to);
    round.capped = to < r;
  }
  PGPARITY_ASSIGN_OR_RETURN(auto by_table, ReadChangedRows(std::move(keys), round));
  // What the target may have shown: everything up to r2.
  PGPARITY_ASSIGN_OR_RETURN(auto applied_after, ReadRemoteLsn(*target_, sub_));
  const wire::Lsn r2 = applied_after.value_or(r);
  auto lk = shadow_.Lock();
  if (shadow_.last_commit_end() < r2) return round;  // try again next round
  for (const auto& [t, rows] : by_table) CompareTable(t, rows, to, round);
  round.to = to;
  cursor_ = to;
  return round;
}

}  // namespace pgparity::applier
