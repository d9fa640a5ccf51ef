#include "pgparity/applier/catalog.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace pgparity::applier {

namespace {

// "{a,b}" (a name[] or text[] in text form) -> elements; names that need
// quoting come back quoted and are unquoted here.
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

Result<std::optional<wire::Lsn>> OptionalLsn(const conn::QueryResult& r) {
  if (r.rows() == 0 || r.IsNull(0, 0)) return std::optional<wire::Lsn>();
  auto lsn = wire::Lsn::Parse(r.Value(0, 0));
  if (!lsn.ok()) return lsn.status();
  return std::optional<wire::Lsn>(*lsn);
}

// The published columns of table `oid`, their types, and the key the
// shadow tracks rows by, into `spec`.
Status LoadColumns(conn::PgSession& source, const std::string& oid, TableSpec& spec) {
  PGPARITY_ASSIGN_OR_RETURN(
      auto cols,
      source.Query(
          "SELECT a.attname, a.attstorage <> 'p', "
          "  EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary "
          "          AND a.attnum = ANY (i.indkey)), "
          "  EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisreplident "
          "          AND a.attnum = ANY (i.indkey)), "
          "  a.atttypid IN (20, 21, 23), format_type(a.atttypid, a.atttypmod) "
          "FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 "
          "AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
          {oid}));
  std::vector<size_t> pk, ident;
  std::vector<bool> integer;
  for (int c = 0; c < cols.rows(); ++c) {
    spec.columns.emplace_back(cols.Value(c, 0));
    spec.toastable.push_back(cols.Value(c, 1) == "t");
    if (cols.Value(c, 2) == "t") pk.push_back(static_cast<size_t>(c));
    if (cols.Value(c, 3) == "t") ident.push_back(static_cast<size_t>(c));
    integer.push_back(cols.Value(c, 4) == "t");
    spec.types.emplace_back(cols.Value(c, 5));
  }
  // The key pgoutput's old tuples carry: the identity index with USING
  // INDEX, the primary key otherwise (FULL sends every column, so the
  // primary key is in them too). No key: a multiset of rows.
  spec.key_positions = spec.replica_identity == 'i' ? ident : pk;
  spec.integer_key = spec.key_positions.size() == 1 && integer[spec.key_positions[0]];
  return Status::OK();
}

// The target's columns of a table that exists: which of the spec's are
// missing, which are extra, and each spec column's type there.
void Describe(const TableSpec& spec, const std::vector<std::pair<std::string, std::string>>& cols,
              TargetTable& t) {
  t.exists = true;
  t.types.assign(spec.columns.size(), std::string());
  for (size_t c = 0; c < spec.columns.size(); ++c) {
    auto it = std::find_if(cols.begin(), cols.end(),
                           [&](const auto& col) { return col.first == spec.columns[c]; });
    if (it == cols.end()) {
      t.missing_columns.push_back(spec.columns[c]);
    } else {
      t.types[c] = it->second;
    }
  }
  for (const auto& [name, type] : cols) {
    if (std::find(spec.columns.begin(), spec.columns.end(), name) == spec.columns.end()) {
      t.extra_columns.push_back(name);
    }
  }
}

}  // namespace

