#include "corpus/seed_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>

#include "corpus/inject.h"
#include "corpus/quote.h"
#include "corpus/report_check.h"
#include "corpus/schema_ddl.h"
#include "corpus/schema_gen.h"
#include "support/subprocess.h"

namespace pgparity::corpus {

using nlohmann::json;
using std::chrono::seconds;

namespace {

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// " 'a' 'b' ...": arguments for a shell command line.
std::string VariantText(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) out += " " + testing::ShellQuote(a);
  return out;
}

std::string Tail(const std::string& text, size_t lines = 40) {
  size_t at = text.size();
  for (size_t n = 0; n <= lines && at != std::string::npos && at > 0; ++n) {
    at = text.rfind('\n', at - 1);
  }
  return at == std::string::npos || at == 0 ? text : text.substr(at + 1);
}

// At most 40 problems as failures, then how many more (all are in the
// seed's directory).
void Fail(const std::string& what, const std::vector<std::string>& problems) {
  for (size_t i = 0; i < problems.size() && i < 40; ++i)
    ADD_FAILURE() << what << ": " << problems[i];
  if (problems.size() > 40) ADD_FAILURE() << what << ": ... " << problems.size() - 40 << " more";
}

const std::string kMarker = std::string("public.") + kMarkerTable;

// The seed's database TimeZone on both sides ("": the servers' default):
// zones without daylight saving time since 1990, so every wall-clock time
// the workload writes exists once and timestamp <-> timestamptz converts
// back and forth without loss; not UTC, so a comparison in the wrong zone
// shows.
const std::vector<std::string>& Zones() {
  static const std::vector<std::string> zones{"", "Asia/Kolkata", "America/Phoenix",
                                              "Asia/Kathmandu"};
  return zones;
}

}  // namespace

SeedRun::SeedRun(const SeedEnv& env, uint64_t seed)
    : env_(env),
      seed_(seed),
      rng_(seed),
      db_("corpus_" + std::to_string(seed)),
      subscription_("corpus_sub_" + std::to_string(seed)),
      slot_("corpus_audit_" + std::to_string(seed)),
      dir_(env.work_dir / ("seed-" + std::to_string(seed))) {
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
}

SeedRun::~SeedRun() {
  try {
    Cleanup();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "cleanup: " << e.what();
  }
}

std::string SeedRun::Dsn(const testing::PgServer& server) const { return server.Dsn(db_); }

