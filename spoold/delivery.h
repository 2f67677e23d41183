#pragma once
// Delivery attempts of queue entries, in three blocking steps spoold runs on worker threads
// (the store and the state log fsync). The clock is a parameter.
//
//  1. attempt_batch: read each entry, expand the recipients not yet expanded into targets
//     (recorded in the state log before any of them is delivered), deliver the due local
//     targets (one store group commit for the batch) and record their results. An entry
//     without due remote targets is finished at once (step 3); otherwise its report says
//     `remote` and lists one batch per destination.
//  2. record_remote: the results a RemoteTransport gave for one such batch, recorded.
//  3. complete: after the last batch of the attempt is recorded: expiry, one bounce for the
//     failures not yet reported, then the entry's removal or its next attempt time.
//
// A target is delivered at most once: a delivered target is recorded (fdatasync'ed) before
// the entry is tried again, and the log is read before every attempt. A crash between a
// delivery and its record repeats that delivery once. See docs/queue.md.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/accounts.h"
#include "libmailstore/queue/queue.h"
#include "libmailstore/store.h"
#include "spoold/dsn.h"
#include "spoold/remote_transport.h"

namespace postern {

struct DeliveryParams {
    std::string hostname = "localhost";  // DSN Reporting-MTA, MAILER-DAEMON@
    std::vector<uint32_t> retry_schedule{60, 300, 900, 1800, 3600};
    uint32_t max_lifetime = 5 * 24 * 3600;  // seconds; then bounce
    // Seconds after arrival when the sender gets the one "delayed" DSN for mail still being
    // retried ([spoold] delay_warning_hours); 0: none.
    uint32_t delay_warning = 4 * 3600;
    // Where the failure of mail with the null sender (a bounce, a delay warning, a remote
    // <> message relayed on) is reported, once; empty: "postmaster@" + hostname.
    std::string postmaster;
};

enum class RcptResult { delivered, deferred, failed };
const char* rcpt_result_text(RcptResult r);

// What happened to one target (or to a recipient whose expansion failed: target empty).
struct RcptReport {
    std::string address;  // the recipient as given in RCPT TO
    std::string target;   // the final address tried; empty when the expansion failed
    RcptResult result = RcptResult::deferred;
    std::string detail;  // error text, or the mailbox it went to
};

// One batch of remote work an attempt left: targets of one entry at one destination.
struct RemoteWork {
    std::string destination;
    std::vector<TargetRef> targets;
};

struct AttemptReport {
    enum class Outcome {
        finished,  // every recipient delivered or failed; the entry is gone
        deferred,  // some targets remain; next_attempt is set
        remote,    // remote batches are due (`remote`): record_remote each, finish_remote the last
        not_due,   // next_attempt is in the future (and force was false): nothing done
        held,      // held by mailctl: nothing done
        gone,      // no such entry (deleted meanwhile)
        error,     // the entry could not be read or the state not written: try again later
    };
    Outcome outcome = Outcome::error;
    std::string id;
    int64_t arrival = 0;
    int64_t next_attempt = 0;
    std::vector<RcptReport> rcpts;        // targets handled in this step
    std::vector<std::string> bounce_ids;  // DSNs enqueued
    std::string error;
    std::vector<RemoteWork> remote;            // outcome remote
    std::shared_ptr<const Envelope> envelope;  // outcome remote: the entry as it stood
};

// Seconds until the next try after `attempts` attempts (1 = first retry).
uint32_t retry_delay(const std::vector<uint32_t>& schedule, uint32_t attempts);

class Deliverer {
public:
    Deliverer(Queue queue, std::shared_ptr<Accounts> accounts, DeliveryParams params);

    // Step 1 for one entry at time `now`, writing through `store` (not shared with other
    // threads during the call). force: ignore next_attempt (not a hold).
    AttemptReport attempt(MailStore& store, std::string_view id, int64_t now, bool force = false);

    // Step 1 for several entries with one store group commit (MailStore::deliver_batch):
    // every entry's copies are on disk before any entry is removed or its progress recorded.
    // One report per id, in order.
    std::vector<AttemptReport> attempt_batch(MailStore& store, std::span<const std::string> ids,
                                             int64_t now, bool force = false);

    // Step 2: records `results` (one per batch.targets) of a remote batch. The report lists
    // the targets (outcome deferred, or gone when the entry was deleted meanwhile).
    AttemptReport record_remote(const RemoteBatch& batch, const std::vector<TargetResult>& results,
                                int64_t now);

    // Step 3 (also what step 1 does itself when there is no remote work).
    AttemptReport complete(std::string_view id, int64_t now);

    // Steps 2 and 3 in one, for the entry's last remote batch: the records need no sync
    // when nothing stays pending, since the entry is removed right after (a crash between
    // costs at most one more delivery). others_recorded: other batches of this attempt
    // were recorded, so the entry is read again instead of taken from batch.envelope.
    AttemptReport finish_remote(const RemoteBatch& batch, const std::vector<TargetResult>& results,
                                int64_t now, bool others_recorded);

    Queue& queue() { return queue_; }

private:
    struct Prepared;
    bool prepare(Prepared& p, int64_t now, bool force);
    bool expand(Prepared& p);
    void record_local(Prepared& p, int64_t now);
    void finish(Prepared& p, int64_t now);
    void add_remote_results(Prepared& p, const RemoteBatch& batch,
                            const std::vector<TargetResult>& results, int64_t now);
    bool read_entry(Prepared& p);
    bool load_message(Prepared& p);
    // Queues a DSN about env (sent with the null sender, so it never bounces to anyone but
    // postmaster: see finish).
    std::expected<std::string, QueueError> enqueue_dsn(const Envelope& env, DsnReport report,
                                                       const std::vector<Recipient>& rcpts,
                                                       std::string_view original, int64_t now);
    void send_success_dsn(Prepared& p, DsnAction action, const std::vector<Recipient>& rcpts,
                          std::string_view original, int64_t now);
    void notify_success(Prepared& p, int64_t now);
    void notify_relayed(Prepared& p, int64_t now);
    std::string postmaster() const;
    void warn_delay(Prepared& p, int64_t now);
    Queue queue_;
    std::shared_ptr<Accounts> accounts_;
    DeliveryParams params_;
};

}  // namespace postern
