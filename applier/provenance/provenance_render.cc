// Diagnose's rules, the one-line text form and the JSON form of a
// RowProvenance (docs/provenance.md).
#include <nlohmann/json.hpp>

#include "pgparity/applier/provenance/provenance.h"
#include "pgparity/applier/provenance/provenance_json.h"

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

std::string At(const TargetWrite& t) {
  return " at " + t.commit_time.value_or("an unknown time") + " (xid " + t.xmin.value_or("?") + ")";
}

// The oldest commit of the key the target has not applied yet.
const SourceCommit* OldestUnapplied(const RowProvenance& p) {
  const SourceCommit* found = nullptr;
  for (const SourceCommit& c : p.source_commits) {
    if (c.applied_on_target == false) found = &c;  // newest first: keep going
  }
  return found;
}

// Rule 5: "N apply errors and M sync errors on the subscription since T".
std::optional<std::string> Errors(const SubscriptionContext& s) {
  if (!s.health) return std::nullopt;
  const int64_t apply = s.health->apply_errors.value_or(0);
  const int64_t sync = s.health->sync_errors.value_or(0);
  if (apply == 0 && sync == 0) return std::nullopt;
  auto count = [](int64_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  std::string out;
  if (apply > 0) out = count(apply, "apply error");
  if (sync > 0) out += (out.empty() ? "" : " and ") + count(sync, "sync error");
  return out + " on subscription " + s.name + " since " +
         s.health->stats_reset.value_or("it was created");
}

std::string Unknown(const RowProvenance& p) {
  const TargetWrite& t = p.target;
  switch (t.origin) {
    case TargetOrigin::kSubscription:
      return "unknown: last written by subscription " + p.subscription.name + At(t) +
             "; the difference predates that write or came with it";
    case TargetOrigin::kNoRow:
      return "unknown: " + t.note +
             (p.source_commits.empty()
                  ? "; pgparity's stream saw no change of this key"
                  : "; the key's last change on the source is applied on the target");
    default:
      return "unknown: " +
             (t.note.empty() ? std::string("the origin of the target's row is unknown") : t.note);
  }
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

std::string Diagnose(const RowProvenance& p, RowDivergence) {
  const TargetWrite& t = p.target;
  const SubscriptionContext& s = p.subscription;
  if (t.origin == TargetOrigin::kLocal) {
    return "local write on the target" + At(t) + ", not by replication";
  }
  if (s.health && !s.health->enabled) {
    return "subscription " + s.name +
           " is disabled: the target applies none of the source's changes";
  }
  if (s.slot_wal_status == "lost" || s.slot_wal_status == "missing") {
    return "the subscription's slot on the source is " + *s.slot_wal_status +
           ": the target cannot receive the source's changes";
  }
  if (const SourceCommit* c = OldestUnapplied(p)) {
    return "the target has not applied commit " + c->end_lsn.ToString() + " (xid " +
           std::to_string(c->xid) + ", " + std::string(OperationName(c->op)) + " at " +
           c->commit_time.ToIso8601() + ") yet";
  }
  if (auto errors = Errors(s)) return *errors;
  if (s.health && !s.health->apply_worker_running) {
    return "no apply worker runs for subscription " + s.name;
  }
  if (t.origin == TargetOrigin::kOtherOrigin) {
    if (!t.origin_name) return "written on the target by replication" + At(t) + " (" + t.note + ")";
    return "written on the target by replication origin " + *t.origin_name + At(t) +
           ", not by subscription " + s.name;
  }
  return Unknown(p);
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
