#pragma once
// The process's open-file limit (RLIMIT_NOFILE) against the connections it is asked to hold:
// every socket is a file descriptor, and the usual soft limit (1024, or 20000 here) is far
// below what one gateway holds. The soft limit is raised as far as the hard limit allows.

#include <cstddef>

namespace gavel::app {

struct FdLimit {
  std::size_t before = 0;  ///< the soft limit found
  std::size_t now = 0;     ///< the soft limit after raising it
};

/// Raises the soft open-file limit to `wanted` (capped by the hard limit). Never lowers it.
FdLimit raise_fd_limit(std::size_t wanted);

/// Descriptors a process needs beyond its connections: files, the store, listeners, pipes.
inline constexpr std::size_t kSpareDescriptors = 256;

}  // namespace gavel::app
