#include "app/fd_limit.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace gavel::app {

FdLimit raise_fd_limit(std::size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  FdLimit answer{static_cast<std::size_t>(limit.rlim_cur),
                 static_cast<std::size_t>(limit.rlim_cur)};
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    const rlim_t target = limit.rlim_max == RLIM_INFINITY
                              ? static_cast<rlim_t>(wanted)
                              : std::min(static_cast<rlim_t>(wanted), limit.rlim_max);
    rlimit raised{target, limit.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) answer.now = static_cast<std::size_t>(target);
  }
  return answer;
}

}  // namespace gavel::app
