#pragma once
// Every error the API answers, and the one place that maps reasons to HTTP statuses.

#include <boost/json.hpp>
#include <string>

#include "domain/reason.hpp"

namespace gavel::gateway {

struct ApiError {
  unsigned status = 400;
  std::string code;
  std::string message;
  std::string field;  ///< the offending body field, when there is one
};

/// The HTTP status of a business rejection: 404 for unknown things, 403 for rights, 429 for
/// rate limits, 400 for bad amounts, 409 for every other rejected bid or command.
unsigned status_for(domain::Reason reason);

/// {"error": {"code", "message", "field"?}}
boost::json::object error_json(const ApiError& error);

}  // namespace gavel::gateway
