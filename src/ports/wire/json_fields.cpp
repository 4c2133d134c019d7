#include "ports/wire/json_fields.hpp"

#include "domain/ids.hpp"

namespace gavel::wire {

namespace json = boost::json;

void JsonFields::fail(std::string_view field, std::string message) {
  if (!error_) error_ = FieldError{std::string(field), std::move(message)};
}

const json::value* JsonFields::raw(std::string_view name) const {
  const json::value* value = object_.if_contains(name);
  return (value == nullptr || value->is_null()) ? nullptr : value;
}

std::optional<std::string> JsonFields::optional_string(std::string_view name) {
  if (!ok()) return std::nullopt;
  const json::value* value = raw(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    fail(name, std::string(name) + " must be a string");
    return std::nullopt;
  }
  return std::string(value->get_string());
}

std::optional<std::string> JsonFields::required_string(std::string_view name) {
  if (!ok()) return std::nullopt;
  if (raw(name) == nullptr) {
    fail(name, std::string(name) + " is required");
    return std::nullopt;
  }
  return optional_string(name);
}

std::optional<std::string> JsonFields::required_id(std::string_view name) {
  auto value = required_string(name);
  if (value && !domain::is_valid_id(*value)) {
    fail(name, std::string(name) +
                   " must be 1-64 printable characters without spaces, quotes, '/', '?', '#' "
                   "or '%'");
    return std::nullopt;
  }
  return value;
}

std::optional<domain::Amount> amount_from_json(const json::value& value) {
  // Only int64: a uint64 is far beyond 10^13, and doubles (12.5, 12.0, 1e3), strings and
  // booleans are not amounts.
  if (!value.is_int64()) return std::nullopt;
  const domain::Amount amount{value.get_int64()};
  if (!domain::is_valid_amount(amount)) return std::nullopt;
  return amount;
}

std::optional<domain::Amount> JsonFields::optional_amount(std::string_view name) {
  if (!ok()) return std::nullopt;
  const json::value* value = raw(name);
  if (value == nullptr) return std::nullopt;
  auto amount = amount_from_json(*value);
  if (!amount) {
    fail(name,
         std::string(name) + " must be a positive integer number of minor units, at most 10^13");
  }
  return amount;
}

std::optional<domain::Amount> JsonFields::required_amount(std::string_view name) {
  if (!ok()) return std::nullopt;
  if (raw(name) == nullptr) {
    fail(name, std::string(name) + " is required");
    return std::nullopt;
  }
  return optional_amount(name);
}

std::optional<std::int64_t> JsonFields::optional_integer(std::string_view name, std::int64_t min,
                                                         std::int64_t max) {
  if (!ok()) return std::nullopt;
  const json::value* value = raw(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_int64() || value->get_int64() < min || value->get_int64() > max) {
    fail(name, std::string(name) + " must be an integer in " + std::to_string(min) + ".." +
                   std::to_string(max));
    return std::nullopt;
  }
  return value->get_int64();
}

std::optional<domain::Timestamp> JsonFields::optional_time(std::string_view name) {
  if (!ok()) return std::nullopt;
  const json::value* value = raw(name);
  if (value == nullptr) return std::nullopt;
  std::optional<domain::Timestamp> at;
  if (value->is_string()) at = domain::parse_rfc3339(value->get_string());
  if (!at) fail(name, std::string(name) + " must be an RFC 3339 time, e.g. 2026-11-28T12:00:00Z");
  return at;
}

std::optional<domain::Timestamp> JsonFields::required_time(std::string_view name) {
  if (!ok()) return std::nullopt;
  if (raw(name) == nullptr) {
    fail(name, std::string(name) + " is required");
    return std::nullopt;
  }
  return optional_time(name);
}

std::optional<domain::Currency> JsonFields::optional_currency(std::string_view name) {
  const auto code = optional_string(name);
  if (!code) return std::nullopt;
  auto currency = domain::Currency::parse(*code);
  if (!currency) fail(name, std::string(name) + " must be an ISO 4217 code such as EUR");
  return currency;
}

std::optional<bool> JsonFields::optional_bool(std::string_view name) {
  if (!ok()) return std::nullopt;
  const json::value* value = raw(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_bool()) {
    fail(name, std::string(name) + " must be true or false");
    return std::nullopt;
  }
  return value->get_bool();
}

}  // namespace gavel::wire
