#pragma once
// Calls a callback-style port from a coroutine: the answer is posted back to the coroutine's
// executor (its strand), whichever thread the adapter answers on.

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <utility>

#include "ports/result.hpp"

namespace gavel::gateway {

template <typename T, typename Start>
boost::asio::awaitable<ports::Result<T>> async_call(Start start) {
  namespace asio = boost::asio;
  auto executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(ports::Result<T>)>(
      [executor, &start](auto handler) mutable {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start([executor, shared](ports::Result<T> result) {
          asio::post(executor, [shared, result = std::move(result)]() mutable {
            (*shared)(std::move(result));
          });
        });
      },
      asio::use_awaitable);
}

}  // namespace gavel::gateway
