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
#include "pgparity/applier/table_scan.h"
#include "pgparity/conn/connect.h"
#include "pgparity/conn/pg_handle.h"
#include "pgparity/digest/digest128.h"
#include "pgparity/digest/digest_sql.h"
#include "pgparity/digest/row_digest.h"
#include "source_options.h"

namespace po = boost::program_options;

namespace pgparity::cli {

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
  const bool server_side = vm.count("server-side") > 0;
  for (const auto& qualified : vm["table"].as<std::vector<std::string>>()) {
    const size_t dot = qualified.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == qualified.size()) {
      return Fail("digest", "--table " + qualified + ": expected schema.name", kExitUsage);
    }
    const std::string schema = qualified.substr(0, dot), name = qualified.substr(dot + 1);
    auto cols = session->Query(
        "SELECT a.attname, c.reltuples, c.relkind FROM pg_attribute a JOIN pg_class c ON c.oid = "
        "a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 "
        "AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
        {schema, name});
    if (!cols.ok())
      return Fail("digest", std::string(cols.status().message()), ExitCodeFor(cols.status()));
    if (cols->rows() == 0) {
      return Fail("digest", "table " + qualified + " does not exist on " + session->endpoint(),
                  kExitUsage);
    }
    applier::TableSpec spec;
    spec.schema = schema;
    spec.name = name;
    spec.relkind = cols->Value(0, 2) == "p" ? 'p' : 'r';
    for (int i = 0; i < cols->rows(); ++i) spec.columns.emplace_back(cols->Value(i, 0));
    const std::vector<std::string>& columns = spec.columns;
    const double estimate = std::stod(std::string(cols->Value(0, 1)));
    const auto start = std::chrono::steady_clock::now();
    digest::TableDigest d;
    if (server_side) {
      auto r = session->Query(digest::TableDigestSql(schema, name, columns));
      if (!r.ok())
        return Fail("digest", std::string(r.status().message()), ExitCodeFor(r.status()));
      d.rows = std::stoll(std::string(r->Value(0, 0)));
      auto sum = digest::Digest128::FromHex(r->Value(0, 1));
      if (!sum.ok()) return Fail("digest", std::string(sum.status().message()), kExitData);
      d.sum = *sum;
    } else {
      digest::TableDigester digester(schema, name, std::span<const std::string>(columns));
      Status s = applier::ScanTable(*session, applier::SourceRead(spec), estimate, "digest",
                                    [&](std::span<const digest::ColumnValue> v) {
                                      digester.Add(v);
                                      return Status::OK();
                                    });
      if (!s.ok()) return Fail("digest", std::string(s.message()), ExitCodeFor(s));
      d = digester.Finish();
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s rows=%lld digest=%s seconds=%.3f rows_per_s=%.0f\n", qualified.c_str(),
                static_cast<long long>(d.rows), d.sum.ToHex().c_str(), secs,
                secs > 0 ? d.rows / secs : 0.0);
  }
  return kExitOk;
}

}  // namespace pgparity::cli
