#pragma once
// One delivery attempt of one queue entry: expand each pending recipient (aliases,
// catch-all), write the message once per local mailbox (with Return-Path:), record the
// progress durably, bounce permanent failures, remove the entry when nothing is left.
// Blocking (the store fsyncs): spoold runs it on a worker thread. The clock is a parameter.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/accounts.h"
#include "libmailstore/queue/queue.h"
#include "libmailstore/store.h"

namespace postern {

struct DeliveryParams {
    std::string hostname = "localhost";  // DSN Reporting-MTA, MAILER-DAEMON@
    std::vector<uint32_t> retry_schedule{60, 300, 900, 1800, 3600};
    uint32_t max_lifetime = 5 * 24 * 3600;  // seconds; then bounce
};

enum class RcptResult { delivered, deferred, failed };
const char* rcpt_result_text(RcptResult r);

struct RcptReport {
    std::string address;
    RcptResult result = RcptResult::deferred;
    std::string detail;  // error text, or the mailboxes it went to
};

struct AttemptReport {
    enum class Outcome {
        finished,  // every recipient delivered or failed; the entry is gone
        deferred,  // some recipients remain; next_attempt is set
        not_due,   // next_attempt is in the future (and force was false): nothing done
        gone,      // no such entry (deleted meanwhile)
        error,     // the entry could not be read or the state not written: try again later
    };
    Outcome outcome = Outcome::error;
    std::string id;
    int64_t arrival = 0;
    int64_t next_attempt = 0;
    std::vector<RcptReport> rcpts;        // recipients handled in this attempt
    std::vector<std::string> bounce_ids;  // DSNs enqueued
    std::string error;
};

// Seconds until the next try after `attempts` attempts (1 = first retry).
uint32_t retry_delay(const std::vector<uint32_t>& schedule, uint32_t attempts);

class Deliverer {
public:
    Deliverer(Queue queue, std::shared_ptr<Accounts> accounts, DeliveryParams params);

    // One attempt at entry `id` at time `now`, writing through `store` (not shared with
    // other threads during the call). force: ignore next_attempt.
    AttemptReport attempt(MailStore& store, std::string_view id, int64_t now, bool force = false);

    // One attempt at each of several entries with one store group commit
    // (MailStore::deliver_batch): every entry's copies are on disk before any entry is
    // removed or its progress recorded. One report per id, in order.
    std::vector<AttemptReport> attempt_batch(MailStore& store, std::span<const std::string> ids,
                                             int64_t now, bool force = false);

    Queue& queue() { return queue_; }

private:
    struct Prepared;
    bool prepare(Prepared& p, int64_t now, bool force);
    void finish(Prepared& p, int64_t now);
    std::expected<std::string, QueueError> enqueue_bounce(
        const Envelope& env, const std::vector<const Recipient*>& failed, std::string_view original,
        int64_t now);
    Queue queue_;
    std::shared_ptr<Accounts> accounts_;
    DeliveryParams params_;
};

}  // namespace postern
