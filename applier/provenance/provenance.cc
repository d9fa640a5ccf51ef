// ProvenanceReader: the reads behind a row's provenance — the target row's
// xmin and its commit timestamp/origin, the shadow's touch log, the
// subscription's health. Diagnose and the renderers are in
// provenance_render.cc.
#include "pgparity/applier/provenance/provenance.h"

#include <libpq-fe.h>

#include <utility>

#include "pgparity/applier/catalog/replication_origins.h"
#include "pgparity/applier/catalog/replication_slots.h"
#include "pgparity/applier/scan/row_read.h"
#include "pgparity/conn/row_reader.h"

namespace pgparity::applier {

namespace {

// f() on `session`; when the session is inside a transaction block (the
// check's snapshot), inside a savepoint, so that a failed query does not
// abort that transaction.
template <typename F>
auto Guarded(conn::PgSession& session, F f) -> decltype(f()) {
  if (PQtransactionStatus(session.get()) != PQTRANS_INTRANS) return f();
  if (Status s = session.Exec("SAVEPOINT pgparity_provenance"); !s.ok()) return s;
  auto result = f();
  if (!result.ok()) {
    (void)session.Exec("ROLLBACK TO SAVEPOINT pgparity_provenance");
  }
  (void)session.Exec("RELEASE SAVEPOINT pgparity_provenance");
  return result;
}

std::string From(const TableSpec& spec, char relkind) {
  return " FROM " + RelationRef(TargetRead(spec, relkind)) + " t";
}

// "SELECT xmin FROM <table> WHERE <the row>" with $1... for the row, or ""
// (with `why`) when the row cannot be looked up cheaply.
std::string SelectXminSql(const TableSpec& spec, char relkind, int64_t rows, std::string& why) {
  if (spec.keyed()) {
    const TableRead read = TargetRead(spec, relkind);
    std::string key, params;
    for (size_t i = 0; i < spec.key_positions.size(); ++i) {
      key += (i ? ", " : "") + read.select_list[spec.key_positions[i]];
      params += (i ? ", $" : "$") + std::to_string(i + 1);
    }
    return "SELECT t.xmin" + From(spec, relkind) + " WHERE (" + key + ") = (" + params + ")";
  }
  if (!SearchableByDigest(spec, rows)) {
    why = "a table without key is searched by row digest only when it is small (at most " +
          std::to_string(static_cast<int64_t>(kMaxRowsSearchedByDigest)) +
          " rows) and no column's type changed";
    return "";
  }
  // The youngest of equal rows.
  return "SELECT t.xmin" + From(spec, relkind) + " WHERE " + ComparedRowDigestSql(spec, "t") +
         " = $1 ORDER BY age(t.xmin) LIMIT 1";
}

// The xmin query wrapped to also read its commit timestamp and origin.
std::string TargetWriteSql(const std::string& select_xmin, bool commit_timestamps) {
  if (!commit_timestamps) {
    return "SELECT r.xmin::text AS xmin, NULL::text AS commit_time, NULL::text AS roident, "
           "NULL::text AS origin_name FROM (" +
           select_xmin + ") r";
  }
  return "SELECT r.xmin::text AS xmin, " + IsoUtcSql("c.\"timestamp\"") +
         " AS commit_time, c.roident::text AS roident, o.roname AS origin_name FROM (" +
         select_xmin +
         ") r LEFT JOIN LATERAL pg_xact_commit_timestamp_origin(r.xmin) c ON true"
         " LEFT JOIN pg_replication_origin o ON o.roident = c.roident";
}

Result<TargetWrite> ReadWriteRow(const conn::RowReader& row, const SubscriptionInfo& sub,
                                 bool commit_timestamps) {
  TargetWrite w;
  PGPARITY_ASSIGN_OR_RETURN(std::string_view xmin, row.Text("xmin"));
  w.xmin = std::string(xmin);
  PGPARITY_ASSIGN_OR_RETURN(auto time, row.OptionalText("commit_time"));
  PGPARITY_ASSIGN_OR_RETURN(auto roident, row.OptionalText("roident"));
  PGPARITY_ASSIGN_OR_RETURN(auto name, row.OptionalText("origin_name"));
  if (name) w.origin_name = std::string(*name);
  if (!commit_timestamps) {
    w.note = "track_commit_timestamp is off on the target: the origin of its write is unknown";
  } else if (!time || !roident) {
    w.note = "no commit timestamp recorded for xmin " + w.xmin.value() +
             " (committed before track_commit_timestamp was on, or frozen)";
  } else {
    w.commit_time = std::string(*time);
    if (*roident == "0") {
      w.origin = TargetOrigin::kLocal;
    } else if (w.origin_name && sub.OwnsOrigin(*w.origin_name)) {
      w.origin = TargetOrigin::kSubscription;  // its apply worker or a table copy of it
    } else {
      w.origin = TargetOrigin::kOtherOrigin;
      // A table copy's origin is dropped once the table is ready.
      if (!w.origin_name) {
        w.note = "replication origin " + std::string(*roident) +
                 ", dropped since (a finished initial table copy, or a dropped subscription)";
      }
    }
  }
  return w;
}

}  // namespace

ProvenanceReader ProvenanceReader::Open(conn::PgSession& target, conn::PgSession* source,
                                        const SubscriptionInfo& sub, ProvenanceOptions options) {
  ProvenanceReader r;
  r.sub_ = sub;
  r.options_ = options;
  SubscriptionContext& c = r.context_;
  c.name = sub.name;
  auto track = Guarded(target, [&] { return ReadTrackCommitTimestamp(target); });
  if (track.ok()) {
    r.commit_timestamps_ = *track;
  } else {
    c.unknown.push_back("track_commit_timestamp: " + track.status().ToString());
  }
  auto health = Guarded(target, [&] { return ReadSubscriptionHealth(target, sub); });
  if (health.ok()) {
    c.health = std::move(*health);
  } else {
    c.unknown.push_back("health: " + health.status().ToString());
  }
  auto remote = Guarded(target, [&] { return ReadRemoteLsn(target, sub); });
  if (remote.ok()) {
    c.remote_lsn = *remote;
  } else {
    c.unknown.push_back("remote_lsn: " + remote.status().ToString());
  }
  if (source != nullptr && !sub.slot_name.empty()) {
    auto slots = Guarded(*source, [&] { return ReadSlots(*source, {sub.slot_name}); });
    if (slots.ok()) {
      if (slots->empty()) {
        c.slot_wal_status = "missing";
      } else if (!(*slots)[0].wal_status.empty()) {  // "" before PostgreSQL 13: unknown
        c.slot_wal_status = (*slots)[0].wal_status;
      }
    } else {
      c.unknown.push_back("slot: " + slots.status().ToString());
    }
  }
  return r;
}

TargetWrite ProvenanceReader::ReadTargetWrite(conn::PgSession& target, const TableSpec& spec,
                                              int64_t table_rows, char relkind,
                                              const DivergentRow& row) const {
  TargetWrite unknown;
  const std::string select_xmin = SelectXminSql(spec, relkind, table_rows, unknown.note);
  if (select_xmin.empty()) return unknown;
  std::vector<std::optional<std::string>> params;
  for (const auto& [column, value] : row.key) params.push_back(value);
  const std::string sql = TargetWriteSql(select_xmin, commit_timestamps_);
  auto rows = Guarded(target, [&] { return target.Query(sql, params); });
  if (!rows.ok()) {
    unknown.note = "reading the target's row: " + rows.status().ToString();
    return unknown;
  }
  if (rows->rows() == 0) {
    unknown.origin = TargetOrigin::kNoRow;
    unknown.note = "the target has no such row now";
    return unknown;
  }
  auto w = ReadWriteRow(conn::RowReader(*rows, 0, "reading the target row's xmin"), sub_,
                        commit_timestamps_);
  if (!w.ok()) {
    unknown.note = w.status().ToString();
    return unknown;
  }
  return std::move(*w);
}

std::vector<SourceCommit> ProvenanceReader::SourceCommits(const ShadowState& shadow, size_t table,
                                                          std::string_view key_bytes) const {
  std::vector<RowTouch> touches;
  {
    auto lk = shadow.Lock();
    touches = shadow.RecentTouches(table, key_bytes, options_.max_source_commits);
  }
  std::vector<SourceCommit> out;
  for (const RowTouch& t : touches) {
    SourceCommit c{t.commit_lsn, t.end_lsn, t.xid, t.commit_time, t.op, std::nullopt};
    if (context_.remote_lsn) c.applied_on_target = *context_.remote_lsn >= t.end_lsn;
    out.push_back(c);
  }
  return out;
}

RowProvenance ProvenanceReader::Explain(conn::PgSession& target, const ShadowState& shadow,
                                        size_t table, char target_relkind, const DivergentRow& row,
                                        std::string_view key_bytes) const {
  RowProvenance p;
  p.subscription = context_;
  if (row.kind == RowDivergence::kMissingOnTarget) {
    p.target.origin = TargetOrigin::kNoRow;
    p.target.note =
        "the target has no such row: deleted there by a local session (a DELETE leaves no "
        "trace), or the source's insert was never applied";
  } else {
    int64_t rows = 0;
    {
      auto lk = shadow.Lock();
      rows = shadow.table(table).digest().rows;
    }
    p.target = ReadTargetWrite(target, shadow.table(table).spec(), rows, target_relkind, row);
  }
  if (p.target.origin == TargetOrigin::kUnknown && p.target.note.empty() && !commit_timestamps_) {
    p.target.note = "track_commit_timestamp is off on the target: the origin is unknown";
  }
  p.source_commits = SourceCommits(shadow, table, key_bytes);
  p.diagnosis = Diagnose(p, row.kind);
  return p;
}

}  // namespace pgparity::applier
