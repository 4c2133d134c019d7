#pragma once
// Strict reading of JSON objects from outside: integers only for money (no floats, no
// exponents), RFC 3339 for times, explicit errors naming the field. Unknown fields are ignored.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "domain/money.hpp"
#include "domain/time.hpp"

namespace gavel::wire {

/// The first problem found in a JSON document: which field, and why, in words for people.
struct FieldError {
  std::string field;
  std::string message;
};

/// Reads fields of one object; the first failure is kept and later reads are no-ops.
/// Not thread-safe; one per document.
class JsonFields {
 public:
  explicit JsonFields(const boost::json::object& object) : object_(object) {}

  std::optional<std::string> required_string(std::string_view name);
  std::optional<std::string> optional_string(std::string_view name);
  /// An id: 1–64 printable characters (domain::is_valid_id), safe to build an Id from.
  std::optional<std::string> required_id(std::string_view name);
  /// A positive integer amount in minor units, at most 10^13.
  std::optional<domain::Amount> required_amount(std::string_view name);
  std::optional<domain::Amount> optional_amount(std::string_view name);
  /// An integer within [min, max].
  std::optional<std::int64_t> optional_integer(std::string_view name, std::int64_t min,
                                               std::int64_t max);
  std::optional<domain::Timestamp> required_time(std::string_view name);
  std::optional<domain::Timestamp> optional_time(std::string_view name);
  std::optional<domain::Currency> optional_currency(std::string_view name);
  std::optional<bool> optional_bool(std::string_view name);
  /// The raw value, or nullptr when absent or null.
  const boost::json::value* raw(std::string_view name) const;

  bool ok() const { return !error_; }
  const std::optional<FieldError>& error() const { return error_; }
  void fail(std::string_view field, std::string message);

 private:
  const boost::json::object& object_;
  std::optional<FieldError> error_;
};

/// An amount from a JSON value: a positive integer ≤ 10^13 (never a float, even 12.0).
std::optional<domain::Amount> amount_from_json(const boost::json::value& value);

}  // namespace gavel::wire
