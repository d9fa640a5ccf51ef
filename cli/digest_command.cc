// pgparity digest --dsn DSN --table SCHEMA.NAME [--table ...] [--server-side]
//
// The table digest of docs/digest.md for tables on any server (source or
// target): computed here from COPY (what verify's full check does), or
// with --server-side by the server itself with the documented SQL. Either
// way the same number, so a report's digests can be checked independently.
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/applier/catalog/relations.h"
#include "pgparity/applier/scan/table_scan.h"
#include "pgparity/conn/connect.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/conn/row_reader.h"
#include "pgparity/digest/digest128.h"
#include "pgparity/digest/digest_sql.h"
#include "pgparity/digest/row_digest.h"
#include "source_options.h"

namespace po = boost::program_options;

namespace pgparity::cli {

namespace {

// The digest of `spec`'s table: from COPY (the full check's per-table
// work), or with `server_side` by the server with the documented SQL.
Result<digest::TableDigest> DigestTable(conn::PgSession& session, const applier::TableSpec& spec,
                                        bool server_side) {
  if (!server_side) {
    digest::TableDigester digester(spec.schema, spec.name, spec.columns);
    PGPARITY_RETURN_IF_ERROR(applier::ScanTable(
        session, applier::ForDigest(applier::SourceRead(spec), spec), spec.estimated_rows, "digest",
        [&](std::span<const digest::ColumnValue> v) {
          digester.Add(v);
          return Status::OK();
        }));
    return digester.Finish();
  }
  PGPARITY_ASSIGN_OR_RETURN(conn::QueryResult r, session.Query(digest::TableDigestSql(
                                                     spec.schema, spec.name, spec.columns)));
  if (r.rows() != 1) return Status::Internal("the digest query returned no row");
  const conn::RowReader row(r, 0, "reading the server-side digest");
  digest::TableDigest d;
  PGPARITY_ASSIGN_OR_RETURN(d.rows, row.Int64("rows"));
  PGPARITY_ASSIGN_OR_RETURN(std::string_view hex, row.Text("digest"));
  Result<digest::Digest128> sum = digest::Digest128::FromHex(hex);
  // The server's own answer is malformed: a data error (exit 5), not usage.
  if (!sum.ok()) return Status::Corruption(sum.status().message());
  d.sum = *sum;
  return d;
}

// `qualified` ("schema.name") as the digest reads it: the table's own
// columns (not dropped, not generated) on that server. InvalidArgument for
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
  for (const applier::RelationColumn& c : table->columns) {
    if (!c.generated) spec.columns.push_back(c.name);
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
  po::variables_map vm;
  if (auto done = ParseCommandLine("digest", args, opts, nullptr, vm)) return *done;
  if (!vm.count("dsn")) return Fail("digest", "--dsn is required", kExitUsage);
  if (!vm.count("table")) {
    return Fail("digest", "--table is required — e.g. --table public.users", kExitUsage);
  }
  auto params = conn::ParseServerDsn(vm["dsn"].as<std::string>(), "dsn", "digest");
  if (!params.ok()) return Fail("digest", std::string(params.status().message()), kExitUsage);
  auto session = conn::ConnectSession(*params, "server");
  if (!session.ok()) {
    return Fail("digest", std::string(session.status().message()), ExitCodeFor(session.status()));
  }
  for (const auto& qualified : vm["table"].as<std::vector<std::string>>()) {
    auto spec = DigestSpec(*session, qualified);
    if (!spec.ok()) {
      return Fail("digest", std::string(spec.status().message()), ExitCodeFor(spec.status()));
    }
    const auto start = std::chrono::steady_clock::now();
    auto d = DigestTable(*session, *spec, vm.count("server-side") > 0);
    if (!d.ok()) return Fail("digest", std::string(d.status().message()), ExitCodeFor(d.status()));
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s rows=%lld digest=%s seconds=%.3f rows_per_s=%.0f\n", qualified.c_str(),
                static_cast<long long>(d->rows), d->sum.ToHex().c_str(), secs,
                secs > 0 ? d->rows / secs : 0.0);
  }
  return kExitOk;
}

}  // namespace pgparity::cli
