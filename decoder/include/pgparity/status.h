// Status: the outcome of an operation, either OK or an error code with a
// message. Modelled on LevelDB's Status: an OK status holds no allocation, so
// returning one costs a null pointer; an error owns one heap block.
//
// Thread-safety: a Status is a value; distinct objects may be used from
// different threads, one object needs external synchronization for writes.
#ifndef PGPARITY_STATUS_H_
#define PGPARITY_STATUS_H_

#include <memory>
#include <string>
#include <string_view>

namespace pgparity {

class [[nodiscard]] Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kInvalidArgument,  // the caller passed something unusable
    kCorruption,       // input bytes violate the format (a malformed wire frame)
    kNotSupported,     // well-formed but outside what we implement
    kIOError,
    kInternal,  // a broken invariant of ours
    // Connections and replication slots (decoder/conn):
    kUnavailable,         // cannot reach the server or lost it; retrying may help
    kUnauthenticated,     // the server rejected the credentials
    kPermissionDenied,    // authenticated, but not allowed (no REPLICATION role, pg_hba)
    kNotFound,            // a named object (slot, publication, database) does not exist
    kAlreadyExists,       // a named object to create exists already
    kFailedPrecondition,  // exists but unusable as is (slot in use, invalidated, wrong plugin)
    kDeadlineExceeded,    // waited longer than allowed (for the target, for an LSN)
    // A state made from the source's tables no longer fits them: a table's
    // columns or their types changed (ALTER TABLE), or a table joined or
    // left the publication, since it was made.
    kSchemaChanged,
  };

  Status() noexcept = default;
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status OK() noexcept { return Status(); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status NotSupported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status Internal(std::string_view msg) { return Status(Code::kInternal, msg); }
  static Status Unavailable(std::string_view msg) { return Status(Code::kUnavailable, msg); }
  static Status Unauthenticated(std::string_view msg) {
    return Status(Code::kUnauthenticated, msg);
  }
  static Status PermissionDenied(std::string_view msg) {
    return Status(Code::kPermissionDenied, msg);
  }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status AlreadyExists(std::string_view msg) { return Status(Code::kAlreadyExists, msg); }
  static Status FailedPrecondition(std::string_view msg) {
    return Status(Code::kFailedPrecondition, msg);
  }

  static Status DeadlineExceeded(std::string_view msg) {
    return Status(Code::kDeadlineExceeded, msg);
  }
  static Status SchemaChanged(std::string_view msg) { return Status(Code::kSchemaChanged, msg); }

  bool ok() const noexcept { return rep_ == nullptr; }
  Code code() const noexcept { return rep_ == nullptr ? Code::kOk : rep_->code; }
  bool IsCorruption() const noexcept { return code() == Code::kCorruption; }
  bool IsNotSupported() const noexcept { return code() == Code::kNotSupported; }
  bool IsInvalidArgument() const noexcept { return code() == Code::kInvalidArgument; }
  bool IsUnavailable() const noexcept { return code() == Code::kUnavailable; }
  bool IsNotFound() const noexcept { return code() == Code::kNotFound; }
  bool IsSchemaChanged() const noexcept { return code() == Code::kSchemaChanged; }

  // The message without the code, "" when OK.
  std::string_view message() const noexcept;

  // "OK", or "<code name>: <message>".
  std::string ToString() const;

  // The same code with "<prefix>: " in front of the message; OK stays OK.
  // Used to add context on the way up ("LSN 0/16B3748: Insert.relid: ...").
  Status WithPrefix(std::string_view prefix) const&;
  Status WithPrefix(std::string_view prefix) &&;
  // The same code with `message` instead (a message reworded for the user,
  // the code still deciding the exit status); OK stays OK.
  Status WithMessage(std::string_view message) const {
    return ok() ? Status() : Status(code(), message);
  }

  // Explicitly discards the status, for the rare call whose failure does not
  // matter; grep-able, unlike a cast to void.
  void IgnoreError() const noexcept {}

  friend bool operator==(const Status& a, const Status& b) noexcept {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    Code code;
    std::string message;
  };

  Status(Code code, std::string_view msg);

  std::unique_ptr<Rep> rep_;  // null iff OK
};

std::string_view CodeName(Status::Code code) noexcept;

}  // namespace pgparity

// Evaluates `expr` (a Status); returns it from the enclosing function if it is
// not OK.
#define PGPARITY_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::pgparity::Status pgparity_status_ = (expr);        \
    if (!pgparity_status_.ok()) return pgparity_status_; \
  } while (false)

#endif  // PGPARITY_STATUS_H_
