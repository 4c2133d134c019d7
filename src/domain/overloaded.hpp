#pragma once
// The usual helper for std::visit over a std::variant with one lambda per alternative.

namespace gavel::domain {

template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace gavel::domain
