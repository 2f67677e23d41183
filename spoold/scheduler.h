#pragma once
// spoold's event-loop side. The schedule (spoold/schedule.h) is read from the queue once at
// start and then kept up to date from events: a new entry (wake socket, inotify), an attempt's
// outcome, mailctl's flush/hold/release/delete ("f", "f<id>"). A one-shot timer fires at the
// earliest next attempt; envelopes are not re-read on a timer (a cheap directory listing every
// minute only catches entries whose wake-up was lost).
//
// Due entries go to the local destination class: at most `workers` attempts on libuv's thread
// pool, one MailStore per worker, in batches. An attempt that leaves remote targets hands one
// batch per destination to the DestinationQueues (per-destination and total limits) and the
// RemoteTransport; each batch's results are recorded on the pool, and once the last one is,
// the entry's attempt completes (bounce, expiry, removal or next time). Loop thread only.

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#include <uv.h>

#include "libproto/net/uv_handle.h"
#include "spoold/delivery.h"
#include "spoold/destination_queues.h"
#include "spoold/remote_transport.h"
#include "spoold/schedule.h"

namespace postern {

class Scheduler {
public:
    using Clock = std::function<int64_t()>;  // unix seconds

    // One MailStore per worker (a store handle is used by one thread at a time). Without a
    // transport, remote targets are deferred (DeferringTransport).
    Scheduler(uv_loop_t* loop, Deliverer deliverer, std::vector<std::unique_ptr<MailStore>> stores,
              Clock now, std::unique_ptr<RemoteTransport> transport = nullptr,
              DestinationLimits limits = {});
    ~Scheduler();

    // Crash recovery: reads the whole queue once into the schedule and starts on what is due.
    void start();
    // Entry `id` was committed or removed (inotify, smtpd's "w<id>"); empty: list the queue.
    void wake(std::string_view id);
    // mailctl queue flush: every entry that is not held is due now ("f").
    void flush_all();
    // mailctl changed one entry (flush, hold, release, delete: "f<id>"): re-read its schedule.
    void reread(std::string_view id);
    // No new attempts; attempts in flight finish (the loop waits for them).
    void stop();

    size_t in_flight() const { return in_flight_; }
    size_t ready() const { return ready_.size(); }
    size_t busy() const { return busy_.size(); }
    const Schedule& schedule() const { return schedule_; }
    const DestinationQueues& destinations() const { return destinations_; }

private:
    struct Job;
    void sweep();
    void learn(const std::string& id);
    void poke();
    void arm();
    void dispatch();
    void finished(Job& job);
    void handle(AttemptReport r, int64_t now);
    void settle(const AttemptReport& r, int64_t now);
    void pump_remote();
    void remote_done(const std::shared_ptr<RemoteBatch>& batch, std::vector<TargetResult> results);
    void remote_recorded(const std::string& id, const AttemptReport& r);
    void remote_finished(const std::shared_ptr<RemoteBatch>& batch,
                         std::vector<TargetResult> results, bool others_recorded);
    void log_report(const AttemptReport& r, int64_t now);

    uv_loop_t* loop_;
    Deliverer deliverer_;
    std::vector<std::unique_ptr<MailStore>> stores_;
    std::vector<MailStore*> free_stores_;
    Clock now_;
    std::unique_ptr<RemoteTransport> transport_;
    DestinationQueues destinations_;
    std::unique_ptr<Timer> timer_;  // the earliest next attempt
    std::unique_ptr<Timer> sweep_;  // the directory listing for lost wake-ups
    Schedule schedule_;
    std::deque<std::string> ready_;         // due, waiting for a local worker
    std::unordered_set<std::string> busy_;  // in ready_ or in any step of an attempt
    struct RemoteLeft {
        size_t left = 0;       // remote batches not yet recorded
        bool several = false;  // the attempt had more than one
    };
    std::unordered_map<std::string, RemoteLeft> remote_left_;
    std::unordered_set<std::string> reread_;  // changed by mailctl while busy
    size_t in_flight_ = 0;
    bool stopping_ = false;
    bool pumping_ = false, pump_again_ = false;
};

}  // namespace postern
