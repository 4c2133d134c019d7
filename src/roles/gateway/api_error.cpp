#include "roles/gateway/api_error.hpp"

namespace gavel::gateway {

unsigned status_for(domain::Reason reason) {
  using domain::Reason;
  switch (reason) {
    case Reason::auction_not_found:
    case Reason::bid_not_found:
      return 404;
    case Reason::not_allowed:
      return 403;
    case Reason::rate_limited:
      return 429;
    case Reason::invalid_amount:
    case Reason::max_below_amount:
    case Reason::invalid_auction:
      return 400;
    default:
      return 409;
  }
}

boost::json::object error_json(const ApiError& error) {
  boost::json::object inner{{"code", error.code}, {"message", error.message}};
  if (!error.field.empty()) inner["field"] = error.field;
  return boost::json::object{{"error", std::move(inner)}};
}

}  // namespace gavel::gateway
