#pragma once
// Prometheus text exposition (format 0.0.4) for the first set of metrics, written by hand until
// the prometheus-cpp registry arrives (issue 4).

#include <cstdint>
#include <ostream>
#include <string_view>

namespace gavel::roles {

/// Appends `# HELP`, `# TYPE` and one sample. `labels` is either empty or `{key="value",...}`.
template <typename Value>
void append_metric(std::ostream& out, std::string_view type, std::string_view name,
                   std::string_view help, Value value, std::string_view labels = {}) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
      << name << labels << ' ' << value << '\n';
}

/// Appends one more sample of a metric whose HELP and TYPE were written already.
template <typename Value>
void append_sample(std::ostream& out, std::string_view name, std::string_view labels, Value value) {
  out << name << labels << ' ' << value << '\n';
}

}  // namespace gavel::roles
