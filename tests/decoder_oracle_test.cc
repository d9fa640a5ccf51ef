// The decoder's oracle: PostgreSQL's own test_decoding output plugin and our
// pgoutput decoder read the same changes from two slots on one PostgreSQL 14
// server; our events, rendered in test_decoding's text format, must equal
// test_decoding's lines one for one, in order. The workload
// (tests/oracle/workload.sql) covers the type corpus, TOAST ('u' columns),
// every replica identity, TRUNCATE CASCADE, a logical message, and a
// transaction big enough to be streamed to pgoutput (logical_decoding_work_mem
// = 64kB) with rolled-back subtransactions, and one streamed and aborted.
//
// A second consumer, from a copy of the slot, whose sink is not ready for
// its first half second (ConsumerHooks::sink_ready), must deliver the same
// events in the same order from the frames it held meanwhile.
//
// And independently of test_decoding: the rows the decoded stream implies
// (applied per primary key) must have the digests the server computes for
// the final tables (docs/digest.md, DigestSql).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pgparity/consumer/slot_consumer.h"
#include "pgparity/core/change_sink.h"
#include "pgparity/digest/digest128.h"
#include "pgparity/digest/digest_sql.h"
#include "pgparity/digest/row_digest.h"
#include "pgparity/sql_quote.h"
#include "support/pg_server.h"
#include "support/sql_client.h"

namespace pgparity {
namespace {

using testing::PgServer;
using testing::RunCommand;
using testing::SourcePath;
using testing::SqlClient;

// Shell-quotes one argument.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// What test_decoding prints comes from the source's catalogs: quote_ident()
// for identifiers, format_type(oid, NULL) for type names. Read once.
struct SourceNames {
  std::map<std::pair<std::string, std::string>, std::string> relation;  // (schema, name) -> quoted
  std::map<std::string, std::string> column;                            // attname -> quoted
  std::map<wire::Oid, std::string> type;                                // type oid -> format_type

  static SourceNames Load(SqlClient& db) {
    SourceNames names;
    for (const auto& r : db.Query(
             "SELECT n.nspname, c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname) "
             "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'")) {
      names.relation[{*r[0], *r[1]}] = *r[2];
    }
    for (const auto& r :
         db.Query("SELECT DISTINCT a.attname, quote_ident(a.attname), a.atttypid::int8, "
                  "format_type(a.atttypid, NULL) "
                  "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                  "JOIN pg_namespace n ON n.oid = c.relnamespace "
                  "WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 "
                  "AND NOT a.attisdropped")) {
      names.column[*r[0]] = *r[1];
      names.type[static_cast<wire::Oid>(std::stoll(*r[2]))] = *r[3];
    }
    return names;
  }
};

// pg_type OIDs print_literal treats specially (catalog/pg_type_d.h).
constexpr wire::Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kOidOid = 26,
                    kFloat4Oid = 700, kFloat8Oid = 701, kBitOid = 1560, kVarbitOid = 1562,
                    kNumericOid = 1700;

// contrib/test_decoding/test_decoding.c print_literal.
void PrintLiteral(std::string& out, wire::Oid type, std::string_view value) {
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      out += value;
      break;
    case kBitOid:
    case kVarbitOid:
      out += "B'";
      out += value;
      out += "'";
      break;
    case kBoolOid:
      out += value == "t" ? "true" : "false";
      break;
    default:
      out += '\'';
      for (char c : value) {
        if (c == '\'') out += '\'';  // SQL_STR_DOUBLE(ch, false): only the quote
        out += c;
      }
      out += '\'';
  }
}

// A column value kept past the callback.
struct Value {
  digest::ColumnValue::Kind kind = digest::ColumnValue::Kind::kNull;
  std::string text;

