// pgparity digest --dsn DSN --table SCHEMA.NAME [--table ...] [--server-side] [--jobs N]
//
// The table digest of docs/digest.md for tables on any server (source or
// target): computed here from COPY (what verify's full check does: all
// tables in one snapshot, with --jobs N on N sessions sharing it, a big
// table in key ranges), or
// with --server-side by the server itself with the documented SQL. Either
// way the same number, so a report's digests can be checked independently.
#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/applier/catalog/relations.h"
#include "pgparity/applier/scan/range_digest.h"
#include "pgparity/applier/scan/rewritten_tables.h"
#include "pgparity/conn/connect.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/conn/row_reader.h"
#include "pgparity/conn/snapshot_transaction.h"
#include "pgparity/digest/digest128.h"
#include "pgparity/digest/digest_sql.h"
#include "pgparity/digest/row_digest.h"
#include "source_options.h"

namespace po = boost::program_options;

namespace pgparity::cli {

namespace {

// `jobs` sessions on `params` reading one snapshot: the first exports it,
// the others import it. One session too reads in a transaction: a lone
// COPY statement takes its snapshot before it waits for the table's lock,
// so a TRUNCATE committed during that wait makes it read the table empty,
// and outside a transaction nothing can tell (CheckNotRewritten).
Result<std::vector<conn::PgSession>> SnapshotSessions(const conn::ConnParams& params, size_t jobs) {
  std::vector<conn::PgSession> sessions;
  PGPARITY_ASSIGN_OR_RETURN(conn::PgSession first, conn::ConnectSession(params, "server"));
  sessions.push_back(std::move(first));
  PGPARITY_ASSIGN_OR_RETURN(const std::string snapshot, conn::BeginExportedSnapshot(sessions[0]));
  while (sessions.size() < jobs) {
    PGPARITY_ASSIGN_OR_RETURN(conn::PgSession s, conn::ConnectSession(params, "server"));
    PGPARITY_RETURN_IF_ERROR(conn::BeginInSnapshot(s, snapshot));
    sessions.push_back(std::move(s));
  }
  return sessions;
}

// Every table is read in the snapshot the first session exported; a table
// truncated or rewritten after it, before its read, was read empty
// (rewritten_tables.h): its digest is no state the table had.
// Not decided (exit 4) rather than a wrong number. Asked on the session
// that exported the snapshot: the readers' locks, held to the end of the
// snapshot's transaction, keep later rewrites out.
Status CheckNotRewritten(conn::PgSession& exporter, const applier::TableSpec& spec) {
  PGPARITY_ASSIGN_OR_RETURN(const std::string rewritten,
                            applier::RewrittenSinceSnapshot(exporter, spec));
  if (rewritten.empty()) return Status::OK();
  return Status::DeadlineExceeded(
      "table " + rewritten +
      " was truncated or rewritten after the digest's snapshot, before it was read, so it read "
      "as empty — run the digest again");
}

// The digest of `spec`'s table: from COPY (the full check's per-table
// work, on every session, a big table in key ranges), or with
// `server_side` by the server with the documented SQL.
Result<applier::DigestedTable> DigestTable(std::vector<conn::PgSession>& sessions,
                                           const applier::TableSpec& spec, bool server_side,
                                           double min_range_rows) {
  conn::PgSession& session = sessions[0];
  if (!server_side) {
    std::vector<conn::PgSession*> ptrs;
    for (auto& s : sessions) ptrs.push_back(&s);
    applier::TableToPlan table{&spec, applier::SourceRead(spec), "", applier::TypeChange(),
                               spec.estimated_rows};
    if (spec.keyed()) table.key_type = spec.types[spec.key_positions[0]];
    const applier::ScanPlanOptions options{.jobs = sessions.size(),
                                           .min_range_rows = min_range_rows};
    PGPARITY_ASSIGN_OR_RETURN(std::vector<applier::DigestedTable> d,
                              applier::DigestTables(ptrs, std::span(&table, 1), options, "digest"));
    return std::move(d[0]);
  }
  const digest::RowsOf rows =
      spec.relkind == 'p' ? digest::RowsOf::kPartitions : digest::RowsOf::kTableOnly;
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult r, session.Query(digest::TableDigestSql(
                                                     spec.schema, spec.name, spec.columns, rows)));
  if (r.rows() != 1) return Status::Internal("the digest query returned no row");
  const conn::RowReader row(r, 0, "reading the server-side digest");
  applier::DigestedTable d;
  PGPARITY_ASSIGN_OR_RETURN(d.digest.rows, row.Int64("rows"));
  PGPARITY_ASSIGN_OR_RETURN(std::string_view hex, row.Text("digest"));
  Result<digest::Digest128> sum = digest::Digest128::FromHex(hex);
  // The server's own answer is malformed: a data error (exit 5), not usage.
  if (!sum.ok()) return Status::Corruption(sum.status().message());
  d.digest.sum = *sum;
  d.split.why = "server side";
  return d;
}

// `qualified` ("schema.name") as the digest reads it: the table's own
// columns (not dropped, not generated) on that server, keyed as a
// subscriber looks rows up (for key ranges). InvalidArgument for
// a malformed name, NotFound when no such table exists.
Result<applier::TableSpec> DigestSpec(conn::PgSession& session, const std::string& qualified) {
  const size_t dot = qualified.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == qualified.size()) {
    return Status::InvalidArgument("--table " + qualified + ": expected schema.name");
  }
  const applier::RelationName name{qualified.substr(0, dot), qualified.substr(dot + 1)};
  PGPARITY_ASSIGN_OR_RETURN(std::optional<applier::Relation> table,
                            applier::ReadRelation(session, name));
  if (!table) {
    return Status::NotFound("table " + qualified + " does not exist on " + session.endpoint());
  }
  applier::TableSpec spec;
  spec.schema = name.schema;
  spec.name = name.name;
  spec.relkind = table->relkind == 'p' ? 'p' : 'r';
  spec.estimated_rows = table->reltuples;
  const std::vector<std::string> key = table->LookupKey();
  for (const applier::RelationColumn& c : table->columns) {
    if (c.generated) continue;
    if (std::find(key.begin(), key.end(), c.name) != key.end()) {
      spec.key_positions.push_back(spec.columns.size());
    }
    spec.columns.push_back(c.name);
    spec.types.push_back(c.type);
  }
  return spec;
}

}  // namespace