void SeedRun::Note(const std::string& line) {
  char at[32];
  std::snprintf(at, sizeof at, "[%5.1f s] ",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  std::cout << "corpus seed " << seed_ << ": " << at << line << std::endl;
  std::ofstream(dir_ / "seed.log", std::ios::app) << at << line << "\n";
}

void SeedRun::Run() {
  Setup();
  StartAudit();
  workload_->OnceMidStream([this] { CrashAudit(); });
  workload_->Run(env_.size.phase_one, true, env_.size.streamed_one);
  workload_->Mark(1);
  WaitCaughtUp();
  Note("phase 1: " + workload_->stats().Summary());
  // Statistics for verify's key ranges (a histogram of the first key column).
  source_->Exec("ANALYZE");
  target_->Exec("ANALYZE");
  CheckStreamed();
  Fail("the workload left a wide-value case out", workload_->stats().Uncovered());
  if (CheckConsistent()) {
    InjectAndContinue();
    CheckDivergent();
  }
  // An audit that died was reported when it was found dead.
  if (audit_->Running()) {
    const int code = audit_->Stop();
    EXPECT_EQ(code, 0) << "pgparity audit did not stop cleanly on SIGTERM; log:\n"
                       << Tail(audit_->Log());
  }
  Note("done (" + dir_.string() + ")");
}

void SeedRun::Setup() {
  Rng pick(seed_ ^ 0x9e3779b97f4a7c15ULL);  // apart from rng_: the schema stays the same
  // Even seeds publish via the partition root where the source can (13+).
  SchemaOptions options{seed_ % 2 == 0 && testing::SourceMajor() >= 13, Pick(pick, env_.collations),
                        env_.widen, env_.convert};
  schema_ = GenerateSchema(rng_, options);
  Note(std::string("publish_via_partition_root = ") + (options.via_root ? "true" : "false") +
       ", collation " + options.collation + ", " + std::to_string(schema_.tables.size()) +
       " tables, DDL in " + dir_.string());
  const std::string source_ddl = SourceDdl(schema_), target_ddl = TargetDdl(schema_);
  WriteFile(dir_ / "source.sql", source_ddl);
  WriteFile(dir_ / "target.sql", target_ddl);
  CreateDatabases(pick);
  source_ = std::make_unique<Session>(Dsn(env_.servers->source));
  target_ = std::make_unique<Session>(Dsn(env_.servers->target));
  source_->Exec(source_ddl);
  target_->Exec(target_ddl);
  other_ = std::make_unique<Session>(Dsn(env_.servers->source));
  workload_ = std::make_unique<Workload>(schema_, *source_, *other_, rng_);
  workload_->Seed(env_.size.seed_rows);
  source_->Exec(std::string("CREATE PUBLICATION ") + kPublication + " FOR ALL TABLES" +
                (options.via_root ? " WITH (publish_via_partition_root = true)" : ""));
  const std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(env_.servers->source.port()) + " dbname=" + db_ +
      " user=postgres password=postgres";
  // How the subscriber takes streamed transactions: spooled and applied at
  // the commit, by a parallel apply worker (16+ targets; from a 14 source
  // as `on`), or not streamed to it at all.
  subscription_streaming_ = Pick(pick, std::vector<std::string>{"on", "parallel", "off"});
  target_->Exec("CREATE SUBSCRIPTION " + QuoteIdent(subscription_) + " CONNECTION " +
                QuoteLiteral(conninfo) + " PUBLICATION " + kPublication +
                " WITH (streaming = " + subscription_streaming_ + ")");
  Note("subscription streaming = " + subscription_streaming_);
  ChooseVariant(pick);
  testing::WaitForSubscriptionReady(*target_, subscription_, seconds(120), [this] {
    return "target log:\n" +
           Tail(testing::ReadFile(env_.servers->target.dir() / "server/server.log"));
  });
}

// Both databases with the seed's TimeZone: the apply worker and the
// walsenders convert timestamp <-> timestamptz in it, and pgparity must
// compare in it (the source's default TimeZone, docs/types.md).
void SeedRun::CreateDatabases(Rng& pick) {
  const std::string zone = Pick(pick, Zones());
  for (const auto* server : {&env_.servers->source, &env_.servers->target}) {
    Session admin(server->Dsn());
    admin.Exec("CREATE DATABASE " + QuoteIdent(db_));
    if (server == &env_.servers->source && testing::SourceMajor() >= 13) {
      // The walsenders of this database (the subscription's, the audit's,
      // verify's) stream a transaction once its changes pass 64 kB, the
      // least there is: the workload's streamed transactions (workload.h).
      admin.Exec("ALTER DATABASE " + QuoteIdent(db_) + " SET logical_decoding_work_mem = '64kB'");
    }
    if (!zone.empty()) {
      admin.Exec("ALTER DATABASE " + QuoteIdent(db_) + " SET TimeZone = " + QuoteLiteral(zone));
    }
  }
  source_timezone_ = SessionDefault(Dsn(env_.servers->source), "TimeZone");
  Note("database TimeZone " + (zone.empty() ? "(the servers' default)" : zone) +
       "; a new source session is told " + source_timezone_);
}

std::string CheckVariant::Describe() const {
  return "--jobs " + std::to_string(jobs) + (spill ? ", --memory-limit 1MiB (spilling)" : "") +
         (rolling ? ", audit --scan-rate " + std::to_string(kScanRate) + " (the rolling check)"
                  : ", audit --interval");
}

// Every combination in four consecutive seeds: spill on two seeds of three,
// the rolling check on seeds 1 and 2 mod 4 (1001 of the default seeds).
void SeedRun::ChooseVariant(Rng& pick) {
  variant_.jobs = static_cast<int>(Uniform(pick, 1, 4));
  variant_.spill = seed_ % 3 != 2;
  variant_.rolling = seed_ % 4 == 1 || seed_ % 4 == 2;
  Note("checks: " + variant_.Describe());
}

std::vector<std::string> SeedRun::VariantArgs(bool audit) const {
  std::vector<std::string> args{"--jobs", std::to_string(variant_.jobs)};
  if (variant_.spill) args.insert(args.end(), {"--memory-limit", "1MiB"});
  if (!audit) {
    args.insert(args.end(), {"--min-range-rows", "50"});
  } else if (variant_.rolling) {
    args.insert(args.end(),
                {"--scan-rate", std::to_string(CheckVariant::kScanRate), "--scan-window", "1"});
  } else {
    args.insert(args.end(), {"--interval", std::to_string(env_.size.audit_interval)});
  }
  return args;
}

void SeedRun::CheckVariantUsed(const json& report, bool audit, const std::string& what) {
  if (!report.is_object()) return;  // its absence is a failure of its own
  if (variant_.spill) {
    EXPECT_GT(report.value("/shadow/spilled_tables"_json_pointer, 0), 0)
        << what << ": --memory-limit 1MiB and no table spilled";
  }
  if (!audit && variant_.jobs > 1) {
    int cut = 0;
    for (const auto& t : report.value("tables", json::array()))
      cut += t.contains("scan") && t["scan"].is_object() && t["scan"].value("ranges", 1) > 1;
    EXPECT_GT(cut, 0) << what << ": --jobs " << variant_.jobs
                      << " --min-range-rows 50 and no table was read in key ranges";
  }
  if (audit) {
    EXPECT_EQ(report.contains("rolling"), variant_.rolling)
        << what << ": the rolling check's part of the report";
    if (variant_.rolling) {
      EXPECT_FALSE(report.value("/rolling/walked_by_range"_json_pointer, json::object()).empty())
          << what << ": no table walked by key range (the bulk table has "
          << CheckVariant::kScanRate << "+ rows)";
    }
  }
}

void SeedRun::StartAudit() {
  AuditOptions o{env_.cli,
                 Dsn(env_.servers->source),
                 Dsn(env_.servers->target),
                 kPublication,
                 subscription_,
                 slot_,
                 dir_ / "audit",
                 VariantArgs(true)};
  audit_ = std::make_unique<AuditRun>(o);
}

// The workload built its streamed transactions as planned, and they were
// streamed: to the audit's slot always, to the subscription's unless it
// said streaming = off. The source's
// statistics (pg_stat_replication_slots, 14+) reach a new session with a
// delay: up to 10 s.
void SeedRun::CheckStreamed() {
  const WorkloadStats& w = workload_->stats();
  EXPECT_GT(w.savepoints_rolled_back, 0) << "no savepoint was rolled back";
  EXPECT_GT(w.interleaved, 0) << "no other commit came while a streamed transaction was open";
  // Streaming, and its statistics, came with 14 (before, a big transaction
  // spills to disk on the source and is sent at its commit).
  if (w.streamed + w.streamed_rolled_back == 0 || testing::SourceMajor() < 14) return;
  Session source(env_.servers->source.Dsn());
  const std::string sub_slot = subscription_;  // CREATE SUBSCRIPTION names its slot after it
  std::string audit_txns = "0", sub_txns = "0";
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  for (;;) {
    source.Exec("SELECT pg_stat_clear_snapshot()");
    for (const auto& r : source.Query(
             "SELECT slot_name, stream_txns FROM pg_stat_replication_slots WHERE slot_name IN "
             "($1, $2)",
             {slot_, sub_slot})) {
      (*r[0] == slot_ ? audit_txns : sub_txns) = *r[1];
    }
    const bool sub_done = subscription_streaming_ == "off" || sub_txns != "0";
    if ((audit_txns != "0" && sub_done) || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  Note("streamed transactions (pg_stat_replication_slots.stream_txns): audit slot " + audit_txns +
       ", subscription slot " + sub_txns);
  EXPECT_NE(audit_txns, "0") << "no transaction was streamed to the audit's slot " << slot_
                             << ": logical_decoding_work_mem not in effect?";
  if (subscription_streaming_ != "off") {
    EXPECT_NE(sub_txns, "0") << "no transaction was streamed to the subscription";
  }
}

// kill -9 of the audit with a streamed transaction open, then the same
// command again: it resumes from its last checkpoint, and the walsender
// streams the open transaction from its start again. Its reports after
// must agree with the oracle like any. Not before its first checkpoint: a
// slot without one is refused (docs/cli.md), by design. The audit's slot
// may itself wait for this open transaction to end (a logical slot's
// starting point waits for every open transaction): then no checkpoint
// comes, and the crash waits for the next streamed transaction.
void SeedRun::CrashAudit() {
  const auto checkpoint = audit_->options().state_dir / "shadow.ckpt";
  for (auto until = std::chrono::steady_clock::now() + seconds(10);
       !std::filesystem::exists(checkpoint) && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!std::filesystem::exists(checkpoint)) {
    Note(
        "no checkpoint of the audit yet (its slot waits for this transaction?): the crash waits "
        "for the next streamed transaction");
    workload_->OnceMidStream([this] { CrashAudit(); });
    return;
  }
  KillAudit("halfway through a streamed transaction");
}

// A second kill -9, after the injections, at a point the seed picks:
// between two of phase two's transactions, or up to 4 s after the target
// applied them. The audit is then wherever its own work is — a full check
// or a rolling range, listing divergent rows, writing a checkpoint (of a
// spilled state on two seeds of three), applying a commit — not only
// inside a streamed transaction. Restarted, it must still report every
// injected divergence within CheckDivergent's bound.
void SeedRun::KillAudit(const std::string& when) {
  if (!audit_->Running()) return;  // an audit that died is reported where it is found
  audit_->Kill();
  testing::SqlClient source(Dsn(env_.servers->source));
  testing::WaitForSlotReleased(source, slot_);
  audit_->Restart();
  Note("audit killed (SIGKILL) " + when + " and started again");
}

void SeedRun::WaitCaughtUp() {
  testing::SqlClient source(Dsn(env_.servers->source));
  try {
    testing::WaitForCatchUp(source, subscription_, seconds(120));
  } catch (const std::exception& e) {
    throw std::runtime_error(
        std::string(e.what()) + "; target log:\n" +
        Tail(testing::ReadFile(env_.servers->target.dir() / "server/server.log")));
  }
}

SeedRun::Verdict SeedRun::Verify(const std::string& name) {
  const auto report = dir_ / (name + ".json");
  Verdict v;
  v.code = testing::RunCommand(
      "timeout 300 " + testing::ShellQuote(env_.cli) + " verify --source " +
          testing::ShellQuote(Dsn(env_.servers->source)) + " --target " +
          testing::ShellQuote(Dsn(env_.servers->target)) + " --publication " + kPublication +
          " --subscription " + testing::ShellQuote(subscription_) + " --report " +
          testing::ShellQuote(report.string()) + " --max-rows 1000000 --timeout 120" +
          VariantText(VariantArgs(false)),
      &v.output);
  WriteFile(dir_ / (name + ".log"), v.output);
  std::ifstream in(report);
  if (in) v.report = json::parse(in, nullptr, false);
  return v;
}

void SeedRun::CheckVerify(const Verdict& v, const OracleResult& oracle, int code,
                          const std::string& when) {
  EXPECT_EQ(v.code, code) << "exit code of pgparity verify " << when << "; output:\n"
                          << Tail(v.output);
  Fail("pgparity verify " + when, CompareReport(v.report, oracle));
}

void SeedRun::CheckAudit(const OracleResult& oracle, int phase, seconds bound,
                         const std::string& when, const std::function<bool(const json&)>& also) {
  bool met = false;
  const json last = audit_->WaitFor(
      [&](const json& r) {
        return ReportSourceRows(r, kMarker) >= phase && CompareReport(r, oracle).empty() &&
               (!also || also(r));
      },
      bound, &met);
  const std::string where =
      "pgparity audit " + when + " (log " + audit_->options().state_dir.string() + ".log)";
  if (!met && !audit_->Running()) {
    ADD_FAILURE() << where << ": it exited; log:\n" << Tail(audit_->Log());
  } else if (!met && ReportSourceRows(last, kMarker) < phase) {
    ADD_FAILURE() << where << ": no report including phase " << phase << " within " << bound.count()
                  << " s; last report: " << last.value("status", "none") << " at "
                  << last.value("checked_at", "") << "; log:\n"
                  << Tail(audit_->Log());
  } else if (!met) {
    Fail(where + ", report checked at " + last.value("checked_at", "") + ", still after " +
             std::to_string(bound.count()) + " s",
         CompareReport(last, oracle));
  }
  const std::string log = audit_->Log();
  Fail(where + ": per-change check names a row the oracle finds equal",
       FalsePerChangeLines(log.substr(std::min(audit_log_checked_, log.size())), oracle));
  audit_log_checked_ = log.size();
}

bool SeedRun::CheckConsistent() {
  const OracleResult oracle = RunOracle(*source_, *target_, kPublication, source_timezone_);
  WriteFile(dir_ / "oracle-1.txt", oracle.Describe(100000));
  if (oracle.DivergentRows() != 0) {
    ADD_FAILURE() << "after the workload the oracle finds the target different from the source: "
                     "the subscription did not apply everything, or the corpus is wrong "
                     "(pgparity is not involved):\n"
                  << oracle.Describe(50);
    return false;
  }
  const Verdict verify = Verify("verify-1");
  CheckVerify(verify, oracle, 0, "before the injection");
  CheckVariantUsed(verify.report, false, "pgparity verify before the injection");
  CheckAudit(oracle, 1, seconds(60), "before the injection");
  CheckVariantUsed(audit_->Report(), true, "pgparity audit's report before the injection");
  return true;
}

void SeedRun::InjectAndContinue() {
  const auto done = InjectDivergences(*target_, schema_, *workload_, rng_);
  std::string text;
  for (const auto& d : done) text += d + "\n";
  WriteFile(dir_ / "injections.txt", text);
  Note(std::to_string(done.size()) + " divergences injected on the target:\n" + text);
  // Wide values every seed must inject into (inject.cc finds the rows).
  for (const std::string what :
       {"one character of a wide inline text: ", "one byte of a wide inline bytea: ",
        "one character of a text of 128 or 129 bytes: "}) {
    EXPECT_TRUE(std::any_of(done.begin(), done.end(),
                            [&](const std::string& d) { return d.starts_with(what); }))
        << "no injection '" << what << "...': no row qualified";
  }
  // The second crash (KillAudit), from its own generator: the workload
  // stays what it was for the seed. Half the seeds kill while the workload
  // runs, half while the audit checks what it applied.
  Rng pick(seed_ ^ 0xc2b2ae3d27d4eb4fULL);
  const bool during_workload = Uniform(pick, 0, 1) == 0;
  const int64_t crash_at = Uniform(pick, 0, env_.size.phase_two - 1);
  const int64_t crash_ms = Uniform(pick, 0, 4000);
  if (during_workload) {
    workload_->OnceAfter(static_cast<int>(crash_at), [this, crash_at] {
      KillAudit("after " + std::to_string(crash_at) + " operations of phase two");
    });
  }
  AddColumnUnderAudit();
  workload_->Run(env_.size.phase_two, false, env_.size.streamed_two);
  workload_->Mark(2);
  WaitCaughtUp();
  if (!during_workload) {
    std::this_thread::sleep_for(std::chrono::milliseconds(crash_ms));
    KillAudit(std::to_string(crash_ms) + " ms after the target applied phase two");
  }
}

// One seed in three, from a generator of its own (the other choices stay
// what they were for the seed): a column added to public."Bestand" with
// the divergences already injected, on the target first, then the source,
// as logical replication needs, and set on one row, so that its Relation
// message reaches the stream. audit (--on-schema-change restart, its
// default) then starts over in the middle of phase two, with kill -9 still
// to come, and must end with the oracle's rows all the same.
void SeedRun::AddColumnUnderAudit() {
  Rng pick(seed_ ^ 0x165667b19e3779f9ULL);
  if (Uniform(pick, 0, 2) != 0) return;
  const std::string rel = QuoteTable("public", "Bestand");
  const std::string add = "ALTER TABLE " + rel + " ADD COLUMN " + QuoteIdent("Nachtrag") +
                          " integer DEFAULT " + std::to_string(Uniform(pick, 1, 9));
  target_->Exec(add);
  source_->Exec(add);
  source_->Exec("UPDATE " + rel + " SET " + QuoteIdent("Nachtrag") + " = 0 WHERE " +
                QuoteIdent("id") + " = (SELECT min(" + QuoteIdent("id") + ") FROM " + rel + ")");
  Note("column \"Nachtrag\" added to public.\"Bestand\" under the audit: it starts over");
  schema_changed_ = true;
}

// A report whose plan reads public."Bestand".n as bigint (WidenOnTargetUnderAudit):
// from a run that planned again, or one the last kill restarted after it.
namespace {
bool PlansNAsBigint(const json& r) {
  for (const json& t : r.value("tables", json::array())) {
    if (t.value("table", "") != "public.Bestand") continue;
    for (const json& c : t.value("type_changes", json::array())) {
      if (c.value("column", "") == "n" && c.value("target_type", "") == "bigint") return true;
    }
  }
  return false;
}
}  // namespace

// One seed in three, from a generator of its own: public."Bestand"'s
// column n widened from integer to bigint on the target alone, as a
// migration widens a column on the target first, once the divergences are
// in and every start over is behind. audit (--on-schema-change restart)
// runs again from its checkpoint with a comparison planned for bigint, not
// a start over (or a run the last kill restarted planned for it already),
// and must still agree with the oracle, which reads both types as they
// are.
void SeedRun::WidenOnTargetUnderAudit() {
  Rng pick(seed_ ^ 0x27d4eb2f165667c5ULL);
  if (Uniform(pick, 0, 2) != 0) return;
  target_->Exec("ALTER TABLE " + QuoteTable("public", "Bestand") + " ALTER COLUMN " +
                QuoteIdent("n") + " TYPE bigint");
  Note("column n of public.\"Bestand\" widened to bigint on the target under the audit");
  widened_on_target_ = true;
}

void SeedRun::CheckDivergent() {
  WidenOnTargetUnderAudit();
  const OracleResult oracle = RunOracle(*source_, *target_, kPublication, source_timezone_);
  WriteFile(dir_ / "oracle-2.txt", oracle.Describe(100000));
  Note("the oracle finds " + std::to_string(oracle.DivergentRows()) + " divergent rows:\n" +
       oracle.Describe(60));
  EXPECT_GT(oracle.DivergentRows(), 0u) << "the injections made no difference";
  const auto caught_up = std::chrono::steady_clock::now();
  CheckVerify(Verify("verify-2"), oracle, 1, "after the injection");
  // Two check intervals (or rolling check periods) after the target
  // applied everything, plus the time verify took meanwhile and 10 s for
  // the audit's check itself.
  const auto spent =
      std::chrono::duration_cast<seconds>(std::chrono::steady_clock::now() - caught_up);
  int64_t period = env_.size.audit_interval;
  if (const json r = audit_->Report(); variant_.rolling && r.is_object()) {
    const double p = r.value("/rolling/period_seconds"_json_pointer, 0.0);
    period = std::max<int64_t>(period, static_cast<int64_t>(std::ceil(p)));
  }
  CheckAudit(oracle, 2, spent + seconds(2 * period + 10), "after the injection",
             widened_on_target_ ? std::function<bool(const json&)>(PlansNAsBigint) : nullptr);
  if (schema_changed_) {
    EXPECT_NE(audit_->Log().find("starting over (--on-schema-change restart)"), std::string::npos)
        << "the column added under the audit did not make it start over; log:\n"
        << Tail(audit_->Log());
  }
  if (widened_on_target_) {
    // Which run planned for bigint is timing: noted, for the soak's count
    // (SchemaTest covers the new plan alone).
    Note(audit_->Log().find("running again from the checkpoint") != std::string::npos
             ? "the audit planned again for the widened column, from its checkpoint"
             : "the audit's run restarted by the kill had planned for bigint already");
  }
}

void SeedRun::Cleanup() {
  audit_.reset();
  workload_.reset();
  other_.reset();
  source_.reset();
  target_.reset();
  auto attempt = [](const std::string& what, const std::function<void()>& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup: " << what << ": " << e.what();
    }
  };
  Session target_admin(env_.servers->target.Dsn());
  const bool target_db = target_admin.Scalar("SELECT count(*) FROM pg_database WHERE datname = $1",
                                             {db_}) == Value("1");
  if (target_db) {
    attempt("DROP SUBSCRIPTION", [&] {
      Session(Dsn(env_.servers->target))
          .Exec("DROP SUBSCRIPTION IF EXISTS " + QuoteIdent(subscription_));
    });
  }
  attempt("dropping the source's slots and database", [&] {
    Session source(env_.servers->source.Dsn());
    const auto deadline = std::chrono::steady_clock::now() + seconds(30);
    for (;;) {
      source.Exec(
          "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
          "WHERE database = $1 AND NOT active",
          {db_});
      if (source.Scalar("SELECT count(*) FROM pg_replication_slots WHERE database = $1", {db_}) ==
              Value("0") ||
          std::chrono::steady_clock::now() > deadline) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    testing::SqlClient admin(env_.servers->source.Dsn());
    testing::DropDatabaseIfExists(admin, db_);
  });
  attempt("DROP DATABASE on the target", [&] {
    target_admin.Exec("DROP DATABASE IF EXISTS " + QuoteIdent(db_) + " WITH (FORCE)");
  });
}

}  // namespace pgparity::corpus
