// Test helpers for decoder/core: pgoutput frames built through the wire
// layer's Encode, and a ChangeSink that records what it is given as text.
//
//   std::vector<TestFrame> frames = {
//       BeginFrame(0x1000, 0x1100, 700),
//       RelationFrame(0x1010, kRelA),
//       InsertFrame(0x1020, 16384, {"1", "x"}),
//       CommitFrame(0x1100, 0x1130)};
//   RecordingSink sink;
//   StreamDecoder decoder(sink, {.protocol_version = 2});
//   ASSERT_TRUE(FeedAll(decoder, frames).ok());
//   // sink.events: "BEGIN xid=700 ...", "I public.a lsn=0/1020 ...", ...
//
// Tuple values are strings; "<null>" is NULL and "<u>" an unchanged TOAST
// value.
#ifndef PGPARITY_DECODER_CORE_TESTING_STREAM_BUILDER_H_
#define PGPARITY_DECODER_CORE_TESTING_STREAM_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgparity/core/change_sink.h"
#include "pgparity/core/stream_decoder.h"
#include "pgparity/wire/pgoutput.h"
#include "pgparity/wire/tuple.h"

namespace pgparity::core::testing {

inline constexpr int64_t kCommitTime = 768'123'456'789'012;

struct TestFrame {
  wire::Lsn start;
  wire::Lsn end;
  std::vector<std::byte> body;
};

// One message as the walsender frames it: start == end == lsn.
inline TestFrame At(uint64_t lsn, const wire::Message& m) {
  TestFrame f{wire::Lsn(lsn), wire::Lsn(lsn), {}};
  wire::Encode(m, f.body);
  return f;
}

using Row = std::vector<std::string>;

inline wire::TupleBuilder Tuple(const Row& row) {
  wire::TupleBuilder b;
  for (const std::string& v : row) {
    if (v == "<null>") {
      b.AddNull();
    } else if (v == "<u>") {
      b.AddUnchanged();
    } else {
      b.AddText(v);
    }
  }
  return b;
}

struct ColumnSpec {
  std::string_view name;
  wire::Oid type_oid = 25;  // text
  bool key = false;
};

struct RelationSpec {
  wire::Oid relid;
  std::string_view schema;
  std::string_view name;
  std::vector<ColumnSpec> columns;
  wire::ReplicaIdentity identity = wire::ReplicaIdentity::kDefault;
};

inline TestFrame RelationFrame(uint64_t lsn, const RelationSpec& spec,
                               std::optional<wire::Xid> xid = std::nullopt) {
  wire::Relation r;
  r.xid = xid;
  r.relid = spec.relid;
  r.namespace_name = spec.schema;
  r.name = spec.name;
  r.replica_identity = spec.identity;
  for (const ColumnSpec& c : spec.columns) {
    wire::RelationColumn col;
    col.flags = c.key ? wire::RelationColumn::kFlagKey : 0;
    col.name = c.name;
    col.type_oid = c.type_oid;
    col.typmod = -1;
    r.columns.push_back(col);
  }
  return At(lsn, r);
}

inline TestFrame TypeFrame(uint64_t lsn, wire::Oid oid, std::string_view schema,
                           std::string_view name, std::optional<wire::Xid> xid = std::nullopt) {
  return At(lsn, wire::Type{xid, oid, schema, name});
}

inline TestFrame BeginFrame(uint64_t lsn, uint64_t final_lsn, wire::Xid xid) {
  return At(lsn, wire::Begin{wire::Lsn(final_lsn), wire::Timestamp(kCommitTime), xid});
}

// The walsender sends Commit at the transaction's end LSN.
inline TestFrame CommitFrame(uint64_t commit_lsn, uint64_t end_lsn) {
  return At(end_lsn, wire::Commit{0, wire::Lsn(commit_lsn), wire::Lsn(end_lsn),
                                  wire::Timestamp(kCommitTime)});
}

inline TestFrame InsertFrame(uint64_t lsn, wire::Oid relid, const Row& row,
                             std::optional<wire::Xid> xid = std::nullopt) {
  const wire::TupleBuilder t = Tuple(row);
  return At(lsn, wire::Insert{xid, relid, t.view()});
}

inline TestFrame UpdateFrame(uint64_t lsn, wire::Oid relid, wire::OldTupleKind kind,
                             const Row& old_row, const Row& new_row,
                             std::optional<wire::Xid> xid = std::nullopt) {
  const wire::TupleBuilder o = Tuple(old_row);
  const wire::TupleBuilder n = Tuple(new_row);
  return At(lsn, wire::Update{xid, relid, kind,
                              kind == wire::OldTupleKind::kNone ? wire::TupleView() : o.view(),
                              n.view()});
}

inline TestFrame DeleteFrame(uint64_t lsn, wire::Oid relid, wire::OldTupleKind kind,
                             const Row& old_row, std::optional<wire::Xid> xid = std::nullopt) {
  const wire::TupleBuilder o = Tuple(old_row);
  return At(lsn, wire::Delete{xid, relid, kind, o.view()});
}

inline TestFrame TruncateFrame(uint64_t lsn, std::vector<wire::Oid> relids, uint8_t flags,
                               std::optional<wire::Xid> xid = std::nullopt) {
  wire::Truncate t;
  t.xid = xid;
  t.flags = flags;
  t.relids = std::move(relids);
  return At(lsn, t);
}

inline TestFrame MessageFrame(uint64_t lsn, bool transactional, std::string_view prefix,
                              std::string_view content,
                              std::optional<wire::Xid> xid = std::nullopt) {
  wire::LogicalMessage m;
  m.xid = xid;
  m.flags = transactional ? wire::LogicalMessage::kFlagTransactional : 0;
  m.lsn = wire::Lsn(lsn);
  m.prefix = prefix;
  m.content = std::span<const std::byte>(reinterpret_cast<const std::byte*>(content.data()),
                                         content.size());
  return At(lsn, m);
}

inline TestFrame OriginFrame(uint64_t lsn, std::string_view name, uint64_t origin_lsn = 0) {
  return At(lsn, wire::Origin{wire::Lsn(origin_lsn), name});
}

inline TestFrame StreamStartFrame(uint64_t lsn, wire::Xid xid, bool first_segment) {
  return At(lsn, wire::StreamStart{xid, first_segment});
}

inline TestFrame StreamStopFrame(uint64_t lsn) { return At(lsn, wire::StreamStop{}); }

inline TestFrame StreamCommitFrame(uint64_t commit_lsn, uint64_t end_lsn, wire::Xid xid) {
  return At(end_lsn, wire::StreamCommit{xid, 0, wire::Lsn(commit_lsn), wire::Lsn(end_lsn),
                                        wire::Timestamp(kCommitTime)});
}

inline TestFrame StreamAbortFrame(uint64_t lsn, wire::Xid xid, wire::Xid subxid) {
  return At(lsn, wire::StreamAbort{xid, subxid, std::nullopt});
}

// Feeds frames in order; the first error, or OK.
inline Status FeedAll(StreamDecoder& decoder, const std::vector<TestFrame>& frames) {
  for (const TestFrame& f : frames) {
    PGPARITY_RETURN_IF_ERROR(decoder.Feed(f.start, f.end, f.body));
  }
  return Status::OK();
}

inline std::string TupleText(const wire::TupleView& t) {
  std::string s = "(";
  bool first = true;
  for (const wire::ColumnView c : t) {
    if (!first) s += ",";
    first = false;
    switch (c.kind) {
      case wire::ColumnKind::kNull:
        s += "<null>";
        break;
      case wire::ColumnKind::kUnchanged:
        s += "<u>";
        break;
      case wire::ColumnKind::kText:
      case wire::ColumnKind::kBinary:
        s += std::string(c.text());
        break;
    }
  }
  return s + ")";
}

// Records every event as one line of text.
class RecordingSink : public ChangeSink {
 public:
  Status OnBegin(const TxnInfo& t) override {
    return Record("BEGIN xid=" + std::to_string(t.xid) + " commit=" + t.commit_lsn.ToString() +
                  (t.streamed ? " streamed end=" + t.end_lsn.ToString() : ""));
  }
  Status OnChange(const Change& c) override {
    std::string s(1, static_cast<char>(c.op));
    s += " " + c.relation.QualifiedName() + " lsn=" + c.lsn.ToString() +
         " xid=" + std::to_string(c.xid) + "/" + std::to_string(c.subxid);
    if (c.old_kind != wire::OldTupleKind::kNone) {
      s += " old=" + std::string(1, static_cast<char>(c.old_kind)) + TupleText(c.old_tuple);
    }
    if (c.op != ChangeOp::kDelete) s += " new=" + TupleText(c.new_tuple);
    return Record(s);
  }
  Status OnTruncate(const TruncateEvent& t) override {
    std::string s = "TRUNCATE";
    for (const RelationInfo* r : t.relations) s += " " + r->QualifiedName();
    s += std::string(" cascade=") + (t.cascade() ? "1" : "0") +
         " restart=" + (t.restart_identity() ? "1" : "0") + " lsn=" + t.lsn.ToString() +
         " xid=" + std::to_string(t.xid) + "/" + std::to_string(t.subxid);
    return Record(s);
  }
  Status OnLogicalMessage(const LogicalMessageEvent& m) override {
    return Record(std::string("MSG ") + (m.transactional ? "tx" : "nontx") +
                  " lsn=" + m.lsn.ToString() + " prefix=" + std::string(m.prefix) + " content=" +
                  std::string(reinterpret_cast<const char*>(m.content.data()), m.content.size()) +
                  " xid=" + std::to_string(m.xid) + "/" + std::to_string(m.subxid));
  }
  Status OnCommit(const CommitInfo& c) override {
    return Record("COMMIT xid=" + std::to_string(c.xid) + " commit=" + c.commit_lsn.ToString() +
                  " end=" + c.end_lsn.ToString() + " changes=" + std::to_string(c.changes) +
                  " truncates=" + std::to_string(c.truncates) +
                  " messages=" + std::to_string(c.messages) + (c.streamed ? " streamed" : ""));
  }

  std::vector<std::string> events;
  // When set, the n-th event (0-based) fails with this status.
  std::optional<size_t> fail_at;
  Status failure = Status::IOError("sink failed");

 private:
  Status Record(std::string s) {
    if (fail_at.has_value() && events.size() == *fail_at) return failure;
    events.push_back(std::move(s));
    return Status::OK();
  }
};

}  // namespace pgparity::core::testing

#endif  // PGPARITY_DECODER_CORE_TESTING_STREAM_BUILDER_H_
