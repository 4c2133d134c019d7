#pragma once
// Results of infrastructure calls on the hot path. Business outcomes are domain::Decision values;
// this is for the machinery under them, and its error kind tells the caller what to do.

#include <cassert>
#include <functional>
#include <string>
#include <utility>
#include <variant>

namespace gavel::ports {

enum class ErrorKind {
  retryable,  ///< transient (timeout, connection lost, throttled): the same call may succeed later
  conflict,   ///< a condition failed (a newer version exists, another writer holds it): reload
  not_found,  ///< the thing asked for does not exist
  permanent,  ///< will never succeed as asked (bad input, misconfiguration): do not retry
};

struct Error {
  ErrorKind kind = ErrorKind::permanent;
  std::string message;
};

/// A value or an Error.
template <typename T>
class Result {
 public:
  Result(T value)
      : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }
  /// Precondition: ok().
  T& value() {
    assert(ok());
    return std::get<0>(data_);
  }
  const T& value() const {
    assert(ok());
    return std::get<0>(data_);
  }
  /// Precondition: !ok().
  const Error& error() const {
    assert(!ok());
    return std::get<1>(data_);
  }

 private:
  std::variant<T, Error> data_;
};

/// Success without a value, or an Error.
template <>
class Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

/// How asynchronous port calls answer. Adapters call it exactly once, either before the call
/// returns or later from one of their own threads; callers must not assume which.
template <typename T>
using Callback = std::function<void(Result<T>)>;

}  // namespace gavel::ports
