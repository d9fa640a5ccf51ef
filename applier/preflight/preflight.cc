// The preflight's checks: each a small function over the Model, which the
// catalog module (catalog.h) read from both sides before the first check.
// A check adds findings in a fixed order, the report's.
#include "pgparity/applier/preflight.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pgparity/applier/publication.h"
#include "pgparity/applier/relations.h"
#include "pgparity/applier/replication_origins.h"
#include "pgparity/applier/replication_slots.h"
#include "pgparity/applier/sequences.h"
#include "pgparity/applier/server_activity.h"
#include "pgparity/applier/server_defaults.h"
#include "pgparity/applier/server_settings.h"
#include "pgparity/applier/subscription.h"
#include "pgparity/applier/type_change.h"
#include "pgparity/sql_quote.h"

namespace pgparity::applier {

using enum Severity;

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case kBlocking:
      return "blocking";
    case kWarning:
      return "warning";
    case kInfo:
      return "info";
  }
  return "info";
}

int PreflightReport::Count(Severity severity) const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(),
                                        [&](const Finding& f) { return f.severity == severity; }));
}

namespace {

// "1 slot", "3 slots".
std::string Count(int64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

int64_t Size(const auto& container) { return static_cast<int64_t>(container.size()); }

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// "a, b, c" or, past five, "a, b, c, d, e and 7 more".
std::string Names(const std::vector<std::string>& names) {
  constexpr size_t kMax = 5;
  if (names.size() <= kMax) return Join(names);
  return Join(std::vector<std::string>(names.begin(), names.begin() + kMax)) + " and " +
         std::to_string(names.size() - kMax) + " more";
}

// Names as a person writes them, joined.
std::string Idents(const std::vector<std::string>& names) {
  std::vector<std::string> shown;
  for (const auto& n : names) shown.push_back(IdentForDisplay(n));
  return Join(shown);
}

// One side of the migration: its session, and its name in errors.
class Side {
 public:
  Side(conn::PgSession& session, std::string name) : session_(session), name_(std::move(name)) {}

  // read(session), a catalog read on this side; its error reworded to say
  // what was read where and, for a missing right, which role can read it.
  template <typename ReadFn>
  std::invoke_result_t<ReadFn, conn::PgSession&> Read(std::string_view what, ReadFn read) const {
    auto result = read(session_);
    if (result.ok()) return result;
    const Status& s = result.status();
    std::string message =
        "reading " + std::string(what) + " on the " + name_ + ": " + std::string(s.message());
    if (s.code() == Status::Code::kPermissionDenied) {
      message += " — run pgparity preflight as a superuser or as a member of pg_monitor";
    }
    return s.WithMessage(message);
  }

  // Read-only and bounded: nothing this session runs can change the
  // server, wait on a lock for long, or run forever.
  Status Prepare(std::chrono::seconds statement_timeout) {
    const std::string timeout = std::to_string(statement_timeout.count() * 1000);
    Status s = session_.Exec(
        "SET default_transaction_read_only = on; SET statement_timeout = " + timeout +
        "; SET lock_timeout = 5000; SET idle_in_transaction_session_timeout = " + timeout);
    return s.WithMessage("preparing the " + name_ +
                         " session (read-only, timeouts): " + std::string(s.message()));
  }

  // The TimeZone a new session gets here, what the subscription's workers
  // run with and verify compares the source's timestamps in: read on first
  // use (a second connection).
  Result<std::string> DefaultTimeZone() {
    if (timezone_) return *timezone_;
    Result<std::string> tz = ReadDefaultTimeZone(session_, name_);
    if (!tz.ok()) {
      return tz.status().WithMessage("reading the " + name_ +
                                     "'s default TimeZone: " + std::string(tz.status().message()));
    }
    return *(timezone_ = *tz);
  }

  const std::string& name() const { return name_; }
  const std::string& endpoint() const { return session_.endpoint(); }

 private:
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
  std::vector<SequenceState> sequences;
};

// What the checks look at, read from both sides before the first check.
struct Model {
  SideModel source;
  SideModel target;
  Publication publication;
  std::vector<SubscriptionInfo> subscriptions;  // every one of the target's server
  std::optional<SubscriptionInfo> sub;          // the one checked, in the target's database
  std::map<RelationName, SubscriptionTable> subscribed;  // its tables
  SubscriptionActivity activity;                         // its workers
  std::vector<ReplicationSlot> slots;                    // the source's
  std::vector<std::string> origins;                      // the target's
  std::vector<std::string> temporary_tables;             // the source's
  int64_t large_objects = 0;                             // the source's

  bool OwnsSlot(const ReplicationSlot& slot) const { return sub && sub->OwnsSlot(slot.name); }
};

// What every check gets, and where its findings go (in the report's order).
struct Checks {
  Side& source;
  Side& target;
  const PreflightOptions& options;
  const Model& m;
  std::vector<Finding> findings;

  void Add(std::string_view check, Severity severity, std::string object, std::string detail,
           std::string fix = {}) {
    findings.push_back(
        {std::string(check), severity, std::move(object), std::move(detail), std::move(fix)});
  }
  int64_t Blocking() const { return std::ranges::count(findings, kBlocking, &Finding::severity); }
};

Result<SideModel> LoadSide(const Side& side) {
  SideModel m;
  PGPARITY_ASSIGN_OR_RETURN(m.settings, side.Read("settings", ReadServerSettings));
  PGPARITY_ASSIGN_OR_RETURN(m.tables, side.Read("the tables' columns", ReadRelations));
  PGPARITY_ASSIGN_OR_RETURN(m.sessions, side.Read("pg_stat_activity", ReadSessions));
  PGPARITY_ASSIGN_OR_RETURN(m.prepared, side.Read("pg_prepared_xacts", ReadPreparedTransactions));
  PGPARITY_ASSIGN_OR_RETURN(m.role, side.Read("the role's rights", ReadSessionRole));
  PGPARITY_ASSIGN_OR_RETURN(m.sequences, side.Read("pg_sequences", ReadSequences));
  return m;
}

// "it has: a, b" or "it has none", for an unknown name's error.
std::string Existing(const std::vector<std::string>& names) {
  return names.empty() ? std::string("it has none") : "it has: " + Join(names);
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

// The subscription checked: the one named, else my_subscription when it
// exists (none: the checks of a running subscription are skipped).
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
  return m;
}

void CheckVersions(Checks& c) {
  const std::tuple<const char*, const ServerSettings*, int> sides[] = {
      {"source", &c.m.source.settings, 14}, {"target", &c.m.target.settings, 16}};
  for (const auto& [side, settings, major] : sides) {
    const std::string version = "PostgreSQL " + settings->version;
    if (settings->version_num / 10000 == major) {
      c.Add("server_version", kInfo, side, version);
    } else {
      c.Add("server_version", kWarning, side,
            version + ", not " + std::to_string(major) +
                ": pgparity is built and tested for PostgreSQL 14 -> 16",
            "expect differences in what the checks report");
    }
  }
}

void CheckWalLevel(Checks& c) {
  const std::string& level = c.m.source.settings.wal_level;
  if (level == "logical") {
    c.Add("wal_level", kInfo, "source wal_level", "logical");
  } else {
    c.Add("wal_level", kBlocking, "source wal_level",
          "is " + level +
              ": the source cannot decode its WAL, so no subscription or pgparity slot can "
              "be created",
          "ALTER SYSTEM SET wal_level = logical; on the source, then restart it");
  }
}

// One budget of the migration: a setting of one side, what is used of it,
// and what the migration needs of it (the others' share plus its own).
struct Budget {
  const char* side;
  const char* setting;
  int64_t used;
  int64_t needed;
  std::string parts;  // what `needed` adds up from
  int64_t available;
  int64_t suggested;     // what the fix sets it to
  const char* fix_tail;  // after "...; on the <side> and restart it"
};

void AddBudget(Checks& c, const Budget& b) {
  const std::string object = std::string(b.side) + " " + b.setting;
  const std::string detail = "used " + std::to_string(b.used) + ", needed " +
                             std::to_string(b.needed) + " (" + b.parts + "), available " +
                             std::to_string(b.available);
  if (b.needed <= b.available) {
    c.Add("capacity", kInfo, object, detail);
    return;
  }
  c.Add("capacity", kBlocking, object, detail + ": too few",
        "ALTER SYSTEM SET " + std::string(b.setting) + " = " + std::to_string(b.suggested) +
            "; on the " + b.side + " and restart it" + b.fix_tail);
}

// Published tables the subscription still has to copy (all of them
// before it exists).
int64_t TablesToCopy(const Model& m) {
  if (!m.sub) return Size(m.publication.tables);
  int64_t n = 0;
  for (const auto& [table, s] : m.subscribed) n += s.state != 'r';
  for (const auto& table : m.publication.tables) n += !m.subscribed.contains(table);
  return n;
}

// Slots and WAL senders on the source; apply and tablesync workers, the
// processes they are, and their replication origins on the target.
void CheckCapacity(Checks& c) {
  const Model& m = c.m;
  const SubscriptionInfo* sub = m.sub ? &*m.sub : nullptr;
  const int64_t sync =
      std::min(m.target.settings.max_sync_workers_per_subscription, TablesToCopy(m));
  const std::string sync_part = std::to_string(sync) + " tablesync" +
                                (sync == 0 ? " (initial copy done)" : " during the initial copy");
  const int64_t slots = Size(m.slots);
  const int64_t other_slots =
      slots - std::ranges::count_if(m.slots, [&](const auto& s) { return m.OwnsSlot(s); });
  int64_t senders = 0, other_senders = 0, workers = 0, processes = 0, other_subs = 0;
  for (const ServerSession& s : m.source.sessions) {
    if (s.backend_type != "walsender") continue;
    ++senders;
    other_senders += !sub || (s.application_name != sub->name &&
                              !s.application_name.starts_with(sub->sync_prefix()));
  }
  for (const ServerSession& s : m.target.sessions) {
    const bool replication = s.backend_type.starts_with("logical replication");
    workers += replication && s.backend_type != "logical replication launcher";
    processes += replication || s.backend_type == "parallel worker";
  }
  for (const SubscriptionInfo& s : m.subscriptions) {
    other_subs += s.enabled && (!sub || s.oid != sub->oid);
  }
  const int64_t other_origins = std::ranges::count_if(
      m.origins, [&](const std::string& o) { return !sub || !sub->OwnsOrigin(o); });
  const std::string ours = " other + 1 subscription + " + sync_part;
  const int64_t needed_workers = other_subs + 1 + sync;
  const Budget budgets[] = {
      {"source", "max_replication_slots", slots, other_slots + 1 + sync + 1,
       std::to_string(other_slots) + ours + " + 1 pgparity",
       m.source.settings.max_replication_slots, other_slots + 1 + sync + 1,
       ", or drop unused slots"},
      {"source", "max_wal_senders", senders, other_senders + 1 + sync + 1,
       std::to_string(other_senders) + ours + " + 1 pgparity", m.source.settings.max_wal_senders,
       other_senders + 1 + sync + 1, ""},
      {"target", "max_logical_replication_workers", workers, needed_workers,
       std::to_string(other_subs) + " other subscriptions' apply workers + 1 apply + " + sync_part,
       m.target.settings.max_logical_replication_workers, needed_workers, ""},
      {"target", "max_worker_processes", processes, needed_workers + 1,
       Count(needed_workers, "logical replication worker", "logical replication workers") +
           " + 1 launcher, plus what parallel queries and extensions use",
       m.target.settings.max_worker_processes, needed_workers + 1 + 8, ""},
      {"target", "max_replication_slots", Size(m.origins), other_origins + 1 + sync,
       "replication origins: " + std::to_string(other_origins) + ours,
       m.target.settings.max_replication_slots, other_origins + 1 + sync,
       " (the subscriber's origins count against it)"},
  };
  for (const Budget& b : budgets) AddBudget(c, b);
}

void CheckPublication(Checks& c) {
  const Publication& p = c.m.publication;
  const std::pair<const char*, bool> actions[] = {{"insert", p.publish_insert},
                                                  {"update", p.publish_update},
                                                  {"delete", p.publish_delete},
                                                  {"truncate", p.publish_truncate}};
  std::vector<std::string> published, missing;
  for (const auto& [action, on] : actions) {
    if (on) {
      published.push_back(action);
    } else if (std::string_view(action) != "truncate") {
      missing.push_back(action);
    }
  }
  const std::string object = "publication " + c.options.publication;
  const std::string alter = "ALTER PUBLICATION " + IdentForDisplay(c.options.publication);
  c.Add("publication", kInfo, object,
        std::string(p.all_tables ? "FOR ALL TABLES" : "a list of tables") + ", publishes " +
            (published.empty() ? std::string("nothing") : Join(published)) + "; " +
            Count(Size(p.tables), "table", "tables"));
  if (p.tables.empty()) {
    c.Add("publication", kWarning, object, "publishes no table: nothing would be replicated",
          alter + " ADD TABLE ... on the source");
  }
  if (!missing.empty()) {
    c.Add("publication", kWarning, object,
          "does not publish " + Join(missing) + ": those changes never reach the target",
          alter +
              " SET (publish = 'insert, update, delete, truncate'); on the source, unless "
              "intended");
  }
}

// publish_via_partition_root decides under which names partitions'
// changes arrive, so which tables the target needs.
void CheckPartitions(Checks& c) {
  std::vector<std::string> roots, leaves, parents;
  for (const RelationName& name : c.m.publication.tables) {
    auto it = c.m.source.tables.find(name);
    if (it == c.m.source.tables.end()) continue;
    const Relation& t = it->second;
    if (t.relkind == 'p') roots.push_back(t.qualified);
    if (!t.root) continue;
    leaves.push_back(t.qualified);
    const std::string& parent = c.m.source.tables.at(*t.root).qualified;
    if (std::ranges::find(parents, parent) == parents.end()) parents.push_back(parent);
  }
  if (roots.empty() && leaves.empty()) return;
  std::string detail =
      "publish_via_partition_root = " + std::string(c.m.publication.via_root ? "true" : "false");
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
  c.Add("partitions", kInfo, "publication " + c.options.publication, detail);
}

// UPDATE and DELETE fail on the source in a partition without a replica
// identity; a partitioned root published as itself also tells the
// subscriber its own key (pgoutput sends the root's relation).
void CheckSourceIdentity(Checks& c, const Relation& s) {
  std::vector<const Relation*> tables = StorageOf(c.m.source.tables, s);
  if (s.relkind == 'p') tables.insert(tables.begin(), &s);
  for (const Relation* t : tables) {
    if (t->HasReplicaIdentity()) continue;
    const std::string why = t->replica_identity == 'n' ? "REPLICA IDENTITY NOTHING"
                            : t->replica_identity == 'i'
                                ? "REPLICA IDENTITY USING INDEX, but the index is gone"
                                : "no primary key and REPLICA IDENTITY DEFAULT";
    const std::string effect =
        t == &s && s.relkind == 'p'
            ? ": published as the partitioned root, it tells the subscriber no key, so every "
              "replicated UPDATE and DELETE fails on the target"
            : std::string(t != &s ? " (a partition of " + s.qualified + ")" : "") +
                  ": once published, every UPDATE and DELETE on it fails on the source (" +
                  Count(t->updates_deletes, "update or delete", "updates and deletes") +
                  " since the statistics were reset)";
    c.Add("replica_identity", kBlocking, t->qualified, why + effect,
          "ALTER TABLE " + t->qualified +
              " ADD PRIMARY KEY (...); or REPLICA IDENTITY USING INDEX <unique index on NOT "
              "NULL columns>; or REPLICA IDENTITY FULL (slower apply); an insert-only table "
              "may stay as it is if the application never updates or deletes its rows");
  }
}

void CheckMissingTable(Checks& c, const Relation& s) {
  std::string detail =
      "published but missing on the target: the initial copy and every change to it fail";
  std::string fix = "create it on the target: pg_dump --schema-only --table=" +
                    QuoteStandardLiteral(s.qualified) + " SOURCE | psql TARGET";
  if (s.root) {
    const std::string& root = c.m.source.tables.at(*s.root).qualified;
    detail += " (a partition of " + root +
              ", published under its own name: publish_via_partition_root is false)";
    fix += ", or publish it as " + root + ": ALTER PUBLICATION " +
           IdentForDisplay(c.options.publication) +
           " SET (publish_via_partition_root = true); on the source";
  }
  c.Add("table_missing", kBlocking, s.qualified, detail, fix);
}

// A type change by its class (type_change.h, docs/types.md): widening is
// fine, a conversion is a risk to know, anything else breaks the apply.
Status CheckColumnType(Checks& c, const Relation& t, const RelationColumn& sc,
                       const RelationColumn& tc, const std::string& object) {
  const TypeChange change = ClassifyTypeChange(sc.type, tc.type);
  const std::string types = "source " + sc.type + ", target " + tc.type;
  const std::string alter =
      "ALTER TABLE " + t.qualified + " ALTER COLUMN " + IdentForDisplay(sc.name) + " TYPE ";
  std::string detail = "type converted (" + types + "): " + change.risk + "; ";
  std::string fix = "fine if intended; otherwise " + alter + sc.type + "; on the target";
  switch (change.change_class) {
    case TypeChangeClass::kSame:
      return Status::OK();
    case TypeChangeClass::kExact:
      c.Add("column_type", kInfo, object,
            "type widened (" + types +
                "): the values round-trip exactly and verify compares them as equal");
      return Status::OK();
    case TypeChangeClass::kIncompatible:
      c.Add("column_type", kBlocking, object, "type differs: " + types,
            alter + sc.type + "; on the target");
      return Status::OK();
    case TypeChangeClass::kConversion:
      break;
  }
  switch (change.rule) {
    case CompareRule::kAtTimeZone: {
      PGPARITY_ASSIGN_OR_RETURN(const std::string source_tz, c.source.DefaultTimeZone());
      PGPARITY_ASSIGN_OR_RETURN(const std::string target_tz, c.target.DefaultTimeZone());
      detail += "compared as the same instant in the source's TimeZone " + source_tz;
      if (source_tz == target_tz) break;
      detail += "; the target's TimeZone is " + target_tz + ", not " + source_tz +
                (sc.type.ends_with(" with time zone")
                     ? ": the target keeps the source's wall-clock times, which sessions there "
                       "read as other instants"
                     : ": the apply worker reads the source's wall-clock times in " + target_tz +
                           ", so it shifts every instant");
      fix = "give the target the source's TimeZone (ALTER SYSTEM SET TimeZone = " +
            QuoteStandardLiteral(source_tz) +
            "; SELECT pg_reload_conf(); on the target) before the copy, or keep " + sc.type +
            " there";
      break;
    }
    case CompareRule::kCastToSource:
      detail += "compared after casting back to " + sc.type;
      break;
    case CompareRule::kNotCompared:
      detail += "not compared by verify (the column is reported unverified)";
      break;
    case CompareRule::kText:
      detail += "compared as text";
      break;
  }
  c.Add("column_type", kWarning, object, detail, fix);
  return Status::OK();
}

// A column only the target has: NULL or its default in every replicated
// row, and no row found without a key when the default stands in.
void CheckTargetOnlyColumn(Checks& c, const Relation& s, const Relation& t,
                           const RelationColumn& col) {
  const std::string object = t.qualified + "." + IdentForDisplay(col.name);
  const std::string alter =
      "ALTER TABLE " + t.qualified + " ALTER COLUMN " + IdentForDisplay(col.name);
  if (col.not_null && !col.has_default) {
    c.Add("column_extra", kBlocking, object,
          "exists only on the target and is NOT NULL without a default: every replicated "
          "INSERT into the table fails",
          alter + " DROP NOT NULL (or SET DEFAULT ...); on the target, or drop the column");
  } else if (col.has_default && s.replica_identity == 'f' && t.LookupKey().empty()) {
    // Without a key the subscriber finds a row by comparing every column
    // with the old row the source sent, which has NULL here.
    c.Add("column_extra", kBlocking, object,
          "exists only on the target with a default, in a table the subscriber finds rows "
          "of by comparing every column (REPLICA IDENTITY FULL, no key on the target): the "
          "default never equals the source's missing value, so every replicated UPDATE "
          "and DELETE silently misses its row",
          alter +
              " DROP DEFAULT; on the target (rows then get NULL), give the table a primary "
              "key on both sides, or drop the column");
  } else {
    c.Add("column_extra", kWarning, object,
          "exists only on the target: rows get " +
              std::string(col.has_default ? "its default" : "NULL") + ", never a source value",
          "fine if intended; otherwise drop it on the target or add it on the source");
  }
}

// One source column against the target's: returns whether the target has
// it (for the column order).
Result<bool> CheckColumn(Checks& c, const Relation& s, const Relation& t,
                         const RelationColumn& sc) {
  const std::string object = s.qualified + "." + IdentForDisplay(sc.name);
  const RelationColumn* tc = t.Find(sc.name);
  if (sc.generated) {
    // PostgreSQL 14 never publishes generated columns.
    if (tc == nullptr || !tc->generated) {
      c.Add("column_generated", kWarning, object,
            "generated on the source, so never published; on the target it is " +
                std::string(tc == nullptr ? "missing"
                                          : "a plain column that gets NULL or its default"),
            "define it on the target as the same GENERATED ALWAYS AS (...) STORED column");
    }
  } else if (tc == nullptr) {
    c.Add("column_missing", kBlocking, object,
          "column " + IdentForDisplay(sc.name) + " " + sc.type +
              " is missing on the target: the subscriber stops at the table with \"is "
              "missing replicated column\"",
          "ALTER TABLE " + t.qualified + " ADD COLUMN " + IdentForDisplay(sc.name) + " " + sc.type +
              "; on the target");
  } else if (tc->generated) {
    c.Add("column_missing", kBlocking, object,
          "is a generated column on the target: the subscriber cannot write the source's "
          "values into it (\"is missing replicated column\")",
          "make it a plain " + sc.type + " column on the target");
  } else {
    PGPARITY_RETURN_IF_ERROR(CheckColumnType(c, t, sc, *tc, object));
  }
  return tc != nullptr;
}

Status CheckColumns(Checks& c, const Relation& s, const Relation& t) {
  std::vector<std::string> source_order, target_order;
  for (const RelationColumn& sc : s.columns) {
    PGPARITY_ASSIGN_OR_RETURN(const bool on_target, CheckColumn(c, s, t, sc));
    if (on_target) source_order.push_back(sc.name);
  }
  for (const RelationColumn& tc : t.columns) {
    if (s.Find(tc.name) != nullptr) {
      target_order.push_back(tc.name);
    } else if (!tc.generated) {  // a generated one is computed on the target: fine
      CheckTargetOnlyColumn(c, s, t, tc);
    }
  }
  if (source_order != target_order) {
    c.Add("column_order", kInfo, t.qualified,
          "columns in another order (source: " + Idents(source_order) +
              "; target: " + Idents(target_order) +
              "): replication matches them by name, but INSERT or COPY without a column "
              "list does not");
  }
  return Status::OK();
}

// The subscriber finds a row by its key on the target (in the partition it
// routes the row to), out of what the source's replica identity sends.
void CheckTargetKey(Checks& c, const Relation& s, const Relation& t) {
  const std::vector<std::string> sent = s.SentKey();
  const std::vector<std::string> lookup = t.LookupKey();
  if (lookup.empty()) {
    if (s.replica_identity == 'f') return;  // the subscriber compares whole rows
    c.Add("target_identity", kBlocking, t.qualified,
          "no primary key or replica identity index on the target while the source sends "
          "only its key (" +
              Idents(sent) +
              "): every replicated UPDATE and DELETE fails (\"publisher did not send replica "
              "identity column expected by the logical replication target relation\")",
          "ALTER TABLE " + t.qualified + " ADD PRIMARY KEY (" + Idents(sent) + "); on the target");
    return;
  }
  std::vector<std::string> uncovered;
  for (const auto& n : lookup) {
    if (std::ranges::find(sent, n) == sent.end()) uncovered.push_back(n);
  }
  if (uncovered.empty()) return;
  c.Add("target_identity", kBlocking, t.qualified,
        "the target finds rows by (" + Idents(lookup) +
            ") but the source's replica identity sends only (" + Idents(sent) + "), not " +
            Idents(uncovered) + ": every replicated UPDATE and DELETE fails",
        "give the target the same primary key or replica identity as the source");
}

// Before the subscription exists: rows already on the target would be
// copied a second time.
Status CheckEmpty(Checks& c, const Relation& t) {
  Result<bool> has_rows =
      c.target.Read("a published table", [&](auto& s) { return HasRows(s, t); });
  if (!has_rows.ok()) {
    if (has_rows.status().code() == Status::Code::kUnavailable) return has_rows.status();
    c.Add("target_not_empty", kInfo, t.qualified,
          "could not check whether it is empty: " + std::string(has_rows.status().message()));
  } else if (*has_rows) {
    c.Add("target_not_empty", kWarning, t.qualified,
          "has rows on the target before the subscription exists: the initial copy adds the "
          "source's rows to them (duplicates, or a stop on a unique key)",
          "TRUNCATE " + t.qualified +
              "; on the target first, or CREATE SUBSCRIPTION ... WITH (copy_data = false) if "
              "it already holds the source's data");
  }
  return Status::OK();
}

Status CheckTable(Checks& c, const Relation& s, bool keyed_changes) {
  if (keyed_changes) CheckSourceIdentity(c, s);
  auto target = c.m.target.tables.find(s.key());
  if (target == c.m.target.tables.end()) {
    CheckMissingTable(c, s);
    return Status::OK();
  }
  PGPARITY_RETURN_IF_ERROR(CheckColumns(c, s, target->second));
  if (keyed_changes && s.HasReplicaIdentity()) {
    for (const Relation* t : StorageOf(c.m.target.tables, target->second)) {
      CheckTargetKey(c, s, *t);
    }
  }
  return c.m.sub ? Status::OK() : CheckEmpty(c, target->second);
}

// Each published table against the target's, after a summary of them all.
Status CheckTables(Checks& c) {
  const Publication& p = c.m.publication;
  const size_t summary = c.findings.size();
  c.Add("schema", kInfo, "published tables", "");
  int64_t blocked = 0;
  for (const RelationName& name : p.tables) {
    auto source = c.m.source.tables.find(name);
    if (source == c.m.source.tables.end()) continue;  // dropped since the publication was read
    const int64_t before = c.Blocking();
    PGPARITY_RETURN_IF_ERROR(CheckTable(c, source->second, p.publish_update || p.publish_delete));
    blocked += c.Blocking() > before;
  }
  c.findings[summary].detail =
      Count(Size(p.tables), "table", "tables") +
      " compared with the target (columns, types, replica identities): " +
      (blocked == 0 ? std::string("no blocking difference")
                    : Count(blocked, "table", "tables") + " with blocking problems");
  return Status::OK();
}

void CheckNotReplicated(Checks& c) {
  for (const auto& [name, t] : c.m.source.tables) {
    if (t.persistence != 'u') continue;
    c.Add("unlogged_table", kWarning, t.qualified,
          "UNLOGGED: its changes are not in the WAL, so it is never replicated",
          "ALTER TABLE " + t.qualified +
              " SET LOGGED; on the source if the target needs it (then it is published), or "
              "copy it at cutover");
  }
  for (const std::string& t : c.m.temporary_tables) {
    c.Add("temp_table", kWarning, t, "a session's TEMPORARY table: never replicated",
          "nothing to do unless the application expects it on the target");
  }
  if (const int64_t large_objects = c.m.large_objects; large_objects > 0) {
    c.Add("large_objects", kWarning, "source large objects",
          Count(large_objects, "large object", "large objects") +
              ": logical replication does not carry large objects",
          "copy them at cutover (pg_dump --data-only --large-objects SOURCE | psql TARGET), "
          "or move them into bytea columns");
  }
}

// Prepared transactions on either side, and whether the role sees every
// session there.
void CheckSideTransactions(Checks& c, const SideModel& side, const std::string& name) {
  const bool source = &side == &c.m.source;
  for (const PreparedTransaction& p : side.prepared) {
    const std::string gid = QuoteStandardLiteral(p.gid);
    c.Add("prepared_transaction", kWarning, name + " prepared transaction " + gid,
          "prepared at " + p.prepared_at + " by " + p.owner + " in database " + p.database +
              (source ? ": creating a replication slot waits until it ends, and it holds "
                        "back WAL and vacuum"
                      : ": it holds locks that can block the apply worker"),
          "COMMIT PREPARED " + gid + "; or ROLLBACK PREPARED " + gid + "; in database " +
              p.database + " on the " + name);
  }
  if (const auto& role = side.role; role && !role->sees_all_sessions) {
    c.Add("visibility", kWarning, name + " role " + role->name,
          "cannot see other roles' sessions: long-running transactions and the counts of "
          "WAL senders and workers may be incomplete",
          "GRANT pg_monitor TO " + IdentForDisplay(role->name) + "; on the " + name +
              ", or run the preflight as a superuser");
  }
}

void CheckTransactions(Checks& c) {
  CheckSideTransactions(c, c.m.source, "source");
  CheckSideTransactions(c, c.m.target, "target");
  const auto threshold = static_cast<double>(c.options.long_transaction.count());
  for (const ServerSession& s : c.m.source.sessions) {
    if (s.backend_type != "client backend" || s.transaction_seconds <= threshold) continue;
    const std::string pid = std::to_string(s.pid);
    c.Add("long_transaction", kWarning, "source backend " + pid,
          "transaction open for " + s.transaction_age + " (user " + s.user + ", database " +
              s.database + ", " + s.state + (s.has_written ? ", has written" : "") + "; query: " +
              s.query + "): creating a replication slot waits until transactions like it end",
          "let it finish, or end it: SELECT pg_terminate_backend(" + pid + "); on the source");
  }
}

// Sequences are not replicated: the target's must be set at cutover.
void CheckSequence(Checks& c, const SequenceState& s, const SequenceState* t) {
  const std::string object = "sequence " + s.qualified;
  auto shown = [](const std::optional<int64_t>& v) {
    return v ? std::to_string(*v) : std::string("unused");
  };
  if (t == nullptr) {
    c.Add("sequence", kWarning, object,
          "missing on the target (source last_value " + shown(s.last_value) + ")",
          "create it on the target (pg_dump --schema-only), then setval it before cutover");
  } else if (!s.readable || !t->readable) {
    c.Add("sequence", kWarning, object,
          "last_value not readable on the " + std::string(!s.readable ? "source" : "target") +
              " (no SELECT or USAGE right)",
          "run the preflight as the sequence's owner or a superuser");
  } else if (s.last_value && (!t->last_value || *t->last_value < *s.last_value)) {
    c.Add("sequence", kWarning, object,
          "source last_value " + shown(s.last_value) + ", target " + shown(t->last_value) +
              ": sequences are not replicated, the target would hand out used values",
          "at cutover, after the source stopped writing: SELECT setval(" +
              QuoteStandardLiteral(s.qualified) + ", <source last_value>); on the target (now " +
              std::to_string(*s.last_value) + ")");
  } else {
    c.Add("sequence", kInfo, object,
          "source last_value " + shown(s.last_value) + ", target " + shown(t->last_value));
  }
}

void CheckSequences(Checks& c) {
  std::map<RelationName, const SequenceState*> on_target;
  for (const SequenceState& t : c.m.target.sequences) on_target[t.sequence] = &t;
  for (const SequenceState& s : c.m.source.sequences) {
    auto t = on_target.find(s.sequence);
    CheckSequence(c, s, t == on_target.end() ? nullptr : t->second);
  }
}

// Tables published after CREATE SUBSCRIPTION (or its last REFRESH), e.g.
// created on the source since: the subscriber skips their changes.
void CheckNotSubscribed(Checks& c, const SubscriptionInfo& sub) {
  const std::string refresh =
      "ALTER SUBSCRIPTION " + IdentForDisplay(sub.name) + " REFRESH PUBLICATION; on the target";
  for (const RelationName& name : c.m.publication.tables) {
    if (c.m.subscribed.contains(name)) continue;
    auto s = c.m.source.tables.find(name);
    c.Add("subscription_table", kWarning,
          s != c.m.source.tables.end()
              ? s->second.qualified
              : IdentForDisplay(name.schema) + "." + IdentForDisplay(name.name),
          "published, but not subscribed (created or published on the source after the "
          "subscription was created or last refreshed): its rows are not copied and its "
          "changes not applied",
          c.m.target.tables.contains(name)
              ? refresh
              : "create it on the target (see table_missing), then " + refresh);
  }
}

// "active, lag 1 kB, retains 2 MB of WAL (wal_status reserved)".
std::string SlotState(const ReplicationSlot& s) {
  std::string state = std::string(s.active ? "active" : "not active") + ", lag " + s.lag_size +
                      ", retains " + s.retained_size + " of WAL";
  return s.wal_status.empty() ? state : state + " (wal_status " + s.wal_status + ")";
}

void CheckSubscriptionSlot(Checks& c, const SubscriptionInfo& sub) {
  if (sub.slot_name.empty()) {
    c.Add("subscription_slot", kWarning, "subscription " + sub.name,
          "has slot_name = NONE: it cannot be enabled",
          "ALTER SUBSCRIPTION " + IdentForDisplay(sub.name) +
              " SET (slot_name = '...') with a slot on the source");
    return;
  }
  const std::string object = "source slot " + sub.slot_name;
  auto s = std::ranges::find(c.m.slots, sub.slot_name, &ReplicationSlot::name);
  if (s == c.m.slots.end()) {
    c.Add("subscription_slot", kBlocking, object,
          "the subscription's slot does not exist on the source: nothing can be streamed",
          "recreate the subscription (DROP SUBSCRIPTION after ALTER SUBSCRIPTION ... SET "
          "(slot_name = NONE); then CREATE SUBSCRIPTION copies every table again)");
  } else if (s->wal_status == "lost") {
    c.Add("subscription_slot", kBlocking, object,
          "invalidated (wal_status lost): the source removed WAL it still needed, changes "
          "are missing on the target",
          "recreate the subscription on emptied target tables (the copy starts over); raise "
          "max_slot_wal_keep_size on the source");
  } else if (s->wal_status == "unreserved") {
    c.Add("subscription_slot", kWarning, object,
          SlotState(*s) + ": about to be invalidated by max_slot_wal_keep_size",
          "make the subscription catch up now, or raise max_slot_wal_keep_size on the source");
  } else if (!s->active) {
    c.Add("subscription_slot", kWarning, object, SlotState(*s) + ": no WAL sender streams it",
          "check the subscription is enabled and its apply worker is not failing (target's "
          "log)");
  } else {
    c.Add("subscription_slot", kInfo, object, SlotState(*s));
  }
}

// Whether the subscription runs: enabled, its apply worker up, no errors.
void CheckSubscriptionRunning(Checks& c, const SubscriptionInfo& sub) {
  const std::string object = "subscription " + sub.name;
  const SubscriptionActivity& activity = c.m.activity;
  if (!sub.enabled) {
    c.Add("subscription", kBlocking, object,
          "disabled: nothing is copied or applied, and its slot keeps WAL on the source",
          "ALTER SUBSCRIPTION " + IdentForDisplay(sub.name) + " ENABLE; on the target");
  } else if (!activity.apply_worker_running) {
    c.Add("subscription", kWarning, object,
          "enabled, but no apply worker is running (starting, or failing and restarting)",
          "read the target's server log for the apply worker's error");
  } else {
    c.Add("subscription", kInfo, object,
          "enabled, apply worker running, publications: " + Join(sub.publications));
  }
  if (!sub.Subscribes(c.options.publication)) {
    c.Add("subscription", kWarning, object,
          "subscribes to " + Join(sub.publications) + ", not to " + c.options.publication +
              ": the tables checked here may not be the ones it replicates",
          "pass --publication with the subscription's publication, or ALTER SUBSCRIPTION " +
              IdentForDisplay(sub.name) + " SET PUBLICATION " +
              IdentForDisplay(c.options.publication));
  }
  const int64_t apply_errors = activity.apply_errors.value_or(0);
  const int64_t sync_errors = activity.sync_errors.value_or(0);
  if (apply_errors > 0 || sync_errors > 0) {
    c.Add("subscription", kWarning, object,
          Count(apply_errors, "apply error", "apply errors") + " and " +
              Count(sync_errors, "table copy error", "table copy errors") +
              " since the statistics were reset",
          "read the target's server log; SELECT pg_stat_reset_subscription_stats(" + sub.oid +
              ") once fixed");
  }
}

void CheckSubscription(Checks& c) {
  if (!c.m.sub) {
    c.Add("subscription", kInfo, "subscription my_subscription",
          "not on the target: the checks of a running subscription are skipped",
          "after CREATE SUBSCRIPTION, run the preflight again to check it");
    return;
  }
  const SubscriptionInfo& sub = *c.m.sub;
  CheckSubscriptionRunning(c, sub);
  for (const auto& [name, t] : c.m.subscribed) {
    if (t.state == 'r') continue;
    c.Add("subscription_table", kInfo, t.qualified,
          "still copying (state " + SubscriptionStateName(t.state) + ")");
  }
  if (sub.Subscribes(c.options.publication)) CheckNotSubscribed(c, sub);
  CheckSubscriptionSlot(c, sub);
}

// Every other slot on the source retains WAL until it is dropped.
void CheckSlots(Checks& c) {
  for (const ReplicationSlot& s : c.m.slots) {
    const std::string object = "source slot " + s.name;
    if (c.m.OwnsSlot(s)) {
      if (!c.m.sub->slot_name.empty() && s.name != c.m.sub->slot_name) {
        c.Add("slot", kInfo, object,
              "tablesync slot of " + c.m.sub->name + ", retains " + s.retained_size + " of WAL");
      }
      continue;
    }
    const std::string kind =
        s.type == "logical" ? "logical (" + s.plugin + ", database " + s.database + ")" : s.type;
    const std::string drop = "SELECT pg_drop_replication_slot(" + QuoteStandardLiteral(s.name) +
                             "); on the source if nothing uses it any more";
    if (s.wal_status == "lost") {
      c.Add("slot", kWarning, object, kind + ", invalidated (wal_status lost): unusable", drop);
    } else if (!s.active) {
      c.Add("slot", kWarning, object,
            kind + ", not active, retains " + s.retained_size +
                " of WAL: a slot nobody reads keeps WAL until the source's disk fills",
            drop);
    } else {
      c.Add("slot", kInfo, object, kind + ", active, retains " + s.retained_size + " of WAL");
    }
  }
}

}  // namespace

Preflight::Preflight(conn::PgSession& source, conn::PgSession& target, PreflightOptions options)
    : source_(source), target_(target), options_(std::move(options)) {}

Result<PreflightReport> Preflight::Run() {
  Side source(source_, "source");
  Side target(target_, "target");
  PGPARITY_RETURN_IF_ERROR(source.Prepare(options_.statement_timeout));
  PGPARITY_RETURN_IF_ERROR(target.Prepare(options_.statement_timeout));
  PGPARITY_ASSIGN_OR_RETURN(const Model model, LoadModel(source, target, options_));
  Checks c{source, target, options_, model, {}};
  CheckVersions(c);
  CheckWalLevel(c);
  CheckCapacity(c);
  CheckPublication(c);
  CheckPartitions(c);
  PGPARITY_RETURN_IF_ERROR(CheckTables(c));
  CheckNotReplicated(c);
  CheckTransactions(c);
  CheckSequences(c);
  CheckSubscription(c);
  CheckSlots(c);
  PreflightReport report;
  report.findings = std::move(c.findings);
  report.source = source_.endpoint();
  report.source_version = model.source.settings.version;
  report.target = target_.endpoint();
  report.target_version = model.target.settings.version;
  report.publication = options_.publication;
  report.subscription = model.sub ? model.sub->name : "";
  return report;
}

}  // namespace pgparity::applier
