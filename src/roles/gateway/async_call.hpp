#pragma once
// Calls a callback-style port from a coroutine: the answer is posted back to `executor` (the
// coroutine's strand), whichever thread the adapter answers on.
//
// GCC 12 destroys the captures of the initiation object given to async_initiate twice
// (chriskohlhoff/asio#1007): a captured executor lost a reference to its strand each call and
// the strand was freed under live sockets (seen under ASan). So the initiation captures only
// references, and the executor is read through a reference that outlives the co_await.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <utility>

#include "ports/result.hpp"

namespace gavel::gateway {

template <typename T, typename Start>
boost::asio::awaitable<ports::Result<T>> async_call(const boost::asio::any_io_executor& executor,
                                                    Start start) {
  namespace asio = boost::asio;
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(ports::Result<T>)>(
      [&executor, &start](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start([target = executor, shared](ports::Result<T> result) {
          asio::post(target, [shared, result = std::move(result)]() mutable {
            (*shared)(std::move(result));
          });
        });
      },
      asio::use_awaitable);
}

}  // namespace gavel::gateway
