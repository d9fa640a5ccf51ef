#include "pgparity/applier/preflight.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <utility>

#include "pgparity/applier/server_defaults.h"
#include "pgparity/applier/type_change.h"
#include "pgparity/sql_quote.h"

namespace pgparity::applier {

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kBlocking:
      return "blocking";
    case Severity::kWarning:
      return "warning";
    case Severity::kInfo:
      return "info";
  }
  return "info";
}

int PreflightReport::Count(Severity severity) const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(),
                                        [&](const Finding& f) { return f.severity == severity; }));
}

namespace {

using conn::PgSession;
using conn::QueryResult;
using Params = std::vector<std::optional<std::string>>;

int64_t ToInt(std::string_view text) {
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

bool ToBool(std::string_view text) { return text == "t"; }

std::string Str(std::string_view text) { return std::string(text); }

// "1 slot", "3 slots".
std::string Count(int64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string Join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// "a, b, c" or, past `max`, "a, b, c and 7 more".
std::string Names(const std::vector<std::string>& names, size_t max = 5) {
  if (names.size() <= max) return Join(names);
  std::vector<std::string> first(names.begin(), names.begin() + static_cast<long>(max));
  return Join(first) + " and " + std::to_string(names.size() - max) + " more";
}

// The first word of server_version ("16.14 (Debian ...)" -> "16.14").
std::string VersionWord(std::string_view version) {
  return Str(version.substr(0, version.find(' ')));
}

// One side's session: queries with errors naming the side.
class Db {
 public:
  Db(PgSession& session, std::string side) : session_(session), side_(std::move(side)) {}

  Result<QueryResult> Query(std::string_view what, std::string_view sql,
                            const Params& params = {}) {
    Result<QueryResult> result = session_.Query(sql, params);
    if (result.ok()) return result;
    const Status& s = result.status();
    std::string message = "reading " + Str(what) + " on the " + side_ + ": " + Str(s.message());
    if (s.code() == Status::Code::kPermissionDenied) {
      message += " — run pgparity preflight as a superuser or as a member of pg_monitor";
    }
    return s.WithMessage(message);
  }

  Status Exec(std::string_view what, std::string_view sql) {
    Status s = session_.Exec(sql);
    if (s.ok()) return s;
    return s.WithMessage("preparing the " + side_ + " session (" + Str(what) +
                         "): " + Str(s.message()));
  }

  // The TimeZone a new session gets here: the server's configuration with
  // ALTER DATABASE/ROLE SET applied — what the subscription's workers run
  // with and what verify compares the source's timestamps in. This session
  // cannot tell: its startup packet pins TimeZone=UTC, so pg_settings shows
  // UTC as setting and reset_val (source 'client'), and pg_file_settings is
  // for superusers only. A second connection with the same parameters minus
  // the pin is told the default in ParameterStatus; it runs no statement.
  Result<std::string> DefaultTimeZone() {
    if (timezone_) return *timezone_;
    Result<std::string> tz = ReadDefaultTimeZone(PlainParams(), side_);
    if (!tz.ok()) {
      return tz.status().WithMessage("reading the " + side_ +
                                     "'s default TimeZone: " + Str(tz.status().message()));
    }
    timezone_ = *tz;
    return *timezone_;
  }

  int version() const { return session_.server_version(); }
  const std::string& side() const { return side_; }
  const std::string& endpoint() const { return session_.endpoint(); }

 private:
  // This session's connection parameters without pgparity's pinned
  // server options (appended last to the user's own, which stay).
  conn::ConnParams PlainParams() const {
    conn::ConnParams params;
    conn::PgConninfoPtr info(PQconninfo(session_.get()));
    for (const PQconninfoOption* o = info.get(); o && o->keyword != nullptr; ++o) {
      if (o->val == nullptr || *o->val == '\0') continue;
      std::string_view value = o->val;
      if (std::string_view(o->keyword) == "options" &&
          value.ends_with(conn::kPinnedServerOptions)) {
        value.remove_suffix(conn::kPinnedServerOptions.size());
        while (value.ends_with(' ')) value.remove_suffix(1);
        if (value.empty()) continue;
      }
      params.Set(o->keyword, value);
    }
    return params;
  }

  PgSession& session_;
  std::string side_;
  std::optional<std::string> timezone_;
};

struct Column {
  std::string name;
  std::string type;  // format_type()
  bool not_null = false;
  bool has_default = false;
  bool generated = false;
  bool in_pk = false;
  bool in_ident = false;  // in the REPLICA IDENTITY USING INDEX index
};

using TableKey = std::pair<std::string, std::string>;  // schema, name

struct Table {
  std::string qualified;  // format('%I.%I')
  char kind = 'r';        // relkind: 'r' table, 'p' partitioned table
  char persistence = 'p';
  char replident = 'd';
  bool has_pk = false;
  bool has_ident = false;
  int64_t updates_deletes = 0;   // pg_stat_user_tables, since the last reset
  std::vector<Column> columns;   // attnum order
  std::vector<TableKey> leaves;  // kind 'p': its leaf partitions, at any depth
  std::optional<TableKey> root;  // a partition: its topmost partitioned table

  const Column* Find(std::string_view name) const {
    for (const auto& c : columns) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }
};

using Tables = std::map<TableKey, Table>;

// Every ordinary and partitioned table outside the system schemas and the
// temporary ones, with its columns and key facts.
Result<Tables> LoadTables(Db& db) {
  const std::string generated = db.version() >= 120000 ? "a.attgenerated <> ''" : "false";
  const std::string sql =
      "SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname), c.relpersistence, "
      "c.relreplident, pk.indexrelid IS NOT NULL, ri.indexrelid IS NOT NULL, "
      "coalesce(s.n_tup_upd + s.n_tup_del, 0), a.attname, format_type(a.atttypid, a.atttypmod), "
      "a.attnotnull, a.atthasdef, " +
      generated +
      ", coalesce(a.attnum = ANY (pk.indkey), false), coalesce(a.attnum = ANY (ri.indkey), false), "
      "c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
      "LEFT JOIN pg_index pk ON pk.indrelid = c.oid AND pk.indisprimary "
      "LEFT JOIN pg_index ri ON ri.indrelid = c.oid AND ri.indisreplident "
      "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
      "WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't' "
      "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
      "AND n.nspname NOT LIKE 'pg\\_toast%' "
      "ORDER BY n.nspname, c.relname, a.attnum";
  PGPARITY_ASSIGN_OR_RETURN(QueryResult rows, db.Query("the tables' columns", sql));
  Tables tables;
  for (int r = 0; r < rows.rows(); ++r) {
    Table& t = tables[{Str(rows.Value(r, 0)), Str(rows.Value(r, 1))}];
    if (t.qualified.empty()) {
      t.qualified = Str(rows.Value(r, 2));
      t.persistence = rows.Value(r, 3).empty() ? 'p' : rows.Value(r, 3)[0];
      t.replident = rows.Value(r, 4).empty() ? 'd' : rows.Value(r, 4)[0];
      t.has_pk = ToBool(rows.Value(r, 5));
      t.has_ident = ToBool(rows.Value(r, 6));
      t.updates_deletes = ToInt(rows.Value(r, 7));
      t.kind = rows.Value(r, 15).empty() ? 'r' : rows.Value(r, 15)[0];
    }
    if (rows.IsNull(r, 8)) continue;  // a table without columns
    Column c;
    c.name = Str(rows.Value(r, 8));
    c.type = Str(rows.Value(r, 9));
    c.not_null = ToBool(rows.Value(r, 10));
    c.has_default = ToBool(rows.Value(r, 11));
    c.generated = ToBool(rows.Value(r, 12));
    c.in_pk = ToBool(rows.Value(r, 13));
    c.in_ident = ToBool(rows.Value(r, 14));
    t.columns.push_back(std::move(c));
  }
  return tables;
}

// Every partitioned table's leaves, and every leaf's topmost root: where a
// change really happens (and is checked against a replica identity) and
// where the subscriber routes it.
Status LoadPartitions(Db& db, Tables& tables) {
  PGPARITY_ASSIGN_OR_RETURN(
      QueryResult rows,
      db.Query("the partitions",
               "SELECT rn.nspname, r.relname, r.relispartition, ln.nspname, l.relname "
               "FROM pg_class r JOIN pg_namespace rn ON rn.oid = r.relnamespace "
               "CROSS JOIN LATERAL pg_partition_tree(r.oid) t "
               "JOIN pg_class l ON l.oid = t.relid JOIN pg_namespace ln ON ln.oid = "
               "l.relnamespace WHERE r.relkind = 'p' AND t.isleaf AND l.relkind = 'r' "
               "ORDER BY 1, 2, 4, 5"));
  for (int r = 0; r < rows.rows(); ++r) {
    const TableKey root{Str(rows.Value(r, 0)), Str(rows.Value(r, 1))};
    const TableKey leaf{Str(rows.Value(r, 3)), Str(rows.Value(r, 4))};
    auto rt = tables.find(root);
    auto lt = tables.find(leaf);
    if (rt == tables.end() || lt == tables.end()) continue;  // temporary ones
    rt->second.leaves.push_back(leaf);
    if (!ToBool(rows.Value(r, 2))) lt->second.root = root;
  }
  return Status::OK();
}

// The tables a published table's rows live in: its leaves when it is
// partitioned, else itself.
std::vector<const Table*> Storage(const Tables& tables, const Table& t) {
  if (t.kind != 'p') return {&t};
  std::vector<const Table*> out;
  for (const auto& key : t.leaves) {
    if (auto it = tables.find(key); it != tables.end()) out.push_back(&it->second);
  }
  return out;
}

// The columns the publisher sends as the key of UPDATE/DELETE (pgoutput's
// attkeys): every column with REPLICA IDENTITY FULL, else the identity
// index's (the primary key's for DEFAULT). Generated columns are never sent.
std::vector<std::string> SourceKey(const Table& t) {
  std::vector<std::string> key;
  for (const auto& c : t.columns) {
    if (c.generated) continue;
    if (t.replident == 'f' || (t.replident == 'd' && c.in_pk) ||
        (t.replident == 'i' && c.in_ident)) {
      key.push_back(c.name);
    }
  }
  return key;
}

// The columns the subscriber looks rows up by: the replica identity index,
// else the primary key (PostgreSQL 16, logicalrep_rel_mark_updatable).
std::vector<std::string> TargetKey(const Table& t) {
  const bool by_ident = t.replident == 'i' && t.has_ident;
  std::vector<std::string> key;
  for (const auto& c : t.columns) {
    if (by_ident ? c.in_ident : c.in_pk) key.push_back(c.name);
  }
  return key;
}

// UPDATE and DELETE work on the published table.
bool HasReplicaIdentity(const Table& t) {
  return t.replident == 'f' || (t.replident == 'd' && t.has_pk) ||
         (t.replident == 'i' && t.has_ident);
}

std::string SubStateName(char state) {
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

struct Slot {
  std::string name;
  std::string type;
  std::string plugin;
  std::string database;
  std::string wal_status;  // "" before PostgreSQL 13
  bool active = false;
  std::string retained;              // pg_size_pretty of the WAL from restart_lsn
  std::optional<int64_t> lag_bytes;  // to confirmed_flush_lsn (logical slots)
  std::string lag;
};

struct Subscription {
  std::string name;
  std::string oid;
  bool enabled = false;
  std::optional<std::string> slot;  // nullopt: slot_name = NONE
  std::string publications;
  bool has_publication = false;
  std::map<TableKey, char> states;  // pg_subscription_rel, by target table
  std::map<TableKey, std::string> qualified;

  // Names of this subscription's tablesync slots and origins start so.
  std::string SyncSlotPrefix() const { return "pg_" + oid + "_sync_"; }
};

class Checker {
 public:
  Checker(PgSession& source, PgSession& target, const PreflightOptions& options)
      : src_(source, "source"), tgt_(target, "target"), options_(options) {}

  Result<PreflightReport> Run() {
    report_.source = src_.endpoint();
    report_.target = tgt_.endpoint();
    report_.publication = options_.publication;
    PGPARITY_RETURN_IF_ERROR(Prepare(src_));
    PGPARITY_RETURN_IF_ERROR(Prepare(tgt_));
    PGPARITY_RETURN_IF_ERROR(LoadSettings());
    PGPARITY_RETURN_IF_ERROR(LoadPublication());
    PGPARITY_RETURN_IF_ERROR(LoadSubscription());
    PGPARITY_ASSIGN_OR_RETURN(src_tables_, LoadTables(src_));
    PGPARITY_ASSIGN_OR_RETURN(tgt_tables_, LoadTables(tgt_));
    PGPARITY_RETURN_IF_ERROR(LoadPartitions(src_, src_tables_));
    PGPARITY_RETURN_IF_ERROR(LoadPartitions(tgt_, tgt_tables_));
    PGPARITY_RETURN_IF_ERROR(LoadSlots());

    CheckVersions();
    CheckWalLevel();
    PGPARITY_RETURN_IF_ERROR(CheckCapacity());
    CheckPublication();
    CheckPartitions();
    PGPARITY_RETURN_IF_ERROR(CheckTables());
    PGPARITY_RETURN_IF_ERROR(CheckNotReplicated());
    PGPARITY_RETURN_IF_ERROR(CheckTransactions());
    PGPARITY_RETURN_IF_ERROR(CheckSequences());
    PGPARITY_RETURN_IF_ERROR(CheckSubscription());
    CheckSlots();
    return std::move(report_);
  }

 private:
  void Add(std::string_view check, Severity severity, std::string object, std::string detail,
           std::string fix = {}) {
    report_.findings.push_back(
        {Str(check), severity, std::move(object), std::move(detail), std::move(fix)});
  }

  // Read-only and bounded: nothing this session runs can change the
  // server, wait on a lock for long, or run forever.
  Status Prepare(Db& db) {
    const std::string timeout = std::to_string(options_.statement_timeout.count() * 1000);
    return db.Exec(
        "read-only, timeouts",
        "SET default_transaction_read_only = on; SET statement_timeout = " + timeout +
            "; SET lock_timeout = 5000; SET idle_in_transaction_session_timeout = " + timeout);
  }

  Status LoadSettings() {
    {
      PGPARITY_ASSIGN_OR_RETURN(
          QueryResult r,
          src_.Query("settings",
                     "SELECT current_setting('server_version'), current_setting('wal_level'), "
                     "current_setting('max_replication_slots'), "
                     "current_setting('max_wal_senders')"));
      report_.source_version = VersionWord(r.Value(0, 0));
      src_wal_level_ = Str(r.Value(0, 1));
      src_max_slots_ = ToInt(r.Value(0, 2));
      src_max_wal_senders_ = ToInt(r.Value(0, 3));
    }
    PGPARITY_ASSIGN_OR_RETURN(QueryResult r,
                              tgt_.Query("settings",
                                         "SELECT current_setting('server_version'), "
                                         "current_setting('max_logical_replication_workers'), "
                                         "current_setting('max_worker_processes'), "
                                         "current_setting('max_replication_slots'), "
                                         "current_setting('max_sync_workers_per_subscription')"));
    report_.target_version = VersionWord(r.Value(0, 0));
    tgt_max_workers_ = ToInt(r.Value(0, 1));
    tgt_max_worker_processes_ = ToInt(r.Value(0, 2));
    tgt_max_slots_ = ToInt(r.Value(0, 3));
    tgt_max_sync_ = ToInt(r.Value(0, 4));
    return Status::OK();
  }

  Status LoadPublication() {
    const Params name{options_.publication};
    const std::string via_root = src_.version() >= 130000 ? "pubviaroot" : "false";
    PGPARITY_ASSIGN_OR_RETURN(
        QueryResult pub,
        src_.Query("the publication",
                   "SELECT puballtables, pubinsert, pubupdate, pubdelete, pubtruncate, " +
                       via_root + " FROM pg_publication WHERE pubname = $1",
                   name));
    if (pub.rows() == 0) {
      PGPARITY_ASSIGN_OR_RETURN(QueryResult all,
                                src_.Query("the publications",
                                           "SELECT coalesce(string_agg(pubname, ', ' ORDER BY "
                                           "pubname), '') FROM pg_publication"));
      const std::string existing = Str(all.Value(0, 0));
      return Status::NotFound(
          "publication \"" + options_.publication + "\" does not exist on the source (" +
          src_.endpoint() + "; " +
          (existing.empty() ? std::string("it has none") : "it has: " + existing) +
          ") — pass --publication NAME, or create it on the source: CREATE PUBLICATION " +
          IdentForDisplay(options_.publication) + " FOR ALL TABLES");
    }
    pub_all_tables_ = ToBool(pub.Value(0, 0));
    pub_insert_ = ToBool(pub.Value(0, 1));
    pub_update_ = ToBool(pub.Value(0, 2));
    pub_delete_ = ToBool(pub.Value(0, 3));
    pub_truncate_ = ToBool(pub.Value(0, 4));
    pub_via_root_ = ToBool(pub.Value(0, 5));

    PGPARITY_ASSIGN_OR_RETURN(
        QueryResult tables,
        src_.Query("the published tables",
                   "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 "
                   "ORDER BY 1, 2",
                   name));
    for (int r = 0; r < tables.rows(); ++r) {
      published_.emplace_back(Str(tables.Value(r, 0)), Str(tables.Value(r, 1)));
    }
    return Status::OK();
  }

  Status LoadSubscription() {
    const std::string name = options_.subscription.value_or("my_subscription");
    PGPARITY_ASSIGN_OR_RETURN(
        QueryResult s,
        tgt_.Query("the subscription",
                   "SELECT oid, subenabled, subslotname, array_to_string(subpublications, ', '), "
                   "$2 = ANY (subpublications) FROM pg_subscription WHERE subname = $1 "
                   "AND subdbid = (SELECT oid FROM pg_database WHERE datname = "
                   "current_database())",
                   {name, options_.publication}));
    if (s.rows() == 0) {
      if (options_.subscription) {
        PGPARITY_ASSIGN_OR_RETURN(
            QueryResult all,
            tgt_.Query("the subscriptions",
                       "SELECT coalesce(string_agg(subname, ', ' ORDER BY subname), '') FROM "
                       "pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE "
                       "datname = current_database())"));
        const std::string existing = Str(all.Value(0, 0));
        return Status::NotFound(
            "subscription \"" + name + "\" does not exist in the target's database (" +
            tgt_.endpoint() + "; " +
            (existing.empty() ? std::string("it has none") : "it has: " + existing) +
            ") — pass the name of an existing subscription, or leave --subscription out to "
            "check before creating one");
      }
      return Status::OK();
    }
    Subscription sub;
    sub.name = name;
    sub.oid = Str(s.Value(0, 0));
    sub.enabled = ToBool(s.Value(0, 1));
    if (auto slot = s.Get(0, 2)) sub.slot = Str(*slot);
    sub.publications = Str(s.Value(0, 3));
    sub.has_publication = ToBool(s.Value(0, 4));
    PGPARITY_ASSIGN_OR_RETURN(
        QueryResult rel,
        tgt_.Query("the subscription's tables",
                   "SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname), "
                   "r.srsubstate FROM pg_subscription_rel r JOIN pg_class c ON c.oid = r.srrelid "
                   "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE r.srsubid = $1",
                   {sub.oid}));
    for (int r = 0; r < rel.rows(); ++r) {
      TableKey key{Str(rel.Value(r, 0)), Str(rel.Value(r, 1))};
      sub.states[key] = rel.Value(r, 3).empty() ? '?' : rel.Value(r, 3)[0];
      sub.qualified[key] = Str(rel.Value(r, 2));
    }
    sub_ = std::move(sub);
    report_.subscription = name;
    return Status::OK();
  }

  Status LoadSlots() {
    const std::string wal_status = src_.version() >= 130000 ? "coalesce(wal_status, '')" : "''";
    PGPARITY_ASSIGN_OR_RETURN(
        QueryResult r,
        src_.Query(
            "pg_replication_slots",
            "SELECT slot_name, slot_type, coalesce(plugin, ''), coalesce(database::text, ''), "
            "active, " +
                wal_status +
                ", coalesce(pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)), "
                "'none'), pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint, "
                "pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)) "
                "FROM pg_replication_slots ORDER BY slot_name"));
    for (int i = 0; i < r.rows(); ++i) {
      Slot s;
      s.name = Str(r.Value(i, 0));
      s.type = Str(r.Value(i, 1));
      s.plugin = Str(r.Value(i, 2));
      s.database = Str(r.Value(i, 3));
      s.active = ToBool(r.Value(i, 4));
      s.wal_status = Str(r.Value(i, 5));
      s.retained = Str(r.Value(i, 6));
      if (!r.IsNull(i, 7)) s.lag_bytes = ToInt(r.Value(i, 7));
      s.lag = Str(r.Value(i, 8));
      slots_.push_back(std::move(s));
    }
    return Status::OK();
  }

  bool IsSubscriptionSlot(const Slot& s) const {
    return sub_ &&
           ((sub_->slot && s.name == *sub_->slot) || s.name.starts_with(sub_->SyncSlotPrefix()));
  }

  // Published tables the subscription still has to copy (all of them
  // before it exists).
  int64_t TablesToCopy() const {
    if (!sub_) return static_cast<int64_t>(published_.size());
    int64_t n = 0;
    for (const auto& [key, state] : sub_->states) n += state != 'r';
    for (const auto& key : published_) n += !sub_->states.contains(key);
    return n;
  }

  void CheckVersions() {
    auto check = [&](const Db& db, const std::string& version, int major) {
      if (db.version() / 10000 == major) {
        Add("server_version", Severity::kInfo, db.side(), "PostgreSQL " + version);
      } else {
        Add("server_version", Severity::kWarning, db.side(),
            "PostgreSQL " + version + ", not " + std::to_string(major) +
                ": pgparity is built and tested for PostgreSQL 14 -> 16",
            "expect differences in what the checks report");
      }
    };
    check(src_, report_.source_version, 14);
    check(tgt_, report_.target_version, 16);
  }

  void CheckWalLevel() {
    if (src_wal_level_ == "logical") {
      Add("wal_level", Severity::kInfo, "source wal_level", "logical");
    } else {
      Add("wal_level", Severity::kBlocking, "source wal_level",
          "is " + src_wal_level_ +
              ": the source cannot decode its WAL, so no subscription or pgparity slot can be "
              "created",
          "ALTER SYSTEM SET wal_level = logical; on the source, then restart it");
    }
  }

  void Budget(const std::string& object, int64_t used, int64_t needed, const std::string& parts,
              int64_t available, const std::string& fix) {
    std::string detail = "used " + std::to_string(used) + ", needed " + std::to_string(needed) +
                         " (" + parts + "), available " + std::to_string(available);
    if (needed > available) {
      Add("capacity", Severity::kBlocking, object, detail + ": too few", fix);
    } else {
      Add("capacity", Severity::kInfo, object, detail);
    }
  }

  Status CheckCapacity() {
    const int64_t sync = std::min(tgt_max_sync_, TablesToCopy());
    const std::string sync_part = std::to_string(sync) + " tablesync" +
                                  (sync == 0 ? " (initial copy done)" : " during the initial copy");
    // Source: replication slots.
    int64_t ours = 0;
    for (const auto& s : slots_) ours += IsSubscriptionSlot(s);
    const int64_t used_slots = static_cast<int64_t>(slots_.size());
    const int64_t other_slots = used_slots - ours;
    const int64_t needed_slots = other_slots + 1 + sync + 1;
    Budget("source max_replication_slots", used_slots, needed_slots,
           std::to_string(other_slots) + " other + 1 subscription + " + sync_part + " + 1 pgparity",
           src_max_slots_,
           "ALTER SYSTEM SET max_replication_slots = " + std::to_string(needed_slots) +
               "; on the source and restart it, or drop unused slots");

    // Source: WAL senders.
    Params names{std::nullopt, std::nullopt};
    if (sub_) names = {sub_->name, sub_->SyncSlotPrefix() + "%"};
    PGPARITY_ASSIGN_OR_RETURN(
        QueryResult ws,
        src_.Query("pg_stat_activity",
                   "SELECT count(*) FILTER (WHERE backend_type = 'walsender'), "
                   "count(*) FILTER (WHERE backend_type = 'walsender' AND (application_name = $1 "
                   "OR application_name LIKE $2)) FROM pg_stat_activity",
                   names));
    const int64_t senders = ToInt(ws.Value(0, 0));
    const int64_t other_senders = senders - ToInt(ws.Value(0, 1));
    const int64_t needed_senders = other_senders + 1 + sync + 1;
    Budget(
        "source max_wal_senders", senders, needed_senders,
        std::to_string(other_senders) + " other + 1 subscription + " + sync_part + " + 1 pgparity",
        src_max_wal_senders_,
        "ALTER SYSTEM SET max_wal_senders = " + std::to_string(needed_senders) +
            "; on the source and restart it");

    // Target: workers, processes, replication origins.
    PGPARITY_ASSIGN_OR_RETURN(
        QueryResult tw,
        tgt_.Query(
            "pg_stat_activity, pg_subscription, pg_replication_origin",
            "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'logical "
            "replication%' AND backend_type <> 'logical replication launcher'), "
            "(SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'logical "
            "replication%' OR backend_type = 'parallel worker'), "
            "(SELECT count(*) FROM pg_subscription WHERE subenabled AND oid::text IS DISTINCT "
            "FROM $1), "
            "(SELECT count(*) FROM pg_replication_origin), "
            "(SELECT count(*) FROM pg_replication_origin WHERE roname = 'pg_' || $1 OR roname "
            "LIKE 'pg\\_' || $1 || '\\_%')",
            {sub_ ? std::optional<std::string>(sub_->oid) : std::nullopt}));
    const int64_t other_subs = ToInt(tw.Value(0, 2));
    const int64_t needed_workers = other_subs + 1 + sync;
    Budget(
        "target max_logical_replication_workers", ToInt(tw.Value(0, 0)), needed_workers,
        std::to_string(other_subs) + " other subscriptions' apply workers + 1 apply + " + sync_part,
        tgt_max_workers_,
        "ALTER SYSTEM SET max_logical_replication_workers = " + std::to_string(needed_workers) +
            "; on the target and restart it");
    const int64_t needed_processes = needed_workers + 1;
    Budget("target max_worker_processes", ToInt(tw.Value(0, 1)), needed_processes,
           Count(needed_workers, "logical replication worker", "logical replication workers") +
               " + 1 launcher, plus what parallel queries and extensions use",
           tgt_max_worker_processes_,
           "ALTER SYSTEM SET max_worker_processes = " + std::to_string(needed_processes + 8) +
               "; on the target and restart it");
    const int64_t origins = ToInt(tw.Value(0, 3));
    const int64_t other_origins = origins - ToInt(tw.Value(0, 4));
    const int64_t needed_origins = other_origins + 1 + sync;
    Budget("target max_replication_slots", origins, needed_origins,
           "replication origins: " + std::to_string(other_origins) + " other + 1 subscription + " +
               sync_part,
           tgt_max_slots_,
           "ALTER SYSTEM SET max_replication_slots = " + std::to_string(needed_origins) +
               "; on the target and restart it (the subscriber's origins count against it)");
    return Status::OK();
  }

  void CheckPublication() {
    std::vector<std::string> ops;
    if (pub_insert_) ops.push_back("insert");
    if (pub_update_) ops.push_back("update");
    if (pub_delete_) ops.push_back("delete");
    if (pub_truncate_) ops.push_back("truncate");
    const std::string object = "publication " + options_.publication;
    Add("publication", Severity::kInfo, object,
        std::string(pub_all_tables_ ? "FOR ALL TABLES" : "a list of tables") + ", publishes " +
            (ops.empty() ? std::string("nothing") : Join(ops)) + "; " +
            Count(static_cast<int64_t>(published_.size()), "table", "tables"));
    if (published_.empty()) {
      Add("publication", Severity::kWarning, object,
          "publishes no table: nothing would be replicated",
          "ALTER PUBLICATION " + IdentForDisplay(options_.publication) +
              " ADD TABLE ... on the source");
    }
    std::vector<std::string> missing;
    if (!pub_insert_) missing.push_back("insert");
    if (!pub_update_) missing.push_back("update");
    if (!pub_delete_) missing.push_back("delete");
    if (!missing.empty()) {
      Add("publication", Severity::kWarning, object,
          "does not publish " + Join(missing) + ": those changes never reach the target",
          "ALTER PUBLICATION " + IdentForDisplay(options_.publication) +
              " SET (publish = 'insert, update, delete, truncate'); on the source, unless "
              "intended");
    }
  }

  // publish_via_partition_root decides under which names partitions'
  // changes arrive, so which tables the target needs.
  void CheckPartitions() {
    std::vector<std::string> roots, leaves, parents;
    for (const auto& key : published_) {
      auto it = src_tables_.find(key);
      if (it == src_tables_.end()) continue;
      const Table& t = it->second;
      if (t.kind == 'p') roots.push_back(t.qualified);
      if (!t.root) continue;
      leaves.push_back(t.qualified);
      const std::string& parent = src_tables_.at(*t.root).qualified;
      if (std::find(parents.begin(), parents.end(), parent) == parents.end()) {
        parents.push_back(parent);
      }
    }
    if (roots.empty() && leaves.empty()) return;
    std::string detail =
        "publish_via_partition_root = " + std::string(pub_via_root_ ? "true" : "false");
    if (!roots.empty()) {
      detail += ": changes of every partition are published as its partitioned root (" +
                Names(roots) +
                "); the target needs a table of that name, partitioned in any way or not at "
                "all; pg_publication_tables lists the root";
    }
    if (!leaves.empty()) {
      detail += std::string(roots.empty() ? ": " : "; ") +
                "each leaf partition is published under its own name (" + Names(leaves) +
                ", partitions of " + Names(parents) +
                "); the target needs a table of each leaf's name (partitioned differently only "
                "if those names exist); rows moved between partitions by an UPDATE of the "
                "partition key arrive as DELETE + INSERT";
    }
    Add("partitions", Severity::kInfo, "publication " + options_.publication, detail);
  }

  Status CheckTables() {
    const bool keyed_changes = pub_update_ || pub_delete_;
    // A summary first, completed once every table was compared.
    const size_t summary = report_.findings.size();
    Add("schema", Severity::kInfo, "published tables", "");
    int64_t blocked = 0;
    for (const auto& key : published_) {
      auto st = src_tables_.find(key);
      if (st == src_tables_.end()) continue;  // dropped since the publication was read
      const int before = report_.Count(Severity::kBlocking);
      PGPARITY_RETURN_IF_ERROR(CheckTable(st->second, key, keyed_changes));
      blocked += report_.Count(Severity::kBlocking) > before;
    }
    report_.findings[summary].detail =
        Count(static_cast<int64_t>(published_.size()), "table", "tables") +
        " compared with the target (columns, types, replica identities): " +
        (blocked == 0 ? std::string("no blocking difference")
                      : Count(blocked, "table", "tables") + " with blocking problems");
    return Status::OK();
  }

  Status CheckTable(const Table& s, const TableKey& key, bool keyed_changes) {
    if (keyed_changes) CheckSourceIdentity(s);
    auto tt = tgt_tables_.find(key);
    if (tt == tgt_tables_.end()) {
      std::string detail =
          "published but missing on the target: the initial copy and every change to it fail";
      std::string fix = "create it on the target: pg_dump --schema-only --table=" +
                        QuoteStandardLiteral(s.qualified) + " SOURCE | psql TARGET";
      if (s.root) {
        const std::string& root = src_tables_.at(*s.root).qualified;
        detail += " (a partition of " + root +
                  ", published under its own name: publish_via_partition_root is false)";
        fix += ", or publish it as " + root + ": ALTER PUBLICATION " +
               IdentForDisplay(options_.publication) +
               " SET (publish_via_partition_root = true); on the source";
      }
      Add("table_missing", Severity::kBlocking, s.qualified, detail, fix);
      return Status::OK();
    }
    PGPARITY_RETURN_IF_ERROR(CheckColumns(s, tt->second));
    if (keyed_changes && HasReplicaIdentity(s)) {
      // The subscriber finds rows in the partition it routes them to.
      for (const Table* t : Storage(tgt_tables_, tt->second)) CheckTargetKey(s, *t);
    }
    if (!sub_) PGPARITY_RETURN_IF_ERROR(CheckEmpty(tt->second));
    return Status::OK();
  }

  // UPDATE and DELETE fail on the source in a partition without a replica
  // identity; a partitioned root published as itself also tells the
  // subscriber its own key (pgoutput sends the root's relation).
  void CheckSourceIdentity(const Table& s) {
    std::vector<const Table*> tables = Storage(src_tables_, s);
    if (s.kind == 'p') tables.insert(tables.begin(), &s);
    for (const Table* t : tables) {
      if (HasReplicaIdentity(*t)) continue;
      std::string why = t->replident == 'n' ? "REPLICA IDENTITY NOTHING"
                        : t->replident == 'i'
                            ? "REPLICA IDENTITY USING INDEX, but the index is gone"
                            : "no primary key and REPLICA IDENTITY DEFAULT";
      std::string effect =
          t == &s && s.kind == 'p'
              ? ": published as the partitioned root, it tells the subscriber no key, so every "
                "replicated UPDATE and DELETE fails on the target"
              : std::string(t != &s ? " (a partition of " + s.qualified + ")" : "") +
                    ": once published, every UPDATE and DELETE on it fails on the source (" +
                    Count(t->updates_deletes, "update or delete", "updates and deletes") +
                    " since the statistics were reset)";
      Add("replica_identity", Severity::kBlocking, t->qualified, why + effect,
          "ALTER TABLE " + t->qualified +
              " ADD PRIMARY KEY (...); or REPLICA IDENTITY USING INDEX <unique index on NOT "
              "NULL columns>; or REPLICA IDENTITY FULL (slower apply); an insert-only table "
              "may stay as it is if the application never updates or deletes its rows");
    }
  }

  Status CheckColumns(const Table& s, const Table& t) {
    std::vector<std::string> source_order;
    for (const auto& c : s.columns) {
      const std::string object = s.qualified + "." + IdentForDisplay(c.name);
      const Column* tc = t.Find(c.name);
      if (c.generated) {
        // PostgreSQL 14 never publishes generated columns.
        if (tc == nullptr || !tc->generated) {
          Add("column_generated", Severity::kWarning, object,
              "generated on the source, so never published; on the target it is " +
                  std::string(tc == nullptr ? "missing"
                                            : "a plain column that gets NULL or its "
                                              "default"),
              "define it on the target as the same GENERATED ALWAYS AS (...) STORED column");
        }
        if (tc != nullptr) source_order.push_back(c.name);
        continue;
      }
      if (tc == nullptr) {
        Add("column_missing", Severity::kBlocking, object,
            "column " + IdentForDisplay(c.name) + " " + c.type +
                " is missing on the target: the subscriber stops at the table with \"is missing "
                "replicated column\"",
            "ALTER TABLE " + t.qualified + " ADD COLUMN " + IdentForDisplay(c.name) + " " + c.type +
                "; on the target");
        continue;
      }
      source_order.push_back(c.name);
      if (tc->generated) {
        Add("column_missing", Severity::kBlocking, object,
            "is a generated column on the target: the subscriber cannot write the source's "
            "values into it (\"is missing replicated column\")",
            "make it a plain " + c.type + " column on the target");
      } else {
        PGPARITY_RETURN_IF_ERROR(CheckColumnType(t, c, *tc, object));
      }
    }
    CheckTargetOnlyColumns(s, t, source_order);
    return Status::OK();
  }

  // A type change by its class (type_change.h, docs/types.md): widening is
  // fine, a conversion is a risk to know, anything else breaks the apply.
  Status CheckColumnType(const Table& t, const Column& c, const Column& tc,
                         const std::string& object) {
    const TypeChange change = ClassifyTypeChange(c.type, tc.type);
    const std::string types = "source " + c.type + ", target " + tc.type;
    switch (change.change_class) {
      case TypeChangeClass::kSame:
        return Status::OK();
      case TypeChangeClass::kExact:
        Add("column_type", Severity::kInfo, object,
            "type widened (" + types +
                "): the values round-trip exactly and verify compares them as equal");
        return Status::OK();
      case TypeChangeClass::kConversion:
        return CheckConversion(t, c, tc, change, object);
      case TypeChangeClass::kIncompatible:
        break;
    }
    Add("column_type", Severity::kBlocking, object, "type differs: " + types,
        "ALTER TABLE " + t.qualified + " ALTER COLUMN " + IdentForDisplay(c.name) + " TYPE " +
            c.type + "; on the target");
    return Status::OK();
  }

  Status CheckConversion(const Table& t, const Column& c, const Column& tc,
                         const TypeChange& change, const std::string& object) {
    std::string detail =
        "type converted (source " + c.type + ", target " + tc.type + "): " + change.risk + "; ";
    std::string fix = "fine if intended; otherwise ALTER TABLE " + t.qualified + " ALTER COLUMN " +
                      IdentForDisplay(c.name) + " TYPE " + c.type + "; on the target";
    switch (change.rule) {
      case CompareRule::kAtTimeZone: {
        PGPARITY_ASSIGN_OR_RETURN(const std::string source_tz, src_.DefaultTimeZone());
        PGPARITY_ASSIGN_OR_RETURN(const std::string target_tz, tgt_.DefaultTimeZone());
        detail += "compared as the same instant in the source's TimeZone " + source_tz;
        if (source_tz != target_tz) {
          detail += "; the target's TimeZone is " + target_tz + ", not " + source_tz +
                    (c.type.ends_with(" with time zone")
                         ? ": the target keeps the source's wall-clock times, which sessions "
                           "there read as other instants"
                         : ": the apply worker reads the source's wall-clock times in " +
                               target_tz + ", so it shifts every instant");
          fix = "give the target the source's TimeZone (ALTER SYSTEM SET TimeZone = " +
                QuoteStandardLiteral(source_tz) +
                "; SELECT pg_reload_conf(); on the target) before the " + "copy, or keep " +
                c.type + " there";
        }
        break;
      }
      case CompareRule::kCastToSource:
        detail += "compared after casting back to " + c.type;
        break;
      case CompareRule::kNotCompared:
        detail += "not compared by verify (the column is reported unverified)";
        break;
      case CompareRule::kText:
        detail += "compared as text";
        break;
    }
    Add("column_type", Severity::kWarning, object, detail, fix);
    return Status::OK();
  }

  void CheckTargetOnlyColumns(const Table& s, const Table& t,
                              const std::vector<std::string>& source_order) {
    std::vector<std::string> target_order;
    for (const auto& c : t.columns) {
      if (s.Find(c.name) != nullptr) {
        target_order.push_back(c.name);
        continue;
      }
      if (c.generated) continue;  // computed on the target: fine
      const std::string object = t.qualified + "." + IdentForDisplay(c.name);
      if (c.not_null && !c.has_default) {
        Add("column_extra", Severity::kBlocking, object,
            "exists only on the target and is NOT NULL without a default: every replicated "
            "INSERT into the table fails",
            "ALTER TABLE " + t.qualified + " ALTER COLUMN " + IdentForDisplay(c.name) +
                " DROP NOT NULL (or SET DEFAULT ...); on the target, or drop the column");
      } else if (c.has_default && s.replident == 'f' && TargetKey(t).empty()) {
        // Without a key the subscriber finds a row by comparing every
        // column with the old row the source sent, which has NULL here.
        Add("column_extra", Severity::kBlocking, object,
            "exists only on the target with a default, in a table the subscriber finds rows of "
            "by comparing every column (REPLICA IDENTITY FULL, no key on the target): the "
            "default never equals the source's missing value, so every replicated UPDATE and "
            "DELETE silently misses its row",
            "ALTER TABLE " + t.qualified + " ALTER COLUMN " + IdentForDisplay(c.name) +
                " DROP DEFAULT; on the target (rows then get NULL), give the table a primary "
                "key on both sides, or drop the column");
      } else {
        Add("column_extra", Severity::kWarning, object,
            "exists only on the target: rows get " +
                std::string(c.has_default ? "its default" : "NULL") + ", never a source value",
            "fine if intended; otherwise drop it on the target or add it on the source");
      }
    }
    if (source_order != target_order) {
      std::vector<std::string> sq, tq;
      for (const auto& n : source_order) sq.push_back(IdentForDisplay(n));
      for (const auto& n : target_order) tq.push_back(IdentForDisplay(n));
      Add("column_order", Severity::kInfo, t.qualified,
          "columns in another order (source: " + Join(sq) + "; target: " + Join(tq) +
              "): replication matches them by name, but INSERT or COPY without a column list "
              "does not");
    }
  }

  void CheckTargetKey(const Table& s, const Table& t) {
    const std::vector<std::string> source_key = SourceKey(s);
    const std::vector<std::string> target_key = TargetKey(t);
    auto quoted = [](const std::vector<std::string>& names) {
      std::vector<std::string> q;
      for (const auto& n : names) q.push_back(IdentForDisplay(n));
      return Join(q);
    };
    if (target_key.empty()) {
      if (s.replident == 'f') return;  // the subscriber compares whole rows
      Add("target_identity", Severity::kBlocking, t.qualified,
          "no primary key or replica identity index on the target while the source sends only "
          "its key (" +
              quoted(source_key) +
              "): every replicated UPDATE and DELETE fails (\"publisher did not send replica "
              "identity column expected by the logical replication target relation\")",
          "ALTER TABLE " + t.qualified + " ADD PRIMARY KEY (" + quoted(source_key) +
              "); on the target");
      return;
    }
    std::vector<std::string> uncovered;
    for (const auto& n : target_key) {
      if (std::find(source_key.begin(), source_key.end(), n) == source_key.end()) {
        uncovered.push_back(n);
      }
    }
    if (!uncovered.empty()) {
      Add("target_identity", Severity::kBlocking, t.qualified,
          "the target finds rows by (" + quoted(target_key) +
              ") but the source's replica identity sends only (" + quoted(source_key) + "), not " +
              quoted(uncovered) + ": every replicated UPDATE and DELETE fails",
          "give the target the same primary key or replica identity as the source");
    }
  }

  // Before the subscription exists: rows already on the target would be
  // copied a second time.
  Status CheckEmpty(const Table& t) {
    Result<QueryResult> r =
        tgt_.Query("a published table", "SELECT EXISTS (SELECT 1 FROM " + t.qualified + ")");
    if (!r.ok()) {
      if (r.status().code() == Status::Code::kUnavailable) return r.status();
      Add("target_not_empty", Severity::kInfo, t.qualified,
          "could not check whether it is empty: " + Str(r.status().message()));
      return Status::OK();
    }
    if (ToBool(r->Value(0, 0))) {
      Add("target_not_empty", Severity::kWarning, t.qualified,
          "has rows on the target before the subscription exists: the initial copy adds the "
          "source's rows to them (duplicates, or a stop on a unique key)",
          "TRUNCATE " + t.qualified +
              "; on the target first, or CREATE SUBSCRIPTION ... WITH (copy_data = false) if it "
              "already holds the source's data");
    }
    return Status::OK();
  }

  Status CheckNotReplicated() {
    for (const auto& [key, t] : src_tables_) {
      if (t.persistence != 'u') continue;
      Add("unlogged_table", Severity::kWarning, t.qualified,
          "UNLOGGED: its changes are not in the WAL, so it is never replicated",
          "ALTER TABLE " + t.qualified +
              " SET LOGGED; on the source if the target needs it (then it is published), or "
              "copy it at cutover");
    }
    PGPARITY_ASSIGN_OR_RETURN(
        QueryResult temp,
        src_.Query("temporary tables",
                   "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN "
                   "pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND "
                   "c.relpersistence = 't' ORDER BY 1"));
    for (int r = 0; r < temp.rows(); ++r) {
      Add("temp_table", Severity::kWarning, Str(temp.Value(r, 0)),
          "a session's TEMPORARY table: never replicated",
          "nothing to do unless the application expects it on the target");
    }
    PGPARITY_ASSIGN_OR_RETURN(
        QueryResult lo,
        src_.Query("pg_largeobject_metadata", "SELECT count(*) FROM pg_largeobject_metadata"));
    if (const int64_t n = ToInt(lo.Value(0, 0)); n > 0) {
      Add("large_objects", Severity::kWarning, "source large objects",
          Count(n, "large object", "large objects") +
              ": logical replication does not carry large objects",
          "copy them at cutover (pg_dump --data-only --large-objects SOURCE | psql TARGET), or "
          "move them into bytea columns");
    }
    return Status::OK();
  }

  Status CheckTransactions() {
    for (Db* db : {&src_, &tgt_}) {
      PGPARITY_ASSIGN_OR_RETURN(
          QueryResult p,
          db->Query("pg_prepared_xacts",
                    "SELECT gid, date_trunc('second', prepared)::text, owner, database "
                    "FROM pg_prepared_xacts ORDER BY prepared"));
      for (int r = 0; r < p.rows(); ++r) {
        const std::string gid = Str(p.Value(r, 0));
        Add("prepared_transaction", Severity::kWarning,
            db->side() + " prepared transaction " + QuoteStandardLiteral(gid),
            "prepared at " + Str(p.Value(r, 1)) + " by " + Str(p.Value(r, 2)) + " in database " +
                Str(p.Value(r, 3)) +
                (db == &src_ ? ": creating a replication slot waits until it ends, and it holds "
                               "back WAL and vacuum"
                             : ": it holds locks that can block the apply worker"),
            "COMMIT PREPARED " + QuoteStandardLiteral(gid) + "; or ROLLBACK PREPARED " +
                QuoteStandardLiteral(gid) + "; in database " + Str(p.Value(r, 3)) + " on the " +
                db->side());
      }
      PGPARITY_ASSIGN_OR_RETURN(
          QueryResult v,
          db->Query("the role's rights",
                    "SELECT current_user, rolsuper OR pg_has_role(current_user, "
                    "'pg_read_all_stats', 'USAGE') FROM pg_roles WHERE rolname = current_user"));
      if (v.rows() == 1 && !ToBool(v.Value(0, 1))) {
        Add("visibility", Severity::kWarning, db->side() + " role " + Str(v.Value(0, 0)),
            "cannot see other roles' sessions: long-running transactions and the counts of WAL "
            "senders and workers may be incomplete",
            "GRANT pg_monitor TO " + IdentForDisplay(v.Value(0, 0)) + "; on the " + db->side() +
                ", or run the preflight as a superuser");
      }
    }
    PGPARITY_ASSIGN_OR_RETURN(
        QueryResult t,
        src_.Query("pg_stat_activity",
                   "SELECT pid, coalesce(usename::text, ''), coalesce(datname::text, ''), "
                   "coalesce(state, ''), date_trunc('second', now() - xact_start)::text, "
                   "backend_xid IS NOT NULL, left(regexp_replace(coalesce(query, ''), '\\s+', ' ', "
                   "'g'), 80) FROM pg_stat_activity WHERE backend_type = 'client backend' AND "
                   "pid <> pg_backend_pid() AND xact_start < now() - make_interval(secs => $1) "
                   "ORDER BY xact_start",
                   {std::to_string(options_.long_transaction.count())}));
    for (int r = 0; r < t.rows(); ++r) {
      const std::string pid = Str(t.Value(r, 0));
      Add("long_transaction", Severity::kWarning, "source backend " + pid,
          "transaction open for " + Str(t.Value(r, 4)) + " (user " + Str(t.Value(r, 1)) +
              ", database " + Str(t.Value(r, 2)) + ", " + Str(t.Value(r, 3)) +
              (ToBool(t.Value(r, 5)) ? ", has written" : "") + "; query: " + Str(t.Value(r, 6)) +
              "): creating a replication slot waits until transactions like it end",
          "let it finish, or end it: SELECT pg_terminate_backend(" + pid + "); on the source");
    }
    return Status::OK();
  }

  Status CheckSequences() {
    const std::string sql =
        "SELECT schemaname, sequencename, format('%I.%I', schemaname, sequencename), last_value, "
        "has_sequence_privilege(format('%I.%I', schemaname, sequencename), 'SELECT,USAGE') "
        "FROM pg_sequences ORDER BY 1, 2";
    PGPARITY_ASSIGN_OR_RETURN(QueryResult s, src_.Query("pg_sequences", sql));
    PGPARITY_ASSIGN_OR_RETURN(QueryResult t, tgt_.Query("pg_sequences", sql));
    struct Value {
      std::optional<int64_t> last;
      bool readable = false;
    };
    std::map<TableKey, Value> target;
    for (int r = 0; r < t.rows(); ++r) {
      Value v;
      if (!t.IsNull(r, 3)) v.last = ToInt(t.Value(r, 3));
      v.readable = ToBool(t.Value(r, 4));
      target[{Str(t.Value(r, 0)), Str(t.Value(r, 1))}] = v;
    }
    for (int r = 0; r < s.rows(); ++r) {
      const std::string name = Str(s.Value(r, 2));
      const std::string object = "sequence " + name;
      const bool src_readable = ToBool(s.Value(r, 4));
      std::optional<int64_t> src_last;
      if (!s.IsNull(r, 3)) src_last = ToInt(s.Value(r, 3));
      auto it = target.find({Str(s.Value(r, 0)), Str(s.Value(r, 1))});
      if (it == target.end()) {
        Add("sequence", Severity::kWarning, object,
            "missing on the target (source last_value " +
                (src_last ? std::to_string(*src_last) : std::string("unused")) + ")",
            "create it on the target (pg_dump --schema-only), then setval it before cutover");
        continue;
      }
      if (!src_readable || !it->second.readable) {
        Add("sequence", Severity::kWarning, object,
            "last_value not readable on the " + std::string(!src_readable ? "source" : "target") +
                " (no SELECT or USAGE right)",
            "run the preflight as the sequence's owner or a superuser");
        continue;
      }
      const std::optional<int64_t> tgt_last = it->second.last;
      auto show = [](const std::optional<int64_t>& v) {
        return v ? std::to_string(*v) : std::string("unused");
      };
      const std::string values =
          "source last_value " + show(src_last) + ", target " + show(tgt_last);
      if (src_last && (!tgt_last || *tgt_last < *src_last)) {
        Add("sequence", Severity::kWarning, object,
            values + ": sequences are not replicated, the target would hand out used values",
            "at cutover, after the source stopped writing: SELECT setval(" +
                QuoteStandardLiteral(name) + ", <source last_value>); on the target (now " +
                std::to_string(*src_last) + ")");
      } else {
        Add("sequence", Severity::kInfo, object, values);
      }
    }
    return Status::OK();
  }

  Status CheckSubscription() {
    if (!sub_) {
      Add("subscription", Severity::kInfo, "subscription my_subscription",
          "not on the target: the checks of a running subscription are skipped",
          "after CREATE SUBSCRIPTION, run the preflight again to check it");
      return Status::OK();
    }
    const Subscription& sub = *sub_;
    const std::string object = "subscription " + sub.name;
    if (!sub.enabled) {
      Add("subscription", Severity::kBlocking, object,
          "disabled: nothing is copied or applied, and its slot keeps WAL on the source",
          "ALTER SUBSCRIPTION " + IdentForDisplay(sub.name) + " ENABLE; on the target");
    } else {
      PGPARITY_ASSIGN_OR_RETURN(
          QueryResult w,
          tgt_.Query("pg_stat_subscription",
                     "SELECT count(*) FROM pg_stat_subscription WHERE subid = $1::oid AND pid IS "
                     "NOT NULL AND relid IS NULL",
                     {sub.oid}));
      if (ToInt(w.Value(0, 0)) == 0) {
        Add("subscription", Severity::kWarning, object,
            "enabled, but no apply worker is running (starting, or failing and restarting)",
            "read the target's server log for the apply worker's error");
      } else {
        Add("subscription", Severity::kInfo, object,
            "enabled, apply worker running, publications: " + sub.publications);
      }
    }
    if (!sub.has_publication) {
      Add("subscription", Severity::kWarning, object,
          "subscribes to " + sub.publications + ", not to " + options_.publication +
              ": the tables checked here may not be the ones it replicates",
          "pass --publication with the subscription's publication, or ALTER SUBSCRIPTION " +
              IdentForDisplay(sub.name) + " SET PUBLICATION " +
              IdentForDisplay(options_.publication));
    }
    if (tgt_.version() >= 150000) {
      PGPARITY_ASSIGN_OR_RETURN(
          QueryResult e,
          tgt_.Query("pg_stat_subscription_stats",
                     "SELECT apply_error_count, sync_error_count FROM pg_stat_subscription_stats "
                     "WHERE subid = $1::oid",
                     {sub.oid}));
      if (e.rows() == 1 && (ToInt(e.Value(0, 0)) > 0 || ToInt(e.Value(0, 1)) > 0)) {
        Add("subscription", Severity::kWarning, object,
            Count(ToInt(e.Value(0, 0)), "apply error", "apply errors") + " and " +
                Count(ToInt(e.Value(0, 1)), "table copy error", "table copy errors") +
                " since the statistics were reset",
            "read the target's server log; SELECT pg_stat_reset_subscription_stats(" + sub.oid +
                ") once fixed");
      }
    }
    for (const auto& [key, state] : sub.states) {
      if (state == 'r') continue;
      Add("subscription_table", Severity::kInfo, sub.qualified.at(key),
          "still copying (state " + SubStateName(state) + ")");
    }
    if (sub.has_publication) CheckNotSubscribed(sub);
    CheckSubscriptionSlot(sub);
    return Status::OK();
  }

  // Tables published after CREATE SUBSCRIPTION (or its last REFRESH), e.g.
  // created on the source since: the subscriber skips their changes.
  void CheckNotSubscribed(const Subscription& sub) {
    const std::string refresh =
        "ALTER SUBSCRIPTION " + IdentForDisplay(sub.name) + " REFRESH PUBLICATION; on the target";
    for (const auto& key : published_) {
      if (sub.states.contains(key)) continue;
      auto st = src_tables_.find(key);
      const std::string name = st != src_tables_.end()
                                   ? st->second.qualified
                                   : IdentForDisplay(key.first) + "." + IdentForDisplay(key.second);
      const bool on_target = tgt_tables_.contains(key);
      Add("subscription_table", Severity::kWarning, name,
          "published, but not subscribed (created or published on the source after the "
          "subscription was created or last refreshed): its rows are not copied and its "
          "changes not applied",
          on_target ? refresh : "create it on the target (see table_missing), then " + refresh);
    }
  }

  void CheckSubscriptionSlot(const Subscription& sub) {
    if (!sub.slot) {
      Add("subscription_slot", Severity::kWarning, "subscription " + sub.name,
          "has slot_name = NONE: it cannot be enabled",
          "ALTER SUBSCRIPTION " + IdentForDisplay(sub.name) +
              " SET (slot_name = '...') with a slot on the "
              "source");
      return;
    }
    const std::string object = "source slot " + *sub.slot;
    auto it = std::find_if(slots_.begin(), slots_.end(),
                           [&](const Slot& s) { return s.name == *sub.slot; });
    if (it == slots_.end()) {
      Add("subscription_slot", Severity::kBlocking, object,
          "the subscription's slot does not exist on the source: nothing can be streamed",
          "recreate the subscription (DROP SUBSCRIPTION after ALTER SUBSCRIPTION ... SET "
          "(slot_name = NONE); then CREATE SUBSCRIPTION copies every table again)");
      return;
    }
    const Slot& s = *it;
    if (s.wal_status == "lost") {
      Add("subscription_slot", Severity::kBlocking, object,
          "invalidated (wal_status lost): the source removed WAL it still needed, changes are "
          "missing on the target",
          "recreate the subscription on emptied target tables (the copy starts over); raise "
          "max_slot_wal_keep_size on the source");
      return;
    }
    std::string detail = std::string(s.active ? "active" : "not active") + ", lag " +
                         (s.lag.empty() ? std::string("unknown") : s.lag) + ", retains " +
                         s.retained + " of WAL";
    if (!s.wal_status.empty()) detail += " (wal_status " + s.wal_status + ")";
    if (s.wal_status == "unreserved") {
      Add("subscription_slot", Severity::kWarning, object,
          detail + ": about to be invalidated by max_slot_wal_keep_size",
          "make the subscription catch up now, or raise max_slot_wal_keep_size on the source");
    } else if (!s.active) {
      Add("subscription_slot", Severity::kWarning, object, detail + ": no WAL sender streams it",
          "check the subscription is enabled and its apply worker is not failing (target's log)");
    } else {
      Add("subscription_slot", Severity::kInfo, object, detail);
    }
  }

  void CheckSlots() {
    for (const auto& s : slots_) {
      if (IsSubscriptionSlot(s)) {
        if (sub_ && sub_->slot && s.name != *sub_->slot) {
          Add("slot", Severity::kInfo, "source slot " + s.name,
              "tablesync slot of " + sub_->name + ", retains " + s.retained + " of WAL");
        }
        continue;
      }
      const std::string object = "source slot " + s.name;
      const std::string kind =
          s.type == "logical" ? "logical (" + s.plugin + ", database " + s.database + ")" : s.type;
      const std::string drop = "SELECT pg_drop_replication_slot(" + QuoteStandardLiteral(s.name) +
                               "); on the source if nothing uses it any more";
      if (s.wal_status == "lost") {
        Add("slot", Severity::kWarning, object, kind + ", invalidated (wal_status lost): unusable",
            drop);
      } else if (!s.active) {
        Add("slot", Severity::kWarning, object,
            kind + ", not active, retains " + s.retained +
                " of WAL: a slot nobody reads keeps WAL until the source's disk fills",
            drop);
      } else {
        Add("slot", Severity::kInfo, object, kind + ", active, retains " + s.retained + " of WAL");
      }
    }
  }

  Db src_;
  Db tgt_;
  PreflightOptions options_;
  PreflightReport report_;

  std::string src_wal_level_;
  int64_t src_max_slots_ = 0;
  int64_t src_max_wal_senders_ = 0;
  int64_t tgt_max_workers_ = 0;
  int64_t tgt_max_worker_processes_ = 0;
  int64_t tgt_max_slots_ = 0;
  int64_t tgt_max_sync_ = 2;

  bool pub_all_tables_ = false;
  bool pub_insert_ = false;
  bool pub_update_ = false;
  bool pub_delete_ = false;
  bool pub_truncate_ = false;
  bool pub_via_root_ = false;  // publish_via_partition_root
  std::vector<TableKey> published_;

  std::optional<Subscription> sub_;
  Tables src_tables_;
  Tables tgt_tables_;
  std::vector<Slot> slots_;
};

}  // namespace

Preflight::Preflight(conn::PgSession& source, conn::PgSession& target, PreflightOptions options)
    : source_(source), target_(target), options_(std::move(options)) {}

Result<PreflightReport> Preflight::Run() {
  Checker checker(source_, target_, options_);
  return checker.Run();
}

}  // namespace pgparity::applier