  digest::ColumnValue view() const {
    return kind == digest::ColumnValue::Kind::kValue ? digest::ColumnValue::Value(text)
                                                     : digest::ColumnValue{kind, {}};
  }
  friend bool operator==(const Value&, const Value&) = default;
};
using Row = std::vector<Value>;

// The rows of one published table with a primary key, as the stream builds
// them: inserted, replaced by updates (an unchanged TOAST value 'u' takes
// the row's previous value), removed by deletes and truncates.
struct TableState {
  std::vector<std::string> columns;  // tuple order
  std::vector<bool> is_key;
  std::map<std::string, Row> rows;  // by encoded key
  uint64_t resolved_unchanged = 0;  // 'u' values filled in from the previous row
};

// The sink: renders every event in test_decoding's format (with
// include-xids 0 and skip-empty-xacts 1) and applies the changes to
// TableStates. Problems go to `errors` (it runs on the consumer's thread).
class OracleSink final : public core::ChangeSink {
 public:
  explicit OracleSink(const SourceNames& names) : names_(names) {}

  std::vector<std::string> lines;
  std::vector<std::string> errors;
  std::map<std::pair<std::string, std::string>, TableState> tables;
  uint64_t transactions = 0;  // delivered, empty ones included

  Status OnBegin(const core::TxnInfo&) override {
    wrote_changes_ = false;
    return Status::OK();
  }

  Status OnChange(const core::Change& c) override {
    OutputBeginIfNeeded();
    std::string line = "table " + RelationName(c.relation) + ":";
    switch (c.op) {
      case core::ChangeOp::kInsert:
        line += " INSERT:";
        AppendTuple(line, c.relation, c.new_tuple, false);
        break;
      case core::ChangeOp::kUpdate:
        line += " UPDATE:";
        if (c.old_kind != wire::OldTupleKind::kNone) {
          line += " old-key:";
          AppendTuple(line, c.relation, c.old_tuple, true);
          line += " new-tuple:";
        }
        AppendTuple(line, c.relation, c.new_tuple, false);
        break;
      case core::ChangeOp::kDelete:
        line += " DELETE:";
        if (c.old_kind == wire::OldTupleKind::kNone) {
          line += " (no-tuple-data)";
        } else {
          AppendTuple(line, c.relation, c.old_tuple, true);
        }
        break;
    }
    lines.push_back(std::move(line));
    Apply(c);
    return Status::OK();
  }

  Status OnTruncate(const core::TruncateEvent& t) override {
    OutputBeginIfNeeded();
    std::string line = "table ";
    for (size_t i = 0; i < t.relations.size(); ++i) {
      if (i > 0) line += ", ";
      line += RelationName(*t.relations[i]);
      auto it = tables.find({t.relations[i]->schema(), t.relations[i]->name()});
      if (it != tables.end()) it->second.rows.clear();
    }
    line += ": TRUNCATE:";
    if (t.restart_identity() || t.cascade()) {
      if (t.restart_identity()) line += " restart_seqs";
      if (t.cascade()) line += " cascade";
    } else {
      line += " (no-flags)";
    }
    lines.push_back(std::move(line));
    return Status::OK();
  }

  // test_decoding's pg_decode_message: neither opens the transaction's
  // BEGIN nor counts as a change.
  Status OnLogicalMessage(const core::LogicalMessageEvent& m) override {
    std::string line = "message: transactional: " + std::to_string(m.transactional ? 1 : 0) +
                       " prefix: " + std::string(m.prefix) +
                       ", sz: " + std::to_string(m.content.size()) + " content:";
    line.append(reinterpret_cast<const char*>(m.content.data()), m.content.size());
    lines.push_back(std::move(line));
    return Status::OK();
  }

  Status OnCommit(const core::CommitInfo&) override {
    ++transactions;
    if (wrote_changes_) lines.push_back("COMMIT");
    wrote_changes_ = false;
    return Status::OK();
  }

 private:
  void OutputBeginIfNeeded() {
    if (!wrote_changes_) lines.push_back("BEGIN");
    wrote_changes_ = true;
  }

