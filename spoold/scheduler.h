#pragma once
// spoold's event-loop side: which queue entries are due, handing them to at most `workers`
// delivery attempts on libuv's thread pool, and re-arming deferred ones. Runs on the loop
// thread only; the Deliverer runs on the pool.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <uv.h>

#include "libproto/net/uv_handle.h"
#include "spoold/delivery.h"

namespace postern {

class Scheduler {
public:
    using Clock = std::function<int64_t()>;  // unix seconds

    // One MailStore per worker (a store handle is used by one thread at a time).
    Scheduler(uv_loop_t* loop, Deliverer deliverer, std::vector<std::unique_ptr<MailStore>> stores,
              Clock now);
    ~Scheduler();

    // Crash recovery: scan the whole queue and start on everything due; arms the timer.
    void start();
    // Entry `id` was just committed (empty: look at the directory).
    void wake(std::string_view id);
    // Re-read every entry's schedule (after `mailctl queue flush`).
    void rescan();
    // No new attempts; attempts in flight finish (the loop waits for them).
    void stop();

    size_t in_flight() const { return in_flight_; }
    size_t ready() const { return ready_.size(); }
    size_t deferred() const { return deferred_.size(); }

private:
    struct Job;
    void scan(bool reread);
    void enqueue(const std::string& id);
    void dispatch();
    void tick();
    void finished(Job& job);
    void report(const AttemptReport& r, int64_t now);

    uv_loop_t* loop_;
    Deliverer deliverer_;
    std::vector<std::unique_ptr<MailStore>> stores_;
    std::vector<MailStore*> free_stores_;
    Clock now_;
    std::unique_ptr<Timer> timer_;
    std::deque<std::string> ready_;
    std::set<std::string> busy_;               // in ready_ or in flight
    std::map<std::string, int64_t> deferred_;  // id -> next attempt
    size_t in_flight_ = 0;
    int64_t last_full_scan_ = 0;
    bool stopping_ = false;
};

}  // namespace postern
