#include "domain/ids.hpp"

namespace gavel::domain {

bool is_valid_id(std::string_view value) {
  if (value.empty() || value.size() > kMaxIdLength) return false;
  for (const char c : value) {
    // Printable ASCII except space, quotes, backslash, slash and '?#%' (which need escaping
    // in URLs). ':' is allowed: it separates parts of composite keys elsewhere, never of ids.
    if (c <= ' ' || c > '~') return false;
    if (c == '"' || c == '\'' || c == '\\' || c == '/' || c == '?' || c == '#' || c == '%') {
      return false;
    }
  }
  return true;
}

}  // namespace gavel::domain
