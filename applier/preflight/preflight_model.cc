#include "preflight/preflight_model.h"

#include <absl/strings/str_join.h>

#include <utility>

#include "pgparity/applier/catalog/replication_origins.h"
#include "pgparity/applier/catalog/server_defaults.h"
#include "pgparity/sql_quote.h"

namespace pgparity::applier::preflight {

Status Side::Reworded(std::string_view what, const Status& status) const {
  std::string message =
      "reading " + std::string(what) + " on the " + name_ + ": " + std::string(status.message());
  if (status.code() == Status::Code::kPermissionDenied) {
    message += " — run pgparity preflight as a superuser or as a member of pg_monitor";
  }
  return status.WithMessage(message);
}

Status Side::Prepare(std::chrono::seconds statement_timeout) {
  const std::string timeout = std::to_string(statement_timeout.count() * 1000);
  const Status s = session_.Exec(
      "SET default_transaction_read_only = on; SET statement_timeout = " + timeout +
      "; SET lock_timeout = 5000; SET idle_in_transaction_session_timeout = " + timeout);
  return s.WithMessage("preparing the " + name_ +
                       " session (read-only, timeouts): " + std::string(s.message()));
}

Result<std::string> Side::DefaultTimeZone() {
  if (timezone_) return *timezone_;
  Result<std::string> tz = ReadDefaultTimeZone(session_, name_);
  if (!tz.ok()) {
    return tz.status().WithMessage("reading the " + name_ +
                                   "'s default TimeZone: " + std::string(tz.status().message()));
  }
  return *(timezone_ = *tz);
}

int64_t Model::TablesToCopy() const {
  if (!sub) return static_cast<int64_t>(publication.tables.size());
  int64_t n = 0;
  for (const auto& [table, s] : subscribed) n += s.state != 'r';
  for (const auto& table : publication.tables) n += !subscribed.contains(table);
  return n;
}

namespace {

Result<SideModel> LoadSide(const Side& side) {
  SideModel m;
  PGPARITY_ASSIGN_OR_RETURN(m.settings, side.Read("settings", ReadServerSettings));
  PGPARITY_ASSIGN_OR_RETURN(m.tables, side.Read("the tables' columns", ReadRelations));
  PGPARITY_ASSIGN_OR_RETURN(m.sessions, side.Read("pg_stat_activity", ReadSessions));
  PGPARITY_ASSIGN_OR_RETURN(m.prepared, side.Read("pg_prepared_xacts", ReadPreparedTransactions));
  PGPARITY_ASSIGN_OR_RETURN(m.role, side.Read("the role's rights", ReadSessionRole));
  PGPARITY_ASSIGN_OR_RETURN(m.privileges, side.Read("the role's privileges", ReadRolePrivileges));
  PGPARITY_ASSIGN_OR_RETURN(m.sequences, side.Read("pg_sequences", ReadSequences));
  return m;
}

// "it has: a, b" or "it has none", for an unknown name's error.
std::string Existing(const std::vector<std::string>& names) {
  return names.empty() ? "it has none" : "it has: " + absl::StrJoin(names, ", ");
}

Status LoadPublication(const Side& source, const std::string& name, Model& m) {
  PGPARITY_ASSIGN_OR_RETURN(
      std::optional<Publication> publication,
      source.Read("the publication", [&](auto& s) { return ReadPublication(s, name); }));
  if (publication) {
    m.publication = std::move(*publication);
    return Status::OK();
  }
  PGPARITY_ASSIGN_OR_RETURN(std::vector<std::string> all,
                            source.Read("the publications", ReadPublicationNames));
  return Status::NotFound("publication \"" + name + "\" does not exist on the source (" +
                          source.endpoint() + "; " + Existing(all) +
                          ") — pass --publication NAME, or create it on the source: CREATE "
                          "PUBLICATION " +
                          IdentForDisplay(name) + " FOR ALL TABLES");
}

Status LoadSubscription(const Side& target, const PreflightOptions& options, Model& m) {
  const std::string name = options.subscription.value_or("my_subscription");
  PGPARITY_ASSIGN_OR_RETURN(m.subscriptions, target.Read("the subscription", ReadSubscriptions));
  std::vector<std::string> here;
  for (const SubscriptionInfo& s : m.subscriptions) {
    if (!s.in_current_database) continue;
    here.push_back(s.name);
    if (s.name == name) m.sub = s;
  }
  if (!m.sub && options.subscription) {
    return Status::NotFound(
        "subscription \"" + name + "\" does not exist in the target's database (" +
        target.endpoint() + "; " + Existing(here) +
        ") — pass the name of an existing subscription, or leave --subscription out to check "
        "before creating one");
  }
  if (!m.sub) return Status::OK();
  PGPARITY_ASSIGN_OR_RETURN(std::vector<SubscriptionTable> tables,
                            target.Read("the subscription's tables", [&](auto& s) {
                              return ReadSubscriptionTables(s, *m.sub);
                            }));
  for (SubscriptionTable& t : tables) m.subscribed.emplace(t.table, std::move(t));
  PGPARITY_ASSIGN_OR_RETURN(m.activity, target.Read("pg_stat_subscription", [&](auto& s) {
    return ReadSubscriptionActivity(s, *m.sub);
  }));
  return Status::OK();
}

}  // namespace

Result<Model> LoadModel(const Side& source, const Side& target, const PreflightOptions& options) {
  Model m;
  PGPARITY_ASSIGN_OR_RETURN(m.source, LoadSide(source));
  PGPARITY_ASSIGN_OR_RETURN(m.target, LoadSide(target));
  PGPARITY_RETURN_IF_ERROR(LoadPublication(source, options.publication, m));
  PGPARITY_RETURN_IF_ERROR(LoadSubscription(target, options, m));
  PGPARITY_ASSIGN_OR_RETURN(
      m.slots, source.Read("pg_replication_slots", [](auto& s) { return ReadSlots(s); }));
  PGPARITY_ASSIGN_OR_RETURN(m.origins, target.Read("pg_replication_origin", ReadOriginNames));
  PGPARITY_ASSIGN_OR_RETURN(m.temporary_tables,
                            source.Read("temporary tables", ReadTemporaryTables));
  PGPARITY_ASSIGN_OR_RETURN(m.large_objects,
                            source.Read("pg_largeobject_metadata", CountLargeObjects));
  PGPARITY_ASSIGN_OR_RETURN(m.source_matviews,
                            source.Read("materialized views", ReadMaterializedViews));
  PGPARITY_ASSIGN_OR_RETURN(m.target_matviews,
                            target.Read("materialized views", ReadMaterializedViews));
  PGPARITY_ASSIGN_OR_RETURN(m.target_replica_triggers,
                            target.Read("pg_trigger", ReadReplicaTriggers));
  return m;
}

}  // namespace pgparity::applier::preflight
