#pragma once
// A few queue entries created ahead on the pool, so the reply to DATA (or the first BDAT
// chunk) does not wait for a pool round trip to create incoming/<id>. Refilled in the
// background, one pool job for all it lacks, when half is used; an idle smtpd keeps up to
// `target` empty files (and their descriptors) in queue/incoming/. spoold's start-up sweep of
// incoming/ leaves them alone while smtpd holds them (Queue::clean_incoming skips files a
// writer has locked).

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include <uv.h>

#include "libmailstore/queue/queue.h"

namespace postern {

class QueueFileStock {
public:
    // `queue` outlives the stock and its pool work (smtpd's lives as long as the process).
    QueueFileStock(uv_loop_t* loop, Queue& queue, size_t target = 8);

    // A fresh entry at once, or nullopt when none is ready (create one on the pool then).
    std::optional<QueueWriter> take();
    size_t ready() const { return state_->ready.size(); }

private:
    struct State {
        std::vector<QueueWriter> ready;  // loop thread only
        bool refilling = false;
    };
    void refill();

    uv_loop_t* loop_;
    Queue& queue_;
    size_t target_;
    std::shared_ptr<State> state_;  // shared with the refill in flight
};

}  // namespace postern
