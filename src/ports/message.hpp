#pragma once
// Messages as the queue and topic ports carry them: opaque bodies with the metadata the
// backends need (ordering key, deduplication id, delivery count).

#include <string>

#include "domain/time.hpp"

namespace gavel::ports {

/// A message to send. `ordering_key` groups messages delivered in order (the auction id);
/// `dedup_id` makes a resend within the deduplication window a no-op (the idempotency key);
/// `event_time` is when the event happened (a bid's receivedAt), used for the watermark.
struct OutgoingMessage {
  std::string ordering_key;
  std::string dedup_id;
  domain::Timestamp event_time{};
  std::string body;
};

/// A message as received. `receipt` acknowledges this delivery (not the message: a later
/// redelivery has a new receipt). `delivery_count` is 1 on the first delivery.
struct Delivery {
  std::string message_id;
  std::string receipt;
  std::string ordering_key;
  domain::Timestamp event_time{};
  std::string body;
  int delivery_count = 0;
};

}  // namespace gavel::ports
