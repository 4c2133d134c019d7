#pragma once
// A genuine audit feed for tests: one auction decided by the real engine in batches, as the
// engine host publishes it (wire::audit_messages after each batch).

#include <vector>

#include "engine/engine.hpp"
#include "ports/wire/audit_json.hpp"
#include "support/auction_builders.hpp"

namespace gavel::testing {

/// The feed of auction "a1": created, four bids (accepted, proxy outbid, too low), closed sold
/// at its end. One vector of messages per engine batch.
inline std::vector<std::vector<ports::OutgoingMessage>> sample_audit_feed() {
  engine::Engine engine;
  std::vector<std::vector<ports::OutgoingMessage>> feed;
  const auto run_batch = [&](std::vector<wire::CommandEnvelope> envelopes, domain::Timestamp now) {
    std::vector<domain::Command> commands;
    for (auto& envelope : envelopes) {
      envelope.gateway_id = "gw-1";
      commands.push_back(envelope.command);
    }
    engine::BatchResult result;
    engine.process(commands, result);
    engine.advance(now, result.events);
    feed.push_back(wire::audit_messages(envelopes, result.decisions, result.events));
  };
  const auto place = [](std::string id, std::string bidder, std::int64_t amount,
                        std::optional<std::int64_t> max, std::int64_t second) {
    wire::CommandEnvelope envelope;
    envelope.command =
        domain::PlaceBid{domain::AuctionId{"a1"}, bid(id, std::move(bidder), amount, max, second)};
    envelope.command_id = id;
    return envelope;
  };
  wire::CommandEnvelope create;
  create.command = domain::CreateAuction{terms("a1"), at(-60)};
  create.command_id = "a1";
  run_batch({create}, at(-60));
  run_batch({place("b1", "u1", 1000, std::nullopt, 10), place("b2", "u2", 1500, 2000, 20)}, at(20));
  run_batch({place("b3", "u1", 1800, std::nullopt, 30), place("b4", "u3", 900, std::nullopt, 40)},
            at(40));
  run_batch({}, at(601));
  return feed;
}

}  // namespace gavel::testing
