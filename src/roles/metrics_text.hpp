#pragma once
// Prometheus text exposition (format 0.0.4), written by hand: prometheus-cpp is not packaged in
// Debian 12, and these few helpers are all the roles need. A real Prometheus scrapes it in
// tests/integration/prometheus.test.mjs.

#include <array>
#include <atomic>
#include <cstdint>
#include <ostream>
#include <string>
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

/// A histogram of seconds with fixed buckets, safe to observe from any thread without a lock
/// (each bucket is its own atomic; a scrape may see an observation in the count a moment before
/// its bucket, which Prometheus tolerates).
class SecondsHistogram {
 public:
  /// 0.5 ms to 10 s: bid decisions and store commits live between 1 ms and a few hundred.
  static constexpr std::array<double, 13> kBounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,    0.25,  0.5,    1,     2.5,  10};

  void observe(double seconds) {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  }

  void append(std::ostream& out, std::string_view name, std::string_view help) const {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
      cumulative += buckets_[i].load(std::memory_order_relaxed);
      out << name << "_bucket{le=\"" << kBounds[i] << "\"} " << cumulative << '\n';
    }
    cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
    out << name << "_bucket{le=\"+Inf\"} " << cumulative << '\n'
        << name << "_sum " << static_cast<double>(micros_.load(std::memory_order_relaxed)) / 1e6
        << '\n'
        << name << "_count " << cumulative << '\n';
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> micros_{0};
};

/// A histogram of counts (batch sizes) with power-of-two buckets from 1 to 1024.
class CountHistogram {
 public:
  void observe(std::size_t value) {
    std::size_t i = 0;
    while (i < kBuckets && value > (std::size_t{1} << i)) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  void append(std::ostream& out, std::string_view name, std::string_view help) const {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      cumulative += buckets_[i].load(std::memory_order_relaxed);
      out << name << "_bucket{le=\"" << (std::size_t{1} << i) << "\"} " << cumulative << '\n';
    }
    cumulative += buckets_[kBuckets].load(std::memory_order_relaxed);
    out << name << "_bucket{le=\"+Inf\"} " << cumulative << '\n'
        << name << "_sum " << sum_.load(std::memory_order_relaxed) << '\n'
        << name << "_count " << cumulative << '\n';
  }

 private:
  static constexpr std::size_t kBuckets = 11;  // le = 1, 2, 4, ..., 1024
  std::array<std::atomic<std::uint64_t>, kBuckets + 1> buckets_{};
  std::atomic<std::uint64_t> sum_{0};
};

}  // namespace gavel::roles
