#pragma once
// The notifier's durable state: users' inboxes, their channel preferences, what it knows of each
// auction (who takes part, when it ends), and every channel delivery it has promised, until it
// is sent or dead-lettered. A redelivered event finds its notices and deliveries already here,
// so nothing is sent twice; a restarted notifier finds its pending deliveries and open auctions.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/ids.hpp"
#include "domain/time.hpp"
#include "ports/notification_channel.hpp"
#include "ports/result.hpp"

namespace gavel::ports {

/// Which channels a user chose, and where they reach them. The in-app inbox is always on.
struct Preferences {
  bool webhook = false;
  bool email = false;
  bool sms = false;
  std::string email_address;
  std::string phone;  ///< E.164, e.g. "+34600111222"
  std::string webhook_url;
  std::string webhook_secret;  ///< the HMAC key of the webhook's signature
  bool operator==(const Preferences&) const = default;
};

/// One notice in a user's inbox.
struct InboxNotice {
  Notice notice;  ///< address and secret are empty in the inbox
  domain::Timestamp at{};
  bool read = false;
  bool operator==(const InboxNotice&) const = default;
};

/// A page of an inbox, newest first.
struct InboxQuery {
  domain::UserId user_id;
  std::optional<std::string> before;  ///< a previous page's `next`: start after that notice
  std::size_t limit = 50;
};

struct InboxPage {
  std::vector<InboxNotice> notices;
  std::uint64_t unread = 0;         ///< the whole inbox's unread count, not the page's
  std::optional<std::string> next;  ///< pass as `before` for the next page; none: last page
};

/// What the notifier knows of one auction, so that closing, cancelling and ending-soon notices
/// reach everyone after a restart.
struct AuctionWatch {
  domain::AuctionId auction_id;
  domain::UserId seller_id;  ///< empty until auction.created was seen
  domain::Timestamp ends_at{};
  bool ending_soon_sent = false;
  bool finished = false;                     ///< closed or cancelled: no more timers
  std::vector<domain::UserId> participants;  ///< bidders, in the order first seen
  bool operator==(const AuctionWatch&) const = default;
};

enum class DeliveryState { pending, sent, dead };

/// One notice on one channel (not the in-app inbox), from promise to outcome.
struct DeliveryRecord {
  Notice notice;  ///< with the channel's address (and the webhook secret)
  std::string channel;
  DeliveryState state = DeliveryState::pending;
  int attempts = 0;  ///< failed attempts so far
  std::optional<domain::Timestamp> first_failure;
  std::optional<domain::Timestamp> last_failure;
  std::string last_error;
  bool operator==(const DeliveryRecord&) const = default;
};

/// What one delivery attempt came to: sent, failed (still pending, `attempts` failures so
/// far), or dead (given up).
struct DeliveryOutcome {
  std::string notice_id;
  std::string channel;
  DeliveryState state = DeliveryState::sent;
  int attempts = 0;
  domain::Timestamp at{};  ///< when it failed (ignored when sent)
  std::string error;
};

/// Everything one batch of events decided, written together.
struct NoticeBatch {
  /// Upserted: a non-empty seller and a non-zero ends_at replace the stored ones, the flags
  /// are or-ed in, and participants are added to the stored ones (once each).
  std::vector<AuctionWatch> watches;
  std::vector<InboxNotice> inbox;          ///< added unless the notice id is there already
  std::vector<DeliveryRecord> deliveries;  ///< added (pending) unless (notice id, channel) is
};

/// The upsert rule of NoticeStore::record for one watch, for adapters that read, merge and
/// write back.
inline void merge_watch(AuctionWatch& stored, const AuctionWatch& update) {
  if (!update.seller_id.empty()) stored.seller_id = update.seller_id;
  if (update.ends_at != domain::Timestamp{}) stored.ends_at = update.ends_at;
  stored.ending_soon_sent = stored.ending_soon_sent || update.ending_soon_sent;
  stored.finished = stored.finished || update.finished;
  for (const auto& user : update.participants) {
    if (std::find(stored.participants.begin(), stored.participants.end(), user) ==
        stored.participants.end()) {
      stored.participants.push_back(user);
    }
  }
}

class NoticeStore {
 public:
  virtual ~NoticeStore() = default;

  /// Writes a batch atomically: all of it or none. Writing the same batch again changes
  /// nothing (a redelivered event is harmless). Answers the batch's deliveries that are
  /// pending after the write, as stored, in batch order: the new ones and those promised
  /// before and not yet sent or dead (never one already sent: that is what prevents doubles).
  virtual void record(NoticeBatch batch, Callback<std::vector<DeliveryRecord>> done) = 0;

  /// The watch of one auction, or nullopt.
  virtual void get_watch(const domain::AuctionId& auction_id,
                         Callback<std::optional<AuctionWatch>> done) = 0;

  /// Watches not finished, in auction id order after `after` (empty: from the start), at most
  /// `limit`: a restarted notifier re-arms its ending-soon checks from them.
  virtual void list_open_watches(const domain::AuctionId& after, std::size_t limit,
                                 Callback<std::vector<AuctionWatch>> done) = 0;

  /// Pending deliveries, oldest first, at most `limit`: a restarted notifier resumes them.
  virtual void pending_deliveries(std::size_t limit,
                                  Callback<std::vector<DeliveryRecord>> done) = 0;

  /// Records the outcome of an attempt. Unknown deliveries are ignored; a delivery already
  /// sent or dead stays as it is.
  virtual void settle(DeliveryOutcome outcome, Callback<void> done) = 0;

  /// Dead-lettered deliveries, newest first, at most `limit`.
  virtual void dead_letters(std::size_t limit, Callback<std::vector<DeliveryRecord>> done) = 0;

  /// A page of a user's inbox, newest first, with the unread count.
  virtual void list_inbox(const InboxQuery& query, Callback<InboxPage> done) = 0;

  /// Marks the user's notices `ids` read (empty: all of them); ids of other users' notices
  /// are ignored. Answers how many were unread before.
  virtual void mark_read(const domain::UserId& user_id, std::vector<std::string> ids,
                         Callback<std::size_t> done) = 0;

  /// One preferences per user asked, in order; a user who never saved any gets the defaults.
  virtual void get_preferences(std::vector<domain::UserId> user_ids,
                               Callback<std::vector<Preferences>> done) = 0;

  /// Replaces a user's preferences (validated by the caller).
  virtual void put_preferences(const domain::UserId& user_id, Preferences preferences,
                               Callback<void> done) = 0;
};

using NoticeStorePtr = std::unique_ptr<NoticeStore>;

}  // namespace gavel::ports