Result<std::vector<TableSpec>> LoadPublishedTables(conn::PgSession& source,
                                                   const std::string& publication) {
  PGPARITY_ASSIGN_OR_RETURN(
      auto pub, source.Query("SELECT 1 FROM pg_publication WHERE pubname = $1", {publication}));
  if (pub.rows() == 0) {
    return Status::NotFound("publication \"" + publication + "\" does not exist on the source (" +
                            source.endpoint() +
                            "); pass the migration's publication with --publication, or create "
                            "it (CREATE PUBLICATION " +
                            publication + " FOR ALL TABLES)");
  }
  // A partitioned table (published via its root) estimates its rows by
  // its partitions'.
  PGPARITY_ASSIGN_OR_RETURN(
      auto tables,
      source.Query("SELECT n.nspname, c.relname, c.relreplident, CASE WHEN c.relkind = 'p' "
                   "THEN (SELECT coalesce(sum(greatest(p.reltuples, 0)), 0) FROM pg_class p "
                   "WHERE p.oid IN (SELECT relid FROM pg_partition_tree(c.oid))) "
                   "ELSE c.reltuples END, c.oid, c.relkind, "
                   // The lowest toast_tuple_target of the table or its leaves.
                   "(SELECT min(o.option_value::int) FROM (SELECT c.oid AS relid UNION "
                   " SELECT relid FROM pg_partition_tree(c.oid)) t "
                   " JOIN pg_class l ON l.oid = t.relid, pg_options_to_table(l.reloptions) o "
                   " WHERE o.option_name = 'toast_tuple_target') "
                   "FROM pg_publication_tables pt "
                   "JOIN pg_namespace n ON n.nspname = pt.schemaname "
                   "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename "
                   "WHERE pt.pubname = $1 ORDER BY n.nspname::text COLLATE \"C\", c.relname::text "
                   "COLLATE \"C\"",
                   {publication}));
  if (tables.rows() == 0) {
    return Status::FailedPrecondition("publication \"" + publication + "\" on the source (" +
                                      source.endpoint() +
                                      ") publishes no table; add tables (ALTER PUBLICATION " +
                                      publication + " ADD TABLE ...) or use FOR ALL TABLES");
  }
  std::vector<TableSpec> specs;
  for (int i = 0; i < tables.rows(); ++i) {
    TableSpec spec;
    spec.schema = std::string(tables.Value(i, 0));
    spec.name = std::string(tables.Value(i, 1));
    spec.replica_identity = tables.Value(i, 2).empty() ? 'd' : tables.Value(i, 2)[0];
    spec.estimated_rows = std::stod(std::string(tables.Value(i, 3)));
    spec.relkind = tables.Value(i, 5) == "p" ? 'p' : 'r';
    if (!tables.IsNull(i, 6)) {
      spec.toast_tuple_target = std::stoul(std::string(tables.Value(i, 6)));
    }
    PGPARITY_RETURN_IF_ERROR(LoadColumns(source, std::string(tables.Value(i, 4)), spec));
    if (spec.relkind == 'p') {
      PGPARITY_ASSIGN_OR_RETURN(spec.partitions, ReadPartitions(source, spec));
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

Result<std::vector<std::string>> ReadPartitions(conn::PgSession& source, const TableSpec& spec) {
  PGPARITY_ASSIGN_OR_RETURN(
      auto r, source.Query("SELECT n.nspname || '.' || c.relname FROM pg_partition_tree("
                           "(SELECT c.oid FROM pg_class c JOIN pg_namespace n ON "
                           "n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2)) t "
                           "JOIN pg_class c ON c.oid = t.relid "
                           "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.isleaf "
                           "ORDER BY (n.nspname || '.' || c.relname) COLLATE \"C\"",
                           {spec.schema, spec.name}));
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Value(i, 0));
  return out;
}

Result<SubscriptionInfo> FindSubscription(conn::PgSession& target,
                                          const std::optional<std::string>& name,
                                          const std::string& publication) {
  PGPARITY_ASSIGN_OR_RETURN(
      auto r, target.Query("SELECT oid, subname, subenabled, coalesce(subslotname, ''), "
                           "subpublications FROM pg_subscription "
                           "WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = "
                           "current_database()) ORDER BY subname"));
  std::vector<SubscriptionInfo> all, matching;
  for (int i = 0; i < r.rows(); ++i) {
    SubscriptionInfo s;
    s.oid = std::string(r.Value(i, 0));
    s.name = std::string(r.Value(i, 1));
    s.enabled = r.Value(i, 2) == "t";
    s.slot_name = std::string(r.Value(i, 3));
    s.publications = ParseTextArray(r.Value(i, 4));
    if (name && s.name == *name) return s;
    bool subscribes = false;
    for (const auto& p : s.publications) subscribes |= p == publication;
    if (subscribes) matching.push_back(s);
    all.push_back(std::move(s));
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

Result<std::optional<wire::Lsn>> ReadRemoteLsn(conn::PgSession& target,
                                               const SubscriptionInfo& sub) {
  auto r = target.Query(
      "SELECT remote_lsn FROM pg_replication_origin_status WHERE external_id = $1", {sub.origin()});
  if (!r.ok()) {
    return r.status().WithPrefix("reading the applied position of subscription " + sub.name +
                                 " (needs superuser or pg_read_all_stats on the target)");
  }
  return OptionalLsn(*r);
}

Result<std::optional<wire::Lsn>> ReadSlotFlush(conn::PgSession& source, const std::string& slot) {
  PGPARITY_ASSIGN_OR_RETURN(
      auto r,
      source.Query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1",
                   {slot}));
  return OptionalLsn(r);
}

Result<wire::Lsn> ReadCurrentWal(conn::PgSession& source) {
  PGPARITY_ASSIGN_OR_RETURN(auto r, source.Query("SELECT pg_current_wal_lsn()"));
  return wire::Lsn::Parse(r.Value(0, 0));
}

Result<std::vector<TargetTable>> ReadTargetTables(conn::PgSession& target,
                                                  const std::vector<TableSpec>& specs,
                                                  const SubscriptionInfo& sub) {
  PGPARITY_ASSIGN_OR_RETURN(
      auto cols, target.Query("SELECT n.nspname, c.relname, a.attname, c.reltuples, c.relkind, "
                              "format_type(a.atttypid, a.atttypmod) "
                              "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
                              "AND NOT a.attisdropped WHERE c.relkind IN ('r', 'p') "
                              "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                              "ORDER BY c.oid, a.attnum"));
  struct Found {
    std::vector<std::pair<std::string, std::string>> columns;  // name, type
    double reltuples = -1;
    char relkind = 'r';
  };
  std::map<std::pair<std::string, std::string>, Found> found;
  for (int i = 0; i < cols.rows(); ++i) {
    Found& f = found[{std::string(cols.Value(i, 0)), std::string(cols.Value(i, 1))}];
    f.columns.emplace_back(cols.Value(i, 2), cols.Value(i, 5));
    f.reltuples = std::stod(std::string(cols.Value(i, 3)));
    f.relkind = cols.Value(i, 4) == "p" ? 'p' : 'r';
  }
  PGPARITY_ASSIGN_OR_RETURN(
      auto states, target.Query("SELECT n.nspname, c.relname, sr.srsubstate "
                                "FROM pg_subscription_rel sr JOIN pg_class c ON c.oid = sr.srrelid "
                                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                "WHERE sr.srsubid = $1::oid",
                                {sub.oid}));
  std::map<std::pair<std::string, std::string>, char> state;
  for (int i = 0; i < states.rows(); ++i) {
    state[{std::string(states.Value(i, 0)), std::string(states.Value(i, 1))}] =
        states.Value(i, 2).empty() ? 0 : states.Value(i, 2)[0];
  }
  std::vector<TargetTable> out;
  for (const auto& spec : specs) {
    TargetTable t;
    const std::pair<std::string, std::string> k{spec.schema, spec.name};
    if (auto it = found.find(k); it != found.end()) Describe(spec, it->second.columns, t);
    if (t.exists) {
      t.estimated_rows = found[k].reltuples;
      t.relkind = found[k].relkind;
    }
    if (auto s = state.find(k); s != state.end()) t.sync_state = s->second;
    out.push_back(std::move(t));
  }
  return out;
}

void PlanComparison(const std::vector<TargetTable>& targets, std::string_view source_timezone,
                    std::vector<TableSpec>& specs) {
  for (size_t i = 0; i < specs.size(); ++i) {
    TableSpec& spec = specs[i];
    spec.source_timezone = std::string(source_timezone);
    spec.target_types.assign(spec.columns.size(), std::string());
    spec.compare.assign(spec.columns.size(), TypeChange());
    if (!targets[i].exists) continue;  // compared as text if it appears
    spec.target_types = targets[i].types;
    spec.target_relkind = targets[i].relkind;
    for (size_t c = 0; c < spec.columns.size(); ++c) {
      if (targets[i].types[c].empty()) continue;  // missing on the target
      spec.compare[c] = ClassifyTypeChange(spec.types[c], targets[i].types[c]);
    }
  }
}

}  // namespace pgparity::applier
