// TupleView: a pgoutput TupleData (Int16 ncols, then per column a kind byte
// n/u/t/b, and for t and b an Int32 length and that many bytes) as a view into
// the message buffer.
//
// TupleView::Read validates the whole tuple once (column count, kinds, lengths
// within the remaining bytes); iterating a TupleView afterwards re-walks those
// validated bytes and cannot fail. Neither reading nor iterating allocates.
// A TupleView is valid as long as the buffer it views.
//
// TupleBuilder owns the bytes of a tuple under construction (tests, bench).
//
// Thread-safety: TupleView is an immutable view; TupleBuilder is not
// thread-safe.
#ifndef PGPARITY_WIRE_TUPLE_H_
#define PGPARITY_WIRE_TUPLE_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>
#include <vector>

#include "pgparity/result.h"
#include "pgparity/wire/byte_reader.h"
#include "pgparity/wire/byte_writer.h"

namespace pgparity::wire {

// PostgreSQL's MaxTupleAttributeNumber: no tuple has more columns.
inline constexpr int kMaxTupleColumns = 1664;

// The kind byte of a TupleData column; the values are the wire bytes.
enum class ColumnKind : char {
  kNull = 'n',
  // An unchanged TOASTed value: the server did not send it. Not NULL.
  kUnchanged = 'u',
  kText = 't',    // output-function text, Int32 length + bytes (no NUL)
  kBinary = 'b',  // send-function binary (option binary), Int32 length + bytes
};

struct ColumnView {
  ColumnKind kind = ColumnKind::kNull;
  // The value's bytes for kText and kBinary; empty for kNull and kUnchanged.
  std::span<const std::byte> data;

  bool has_data() const noexcept {
    return kind == ColumnKind::kText || kind == ColumnKind::kBinary;
  }
  // `data` as characters (meaningful for kText).
  std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(data.data()), data.size()};
  }
};

class TupleView {
 public:
  // Walks the columns of a validated tuple. A forward iterator over ColumnView
  // values (produced on the fly, so operator* returns by value).
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = ColumnView;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = ColumnView;

    Iterator() = default;

    ColumnView operator*() const noexcept { return current_; }
    Iterator& operator++() noexcept {
      pos_ = next_;
      Decode();
      return *this;
    }
    Iterator operator++(int) noexcept {
      Iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) noexcept {
      return a.pos_ == b.pos_;
    }

   private:
    friend class TupleView;
    Iterator(const std::byte* pos, const std::byte* end) noexcept : pos_(pos), end_(end) {
      Decode();
    }
    // Decodes the column at pos_ without checks: TupleView::Read validated it.
    void Decode() noexcept;

    const std::byte* pos_ = nullptr;   // first byte of the current column
    const std::byte* end_ = nullptr;   // one past the last column
    const std::byte* next_ = nullptr;  // first byte of the next column
    ColumnView current_;
  };

  // An empty tuple (zero columns).
  TupleView() = default;

  // Reads and validates a TupleData at the reader's position and consumes it.
  // `context` names the tuple in errors, e.g. "Update.old_tuple" gives
  // "Update.old_tuple.columns[3].length: ...". (The message parsers read
  // tuples with the same body, wire/field_reader.h's ReadTuple.)
  static Result<TupleView> Read(ByteReader& reader, std::string_view context);
  // A view of column bytes validated before (by ReadTuple).
  // REQUIRES: `column_bytes` holds exactly `ncols` well-formed columns.
  static TupleView FromColumnsUnchecked(std::span<const std::byte> column_bytes,
                                        uint16_t ncols) noexcept {
    return TupleView(column_bytes, ncols);
  }

  // Number of columns (ncols as sent).
  size_t size() const noexcept { return ncols_; }
  bool empty() const noexcept { return ncols_ == 0; }

  Iterator begin() const noexcept {
    return Iterator(column_bytes_.data(), column_bytes_.data() + column_bytes_.size());
  }
  Iterator end() const noexcept {
    const std::byte* e = column_bytes_.data() + column_bytes_.size();
    return Iterator(e, e);
  }

  // Calls f(const ColumnView&) for every column, in order.
  template <typename F>
  void ForEachColumn(F&& f) const {
    for (const ColumnView column : *this) f(column);
  }

  // The column bytes as sent, after the Int16 ncols.
  std::span<const std::byte> column_bytes() const noexcept { return column_bytes_; }

  // Appends the wire form (ncols, then the column bytes).
  void EncodeTo(ByteWriter& out) const;

 private:
  friend class TupleBuilder;
  TupleView(std::span<const std::byte> column_bytes, uint16_t ncols) noexcept
      : column_bytes_(column_bytes), ncols_(ncols) {}

  std::span<const std::byte> column_bytes_;
  uint16_t ncols_ = 0;
};

// Builds a tuple column by column; view() sees the result.
class TupleBuilder {
 public:
  // REQUIRES (each Add): fewer than kMaxTupleColumns columns so far; for text
  // and binary, a value shorter than 2^31 bytes.
  TupleBuilder& AddNull();
  TupleBuilder& AddUnchanged();
  TupleBuilder& AddText(std::string_view text);
  TupleBuilder& AddBinary(std::span<const std::byte> data);
  void Clear() noexcept;

  size_t size() const noexcept { return ncols_; }
  // Valid until this builder is next modified or destroyed.
  TupleView view() const noexcept { return TupleView(bytes_, ncols_); }

 private:
  TupleBuilder& AddBinaryOrText(ColumnKind kind, std::span<const std::byte> data);

  std::vector<std::byte> bytes_;
  uint16_t ncols_ = 0;
};

inline void TupleView::Iterator::Decode() noexcept {
  if (pos_ == end_) return;
  current_.kind = static_cast<ColumnKind>(std::to_integer<char>(*pos_));
  if (current_.has_data()) {
    const uint32_t len = LoadBE32(pos_ + 1);
    current_.data = std::span<const std::byte>(pos_ + 5, len);
    next_ = pos_ + 5 + len;
  } else {
    current_.data = {};
    next_ = pos_ + 1;
  }
}

}  // namespace pgparity::wire

#endif  // PGPARITY_WIRE_TUPLE_H_
