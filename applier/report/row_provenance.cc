// The data of a RowProvenance printed: its names, one line, its JSON.
#include "pgparity/applier/report/row_provenance.h"

namespace pgparity::applier {

namespace {

using json = nlohmann::ordered_json;

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json LsnOrNull(const std::optional<wire::Lsn>& lsn) {
  return lsn ? json(lsn->ToString()) : json(nullptr);
}

}  // namespace

std::string_view TargetOriginName(TargetOrigin origin) {
  switch (origin) {
    case TargetOrigin::kLocal:
      return "local";
    case TargetOrigin::kSubscription:
      return "subscription";
    case TargetOrigin::kOtherOrigin:
      return "other_origin";
    case TargetOrigin::kUnknown:
      return "unknown";
    case TargetOrigin::kNoRow:
      return "no_row";
  }
  return "unknown";
}

std::string_view OperationName(char op) {
  switch (op) {
    case 'I':
      return "insert";
    case 'U':
      return "update";
    case 'D':
      return "delete";
    case 'T':
      return "truncate";
  }
  return "unknown";
}

std::string ProvenanceLine(const RowProvenance& p) { return "provenance: " + p.diagnosis; }

json ProvenanceJson(const RowProvenance& p) {
  json target = {{"origin", TargetOriginName(p.target.origin)},
                 {"xmin", OrNull(p.target.xmin)},
                 {"commit_time", OrNull(p.target.commit_time)},
                 {"origin_name", OrNull(p.target.origin_name)},
                 {"note", p.target.note}};
  json commits = json::array();
  for (const SourceCommit& c : p.source_commits) {
    commits.push_back({{"commit_lsn", c.commit_lsn.ToString()},
                       {"end_lsn", c.end_lsn.ToString()},
                       {"xid", c.xid},
                       {"commit_time", c.commit_time.ToIso8601()},
                       {"operation", OperationName(c.op)},
                       {"applied_on_target", OrNull(c.applied_on_target)}});
  }
  const SubscriptionContext& s = p.subscription;
  const std::optional<SubscriptionHealth>& h = s.health;
  json sub = {{"name", s.name},
              {"enabled", h ? json(h->enabled) : json(nullptr)},
              {"apply_worker_running", h ? json(h->apply_worker_running) : json(nullptr)},
              {"latest_end_lsn", h ? LsnOrNull(h->latest_end_lsn) : json(nullptr)},
              {"latest_end_time", h ? OrNull(h->latest_end_time) : json(nullptr)},
              {"apply_error_count", h ? OrNull(h->apply_errors) : json(nullptr)},
              {"sync_error_count", h ? OrNull(h->sync_errors) : json(nullptr)},
              {"stats_reset", h ? OrNull(h->stats_reset) : json(nullptr)},
              {"remote_lsn", LsnOrNull(s.remote_lsn)},
              {"slot_wal_status", OrNull(s.slot_wal_status)},
              {"unknown", s.unknown}};
  return {{"target", std::move(target)},
          {"source_commits", std::move(commits)},
          {"subscription", std::move(sub)},
          {"diagnosis", p.diagnosis}};
}

}  // namespace pgparity::applier