  std::string RelationName(const core::RelationInfo& r) {
    auto it = names_.relation.find({r.schema(), r.name()});
    if (it != names_.relation.end()) return it->second;
    errors.push_back("relation " + r.QualifiedName() + " is not in the source's catalog");
    return r.QualifiedName();
  }

  // test_decoding's tuple_to_stringinfo. A 'K' old tuple's non-key columns
  // are 'n' (not sent); with skip_nulls they vanish as test_decoding's
  // NULL non-key columns of the logged old key do.
  void AppendTuple(std::string& out, const core::RelationInfo& r, const wire::TupleView& tuple,
                   bool skip_nulls) {
    size_t i = 0;
    for (const wire::ColumnView col : tuple) {
      const core::ColumnInfo& info = r.columns()[i++];
      if (col.kind == wire::ColumnKind::kNull && skip_nulls) continue;
      out += ' ';
      auto name = names_.column.find(info.name);
      if (name == names_.column.end()) {
        errors.push_back("column " + info.name + " is not in the source's catalog");
        out += info.name;
      } else {
        out += name->second;
      }
      out += '[';
      auto type = names_.type.find(info.type_oid);
      if (type == names_.type.end()) {
        errors.push_back("type " + std::to_string(info.type_oid) + " of " + info.name +
                         " is not in the source's catalog");
      } else {
        out += type->second;
      }
      out += "]:";
      switch (col.kind) {
        case wire::ColumnKind::kNull:
          out += "null";
          break;
        case wire::ColumnKind::kUnchanged:
          out += "unchanged-toast-datum";
          break;
        case wire::ColumnKind::kText:
          PrintLiteral(out, info.type_oid, col.text());
          break;
        case wire::ColumnKind::kBinary:
          errors.push_back("binary column " + info.name + " (binary mode was not asked for)");
          break;
      }
    }
  }

  static Row ToRow(const wire::TupleView& tuple) {
    Row row;
    row.reserve(tuple.size());
    for (const wire::ColumnView col : tuple) {
      switch (col.kind) {
        case wire::ColumnKind::kNull:
          row.push_back({digest::ColumnValue::Kind::kNull, {}});
          break;
        case wire::ColumnKind::kUnchanged:
          row.push_back({digest::ColumnValue::Kind::kUnchangedToast, {}});
          break;
        default:
          row.push_back({digest::ColumnValue::Kind::kValue, std::string(col.text())});
      }
    }
    return row;
  }

  static std::string Key(const TableState& t, const Row& row) {
    std::string key;
    for (size_t i = 0; i < row.size(); ++i) {
      if (!t.is_key[i]) continue;
      key += static_cast<char>(row[i].kind);
      digest::AppendCounted(key, row[i].text);
    }
    return key;
  }

  // Tracks tables with a primary key (replica identity default) only: the
  // others (FULL, no key) cannot be keyed from the stream.
  void Apply(const core::Change& c) {
    const core::RelationInfo& r = c.relation;
    if (r.replica_identity() != wire::ReplicaIdentity::kDefault) return;
    if (std::none_of(r.columns().begin(), r.columns().end(),
                     [](const core::ColumnInfo& col) { return col.is_key; })) {
      return;
    }
    TableState& t = tables[{r.schema(), r.name()}];
    if (t.columns.empty()) {
      for (const auto& col : r.columns()) {
        t.columns.push_back(col.name);
        t.is_key.push_back(col.is_key);
      }
    }
    const std::string where = " in " + r.QualifiedName() + " at " + c.lsn.ToString();
    switch (c.op) {
      case core::ChangeOp::kInsert: {
        Row row = ToRow(c.new_tuple);
        const std::string key = Key(t, row);
        if (!t.rows.emplace(key, std::move(row)).second) {
          errors.push_back("INSERT of an existing key" + where);
        }
        break;
      }
      case core::ChangeOp::kUpdate: {
        Row row = ToRow(c.new_tuple);
        const std::string old_key =
            c.old_kind == wire::OldTupleKind::kNone ? Key(t, row) : Key(t, ToRow(c.old_tuple));
        auto prev = t.rows.find(old_key);
        if (prev == t.rows.end()) {
          errors.push_back("UPDATE of a missing key" + where);
          break;
        }
        for (size_t i = 0; i < row.size(); ++i) {
          if (row[i].kind != digest::ColumnValue::Kind::kUnchangedToast) continue;
          row[i] = prev->second[i];
          ++t.resolved_unchanged;
          if (row[i].kind == digest::ColumnValue::Kind::kUnchangedToast) {
            errors.push_back("unchanged TOAST column " + t.columns[i] + " with no previous value" +
                             where);
          }
        }
        t.rows.erase(prev);
        const std::string key = Key(t, row);
        if (!t.rows.emplace(key, std::move(row)).second) {
          errors.push_back("UPDATE onto an existing key" + where);
        }
        break;
      }
      case core::ChangeOp::kDelete:
        if (t.rows.erase(Key(t, ToRow(c.old_tuple))) != 1) {
          errors.push_back("DELETE of a missing key" + where);
        }
        break;
    }
  }

