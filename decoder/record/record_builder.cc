#include "pgparity/record/record_builder.h"

#include <memory>

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
        v->set_text(column.text().data(), column.text().size());
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

namespace {

// 16 bytes, big-endian, into `out` (reusing its buffer).
void SetDigestBytes(const digest::Digest128& d, std::string* out) {
  char bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<char>(d.hi >> (56 - 8 * i));
    bytes[8 + i] = static_cast<char>(d.lo >> (56 - 8 * i));
  }
  out->assign(bytes, sizeof bytes);
}

// Fills `tuple` into *slot, reusing the Tuple detached from the previous
// change (its Value objects and their string buffers) when there is one.
void SetTuple(const wire::TupleView& tuple, std::unique_ptr<pgparity::v1::Tuple>& spare,
              pgparity::v1::Tuple* (pgparity::v1::Change::*mutable_tuple)(),
              void (pgparity::v1::Change::*set_allocated)(pgparity::v1::Tuple*),
              pgparity::v1::Change* c) {
  if (spare != nullptr) {
    spare->Clear();  // keeps the cleared Values for add_values() to reuse
    FillTuple(tuple, spare.get());
    (c->*set_allocated)(spare.release());
  } else {
    FillTuple(tuple, (c->*mutable_tuple)());
  }
}

// `old_full`: the old row's digest when the change has a full old row;
// `new_row`: the new row's digest unless it is a Delete.
void BuildChangeWith(const core::Change& change, const digest::Digest128* old_full,
                     const digest::Digest128* new_row, pgparity::v1::Record& out) {
  pgparity::v1::Change* c = out.mutable_change();  // a new one unless `out` holds a change
  // Clear() keeps the capacity of strings and repeated fields but deletes
  // sub-messages: detach the tuples first to reuse them.
  std::unique_ptr<pgparity::v1::Tuple> spare_old(c->release_old_tuple());
  std::unique_ptr<pgparity::v1::Tuple> spare_new(c->release_new_tuple());
  c->Clear();
  c->set_lsn(change.lsn.value());
  c->set_xid(change.subxid);
  c->set_relid(change.relation.relid());
  std::string* relation = c->mutable_relation();
  relation->assign(change.relation.schema());
  relation->push_back('.');
  relation->append(change.relation.name());
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
    SetTuple(change.old_tuple, spare_old, &pgparity::v1::Change::mutable_old_tuple,
             &pgparity::v1::Change::set_allocated_old_tuple, c);
    FillKey(change.relation, change.old_tuple, c);
    // A key-only old tuple is not a row: it has no row digest.
    if (change.old_kind == wire::OldTupleKind::kFull)
      SetDigestBytes(*old_full, c->mutable_old_digest());
  } else if (change.op != core::ChangeOp::kDelete) {
    FillKey(change.relation, change.new_tuple, c);
  }
  if (change.op != core::ChangeOp::kDelete) {
    SetTuple(change.new_tuple, spare_new, &pgparity::v1::Change::mutable_new_tuple,
             &pgparity::v1::Change::set_allocated_new_tuple, c);
    SetDigestBytes(*new_row, c->mutable_new_digest());
  }
}

}  // namespace

void BuildChange(const core::Change& change, pgparity::v1::Record& out) {
  auto& digester = change.relation.row_digester();
  digest::Digest128 old_full, new_row;
  if (change.old_kind == wire::OldTupleKind::kFull) old_full = digester.Digest(change.old_tuple);
  if (change.op != core::ChangeOp::kDelete) new_row = digester.Digest(change.new_tuple);
  BuildChangeWith(change, &old_full, &new_row, out);
}

void BuildChange(const core::Change& change, const core::ChainedDigest::RowDigests& digests,
                 pgparity::v1::Record& out) {
  // ChainedDigest hashed the old tuple whenever there is one, and the new
  // tuple unless it is a Delete: the same tuples with the same digester.
  BuildChangeWith(change, &digests.old_row, &digests.new_row, out);
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
