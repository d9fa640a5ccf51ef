#include "pgparity/applier/subscription.h"

#include <algorithm>

#include "catalog/query_rows.h"

namespace pgparity::applier {

using catalog_internal::QueryOneRow;
using catalog_internal::QueryRows;
using conn::RowReader;

namespace {

// "{a,b}" (a name[] in text form) -> elements; names that need quoting
// come back quoted and are unquoted here.
std::vector<std::string> ParseTextArray(std::string_view a) {
  std::vector<std::string> out;
  if (a.size() < 2) return out;
  a = a.substr(1, a.size() - 2);
  std::string cur;
  bool quoted = false, any = false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char c = a[i];
    if (quoted) {
      if (c == '\\' && i + 1 < a.size()) {
        cur += a[++i];
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = any = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any || !cur.empty()) out.push_back(cur);
  return out;
}

Result<SubscriptionInfo> ReadSubscriptionRow(const RowReader& row) {
  SubscriptionInfo s;
  PGPARITY_ASSIGN_OR_RETURN(s.oid, row.Text("oid"));
  PGPARITY_ASSIGN_OR_RETURN(s.name, row.Text("subname"));
  PGPARITY_ASSIGN_OR_RETURN(s.enabled, row.Bool("subenabled"));
  PGPARITY_ASSIGN_OR_RETURN(s.slot_name, row.Text("slot_name"));
  PGPARITY_ASSIGN_OR_RETURN(std::string_view publications, row.Text("subpublications"));
  s.publications = ParseTextArray(publications);
  PGPARITY_ASSIGN_OR_RETURN(s.in_current_database, row.Bool("in_current_database"));
  return s;
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
  return QueryRows<SubscriptionInfo>(
      target, "reading pg_subscription",
      "SELECT oid, subname, subenabled, coalesce(subslotname, '') AS slot_name, subpublications, "
      "subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AS "
      "in_current_database FROM pg_subscription ORDER BY subname",
      {}, ReadSubscriptionRow);
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
  switch (state) {
    case 'i':
      return "i: initializing";
    case 'd':
      return "d: copying data";
    case 'f':
      return "f: copy finished, catching up";
    case 's':
      return "s: synchronized, waiting for the apply worker";
    case 'r':
      return "r: ready";
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
