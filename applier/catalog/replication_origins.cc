#include "pgparity/applier/catalog/replication_origins.h"

#include "catalog/query_rows.h"

namespace pgparity::applier {

using catalog_internal::QueryRows;
using catalog_internal::TextColumn;

Result<std::vector<std::string>> ReadOriginNames(conn::PgSession& target) {
  return QueryRows<std::string>(target, "reading pg_replication_origin",
                                "SELECT roname FROM pg_replication_origin ORDER BY roname", {},
                                TextColumn("roname"));
}

Result<std::optional<wire::Lsn>> ReadRemoteLsn(conn::PgSession& target,
                                               const SubscriptionInfo& sub) {
  auto lsns = QueryRows<std::optional<wire::Lsn>>(
      target, "reading pg_replication_origin_status",
      "SELECT remote_lsn FROM pg_replication_origin_status WHERE external_id = $1", {sub.origin()},
      [](const conn::RowReader& row) { return row.OptionalLsn("remote_lsn"); });
  if (!lsns.ok()) {
    return lsns.status().WithPrefix("reading the applied position of subscription " + sub.name +
                                    " on the target");
  }
  if (lsns->empty()) return std::optional<wire::Lsn>();
  return (*lsns)[0];
}

}  // namespace pgparity::applier
