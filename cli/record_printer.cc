#include "record_printer.h"

#include "pgparity/digest/md5_batch.h"
#include "pgparity/wire/lsn.h"
#include "pgparity/wire/timestamp.h"

namespace pgparity::cli {

std::string FormatLsn(uint64_t lsn) { return wire::Lsn(lsn).ToString(); }

std::string FormatUnixMicros(int64_t us) {
  auto ts = wire::Timestamp::FromUnixMicros(us);
  return ts.ok() ? ts->ToIso8601() : std::to_string(us) + "us";
}

std::string FormatDigest(const std::string& bytes) {
  if (bytes.empty()) return "-";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

size_t Utf8PrefixLength(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  // Back off over continuation bytes (10xxxxxx) to the start of the
  // character that straddles the cut; a character has at most 4 bytes, so
  // malformed text backs off at most 3.
  size_t n = max_bytes;
  while (n > 0 && max_bytes - n < 3 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return n;
}

namespace {

void PrintQuoted(std::ostream& out, std::string_view text) {
  out << '\'';
  for (char c : text) {
    if (c == '\'') out << '\'';
    out << c;
  }
  out << '\'';
}

void PrintValue(std::ostream& out, const pgparity::v1::Value& v,
                const RecordPrinterOptions& options) {
  switch (v.kind()) {
    case pgparity::v1::Value::NULL_VALUE:
      out << "null";
      return;
    case pgparity::v1::Value::UNCHANGED_TOAST:
      out << "unchanged-toast";
      return;
    case pgparity::v1::Value::BINARY:
      out << "binary:" << v.binary().size() << "B(md5 " << digest::Md5(v.binary()).ToHex() << ')';
      return;
    default: {
      const std::string& text = v.text();
      if (options.max_value_bytes == 0 || text.size() <= options.max_value_bytes) {
        PrintQuoted(out, text);
        return;
      }
      PrintQuoted(
          out, std::string_view(text).substr(0, Utf8PrefixLength(text, options.max_value_bytes)));
      out << "...(" << text.size() << " bytes, md5 " << digest::Md5(text).ToHex() << ')';
    }
  }
}

const char* OperationName(pgparity::v1::Change::Operation op) {
  switch (op) {
    case pgparity::v1::Change::INSERT:
      return "INSERT";
    case pgparity::v1::Change::UPDATE:
      return "UPDATE";
    case pgparity::v1::Change::DELETE:
      return "DELETE";
    default:
      return "?";
  }
}

}  // namespace

void RecordPrinter::PrintTuple(uint32_t relid, const pgparity::v1::Tuple& tuple, bool skip_null) {
  const auto it = columns_.find(relid);
  for (int i = 0; i < tuple.values_size(); ++i) {
    const auto& v = tuple.values(i);
    if (skip_null && v.kind() == pgparity::v1::Value::NULL_VALUE) continue;
    out_ << ' ';
    if (it != columns_.end() && static_cast<size_t>(i) < it->second.size()) {
      out_ << it->second[i];
    } else {
      out_ << '$' << (i + 1);
    }
    out_ << '=';
    PrintValue(out_, v, options_);
  }
}

void RecordPrinter::Print(const pgparity::v1::Record& record) {
  using R = pgparity::v1::Record;
  switch (record.record_case()) {
    case R::kHeader: {
      const auto& h = record.header();
      out_ << "recording of slot " << h.slot() << " (publications";
      for (const auto& p : h.publications()) out_ << ' ' << p;
      out_ << ") on system " << h.system_identifier() << " timeline " << h.timeline()
           << ", database " << h.database() << ", server " << h.server_version_num() << ", proto "
           << h.protocol_version() << ", from " << FormatLsn(h.start_lsn())
           << (h.raw() ? ", raw frames" : "") << '\n';
      break;
    }
    case R::kRelation: {
      const auto& r = record.relation();
      auto& names = columns_[r.relid()];
      names.clear();
      out_ << "RELATION " << r.relid() << ' ' << r.schema() << '.' << r.name()
           << " (replica identity " << r.replica_identity() << "):";
      for (const auto& c : r.columns()) {
        names.push_back(c.name());
        out_ << ' ' << c.name() << '[' << c.type_oid() << (c.is_key() ? ",key" : "") << ']';
      }
      out_ << '\n';
      break;
    }
    case R::kBegin:
      out_ << "BEGIN " << record.begin().xid() << " (commit "
           << FormatLsn(record.begin().commit_lsn()) << ", "
           << FormatUnixMicros(record.begin().commit_time_us()) << ")\n";
      break;
    case R::kChange: {
      const auto& c = record.change();
      out_ << FormatLsn(c.lsn()) << ' ' << OperationName(c.operation()) << ' ' << c.relation()
           << ':';
      if (c.old_kind() != pgparity::v1::Change::NONE) {
        out_ << (c.old_kind() == pgparity::v1::Change::KEY ? " old-key:" : " old:");
        PrintTuple(c.relid(), c.old_tuple(),
                   /*skip_null=*/c.old_kind() == pgparity::v1::Change::KEY);
        if (c.operation() == pgparity::v1::Change::UPDATE) out_ << " new:";
      }
      if (c.operation() != pgparity::v1::Change::DELETE)
        PrintTuple(c.relid(), c.new_tuple(), false);
      out_ << " ["
           << FormatDigest(c.operation() == pgparity::v1::Change::DELETE ? c.old_digest()
                                                                         : c.new_digest())
           << "]\n";
      break;
    }
    case R::kTruncate: {
      const auto& t = record.truncate();
      out_ << FormatLsn(t.lsn()) << " TRUNCATE";
      for (const auto& r : t.relations()) out_ << ' ' << r;
      if (t.cascade()) out_ << " CASCADE";
      if (t.restart_identity()) out_ << " RESTART IDENTITY";
      out_ << '\n';
      break;
    }
    case R::kMessage: {
      const auto& m = record.message();
      out_ << FormatLsn(m.lsn()) << " MESSAGE " << (m.transactional() ? "transactional" : "")
           << " prefix " << m.prefix() << ", " << m.content().size() << " bytes\n";
      break;
    }
    case R::kCommit: {
      const auto& c = record.commit();
      out_ << "COMMIT " << c.xid() << " end " << FormatLsn(c.end_lsn()) << ", " << c.changes()
           << " changes, chain " << FormatDigest(c.chained_digest()) << '\n';
      break;
    }
    case R::kRaw:
      out_ << "RAW " << record.raw().data().size() << " bytes at "
           << FormatUnixMicros(record.raw().received_at_us()) << '\n';
      break;
    case R::RECORD_NOT_SET:
      out_ << "(empty record)\n";
      break;
  }
}

}  // namespace pgparity::cli
