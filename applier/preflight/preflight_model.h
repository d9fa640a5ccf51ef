// Internal to pgparity_preflight: what the preflight's checks look at (the
// Model), read from both sides through the catalog module before the first
// check runs, and the two sides it is read from.
#ifndef PGPARITY_APPLIER_PREFLIGHT_PREFLIGHT_MODEL_H_
#define PGPARITY_APPLIER_PREFLIGHT_PREFLIGHT_MODEL_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "pgparity/applier/catalog/privileges.h"
#include "pgparity/applier/catalog/publication.h"
#include "pgparity/applier/catalog/relations.h"
#include "pgparity/applier/catalog/replication_slots.h"
#include "pgparity/applier/catalog/sequences.h"
#include "pgparity/applier/catalog/server_activity.h"
#include "pgparity/applier/catalog/server_settings.h"
#include "pgparity/applier/catalog/subscription.h"
#include "pgparity/applier/preflight/preflight.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier::preflight {

// One side of the migration: its session, and its name in errors.
// Not thread-safe (the session is used from the calling thread).
class Side {
 public:
  // `session` must outlive the Side.
  Side(conn::PgSession& session, std::string name) : session_(session), name_(std::move(name)) {}

  // read(session), a catalog read on this side; its error reworded to say
  // what was read where ("reading pg_sequences on the target: ...") and,
  // for a missing right, which role can read it.
  template <typename ReadFn>
  std::invoke_result_t<ReadFn, conn::PgSession&> Read(std::string_view what, ReadFn read) const {
    auto result = read(session_);
    if (result.ok()) return result;
    return Reworded(what, result.status());
  }

  // Read-only and bounded: nothing this session runs afterwards can change
  // the server, wait on a lock for long, or run forever.
  Status Prepare(std::chrono::seconds statement_timeout);

  // The TimeZone a new session gets here, what the subscription's workers
  // run with and verify compares the source's timestamps in: read on first
  // use (a second connection), then remembered.
  Result<std::string> DefaultTimeZone();

  const std::string& name() const { return name_; }
  const std::string& endpoint() const { return session_.endpoint(); }

 private:
  Status Reworded(std::string_view what, const Status& status) const;

  conn::PgSession& session_;
  std::string name_;
  std::optional<std::string> timezone_;
};

// What the checks read of either side.
struct SideModel {
  ServerSettings settings;
  Relations tables;
  std::vector<ServerSession> sessions;
  std::vector<PreparedTransaction> prepared;
  std::optional<SessionRole> role;
  RolePrivileges privileges;
  std::vector<SequenceState> sequences;
};

struct Model {
  SideModel source;
  SideModel target;
  Publication publication;
  std::vector<SubscriptionInfo> subscriptions;  // every one of the target's server
  std::optional<SubscriptionInfo> sub;          // the one checked, in the target's database
  std::map<RelationName, SubscriptionTable> subscribed;          // its tables
  SubscriptionActivity activity;                                 // its workers
  std::vector<ReplicationSlot> slots;                            // the source's
  std::vector<std::string> origins;                              // the target's
  std::vector<std::string> temporary_tables;                     // the source's
  int64_t large_objects = 0;                                     // the source's
  std::map<std::string, bool> source_matviews, target_matviews;  // name -> populated
  std::map<RelationName, std::vector<ReplicaTrigger>> target_replica_triggers;

  bool OwnsSlot(const ReplicationSlot& slot) const { return sub && sub->OwnsSlot(slot.name); }
  // Published tables the subscription still has to copy (all of them
  // before it exists).
  int64_t TablesToCopy() const;
};

// Reads the Model. The subscription checked is the one options name, else
// my_subscription when it exists. Errors (Preflight::Run's): NotFound for
// an unknown publication or named subscription (naming those that exist),
// PermissionDenied, Unavailable, others, each naming what was read where.
Result<Model> LoadModel(const Side& source, const Side& target, const PreflightOptions& options);

}  // namespace pgparity::applier::preflight

#endif  // PGPARITY_APPLIER_PREFLIGHT_PREFLIGHT_MODEL_H_
