#include "pgparity/record/record_builder.h"

namespace pgparity::record {

namespace {

int64_t UnixMicros(const wire::Timestamp& ts) {
  auto us = ts.ToUnixMicros();
  return us.ok() ? *us : 0;
}

void FillTuple(const wire::TupleView& tuple, pgparity::v1::Tuple* out) {
  for (const wire::ColumnView column : tuple) {
    auto* v = out->add_values();
    switch (column.kind) {
      case wire::ColumnKind::kNull:
        v->set_kind(pgparity::v1::Value::NULL_VALUE);
        break;
      case wire::ColumnKind::kUnchanged:
        v->set_kind(pgparity::v1::Value::UNCHANGED_TOAST);
        break;
      case wire::ColumnKind::kText:
        v->set_kind(pgparity::v1::Value::TEXT);
        v->set_text(std::string(column.text()));
        break;
      case wire::ColumnKind::kBinary:
        v->set_kind(pgparity::v1::Value::BINARY);
        v->set_binary(column.data.data(), column.data.size());
        break;
    }
  }
}

// Replica identity values by column name, from `tuple`.
void FillKey(const core::RelationInfo& relation, const wire::TupleView& tuple,
             pgparity::v1::Change* change) {
  size_t i = 0;
  for (const wire::ColumnView column : tuple) {
    const auto& info = relation.columns()[i++];
    if (!info.is_key || column.kind != wire::ColumnKind::kText) continue;
    (*change->mutable_key())[info.name] = std::string(column.text());
  }
}

}  // namespace

std::string DigestBytes(const digest::Digest128& d) {
  std::string out(16, '\0');
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>(d.hi >> (56 - 8 * i));
    out[8 + i] = static_cast<char>(d.lo >> (56 - 8 * i));
  }
  return out;
}

digest::Digest128 DigestFromBytes(const std::string& bytes) {
  if (bytes.size() != 16) return {};
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  return digest::Digest128::FromBigEndian(std::span<const unsigned char, 16>(p, 16));
}

void BuildRelation(const core::RelationInfo& relation, pgparity::v1::Record& out) {
  out.Clear();
  auto* rel = out.mutable_relation();
  rel->set_relid(relation.relid());
  rel->set_schema(relation.schema());
  rel->set_name(relation.name());
  rel->set_replica_identity(std::string(1, static_cast<char>(relation.replica_identity())));
  for (const auto& c : relation.columns()) {
    auto* col = rel->add_columns();
    col->set_name(c.name);
    col->set_type_oid(c.type_oid);
    col->set_typmod(c.typmod);
    col->set_is_key(c.is_key);
  }
}

void BuildBegin(const core::TxnInfo& txn, pgparity::v1::Record& out) {
  out.Clear();
  auto* b = out.mutable_begin();
  b->set_xid(txn.xid);
  b->set_commit_lsn(txn.commit_lsn.value());
  b->set_commit_time_us(UnixMicros(txn.commit_time));
}

void BuildChange(const core::Change& change, pgparity::v1::Record& out) {
  out.Clear();
  auto* c = out.mutable_change();
  c->set_lsn(change.lsn.value());
  c->set_xid(change.subxid);
  c->set_relid(change.relation.relid());
  c->set_relation(change.relation.QualifiedName());
  auto& digester = change.relation.row_digester();
  switch (change.op) {
    case core::ChangeOp::kInsert:
      c->set_operation(pgparity::v1::Change::INSERT);
      break;
    case core::ChangeOp::kUpdate:
      c->set_operation(pgparity::v1::Change::UPDATE);
      break;
    case core::ChangeOp::kDelete:
      c->set_operation(pgparity::v1::Change::DELETE);
      break;
  }
  if (change.old_kind != wire::OldTupleKind::kNone) {
    c->set_old_kind(change.old_kind == wire::OldTupleKind::kKey ? pgparity::v1::Change::KEY
                                                                : pgparity::v1::Change::FULL);
    FillTuple(change.old_tuple, c->mutable_old_tuple());
    FillKey(change.relation, change.old_tuple, c);
    // A key-only old tuple is not a row: it has no row digest.
    if (change.old_kind == wire::OldTupleKind::kFull) {
      c->set_old_digest(DigestBytes(digester.Digest(change.old_tuple)));
    }
  } else if (change.op != core::ChangeOp::kDelete) {
    FillKey(change.relation, change.new_tuple, c);
  }
  if (change.op != core::ChangeOp::kDelete) {
    FillTuple(change.new_tuple, c->mutable_new_tuple());
    c->set_new_digest(DigestBytes(digester.Digest(change.new_tuple)));
  }
}

void BuildTruncate(const core::TruncateEvent& truncate, pgparity::v1::Record& out) {
  out.Clear();
  auto* t = out.mutable_truncate();
  t->set_lsn(truncate.lsn.value());
  t->set_xid(truncate.subxid);
  for (const auto* r : truncate.relations) t->add_relations(r->QualifiedName());
  t->set_cascade(truncate.cascade());
  t->set_restart_identity(truncate.restart_identity());
}

void BuildMessage(const core::LogicalMessageEvent& message, pgparity::v1::Record& out) {
  out.Clear();
  auto* m = out.mutable_message();
  m->set_lsn(message.lsn.value());
  m->set_transactional(message.transactional);
  m->set_prefix(std::string(message.prefix));
  m->set_content(reinterpret_cast<const char*>(message.content.data()), message.content.size());
}

void BuildCommit(const core::CommitInfo& commit, const core::ChainState& chain,
                 pgparity::v1::Record& out) {
  out.Clear();
  auto* c = out.mutable_commit();
  c->set_xid(commit.xid);
  c->set_commit_lsn(commit.commit_lsn.value());
  c->set_end_lsn(commit.end_lsn.value());
  c->set_commit_time_us(UnixMicros(commit.commit_time));
  c->set_changes(commit.changes);
  c->set_chained_digest(DigestBytes(chain.chain));
  c->set_transactions(chain.transactions);
}

}  // namespace pgparity::record
