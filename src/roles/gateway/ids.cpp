#include "roles/gateway/ids.hpp"

namespace gavel::gateway {
namespace {
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

IdGenerator::IdGenerator() : random_(std::random_device{}()) {}

std::string IdGenerator::next(domain::Timestamp now) {
  const auto millis = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  std::array<std::uint8_t, 16> bytes{};
  {
    std::lock_guard lock{mutex_};
    if (millis <= last_millis_) {
      // Same millisecond (or the clock stepped back): increment the random part.
      for (std::size_t i = last_random_.size(); i-- > 0;) {
        if (++last_random_[i] != 0) break;
      }
    } else {
      last_millis_ = millis;
      for (auto& byte : last_random_) byte = static_cast<std::uint8_t>(random_());
    }
    for (int i = 0; i < 6; ++i) {
      bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(last_millis_ >> (8 * (5 - i)));
    }
    std::copy(last_random_.begin(), last_random_.end(), bytes.begin() + 6);
  }
  // 128 bits → 26 base32 digits, most significant first: read as a 130-bit number whose top
  // two bits are zero, 5 bits per digit.
  std::string out(26, '0');
  for (int digit = 0; digit < 26; ++digit) {
    unsigned value = 0;
    for (int bit = digit * 5 - 2; bit < digit * 5 + 3; ++bit) {
      value <<= 1;
      if (bit >= 0) value |= (bytes[static_cast<std::size_t>(bit / 8)] >> (7 - bit % 8)) & 1U;
    }
    out[static_cast<std::size_t>(digit)] = kAlphabet[value];
  }
  return out;
}

}  // namespace gavel::gateway
