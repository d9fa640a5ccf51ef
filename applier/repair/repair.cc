#include "pgparity/applier/repair/repair.h"

#include <map>

#include "pgparity/applier/session/session_setup.h"
#include "repair/repair_input.h"
#include "repair/repair_plan.h"

namespace pgparity::applier {

namespace {

// The settings --apply's session has (pg_handle.h's pinned options), set
// by the script too: values and row digests read the same under psql, and
// a row-level security policy makes a statement fail instead of silently
// skipping the row it hides.
constexpr const char* kScriptSettings =
    "SET LOCAL session_replication_role = replica;\n"
    "SET LOCAL row_security = off;\n"
    "SET LOCAL DateStyle = ISO;\n"
    "SET LOCAL IntervalStyle = postgres;\n"
    "SET LOCAL TimeZone = 'UTC';\n"
    "SET LOCAL extra_float_digits = 3;\n"
    "SET LOCAL bytea_output = hex;\n";

// The report is of this pair of databases: a repair from another
// database's report would write rows that were never compared.
Status CheckSameDatabases(const RepairInput& in, const Sides& sides) {
  for (const auto& [side, reported, now] :
       {std::tuple{"source", in.source, sides.source->endpoint()},
        std::tuple{"target", in.target, sides.target->endpoint()}}) {
    if (DatabaseOf(reported) != DatabaseOf(now)) {
      return Status::FailedPrecondition(std::string("--report is of ") + side + " database " +
                                        reported + ", --" + side + " is " + now +
                                        " — pass the report of this pair of databases");
    }
  }
  return Status::OK();
}

Result<std::vector<PlannedRow>> Plan(const RepairInput& in, Sides& sides) {
  std::map<std::string, const TableSpec*> specs;
  for (const TableSpec& spec : sides.specs) specs[spec.QualifiedName()] = &spec;
  // Every table checked before any row is read.
  for (const ListedTable& t : in.tables) {
    auto it = specs.find(t.table);
    if (it == specs.end()) {
      return Status::FailedPrecondition("--report: table " + t.table +
                                        " is no longer published by " + in.publication +
                                        " — add it back, or repair from a newer report");
    }
    PGPARITY_RETURN_IF_ERROR(CheckListedTable(*it->second, t));
  }
  std::vector<PlannedRow> planned;
  for (const ListedTable& t : in.tables) {
    PGPARITY_ASSIGN_OR_RETURN(auto rows,
                              PlanTable(*sides.source, *sides.target, *specs[t.table], t));
    for (auto& r : rows) planned.push_back(std::move(r));
  }
  return planned;
}

// `text` as one "-- " comment line: no value in it can end the comment.
std::string CommentLine(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return "-- " + text + "\n";
}

std::string RowLine(const char* what, const RepairedRow& r) {
  return what + r.table + " " + r.key + " (" + r.kind + "): " + r.note;
}

std::string Script(const RepairInput& in, const std::vector<PlannedRow>& planned) {
  std::string out = "-- pgparity repair of " + std::to_string(planned.size()) +
                    " listed rows; report compared at source LSN " + in.source_lsn + "\n" +
                    "SET client_encoding = 'UTF8';\nBEGIN;\n" + kScriptSettings;
  bool any = false;
  for (const PlannedRow& p : planned) {
    out += CommentLine(RowLine("", p.row));
    if (!p.statement) continue;
    out += p.statement->WithLiterals() + ";\n";
    any = true;
  }
  return any ? out + "COMMIT;\n" : "";
}

// One target transaction; nothing is written when a statement fails.
Status Apply(conn::PgSession& target, const std::vector<PlannedRow>& planned) {
  PGPARITY_RETURN_IF_ERROR(target.Exec("BEGIN"));
  // No trigger, rule or FK action fires for the repair's writes.
  Status s = target.Exec("SET LOCAL session_replication_role = replica");
  for (const PlannedRow& p : planned) {
    if (!s.ok() || !p.statement) continue;
    auto r = target.Query(p.statement->WithParameters(), p.statement->params());
    if (!r.ok()) {
      s = r.status().WithPrefix("repairing " + p.row.table + " " + p.row.key);
    }
  }
  if (!s.ok()) {
    target.Exec("ROLLBACK").IgnoreError();  // the first error is the one to report
    return s;
  }
  return target.Exec("COMMIT");
}

}  // namespace

Result<RepairOutcome> RunRepair(const RepairOptions& options) {
  PGPARITY_ASSIGN_OR_RETURN(const RepairInput in, ReadRepairInput(options.report_path));
  const std::optional<std::string> subscription =
      in.subscription.empty() ? std::nullopt : std::optional<std::string>(in.subscription);
  PGPARITY_ASSIGN_OR_RETURN(
      Sides sides, OpenSides(options.source, options.target, in.publication, subscription));
  PGPARITY_RETURN_IF_ERROR(CheckSameDatabases(in, sides));
  PGPARITY_ASSIGN_OR_RETURN(const std::vector<PlannedRow> planned, Plan(in, sides));
  RepairOutcome out;
  for (const ListedTable& t : in.tables) {
    if (t.divergent_row_count > t.rows.size()) {
      out.notes.push_back(t.table + ": the report lists " + std::to_string(t.rows.size()) + " of " +
                          std::to_string(t.divergent_row_count) +
                          " divergent rows; run verify with a larger --max-rows, or again "
                          "after this repair");
    }
  }
  for (const PlannedRow& p : planned)
    (p.statement ? out.repaired : out.left_alone).push_back(p.row);
  out.script = Script(in, planned);
  if (!options.apply || out.repaired.empty()) return out;
  PGPARITY_RETURN_IF_ERROR(Apply(*sides.target, planned));
  out.applied = true;
  for (const PlannedRow& p : planned) {
    if (!p.statement) continue;
    PGPARITY_ASSIGN_OR_RETURN(const bool same, RowMatchesNow(*sides.source, *sides.target, p));
    if (!same) out.still_differ.push_back(p.row);
  }
  return out;
}

void RenderRepairSummary(const RepairOutcome& outcome, bool as_sql_comments, std::ostream& out) {
  std::vector<std::string> lines;
  const char* verb = outcome.applied ? "repaired: " : "to repair: ";
  for (const RepairedRow& r : outcome.repaired) lines.push_back(RowLine(verb, r));
  for (const RepairedRow& r : outcome.left_alone) lines.push_back(RowLine("skipped: ", r));
  for (const RepairedRow& r : outcome.still_differ) {
    lines.push_back("still differs after the repair: " + r.table + " " + r.key);
  }
  for (const std::string& n : outcome.notes) lines.push_back("note: " + n);
  if (outcome.repaired.empty()) lines.push_back("nothing to repair");
  for (std::string& line : lines) {
    if (as_sql_comments) {
      out << CommentLine(std::move(line));
    } else {
      out << line << '\n';
    }
  }
}

}  // namespace pgparity::applier