int RunDigest(const std::vector<std::string>& args) {
  po::options_description opts("pgparity digest --dsn DSN --table SCHEMA.NAME [options]");
  opts.add_options()("help,h", "this help")("dsn", po::value<std::string>(),
                                            "libpq connection string or URI (required)")(
      "table", po::value<std::vector<std::string>>(),
      "schema.name of a table (repeatable; required)")(
      "server-side", "compute with the documented SQL on the server instead of from COPY");
  AddJobsOption(opts, 1, "sessions reading at once, in one snapshot (a big table in key ranges)");
  opts.add_options()("min-range-rows", po::value<double>()->default_value(applier::kMinRangeRows),
                     "with --jobs > 1, a table is cut into key ranges of at least this many rows");
  po::variables_map vm;
  if (auto done = ParseCommandLine("digest", args, opts, nullptr, vm)) return *done;
  if (!vm.count("dsn")) return Fail("digest", "--dsn is required", kExitUsage);
  if (!vm.count("table")) {
    return Fail("digest", "--table is required — e.g. --table public.users", kExitUsage);
  }
  auto params = conn::ParseServerDsn(vm["dsn"].as<std::string>(), "dsn", "digest");
  if (!params.ok()) return Fail("digest", std::string(params.status().message()), kExitUsage);
  auto jobs = ReadJobs(vm, 1);
  if (!jobs.ok()) return Fail("digest", std::string(jobs.status().message()), kExitUsage);
  const double min_range_rows = vm["min-range-rows"].as<double>();
  if (!(min_range_rows >= 1))
    return Fail("digest", "--min-range-rows must be 1 or more", kExitUsage);
  auto sessions = SnapshotSessions(*params, *jobs);
  if (!sessions.ok()) {
    return Fail("digest", std::string(sessions.status().message()), ExitCodeFor(sessions.status()));
  }
  for (const auto& qualified : vm["table"].as<std::vector<std::string>>()) {
    auto spec = DigestSpec((*sessions)[0], qualified);
    if (!spec.ok()) {
      return Fail("digest", std::string(spec.status().message()), ExitCodeFor(spec.status()));
    }
    const auto start = std::chrono::steady_clock::now();
    auto d = DigestTable(*sessions, *spec, vm.count("server-side") > 0, min_range_rows);
    if (!d.ok()) return Fail("digest", std::string(d.status().message()), ExitCodeFor(d.status()));
    const Status read_in_snapshot = CheckNotRewritten((*sessions)[0], *spec);
    if (!read_in_snapshot.ok()) {
      return Fail("digest", std::string(read_in_snapshot.message()), ExitCodeFor(read_in_snapshot));
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const digest::TableDigest& sum = d->digest;
    std::printf("%s rows=%lld digest=%s seconds=%.3f rows_per_s=%.0f ranges=%zu\n",
                qualified.c_str(), static_cast<long long>(sum.rows), sum.sum.ToHex().c_str(), secs,
                secs > 0 ? sum.rows / secs : 0.0, d->split.ranges());
  }
  return kExitOk;
}

}  // namespace pgparity::cli
