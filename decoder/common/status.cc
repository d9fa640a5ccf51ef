#include "pgparity/status.h"

#include <string>

namespace pgparity {

Status::Status(Code code, std::string_view msg)
    : rep_(std::make_unique<Rep>(Rep{code, std::string(msg)})) {}

Status::Status(const Status& other)
    : rep_(other.rep_ == nullptr ? nullptr : std::make_unique<Rep>(*other.rep_)) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) {
    rep_ = other.rep_ == nullptr ? nullptr : std::make_unique<Rep>(*other.rep_);
  }
  return *this;
}

std::string_view Status::message() const noexcept {
  return rep_ == nullptr ? std::string_view() : std::string_view(rep_->message);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(rep_->code));
  out += ": ";
  out += rep_->message;
  return out;
}

Status Status::WithPrefix(std::string_view prefix) const& {
  return Status(*this).WithPrefix(prefix);
}

Status Status::WithPrefix(std::string_view prefix) && {
  if (ok()) return Status();
  std::string message;
  message.reserve(prefix.size() + 2 + rep_->message.size());
  message.append(prefix).append(": ").append(rep_->message);
  rep_->message = std::move(message);
  return std::move(*this);
}

std::string_view CodeName(Status::Code code) noexcept {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kInvalidArgument:
      return "Invalid argument";
    case Status::Code::kCorruption:
      return "Corruption";
    case Status::Code::kNotSupported:
      return "Not supported";
    case Status::Code::kIOError:
      return "IO error";
    case Status::Code::kInternal:
      return "Internal";
    case Status::Code::kUnavailable:
      return "Unavailable";
    case Status::Code::kUnauthenticated:
      return "Unauthenticated";
    case Status::Code::kPermissionDenied:
      return "Permission denied";
    case Status::Code::kNotFound:
      return "Not found";
    case Status::Code::kAlreadyExists:
      return "Already exists";
    case Status::Code::kDeadlineExceeded:
      return "Deadline exceeded";
    case Status::Code::kFailedPrecondition:
      return "Failed precondition";
    case Status::Code::kSchemaChanged:
      return "Schema changed";
  }
  return "Unknown code";
}

}  // namespace pgparity
