#include "smtpd/queue_file_stock.h"

#include "libproto/net/pool_job.h"

namespace postern {

QueueFileStock::QueueFileStock(uv_loop_t* loop, Queue& queue, size_t target)
    : loop_(loop), queue_(queue), target_(target), state_(std::make_shared<State>()) {}

std::optional<QueueWriter> QueueFileStock::take() {
    std::optional<QueueWriter> w;
    if (!state_->ready.empty()) {
        w.emplace(std::move(state_->ready.back()));
        state_->ready.pop_back();
    }
    if (state_->ready.size() <= target_ / 2) refill();
    return w;
}

void QueueFileStock::refill() {
    if (state_->refilling || target_ == 0) return;
    state_->refilling = true;
    auto made = std::make_shared<std::vector<QueueWriter>>();
    const size_t want = target_ - state_->ready.size();
    run_on_pool_detached(
        loop_,
        [queue = &queue_, made, want] {
            for (size_t i = 0; i < want; ++i) {
                auto w = queue->create();
                if (!w) break;  // the caller's own create reports the error
                made->push_back(std::move(*w));
            }
        },
        [st = state_, made] {
            st->refilling = false;
            for (auto& w : *made) st->ready.push_back(std::move(w));
        });
}

}  // namespace postern
