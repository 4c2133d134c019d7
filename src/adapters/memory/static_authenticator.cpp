#include "adapters/memory/static_authenticator.hpp"

#include <utility>

namespace gavel::adapters::memory {

StaticAuthenticator::StaticAuthenticator(ports::ClockPtr clock) : clock_(std::move(clock)) {}

void StaticAuthenticator::add(std::string token, ports::Principal principal) {
  std::lock_guard lock(mutex_);
  principals_.insert_or_assign(std::move(token), principal);
}

bool StaticAuthenticator::remove(const std::string& token) {
  std::lock_guard lock(mutex_);
  return principals_.erase(token) > 0;
}

ports::Result<ports::Principal> StaticAuthenticator::verify(std::string_view token) const {
  ports::Principal principal;
  {
    std::lock_guard lock(mutex_);
    const auto found = principals_.find(std::string(token));
    if (found == principals_.end()) {
      return ports::Error{ports::ErrorKind::permanent, "unknown token"};
    }
    principal = found->second;
  }
  if (principal.expires_at <= clock_->now()) {
    return ports::Error{ports::ErrorKind::permanent, "token expired"};
  }
  return principal;
}

}  // namespace gavel::adapters::memory
