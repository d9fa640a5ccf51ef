// The preflight's checks: each a small function over the Model
// (preflight_model.h), adding its findings in a fixed order, the report's.
#include "pgparity/applier/preflight/preflight.h"

#include <absl/strings/str_join.h>

#include <algorithm>
#include <utility>

#include "pgparity/applier/catalog/not_subscribed.h"
#include "pgparity/applier/catalog/subscription_stats.h"
#include "pgparity/applier/catalog/type_change.h"
#include "pgparity/sql_quote.h"
#include "preflight/command_privileges.h"
#include "preflight/preflight_model.h"
#include "preflight/version_pair.h"

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
  return static_cast<int>(std::ranges::count(findings, severity, &Finding::severity));
}

namespace {

using preflight::Model;
using preflight::Side;
using preflight::SideModel;

// "1 slot", "3 slots".
std::string Count(int64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

int64_t Size(const auto& container) { return static_cast<int64_t>(container.size()); }

// Names as a person writes them, joined.
std::string Idents(const std::vector<std::string>& names) {
  std::vector<std::string> shown;
  for (const auto& n : names) shown.push_back(IdentForDisplay(n));
  return absl::StrJoin(shown, ", ");
}

// What every check gets, and where its findings go.
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
  // Adds findings of `check` about `object`: add(severity, detail, fix).
  auto About(std::string_view check, std::string object) {
    return [this, check, object](Severity severity, std::string detail, std::string fix = {}) {
      Add(check, severity, object, std::move(detail), std::move(fix));
    };
  }
  int64_t Blocking() const { return std::ranges::count(findings, kBlocking, &Finding::severity); }
};

void CheckVersions(Checks& c) {
  const ServerSettings& s = c.m.source.settings;
  const ServerSettings& t = c.m.target.settings;
  for (Finding& f :
       preflight::VersionPairFindings({s.version, s.version_num}, {t.version, t.version_num})) {
    c.findings.push_back(std::move(f));
  }
}

// Before anything else fails for want of a grant: what the roles lack for
// the commands the user means to run, each with its GRANT.
void CheckPrivileges(Checks& c) {
  if (c.options.commands.empty()) return;
  const std::vector<preflight::MissingGrant> missing =
      preflight::MissingGrants({c.options.commands, c.m.source.privileges, c.m.target.privileges,
                                c.m.publication.tables, c.m.target.settings.version_num});
  for (const auto& g : missing) {
    c.Add("privileges", kBlocking, g.side + " " + g.object, g.detail,
          g.fix + " (as a superuser on the " + g.side + ")");
  }
  if (!missing.empty()) return;
  c.Add("privileges", kInfo,
        "source role " + IdentForDisplay(c.m.source.privileges.role) + ", target role " +
            IdentForDisplay(c.m.target.privileges.role),
        "have what " + absl::StrJoin(c.options.commands, ", ") + " need");
}

void CheckWalLevel(Checks& c) {
  auto add = c.About("wal_level", "source wal_level");
  const std::string& level = c.m.source.settings.wal_level;
  if (level == "logical") return add(kInfo, "logical");
  add(kBlocking,
      "is " + level +
          ": the source cannot decode its WAL, so no subscription or pgparity slot can be created",
      "ALTER SYSTEM SET wal_level = logical; on the source, then restart it");
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

void CheckBudget(Checks& c, const Budget& b) {
  auto add = c.About("capacity", std::string(b.side) + " " + b.setting);
  const std::string detail = "used " + std::to_string(b.used) + ", needed " +
                             std::to_string(b.needed) + " (" + b.parts + "), available " +
                             std::to_string(b.available);
  if (b.needed <= b.available) return add(kInfo, detail);
  add(kBlocking, detail + ": too few",
      "ALTER SYSTEM SET " + std::string(b.setting) + " = " + std::to_string(b.suggested) +
          "; on the " + b.side + " and restart it" + b.fix_tail);
}

// Slots and WAL senders on the source; apply and tablesync workers, the
// processes they are, and their replication origins on the target.
void CheckCapacity(Checks& c) {
  const Model& m = c.m;
  const SubscriptionInfo* sub = m.sub ? &*m.sub : nullptr;
  const int64_t sync =
      std::min(m.target.settings.max_sync_workers_per_subscription, m.TablesToCopy());
  const std::string sync_part = std::to_string(sync) + " tablesync" +
                                (sync == 0 ? " (initial copy done)" : " during the initial copy");
  const std::string ours = " other + 1 subscription + " + sync_part;
  const int64_t other_slots =
      std::ranges::count_if(m.slots, [&](auto& s) { return !m.OwnsSlot(s); });
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
  const int64_t other_origins =
      std::ranges::count_if(m.origins, [&](auto& o) { return !sub || !sub->OwnsOrigin(o); });
  const int64_t apply = other_subs + 1 + sync;  // apply and tablesync workers
  const Budget budgets[] = {
      {"source", "max_replication_slots", Size(m.slots), other_slots + 1 + sync + 1,
       std::to_string(other_slots) + ours + " + 1 pgparity",
       m.source.settings.max_replication_slots, other_slots + 1 + sync + 1,
       ", or drop unused slots"},
      {"source", "max_wal_senders", senders, other_senders + 1 + sync + 1,
       std::to_string(other_senders) + ours + " + 1 pgparity", m.source.settings.max_wal_senders,
       other_senders + 1 + sync + 1, ""},
      {"target", "max_logical_replication_workers", workers, apply,
       std::to_string(other_subs) + " other subscriptions' apply workers + 1 apply + " + sync_part,
       m.target.settings.max_logical_replication_workers, apply, ""},
      {"target", "max_worker_processes", processes, apply + 1,
       Count(apply, "logical replication worker", "logical replication workers") +
           " + 1 launcher, plus what parallel queries and extensions use",
       m.target.settings.max_worker_processes, apply + 1 + 8, ""},
      {"target", "max_replication_slots", Size(m.origins), other_origins + 1 + sync,
       "replication origins: " + std::to_string(other_origins) + ours,
       m.target.settings.max_replication_slots, other_origins + 1 + sync,
       " (the subscriber's origins count against it)"},
  };
  for (const Budget& b : budgets) CheckBudget(c, b);
}

void CheckPublication(Checks& c) {
  const Publication& p = c.m.publication;
  const std::pair<const char*, bool> actions[] = {{"insert", p.publish_insert},
                                                  {"update", p.publish_update},
                                                  {"delete", p.publish_delete},
                                                  {"truncate", p.publish_truncate}};
  std::vector<std::string> published, missing;
  for (const auto& [action, on] : actions) {
    if (on) published.push_back(action);
    if (!on && std::string_view(action) != "truncate") missing.push_back(action);
  }
  auto add = c.About("publication", "publication " + c.options.publication);
  const std::string alter = "ALTER PUBLICATION " + IdentForDisplay(c.options.publication);
  add(kInfo, std::string(p.all_tables ? "FOR ALL TABLES" : "a list of tables") + ", publishes " +
                 (published.empty() ? std::string("nothing") : absl::StrJoin(published, ", ")) +
                 "; " + Count(Size(p.tables), "table", "tables"));
  if (p.tables.empty()) {
    add(kWarning, "publishes no table: nothing would be replicated",
        alter + " ADD TABLE ... on the source");
  }
  if (!missing.empty()) {
    add(kWarning,
        "does not publish " + absl::StrJoin(missing, ", ") +
            ": those changes never reach the target",
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
              preflight::AbridgedList(roots) +
              "); the target needs a table of that name, partitioned in any way or not at "
              "all; pg_publication_tables lists the root";
  }
  if (!leaves.empty()) {
    detail += std::string(roots.empty() ? ": " : "; ") +
              "each leaf partition is published under its own name (" +
              preflight::AbridgedList(leaves) + ", partitions of " +
              preflight::AbridgedList(parents) +
              "); the target needs a table of each leaf's name (partitioned differently only "
              "if those names exist); rows moved between partitions by an UPDATE of the "
              "partition key arrive as DELETE + INSERT";
  }
  c.Add("partitions", kInfo, "publication " + c.options.publication, detail);
}

// A column list that leaves out a replica identity column: the source
// refuses UPDATE and DELETE of the table while the publication publishes
// them ("cannot update table ... column list used by the publication does
// not cover the replica identity").
void CheckListedKey(Checks& c, const Relation& t, const PublishedSubset& subset) {
  const Publication& p = c.m.publication;
  if (subset.columns.empty() || !(p.publish_update || p.publish_delete)) return;
  std::vector<std::string> unlisted_key;
  for (const std::string& k : t.SentKey()) {
    if (std::ranges::find(subset.columns, k) == subset.columns.end()) unlisted_key.push_back(k);
  }
  if (unlisted_key.empty()) return;
  c.Add("column_list_key", kBlocking, t.qualified,
        "the publication's column list leaves out replica identity column(s) " +
            Idents(unlisted_key) +
            ": every UPDATE and DELETE of the table fails on the source while the publication "
            "publishes them",
        "add them to the column list (ALTER PUBLICATION " + IdentForDisplay(p.name) +
            " SET TABLE ...) or publish only inserts (SET (publish = 'insert')); on the source");
}

// A row filter or column list (PostgreSQL 15+ sources only) narrows what
// is published, so what the target holds and what verify compares.
void CheckPublishedSubsets(Checks& c) {
  for (const auto& [name, subset] : c.m.publication.subsets) {
    auto it = c.m.source.tables.find(name);
    if (it == c.m.source.tables.end()) continue;
    const Relation& t = it->second;
    if (subset.row_filter) {
      c.Add("row_filter", kInfo, t.qualified,
            "published through the row filter " + *subset.row_filter +
                " (PostgreSQL 15+): the target holds only the source's rows that pass it (an "
                "UPDATE into or out of it arrives as INSERT or DELETE); verify compares those "
                "rows with all of the target's");
    }
    const size_t unlisted = static_cast<size_t>(
        std::ranges::count_if(t.columns, [](const RelationColumn& col) { return !col.generated; }));
    if (!subset.columns.empty() && subset.columns.size() != unlisted) {
      c.Add("column_list", kInfo, t.qualified,
            "published columns " + Idents(subset.columns) + " of " + std::to_string(unlisted) +
                " (a column list, PostgreSQL 15+): the target's other columns keep NULL or their "
                "default; verify compares only the published ones");
    }
    CheckListedKey(c, t, subset);
  }
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
              " ADD PRIMARY KEY (...); or REPLICA IDENTITY USING INDEX <unique index on NOT NULL "
              "columns>; or REPLICA IDENTITY FULL (slower apply); an insert-only table may stay "
              "as it is if the application never updates or deletes its rows");
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

// How a converted column is compared, and for timestamp <-> timestamptz
// whether both sides' TimeZones keep the instants.
Status CheckConversion(Checks& c, const TypeChange& change, const RelationColumn& sc,
                       std::string& detail, std::string& fix) {
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
  return Status::OK();
}

// A type change by its class (type_change.h, docs/types.md): widening is
// fine, a conversion is a risk to know, anything else breaks the apply.
Status CheckColumnType(Checks& c, const Relation& t, const RelationColumn& sc,
                       const RelationColumn& tc, const std::string& object) {
  auto add = c.About("column_type", object);
  const TypeChange change = ClassifyTypeChange(sc.type, tc.type);
  const std::string types = "source " + sc.type + ", target " + tc.type;
  const std::string alter = "ALTER TABLE " + t.qualified + " ALTER COLUMN " +
                            IdentForDisplay(sc.name) + " TYPE " + sc.type + "; on the target";
  switch (change.change_class) {
    case TypeChangeClass::kSame:
      return Status::OK();
    case TypeChangeClass::kExact:
      add(kInfo, "type widened (" + types +
                     "): the values round-trip exactly and verify compares them as equal");
      return Status::OK();
    case TypeChangeClass::kIncompatible:
      add(kBlocking, "type differs: " + types, alter);
      return Status::OK();
    case TypeChangeClass::kConversion:
      break;
  }
  std::string detail = "type converted (" + types + "): " + change.risk + "; ";
  std::string fix = "fine if intended; otherwise " + alter;
  PGPARITY_RETURN_IF_ERROR(CheckConversion(c, change, sc, detail, fix));
  add(kWarning, detail, fix);
  return Status::OK();
}

// A column only the target has: NULL or its default in every replicated
// row, and no row found without a key when the default stands in.
void CheckTargetOnlyColumn(Checks& c, const Relation& s, const Relation& t,
                           const RelationColumn& col) {
  auto add = c.About("column_extra", t.qualified + "." + IdentForDisplay(col.name));
  const std::string alter =
      "ALTER TABLE " + t.qualified + " ALTER COLUMN " + IdentForDisplay(col.name);
  if (col.not_null && !col.has_default) {
    add(kBlocking,
        "exists only on the target and is NOT NULL without a default: every replicated INSERT "
        "into the table fails",
        alter + " DROP NOT NULL (or SET DEFAULT ...); on the target, or drop the column");
  } else if (col.has_default && s.replica_identity == 'f' && t.LookupKey().empty()) {
    // Without a key the subscriber finds a row by comparing every column
    // with the old row the source sent, which has NULL here.
    add(kBlocking,
        "exists only on the target with a default, in a table the subscriber finds rows of by "
        "comparing every column (REPLICA IDENTITY FULL, no key on the target): the default "
        "never equals the source's missing value, so every replicated UPDATE and DELETE "
        "silently misses its row",
        alter +
            " DROP DEFAULT; on the target (rows then get NULL), give the table a primary key "
            "on both sides, or drop the column");
  } else {
    add(kWarning,
        "exists only on the target: rows get " +
            std::string(col.has_default ? "its default" : "NULL") + ", never a source value",
        "fine if intended; otherwise drop it on the target or add it on the source");
  }
}

// One source column against the target's; whether the target has it.
Result<bool> CheckColumn(Checks& c, const Relation& s, const Relation& t,
                         const RelationColumn& sc) {
  const std::string object = s.qualified + "." + IdentForDisplay(sc.name);
  const RelationColumn* tc = t.Find(sc.name);
  if (sc.generated) {
    // PostgreSQL 14 never publishes generated columns.
    if (tc != nullptr && tc->generated) return true;
    c.Add(
        "column_generated", kWarning, object,
        "generated on the source, so never published; on the target it is " +
            std::string(tc == nullptr ? "missing" : "a plain column that gets NULL or its default"),
        "define it on the target as the same GENERATED ALWAYS AS (...) STORED column");
  } else if (tc == nullptr) {
    c.Add("column_missing", kBlocking, object,
          "column " + IdentForDisplay(sc.name) + " " + sc.type +
              " is missing on the target: the subscriber stops at the table with \"is missing "
              "replicated column\"",
          "ALTER TABLE " + t.qualified + " ADD COLUMN " + IdentForDisplay(sc.name) + " " + sc.type +
              "; on the target");
  } else if (tc->generated) {
    c.Add("column_missing", kBlocking, object,
          "is a generated column on the target: the subscriber cannot write the source's values "
          "into it (\"is missing replicated column\")",
          "make it a plain " + sc.type + " column on the target");
  } else {
    PGPARITY_RETURN_IF_ERROR(CheckColumnType(c, t, sc, *tc, object));
  }
  return tc != nullptr;
}

Status CheckColumns(Checks& c, const Relation& s, const Relation& t) {
  std::vector<std::string> source_order, target_order;
  const PublishedSubset& subset = c.m.publication.SubsetOf({s.schema, s.name});
  for (const RelationColumn& sc : s.columns) {
    // Outside the publication's column list: never sent, so the target
    // needs nothing of it.
    if (!subset.Lets(sc.name)) continue;
    PGPARITY_ASSIGN_OR_RETURN(const bool on_target, CheckColumn(c, s, t, sc));
    if (on_target) source_order.push_back(sc.name);
  }
  for (const RelationColumn& tc : t.columns) {
    if (s.Find(tc.name) != nullptr) {
      if (subset.Lets(tc.name)) target_order.push_back(tc.name);
    } else if (!tc.generated) {  // a generated one is computed on the target: fine
      CheckTargetOnlyColumn(c, s, t, tc);
    }
  }
  if (source_order == target_order) return Status::OK();
  c.Add("column_order", kInfo, t.qualified,
        "columns in another order (source: " + Idents(source_order) +
            "; target: " + Idents(target_order) +
            "): replication matches them by name, but INSERT or COPY without a column list "
            "does not");
  return Status::OK();
}

// The subscriber finds a row by its key on the target (in the partition it
// routes the row to), out of what the source's replica identity sends.
void CheckTargetKey(Checks& c, const Relation& s, const Relation& t) {
  auto add = c.About("target_identity", t.qualified);
  const std::vector<std::string> sent = s.SentKey();
  const std::vector<std::string> lookup = t.LookupKey();
  if (lookup.empty() && s.replica_identity != 'f') {  // FULL: whole rows are compared
    add(kBlocking,
        "no primary key or replica identity index on the target while the source sends only "
        "its key (" +
            Idents(sent) +
            "): every replicated UPDATE and DELETE fails (\"publisher did not send replica "
            "identity column expected by the logical replication target relation\")",
        "ALTER TABLE " + t.qualified + " ADD PRIMARY KEY (" + Idents(sent) + "); on the target");
  }
  std::vector<std::string> uncovered;
  for (const auto& n : lookup) {
    if (std::ranges::find(sent, n) == sent.end()) uncovered.push_back(n);
  }
  if (uncovered.empty()) return;
  add(kBlocking,
      "the target finds rows by (" + Idents(lookup) +
          ") but the source's replica identity sends only (" + Idents(sent) + "), not " +
          Idents(uncovered) + ": every replicated UPDATE and DELETE fails",
      "give the target the same primary key or replica identity as the source");
}

// Before the subscription exists: rows already on the target would be
// copied a second time.
Status CheckEmpty(Checks& c, const Relation& t) {
  auto add = c.About("target_not_empty", t.qualified);
  Result<bool> has_rows =
      c.target.Read("a published table", [&](auto& s) { return HasRows(s, t); });
  if (!has_rows.ok() && has_rows.status().code() == Status::Code::kUnavailable) {
    return has_rows.status();
  }
  if (!has_rows.ok()) {
    add(kInfo, "could not check whether it is empty: " + std::string(has_rows.status().message()));
  } else if (*has_rows) {
    add(kWarning,
        "has rows on the target before the subscription exists: the initial copy adds the "
        "source's rows to them (duplicates, or a stop on a unique key)",
        "TRUNCATE " + t.qualified +
            "; on the target first, or CREATE SUBSCRIPTION ... WITH (copy_data = false) if it "
            "already holds the source's data");
  }
  return Status::OK();
}

// Triggers of the target table enabled ALWAYS or REPLICA fire on every
// replicated change (the apply worker runs as session_replication_role =
// replica): what they write is not the source's.
void CheckTargetTriggers(Checks& c, const Relation& t) {
  const auto found = c.m.target_replica_triggers.find(t.key());
  if (found == c.m.target_replica_triggers.end()) return;
  std::vector<std::string> shown;
  std::string fix;
  for (const ReplicaTrigger& trigger : found->second) {
    shown.push_back(trigger.name + (trigger.always ? " (ALWAYS)" : " (REPLICA)"));
    fix += "ALTER TABLE " + t.qualified + " ENABLE TRIGGER " + trigger.name + "; ";
  }
  c.Add("target_trigger", kWarning, t.qualified,
        "trigger " + absl::StrJoin(shown, ", ") +
            " fires on replicated changes too (the apply worker runs as "
            "session_replication_role = replica, where ALWAYS and REPLICA triggers fire): what it "
            "writes makes the target differ from the source, and verify reports those rows",
        fix +
            "on the target (then it fires for the application's own writes only), unless it "
            "must run on replicated rows");
}

Status CheckTable(Checks& c, const Relation& s, bool keyed_changes) {
  if (keyed_changes) CheckSourceIdentity(c, s);
  auto target = c.m.target.tables.find(s.key());
  if (target == c.m.target.tables.end()) {
    CheckMissingTable(c, s);
    return Status::OK();
  }
  PGPARITY_RETURN_IF_ERROR(CheckColumns(c, s, target->second));
  for (const Relation* t : StorageOf(c.m.target.tables, target->second)) CheckTargetTriggers(c, *t);
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

// A materialized view's rows are never replicated: the target's are as of
// its last REFRESH there, and pg_dump --schema-only creates it WITH NO
// DATA, so that a SELECT of it fails until one.
void CheckMaterializedViews(Checks& c) {
  // Its rows are never sent, populated on the source or not; but one the
  // source never populated either is as the application has it (pagila's
  // rental_by_category: created WITH NO DATA, refreshed by a job if ever).
  for (const auto& [name, source_populated] : c.m.source_matviews) {
    const std::string refresh = "REFRESH MATERIALIZED VIEW " + name + "; on the target";
    const auto target = c.m.target_matviews.find(name);
    if (target == c.m.target_matviews.end()) {
      c.Add("materialized_view", kWarning, name,
            "materialized view missing on the target; logical replication never carries its "
            "rows",
            "create it on the target (pg_dump --schema-only --table='" + name +
                "' SOURCE | psql TARGET), then " + refresh + " before the switch");
    } else if (!target->second && !source_populated) {
      c.Add("materialized_view", kInfo, name,
            "materialized view not populated on either side: a SELECT of it fails on the "
            "source too; replication never fills it",
            refresh + " after the source's, if the application refreshes it");
    } else if (!target->second) {
      c.Add("materialized_view", kWarning, name,
            "materialized view not populated on the target (created WITH NO DATA, as pg_dump "
            "--schema-only leaves it): a SELECT of it fails there; replication never fills it",
            refresh + " before the switch");
    } else {
      c.Add("materialized_view", kInfo, name,
            "materialized view: never replicated; the target's rows are as of its last REFRESH "
            "there",
            refresh + " at cutover if the application needs current rows");
    }
  }
}

void CheckNotReplicated(Checks& c) {
  for (const auto& [name, t] : c.m.source.tables) {
    if (t.persistence != 'u') continue;
    c.Add("unlogged_table", kWarning, t.qualified,
          "UNLOGGED: its changes are not in the WAL, so it is never replicated",
          "ALTER TABLE " + t.qualified +
              " SET LOGGED; on the source if the target needs it (then it is published), or copy "
              "it at cutover");
  }
  for (const std::string& t : c.m.temporary_tables) {
    c.Add("temp_table", kWarning, t, "a session's TEMPORARY table: never replicated",
          "nothing to do unless the application expects it on the target");
  }
  CheckMaterializedViews(c);
  if (c.m.large_objects == 0) return;
  c.Add("large_objects", kWarning, "source large objects",
        Count(c.m.large_objects, "large object", "large objects") +
            ": logical replication does not carry large objects",
        "copy them at cutover (pg_dump --data-only --large-objects SOURCE | psql TARGET), or "
        "move them into bytea columns");
}

// Prepared transactions on either side, and whether the role sees every
// session there.
void CheckSideTransactions(Checks& c, const SideModel& side, const std::string& name) {
  for (const PreparedTransaction& p : side.prepared) {
    const std::string gid = QuoteStandardLiteral(p.gid);
    c.Add("prepared_transaction", kWarning, name + " prepared transaction " + gid,
          "prepared at " + p.prepared_at + " by " + p.owner + " in database " + p.database +
              (&side == &c.m.source ? ": creating a replication slot waits until it ends, and "
                                      "it holds back WAL and vacuum"
                                    : ": it holds locks that can block the apply worker"),
          "COMMIT PREPARED " + gid + "; or ROLLBACK PREPARED " + gid + "; in database " +
              p.database + " on the " + name);
  }
  if (!side.role || side.role->sees_all_sessions) return;
  c.Add("visibility", kWarning, name + " role " + side.role->name,
        "cannot see other roles' sessions: long-running transactions and the counts of WAL "
        "senders and workers may be incomplete",
        "GRANT pg_monitor TO " + IdentForDisplay(side.role->name) + "; on the " + name +
            ", or run the preflight as a superuser");
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
  auto add = c.About("sequence", "sequence " + s.qualified);
  auto shown = [](const std::optional<int64_t>& v) {
    return v ? std::to_string(*v) : std::string("unused");
  };
  if (t == nullptr) {
    return add(kWarning, "missing on the target (source last_value " + shown(s.last_value) + ")",
               "create it on the target (pg_dump --schema-only), then setval it before cutover");
  }
  if (!s.readable || !t->readable) {
    return add(kWarning,
               "last_value not readable on the " + std::string(!s.readable ? "source" : "target") +
                   " (no SELECT or USAGE right)",
               "run the preflight as the sequence's owner or a superuser");
  }
  const std::string values =
      "source last_value " + shown(s.last_value) + ", target " + shown(t->last_value);
  if (!s.last_value || (t->last_value && *t->last_value >= *s.last_value)) {
    return add(kInfo, values);
  }
  add(kWarning, values + ": sequences are not replicated, the target would hand out used values",
      "at cutover, after the source stopped writing: SELECT setval(" +
          QuoteStandardLiteral(s.qualified) + ", <source last_value>); on the target (now " +
          std::to_string(*s.last_value) + ")");
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
// created on the source since, or published otherwise since
// (publish_via_partition_root): the subscriber skips their changes.
void CheckNotSubscribed(Checks& c, const SubscriptionInfo& sub) {
  const auto subscribed = [&](const RelationName& r) { return c.m.subscribed.contains(r); };
  for (const RelationName& name : c.m.publication.tables) {
    if (subscribed(name)) continue;
    auto s = c.m.source.tables.find(name);
    const NotSubscribedExplained e = ExplainNotSubscribed(
        IdentForDisplay(sub.name), FindSubscribedInstead(c.m.target.tables, name, subscribed));
    std::string fix = e.statement + "; on the target";
    if (!c.m.target.tables.contains(name))
      fix = "create it on the target (see table_missing), then " + fix;
    if (!e.caveat.empty()) fix += " (" + e.caveat + ")";
    if (!e.then.empty()) fix += ", then pgparity verify: " + e.then;
    c.Add("subscription_table", kWarning,
          s != c.m.source.tables.end()
              ? s->second.qualified
              : IdentForDisplay(name.schema) + "." + IdentForDisplay(name.name),
          e.then.empty() ? "published, but not subscribed (" + e.cause +
                               "): its rows are not copied and its changes not applied"
                         : "published, but not subscribed: " + e.listed + " (" + e.cause + ")",
          fix);
  }
}

void CheckSubscriptionSlot(Checks& c, const SubscriptionInfo& sub) {
  if (sub.slot_name.empty()) {
    return c.Add("subscription_slot", kWarning, "subscription " + sub.name,
                 "has slot_name = NONE: it cannot be enabled",
                 "ALTER SUBSCRIPTION " + IdentForDisplay(sub.name) +
                     " SET (slot_name = '...') with a slot on the source");
  }
  auto add = c.About("subscription_slot", "source slot " + sub.slot_name);
  auto s = std::ranges::find(c.m.slots, sub.slot_name, &ReplicationSlot::name);
  if (s == c.m.slots.end()) {
    return add(kBlocking,
               "the subscription's slot does not exist on the source: nothing can be streamed",
               "recreate the subscription (DROP SUBSCRIPTION after ALTER SUBSCRIPTION ... SET "
               "(slot_name = NONE); then CREATE SUBSCRIPTION copies every table again)");
  }
  if (s->wal_status == "lost") {
    return add(kBlocking,
               "invalidated (wal_status lost): the source removed WAL it still needed, changes "
               "are missing on the target",
               "recreate the subscription on emptied target tables (the copy starts over); raise "
               "max_slot_wal_keep_size on the source");
  }
  std::string state = std::string(s->active ? "active" : "not active") + ", lag " + s->lag_size +
                      ", retains " + s->retained_size + " of WAL";
  if (!s->wal_status.empty()) state += " (wal_status " + s->wal_status + ")";
  if (s->wal_status == "unreserved") {
    add(kWarning, state + ": about to be invalidated by max_slot_wal_keep_size",
        "make the subscription catch up now, or raise max_slot_wal_keep_size on the source");
  } else if (!s->active) {
    add(kWarning, state + ": no WAL sender streams it",
        "check the subscription is enabled and its apply worker is not failing (target's log)");
  } else {
    add(kInfo, state);
  }
}

// Whether the subscription runs: enabled, its apply worker up, no errors.
void CheckSubscriptionRunning(Checks& c, const SubscriptionInfo& sub) {
  auto add = c.About("subscription", "subscription " + sub.name);
  const SubscriptionActivity& activity = c.m.activity;
  if (!sub.enabled) {
    add(kBlocking, "disabled: nothing is copied or applied, and its slot keeps WAL on the source",
        "ALTER SUBSCRIPTION " + IdentForDisplay(sub.name) + " ENABLE; on the target");
  } else if (!activity.apply_worker_running) {
    add(kWarning, "enabled, but no apply worker is running (starting, or failing and restarting)",
        "read the target's server log for the apply worker's error");
  } else {
    add(kInfo,
        "enabled, apply worker running, publications: " + absl::StrJoin(sub.publications, ", "));
  }
  if (!sub.Subscribes(c.options.publication)) {
    add(kWarning,
        "subscribes to " + absl::StrJoin(sub.publications, ", ") + ", not to " +
            c.options.publication + ": the tables checked here may not be the ones it replicates",
        "pass --publication with the subscription's publication, or ALTER SUBSCRIPTION " +
            IdentForDisplay(sub.name) + " SET PUBLICATION " +
            IdentForDisplay(c.options.publication));
  }
  const int64_t apply_errors = activity.apply_errors.value_or(0);
  const int64_t sync_errors = activity.sync_errors.value_or(0);
  if (apply_errors == 0 && sync_errors == 0) return;
  add(kWarning,
      Count(apply_errors, "apply error", "apply errors") + " and " +
          Count(sync_errors, "table copy error", "table copy errors") +
          " since the statistics were reset",
      "read the target's server log; SELECT pg_stat_reset_subscription_stats(" + sub.oid +
          ") once fixed");
}

void CheckSubscription(Checks& c) {
  if (!c.m.sub) {
    return c.Add("subscription", kInfo, "subscription my_subscription",
                 "not on the target: the checks of a running subscription are skipped",
                 "after CREATE SUBSCRIPTION, run the preflight again to check it");
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
    auto add = c.About("slot", "source slot " + s.name);
    if (c.m.OwnsSlot(s)) {
      if (!c.m.sub->slot_name.empty() && s.name != c.m.sub->slot_name) {
        add(kInfo,
            "tablesync slot of " + c.m.sub->name + ", retains " + s.retained_size + " of WAL");
      }
      continue;
    }
    const std::string kind =
        s.type == "logical" ? "logical (" + s.plugin + ", database " + s.database + ")" : s.type;
    const std::string drop = "SELECT pg_drop_replication_slot(" + QuoteStandardLiteral(s.name) +
                             "); on the source if nothing uses it any more";
    if (s.wal_status == "lost") {
      add(kWarning, kind + ", invalidated (wal_status lost): unusable", drop);
    } else if (!s.active) {
      add(kWarning,
          kind + ", not active, retains " + s.retained_size +
              " of WAL: a slot nobody reads keeps WAL until the source's disk fills",
          drop);
    } else {
      add(kInfo, kind + ", active, retains " + s.retained_size + " of WAL");
    }
  }
}

// What provenance (docs/provenance.md) needs of the target: commit
// timestamps tell a row written by a local session from a replicated one.
Status CheckCommitTimestamps(Checks& c) {
  PGPARITY_ASSIGN_OR_RETURN(const bool on,
                            c.target.Read("track_commit_timestamp", ReadTrackCommitTimestamp));
  auto add = c.About("track_commit_timestamp", "target track_commit_timestamp");
  if (on) {
    add(kInfo, "on: pgparity can tell a local write on the target from a replicated one");
    return Status::OK();
  }
  add(kInfo,
      "off: pgparity cannot tell a local write on the target from a replicated one when it "
      "explains a divergent row (docs/provenance.md)",
      "ALTER SYSTEM SET track_commit_timestamp = on; on the target, then restart it (it records "
      "each transaction's commit time and replication origin: a few bytes per transaction)");
  return Status::OK();
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
  CheckPrivileges(c);
  CheckWalLevel(c);
  CheckCapacity(c);
  CheckPublication(c);
  CheckPartitions(c);
  CheckPublishedSubsets(c);
  PGPARITY_RETURN_IF_ERROR(CheckTables(c));
  CheckNotReplicated(c);
  CheckTransactions(c);
  CheckSequences(c);
  CheckSubscription(c);
  CheckSlots(c);
  PGPARITY_RETURN_IF_ERROR(CheckCommitTimestamps(c));
  return PreflightReport{std::move(c.findings),           source_.endpoint(),
                         model.source.settings.version,   target_.endpoint(),
                         model.target.settings.version,   options_.publication,
                         model.sub ? model.sub->name : ""};
}

}  // namespace pgparity::applier
