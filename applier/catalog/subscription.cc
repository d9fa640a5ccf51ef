#include "pgparity/applier/catalog/subscription.h"

#include <algorithm>

#include "catalog/query_rows.h"

namespace pgparity::applier {

using catalog_internal::QueryOneRow;
using catalog_internal::QueryRows;
using conn::RowReader;

namespace {

// A subscription with one of its publications (none: NULL).
struct SubscriptionRow {
  SubscriptionInfo sub;
  std::optional<std::string> publication;
};

Result<SubscriptionRow> ReadSubscriptionRow(const RowReader& row) {
  SubscriptionRow r;
  PGPARITY_ASSIGN_OR_RETURN(r.sub.oid, row.Text("oid"));
  PGPARITY_ASSIGN_OR_RETURN(r.sub.name, row.Text("subname"));
  PGPARITY_ASSIGN_OR_RETURN(r.sub.enabled, row.Bool("subenabled"));
  PGPARITY_ASSIGN_OR_RETURN(r.sub.slot_name, row.Text("slot_name"));
  PGPARITY_ASSIGN_OR_RETURN(r.sub.in_current_database, row.Bool("in_current_database"));
  PGPARITY_ASSIGN_OR_RETURN(std::optional<std::string_view> publication,
                            row.OptionalText("publication"));
  if (publication) r.publication = std::string(*publication);
  return r;
}

}  // namespace

bool SubscriptionInfo::OwnsSlot(std::string_view slot) const {
  return (!slot_name.empty() && slot == slot_name) || slot.starts_with(sync_prefix());
}

bool SubscriptionInfo::OwnsOrigin(std::string_view name) const {
  return name == origin() || name.starts_with(origin() + "_");
}

bool SubscriptionInfo::Subscribes(std::string_view publication) const {
  return std::find(publications.begin(), publications.end(), publication) != publications.end();
}

Result<std::vector<SubscriptionInfo>> ReadSubscriptions(conn::PgSession& target) {
  // One row per publication, in the subscription's order.
  PGPARITY_ASSIGN_OR_RETURN(
      std::vector<SubscriptionRow> rows,
      QueryRows<SubscriptionRow>(
          target, "reading pg_subscription",
          "SELECT s.oid, s.subname, s.subenabled, coalesce(s.subslotname, '') AS slot_name, "
          "s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AS "
          "in_current_database, p.name AS publication FROM pg_subscription s "
          "LEFT JOIN LATERAL unnest(s.subpublications) WITH ORDINALITY p(name, n) ON true "
          "ORDER BY s.subname, s.oid, p.n",
          {}, ReadSubscriptionRow));
  std::vector<SubscriptionInfo> subs;
  for (SubscriptionRow& row : rows) {
    if (subs.empty() || subs.back().oid != row.sub.oid) subs.push_back(std::move(row.sub));
    if (row.publication) subs.back().publications.push_back(std::move(*row.publication));
  }
  return subs;
}

Result<SubscriptionInfo> FindSubscription(conn::PgSession& target,
                                          const std::optional<std::string>& name,
                                          const std::string& publication) {
  PGPARITY_ASSIGN_OR_RETURN(std::vector<SubscriptionInfo> all, ReadSubscriptions(target));
  std::vector<SubscriptionInfo> matching;
  for (auto& s : all) {
    if (!s.in_current_database) continue;
    if (name && s.name == *name) return s;
    if (s.Subscribes(publication)) matching.push_back(s);
  }
  if (name) {
    return Status::NotFound("subscription \"" + *name + "\" does not exist in the target (" +
                            target.endpoint() + "); pass the migration's subscription with " +
                            "--subscription, or create it (make setup-replication)");
  }
  if (matching.size() == 1) return matching[0];
  if (matching.empty()) {
    return Status::NotFound("no subscription in the target (" + target.endpoint() +
                            ") subscribes to publication \"" + publication +
                            "\"; create it (make setup-replication) or name it with "
                            "--subscription");
  }
  std::string names;
  for (const auto& s : matching) names += (names.empty() ? "" : ", ") + s.name;
  return Status::FailedPrecondition("several subscriptions in the target subscribe to \"" +
                                    publication + "\" (" + names +
                                    "); choose one with --subscription");
}

Result<std::vector<SubscriptionTable>> ReadSubscriptionTables(conn::PgSession& target,
                                                              const SubscriptionInfo& sub) {
  return QueryRows<SubscriptionTable>(
      target, "reading pg_subscription_rel",
      "SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname) AS qualified, "
      "r.srsubstate FROM pg_subscription_rel r JOIN pg_class c ON c.oid = r.srrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE r.srsubid = $1::oid",
      {sub.oid}, [](const RowReader& row) -> Result<SubscriptionTable> {
        SubscriptionTable t;
        PGPARITY_ASSIGN_OR_RETURN(t.table.schema, row.Text("nspname"));
        PGPARITY_ASSIGN_OR_RETURN(t.table.name, row.Text("relname"));
        PGPARITY_ASSIGN_OR_RETURN(t.qualified, row.Text("qualified"));
        PGPARITY_ASSIGN_OR_RETURN(t.state, row.Char("srsubstate"));
        return t;
      });
}

std::string SubscriptionStateName(char state) {
  static constexpr std::pair<char, const char*> kStates[] = {
      {'i', "i: initializing"},
      {'d', "d: copying data"},
      {'f', "f: copy finished, catching up"},
      {'s', "s: synchronized, waiting for the apply worker"},
      {'r', "r: ready"}};
  for (const auto& [code, name] : kStates) {
    if (code == state) return name;
  }
  return std::string(1, state);
}

Result<SubscriptionActivity> ReadSubscriptionActivity(conn::PgSession& target,
                                                      const SubscriptionInfo& sub) {
  auto stat = [&](const std::string& column) {
    return target.server_version() >= 150000
               ? "(SELECT " + column + " FROM pg_stat_subscription_stats WHERE subid = $1::oid)"
               : std::string("NULL::bigint");
  };
  return QueryOneRow<SubscriptionActivity>(
      target, "reading pg_stat_subscription",
      "SELECT EXISTS (SELECT 1 FROM pg_stat_subscription WHERE subid = $1::oid AND pid IS NOT "
      "NULL AND relid IS NULL) AS running, " +
          stat("apply_error_count") + " AS apply_errors, " + stat("sync_error_count") +
          " AS sync_errors",
      {sub.oid}, [](const RowReader& row) -> Result<SubscriptionActivity> {
        SubscriptionActivity a;
        PGPARITY_ASSIGN_OR_RETURN(a.apply_worker_running, row.Bool("running"));
        PGPARITY_ASSIGN_OR_RETURN(a.apply_errors, row.OptionalInt64("apply_errors"));
        PGPARITY_ASSIGN_OR_RETURN(a.sync_errors, row.OptionalInt64("sync_errors"));
        return a;
      });
}

}  // namespace pgparity::applier
