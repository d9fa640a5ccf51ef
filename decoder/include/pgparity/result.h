// Result<T>: either a value of type T or a non-OK Status. The return type of
// every fallible function that produces something.
//
//   Result<Lsn> lsn = Lsn::Parse(text);
//   if (!lsn.ok()) return lsn.status();
//   Use(*lsn);
#ifndef PGPARITY_RESULT_H_
#define PGPARITY_RESULT_H_

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>

#include "pgparity/status.h"

namespace pgparity {

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Status>, "use Status directly");

 public:
  // Implicit from a value or from an error, so `return value;` and
  // `return Status::Corruption(...);` both work.
  Result(const T& value) : value_(value) {}
  Result(T&& value) : value_(std::move(value)) {}
  Result(Status status) : status_(std::move(status)) {
    if (status_.ok()) status_ = Status::Internal("Result constructed from an OK Status");
  }

  bool ok() const noexcept { return value_.has_value(); }

  // OK when ok().
  const Status& status() const& noexcept { return status_; }
  Status status() && noexcept { return std::move(status_); }

  // The value. Calling these on an error aborts the process: reading a value
  // that does not exist is a bug in the caller, never an input problem.
  const T& value() const& {
    CheckOk();
    return *value_;
  }
  T& value() & {
    CheckOk();
    return *value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(*value_);
  }

  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  void CheckOk() const {
    if (!value_.has_value()) {
      std::fprintf(stderr, "pgparity: value() of a failed Result: %s\n",
                   status_.ToString().c_str());
      std::abort();
    }
  }

  Status status_;  // OK iff value_ holds a value
  std::optional<T> value_;
};

}  // namespace pgparity

#define PGPARITY_CONCAT_INNER_(a, b) a##b
#define PGPARITY_CONCAT_(a, b) PGPARITY_CONCAT_INNER_(a, b)

// PGPARITY_ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (a Result<T>); on
// error returns its Status from the enclosing function, else assigns the value
// to `lhs` (which may be a declaration: `auto x`).
#define PGPARITY_ASSIGN_OR_RETURN(lhs, expr) \
  PGPARITY_ASSIGN_OR_RETURN_IMPL_(PGPARITY_CONCAT_(pgparity_result_, __LINE__), lhs, expr)
#define PGPARITY_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return std::move(tmp).status();        \
  lhs = std::move(tmp).value()

#endif  // PGPARITY_RESULT_H_
