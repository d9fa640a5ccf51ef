// Diagnose's rules (docs/provenance.md): the one line that says where a
// divergent row's difference most likely came from, most certain first.
#include "pgparity/applier/provenance/provenance.h"

namespace pgparity::applier {

namespace {

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

}  // namespace pgparity::applier
