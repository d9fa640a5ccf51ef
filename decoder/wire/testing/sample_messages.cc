#include "wire/testing/sample_messages.h"

#include <utility>

#include "pgparity/wire/copy_data.h"

namespace pgparity::wire::testing {
namespace {

constexpr Lsn kLsnA(0x16B3748);
constexpr Lsn kLsnB(0x16B3790);
constexpr Timestamp kTime(768'123'456'789'012);  // 2024-05-04T07:37:36.789012Z

ParseOptions V(int version, bool in_stream = false, bool abort_info = false) {
  ParseOptions o;
  o.protocol_version = version;
  o.in_stream = in_stream;
  o.stream_abort_info = abort_info;
  return o;
}

std::span<const std::byte> AsBytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

}  // namespace

std::vector<Sample> SampleMessages() {
  std::vector<Sample> out;
  auto add = [&out](std::string name, ParseOptions options, const Message& m) {
    Sample s{std::move(name), options, false, {}};
    Encode(m, s.bytes);
    out.push_back(std::move(s));
  };

  TupleBuilder all_kinds;
  all_kinds.AddText("42")
      .AddNull()
      .AddUnchanged()
      .AddBinary(AsBytes(std::string_view("\x00\x01\xff", 3)))
      .AddText("");
  TupleBuilder key;
  key.AddText("42").AddNull().AddNull().AddNull().AddNull();
  TupleBuilder full;
  full.AddText("42").AddText("old").AddNull().AddText("x").AddText("y");
  const TupleBuilder empty;

  add("begin", V(1), Begin{kLsnA, kTime, 731});
  add("commit", V(1), Commit{0, kLsnA, kLsnB, kTime});
  add("origin", V(1), Origin{kLsnA, "node_a"});
  add("origin_at_stream_start", V(2), Origin{Lsn(), ""});

  Relation rel;
  rel.relid = 16384;
  rel.namespace_name = "public";
  rel.name = "orders";
  rel.replica_identity = ReplicaIdentity::kDefault;
  rel.columns = {{1, "id", 23, -1}, {0, "note", 25, -1}, {0, "price", 1700, 655366}};
  add("relation", V(1), rel);
  Relation rel_catalog = rel;
  rel_catalog.namespace_name = "";
  rel_catalog.replica_identity = ReplicaIdentity::kFull;
  rel_catalog.columns.clear();
  add("relation_no_columns", V(1), rel_catalog);
  rel.xid = 732;
  add("relation_in_stream", V(2, true), rel);

  add("type", V(1), Type{std::nullopt, 16390, "public", "mood"});
  add("type_in_stream", V(2, true), Type{733, 16390, "public", "mood"});

  add("insert_all_kinds", V(1), Insert{std::nullopt, 16384, all_kinds.view()});
  add("insert_no_columns", V(1), Insert{std::nullopt, 16384, empty.view()});
  add("insert_in_stream", V(2, true), Insert{734, 16384, all_kinds.view()});

  add("update_no_old", V(1), Update{std::nullopt, 16384, OldTupleKind::kNone, {}, full.view()});
  add("update_key", V(1), Update{std::nullopt, 16384, OldTupleKind::kKey, key.view(), full.view()});
  add("update_full", V(1),
      Update{std::nullopt, 16384, OldTupleKind::kFull, full.view(), all_kinds.view()});
  add("update_in_stream", V(2, true),
      Update{735, 16384, OldTupleKind::kKey, key.view(), full.view()});

  add("delete_key", V(1), Delete{std::nullopt, 16384, OldTupleKind::kKey, key.view()});
  add("delete_full", V(1), Delete{std::nullopt, 16384, OldTupleKind::kFull, full.view()});
  add("delete_in_stream", V(2, true), Delete{736, 16384, OldTupleKind::kFull, full.view()});

  add("truncate", V(1),
      Truncate{std::nullopt,
               Truncate::kFlagCascade | Truncate::kFlagRestartIdentity,
               {16384, 16390, 16400}});
  add("truncate_in_stream", V(2, true), Truncate{737, 0, {16384}});

  const std::string_view content("payload\0with nul", 16);
  add("message_transactional", V(1),
      LogicalMessage{std::nullopt, LogicalMessage::kFlagTransactional, kLsnA, "pgparity",
                     AsBytes(content)});
  add("message_non_transactional", V(1), LogicalMessage{std::nullopt, 0, kLsnB, "", AsBytes("")});
  add("message_in_stream", V(2, true),
      LogicalMessage{738, LogicalMessage::kFlagTransactional, kLsnA, "p", AsBytes(content)});

  add("stream_start_first", V(2), StreamStart{740, true});
  add("stream_start_next", V(2), StreamStart{740, false});
  add("stream_stop", V(2), StreamStop{});
  add("stream_commit", V(2), StreamCommit{740, 0, kLsnA, kLsnB, kTime});
  add("stream_abort", V(2), StreamAbort{740, 741, std::nullopt});
  add("stream_abort_v4_info", V(4, false, true),
      StreamAbort{740, 740, StreamAbort::AbortInfo{kLsnB, kTime}});

  add("begin_prepare", V(3), BeginPrepare{kLsnA, kLsnB, kTime, 750, "gid-750"});
  Prepare prepare;
  static_cast<PrepareData&>(prepare) = PrepareData{0, kLsnA, kLsnB, kTime, 750, "gid-750"};
  add("prepare", V(3), prepare);
  add("commit_prepared", V(3), CommitPrepared{0, kLsnA, kLsnB, kTime, 750, "gid-750"});
  add("rollback_prepared", V(3),
      RollbackPrepared{0, kLsnA, kLsnB, kTime, Timestamp(kTime.pg_micros() + 1), 750, ""});
  StreamPrepare stream_prepare;
  static_cast<PrepareData&>(stream_prepare) = PrepareData{0, kLsnA, kLsnB, kTime, 751, "g"};
  add("stream_prepare", V(3), stream_prepare);

  // CopyData frames: an XLogData around an Insert, a keepalive.
  {
    std::vector<std::byte> body;
    Encode(Insert{std::nullopt, 16384, full.view()}, body);
    Sample s{"copy_xlogdata_insert", V(1), true, {}};
    EncodeXLogData(XLogData{kLsnA, kLsnB, kTime, body}, s.bytes);
    out.push_back(std::move(s));
  }
  {
    Sample s{"copy_keepalive", V(1), true, {}};
    EncodePrimaryKeepalive(PrimaryKeepalive{kLsnB, kTime, true}, s.bytes);
    out.push_back(std::move(s));
  }
  return out;
}

void PrintTo(const Sample& sample, std::ostream* os) { *os << sample.name; }

}  // namespace pgparity::wire::testing