  const SourceNames& names_;
  bool wrote_changes_ = false;
};

// The first difference of two line lists, with context.
std::string FirstDifference(const std::vector<std::string>& expected,
                            const std::vector<std::string>& actual) {
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  if (i == expected.size() && i == actual.size()) return "";
  std::string out = "test_decoding has " + std::to_string(expected.size()) + " lines, pgparity " +
                    std::to_string(actual.size()) + "; first difference at line " +
                    std::to_string(i) + ":\n";
  for (size_t k = i >= 3 ? i - 3 : 0; k < i; ++k) out += "    " + expected[k] + "\n";
  auto clip = [](const std::string& s) { return s.size() > 2000 ? s.substr(0, 2000) + "..." : s; };
  out += "  - test_decoding: " + (i < expected.size() ? clip(expected[i]) : "<end>") + "\n";
  out += "  + pgparity:      " + (i < actual.size() ? clip(actual[i]) : "<end>") + "\n";
  if (i < expected.size() && i < actual.size()) {
    const std::string& a = expected[i];
    const std::string& b = actual[i];
    size_t c = 0;
    while (c < a.size() && c < b.size() && a[c] == b[c]) ++c;
    out += "  (they part at character " + std::to_string(c) + ": \"" +
           a.substr(c > 40 ? c - 40 : 0, 80) + "\" vs \"" + b.substr(c > 40 ? c - 40 : 0, 80) +
           "\")\n";
  }
  return out;
}

size_t CountContaining(const std::vector<std::string>& lines, std::string_view needle) {
  return std::count_if(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

// Runs `consumer` until it reaches its until_lsn `end`, 60 s at most.
void RunUntilEnd(consumer::SlotConsumer& consumer, wire::Lsn end) {
  using namespace std::chrono_literals;
  auto run = std::async(std::launch::async, [&] { return consumer.Run(); });
  if (run.wait_for(60s) != std::future_status::ready) {
    consumer.RequestStop();
    run.wait_for(10s);
    FAIL() << "the consumer did not reach " << end.ToString() << " within 60 s";
  }
  const Status status = run.get();
  ASSERT_TRUE(status.ok()) << status.ToString();
}

TEST(DecoderOracle, MatchesTestDecodingChangeForChange) {
  using namespace std::chrono_literals;
  PgServer server(testing::SourceMajor(), "oracle");
  SqlClient db(server.Dsn());

  std::string output;
  ASSERT_EQ(RunCommand("timeout 60 psql -X -q -v ON_ERROR_STOP=1 -d " + ShellQuote(server.Dsn()) +
                           " -f " + ShellQuote(SourcePath("tests/oracle/schema.sql").string()),
                       &output),
            0)
      << output;
  db.Exec("CREATE PUBLICATION oracle_pub FOR ALL TABLES");
  // Protocol 1 before 14: no streaming, no logical decoding messages; and
  // logical_decoding_work_mem is 13+ (before, a transaction spills at 4096
  // changes, decoded at commit).
  const bool streams = testing::SourceMajor() >= 14;
  if (testing::SourceMajor() >= 13) {
    db.Exec("ALTER SYSTEM SET logical_decoding_work_mem = '64kB'");
    db.Exec("SELECT pg_reload_conf()");
  }
  // Our slot, and test_decoding's as its copy: both start at the same
  // position by construction, before any workload.
  db.Exec("SELECT pg_create_logical_replication_slot('oracle_pg', 'pgoutput')");
  db.Exec(
      "SELECT pg_copy_logical_replication_slot('oracle_pg', 'oracle_td', false, "
      "'test_decoding')");
  db.Exec("SELECT pg_copy_logical_replication_slot('oracle_pg', 'oracle_held')");
  db.Exec("SELECT pg_copy_logical_replication_slot('oracle_pg', 'oracle_held2')");
  db.Exec("SELECT pg_copy_logical_replication_slot('oracle_pg', 'oracle_early')");
  db.Exec("SELECT pg_copy_logical_replication_slot('oracle_pg', 'oracle_other')");
  const SourceNames names = SourceNames::Load(db);

  output.clear();
  ASSERT_EQ(RunCommand("timeout 120 psql -X -q -v ON_ERROR_STOP=1 -d " + ShellQuote(server.Dsn()) +
                           " -f " + ShellQuote(SourcePath("tests/oracle/workload.sql").string()),
                       &output),
            0)
      << output;
  if (testing::SourceMajor() >= 13) {
    ASSERT_EQ(db.Value("SHOW logical_decoding_work_mem"), "64kB");
  }
  auto end_lsn = wire::Lsn::Parse(db.Value("SELECT pg_current_wal_lsn()"));
  ASSERT_TRUE(end_lsn.ok());

  // (b) pgparity, in process, up to end_lsn.
  OracleSink sink(names);
  consumer::SlotConsumerOptions options;
  options.source = *conn::ConnParams::Parse(server.Dsn());
  options.slot = "oracle_pg";
  options.publications = {"oracle_pub"};
  options.create_slot = false;
  options.until_lsn = *end_lsn;
  options.streaming = true;
  options.reconnect_on_loss = false;
  options.status_interval = 0ms;
  consumer::SlotConsumer consumer(options, sink);
  ASSERT_NO_FATAL_FAILURE(RunUntilEnd(consumer, *end_lsn));
  EXPECT_TRUE(sink.errors.empty()) << sink.errors.size() << " problems, first: " << sink.errors[0];

  // (c) pgparity again, from copies of its slot, with a sink that is not
  // ready for the first half second (a sink loading its state while the
  // stream starts, ConsumerHooks::sink_ready): the frames kept meanwhile are
  // delivered as the same events in the same order — with at most 64 kB
  // held (the consumer then waits, reading nothing), and with the default
  // bound, which the whole workload fits in (then the 2 ms timer feeds
  // them once no frame comes any more).
  for (const auto& [slot, max_held] :
       {std::pair{"oracle_held", size_t{64} << 10}, std::pair{"oracle_held2", size_t{0}}}) {
    SCOPED_TRACE(slot);
    OracleSink held_sink(names);
    consumer::SlotConsumerOptions held_options = options;
    held_options.slot = slot;
    if (max_held > 0) held_options.max_held_bytes = max_held;
    consumer::ConsumerHooks hooks;
    std::optional<std::chrono::steady_clock::time_point> first_asked;
    hooks.sink_ready = [&]() -> Result<bool> {
      const auto now = std::chrono::steady_clock::now();
      if (!first_asked) first_asked = now;
      return now - *first_asked >= 500ms;
    };
    consumer::SlotConsumer held(held_options, held_sink, hooks);
    ASSERT_NO_FATAL_FAILURE(RunUntilEnd(held, *end_lsn));
    EXPECT_GT(held.progress().frames_held, 0u) << "the sink was never held back";
    EXPECT_EQ(held.progress().transactions, consumer.progress().transactions);
    const std::string held_diff = FirstDifference(sink.lines, held_sink.lines);
    EXPECT_TRUE(held_diff.empty()) << held_diff;
    std::printf("%s: %llu frames held\n", slot,
                static_cast<unsigned long long>(held.progress().frames_held));
  }

  // (d) The first connection opened ahead with its stream started
  // (consumer::OpenFirstConnection: a resumed audit's, while it reads its
  // catalogs) and taken by a consumer half a second later, the walsender
  // waiting on a full socket meanwhile: the same events in the same order.
  // A stream started for another slot than the consumer's is closed
  // unused, nothing confirmed on it; no slot, or a slot the consumer may
  // create, is only connected.
  {
    consumer::SlotConsumerOptions early_options = options;
    early_options.slot = "oracle_early";
    auto first = consumer::OpenFirstConnection(early_options);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    ASSERT_TRUE(first->started.has_value()) << "the stream was not started ahead";
    EXPECT_EQ(first->started->slot, "oracle_early");
    EXPECT_EQ(db.Value("SELECT active FROM pg_replication_slots WHERE slot_name = 'oracle_early'"),
              "t");
    std::this_thread::sleep_for(500ms);
    OracleSink early_sink(names);
    consumer::ConsumerHooks hooks;
    hooks.first_connection = [&]() -> Result<consumer::FirstConnection> {
      return std::move(*first);
    };
    consumer::SlotConsumer early(early_options, early_sink, hooks);
    ASSERT_NO_FATAL_FAILURE(RunUntilEnd(early, *end_lsn));
    EXPECT_EQ(early.progress().transactions, consumer.progress().transactions);
    EXPECT_EQ(early.progress().reconnects, 0u);
    const std::string early_diff = FirstDifference(sink.lines, early_sink.lines);
    EXPECT_TRUE(early_diff.empty()) << early_diff;

    const std::string other_at = db.Value(
        "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'oracle_other'");
    consumer::SlotConsumerOptions other_options = options;
    other_options.slot = "oracle_other";
    auto other = consumer::OpenFirstConnection(other_options);
    ASSERT_TRUE(other.ok() && other->started.has_value());
    OracleSink again_sink(names);
    consumer::ConsumerHooks again_hooks;
    again_hooks.first_connection = [&]() -> Result<consumer::FirstConnection> {
      return std::move(*other);
    };
    consumer::SlotConsumerOptions again_options = options;
    again_options.slot = "oracle_early";  // consumed up to end_lsn above
    consumer::SlotConsumer again(again_options, again_sink, again_hooks);
    ASSERT_NO_FATAL_FAILURE(RunUntilEnd(again, *end_lsn));
    EXPECT_EQ(again.progress().transactions, 0u) << "the other slot's stream was used";
    EXPECT_EQ(db.Value("SELECT active::text || ' ' || confirmed_flush_lsn FROM "
                       "pg_replication_slots WHERE slot_name = 'oracle_other'"),
              "false " + other_at);

    consumer::SlotConsumerOptions missing_options = options;
    missing_options.slot = "oracle_missing";
    auto missing = consumer::OpenFirstConnection(missing_options);
    ASSERT_TRUE(missing.ok()) << missing.status().ToString();
    EXPECT_FALSE(missing->started.has_value());
    consumer::SlotConsumerOptions creating_options = options;
    creating_options.slot = "oracle_other";
    creating_options.create_slot = true;
    auto creating = consumer::OpenFirstConnection(creating_options);
    ASSERT_TRUE(creating.ok()) << creating.status().ToString();
    EXPECT_FALSE(creating->started.has_value());

    // A snapshot the hook cannot use, every time: the slot is created
    // SnapshotTaken::kSlotAttempts times, then dropped, and Run fails
    // with the hook's reason.
    consumer::SlotConsumerOptions retry_options = options;
    retry_options.slot = "oracle_retry";
    retry_options.create_slot = true;
    retry_options.snapshot = conn::SnapshotAction::kExport;
    int created = 0;
    consumer::ConsumerHooks retry_hooks;
    retry_hooks.on_slot_created =
        [&](const conn::CreatedSlot& slot) -> Result<consumer::SnapshotTaken> {
      ++created;
      EXPECT_TRUE(slot.snapshot_name.has_value());
      return consumer::SnapshotTaken{.retry_because = "the test's snapshot was overtaken"};
    };
    OracleSink retry_sink(names);
    consumer::SlotConsumer retrying(retry_options, retry_sink, retry_hooks);
    const Status failed = retrying.Run();
    EXPECT_EQ(failed.code(), Status::Code::kDeadlineExceeded) << failed.ToString();
    EXPECT_NE(failed.ToString().find("the test's snapshot was overtaken, on each of 3 new slots"),
              std::string::npos)
        << failed.ToString();
    EXPECT_EQ(created, consumer::SnapshotTaken::kSlotAttempts);
    EXPECT_EQ(db.Value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = "
                       "'oracle_retry'"),
              "0");

    // A hook that fails (a bootstrap that could not finish): its error, and
    // the slot this run created is gone with it.
    consumer::ConsumerHooks failing_hooks;
    failing_hooks.on_slot_created =
        [](const conn::CreatedSlot&) -> Result<consumer::SnapshotTaken> {
      return Status::IOError("the test's bootstrap failed");
    };
    OracleSink failing_sink(names);
    consumer::SlotConsumer failing(retry_options, failing_sink, failing_hooks);
    const Status hook_failed = failing.Run();
    EXPECT_NE(hook_failed.ToString().find("the test's bootstrap failed"), std::string::npos)
        << hook_failed.ToString();
    EXPECT_EQ(db.Value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = "
                       "'oracle_retry'"),
              "0");
  }

  // (a) test_decoding, in the pinned formats (SqlClient sets them).
  std::vector<std::string> expected;
  for (const auto& row :
       db.Query("SELECT data FROM pg_logical_slot_get_changes('oracle_td', NULL, NULL, "
                "'include-xids', '0', 'skip-empty-xacts', '1')")) {
    expected.push_back(row[0].value_or("<NULL>"));
  }
  // pgoutput sends logical decoding messages from 14 on; test_decoding always.
  if (!streams) std::erase_if(expected, [](const auto& l) { return l.starts_with("message: "); });

  ASSERT_GT(expected.size(), 3000u) << "test_decoding saw too little of the workload";
  const std::string diff = FirstDifference(expected, sink.lines);
  EXPECT_TRUE(diff.empty()) << diff;

  // The oracle compared what it should have.
  const auto& stats = consumer.decoder_stats();
  if (streams) {
    EXPECT_GE(stats.streamed_transactions, 1u) << "the big transaction was not streamed";
    EXPECT_GE(stats.streamed_aborts, 1u) << "the aborted big transaction was not streamed";
    EXPECT_GE(stats.subxact_aborts, 1u) << "no streamed subtransaction was rolled back";
  } else {
    EXPECT_EQ(stats.streamed_transactions, 0u) << "protocol 1 cannot stream";
  }
  EXPECT_GE(sink.transactions, 20u);
  EXPECT_EQ(CountContaining(sink.lines, "'rolled back'"), 0u);
  EXPECT_EQ(CountContaining(sink.lines, "'nested'"), 0u);
  EXPECT_EQ(CountContaining(sink.lines, "id[integer]:200001 "), 0u)
      << "the aborted streamed transaction was delivered";
  EXPECT_GE(CountContaining(sink.lines, "unchanged-toast-datum"), 4u);
  EXPECT_GE(CountContaining(sink.lines, " old-key: "), 3u);
  EXPECT_EQ(CountContaining(sink.lines, ": TRUNCATE: cascade"), 1u);
  EXPECT_EQ(CountContaining(sink.lines, ": TRUNCATE: restart_seqs"), 1u);
  EXPECT_EQ(CountContaining(sink.lines,
                            "message: transactional: 1 prefix: pgparity, sz: 11 "
                            "content:transfer 10"),
            streams ? 1u : 0u);
  EXPECT_EQ(CountContaining(sink.lines, "table public.bulk: INSERT:"), 3000u);
  EXPECT_EQ(CountContaining(sink.lines, "table public.bulk: DELETE:"), 10u);
  ASSERT_FALSE(sink.lines.empty());
  EXPECT_EQ(sink.lines[sink.lines.size() - 2],
            "table public.accounts: INSERT: id[integer]:99 owner[text]:'last' "
            "balance[numeric]:0.00");

  // The final tables equal what the decoded stream implies, by digest.
  const auto keyed = db.Query(
      "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary "
      "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1, 2");
  ASSERT_EQ(keyed.size(), 8u);
  uint64_t resolved_unchanged = 0;
  for (const auto& k : keyed) {
    const std::string schema = *k[0], table = *k[1];
    SCOPED_TRACE(schema + "." + table);
    std::vector<std::string> columns;
    for (const auto& c :
         db.Query("SELECT attname FROM pg_attribute WHERE attrelid = " +
                  QuoteLiteral(QuoteQualifiedName(schema, table)) +
                  "::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
      columns.push_back(*c[0]);
    }
    const auto it = sink.tables.find({schema, table});
    if (it != sink.tables.end()) {
      ASSERT_EQ(it->second.columns, columns);
      resolved_unchanged += it->second.resolved_unchanged;
    }
    digest::RowDigester digester(schema, table, std::span<const std::string>(columns));
    digest::TableDigest ours;
    std::set<std::string> our_rows;
    if (it != sink.tables.end()) {
      std::vector<digest::ColumnValue> values;
      for (const auto& [key, row] : it->second.rows) {
        values.clear();
        for (const Value& v : row) values.push_back(v.view());
        const digest::Digest128 d = digester.Digest(values);
        ours.Add(d);
        our_rows.insert(d.ToHex());
      }
    }
    const auto server_digest = db.Query(digest::TableDigestSql(
        schema, table, std::span<const std::string>(columns), digest::RowsOf::kTableOnly));
    ASSERT_EQ(server_digest.size(), 1u);
    const int64_t server_rows = std::stoll(server_digest[0][0].value_or("-1"));
    const auto server_sum = digest::Digest128::FromHex(server_digest[0][1].value_or(""));
    ASSERT_TRUE(server_sum.ok()) << server_digest[0][1].value_or("<NULL>");
    if (ours.rows != server_rows || !(ours.sum == *server_sum)) {
      // Which rows differ.
      std::set<std::string> server_rows_set;
      for (const auto& r : db.Query(
               "SELECT " +
               digest::RowDigestSql(schema, table, std::span<const std::string>(columns), "t") +
               " FROM " + QuoteQualifiedName(schema, table) + " t")) {
        server_rows_set.insert(*r[0]);
      }
      std::string detail;
      for (const auto& d : server_rows_set)
        if (!our_rows.count(d)) detail += " only on the server: " + d + ";";
      for (const auto& d : our_rows)
        if (!server_rows_set.count(d)) detail += " only in the stream: " + d + ";";
      ADD_FAILURE() << "rows: stream " << ours.rows << ", server " << server_rows
                    << "; digest: stream " << ours.sum.ToHex() << ", server " << server_sum->ToHex()
                    << ";" << detail;
    }
  }
  // docs and small_toast had 'u' columns, resolved from the previous rows.
  EXPECT_GE(resolved_unchanged, 4u);
}

}  // namespace
}  // namespace pgparity
