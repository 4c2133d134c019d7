#pragma once
// Names the calling thread, so that `top -H`, `perf` and a debugger tell a process's threads
// apart ("engine", "sqlite-store"...). Linux keeps at most 15 characters; longer names are cut.

#include <pthread.h>

#include <string>

namespace gavel::ports {

inline void name_this_thread(const std::string& name) {
  constexpr std::size_t kMaxLength = 15;
  pthread_setname_np(pthread_self(), name.substr(0, kMaxLength).c_str());
}

}  // namespace gavel::ports
