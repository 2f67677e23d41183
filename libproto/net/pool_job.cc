#include "libproto/net/pool_job.h"

#include <atomic>
#include <memory>

namespace postern {

struct PoolJob::State {
    uv_work_t req{};
    std::function<void()> work;
    std::function<void()> done;
    PoolJob* owner = nullptr;          // loop thread only; null once the owner let go
    std::atomic<bool> dropped{false};  // read by the pool thread: skip work not yet begun
    bool detached = false;             // no owner, but done still runs
};

PoolJob::PoolJob(PoolJob&& o) noexcept : state_(o.state_) {
    o.state_ = nullptr;
    if (state_) state_->owner = this;
}

PoolJob& PoolJob::operator=(PoolJob&& o) noexcept {
    if (this != &o) {
        cancel();
        state_ = o.state_;
        o.state_ = nullptr;
        if (state_) state_->owner = this;
    }
    return *this;
}

void PoolJob::cancel() {
    if (!state_) return;
    State* s = state_;
    state_ = nullptr;
    s->owner = nullptr;
    s->dropped = true;
    // Only succeeds while the work has not started; after_work then runs with UV_ECANCELED
    // and frees the state either way.
    uv_cancel(reinterpret_cast<uv_req_t*>(&s->req));
}

void PoolJob::detach() {
    if (!state_) return;
    state_->detached = true;
    state_->owner = nullptr;
    state_ = nullptr;
}

PoolJob run_on_pool(uv_loop_t* loop, std::function<void()> work, std::function<void()> done) {
    auto s = std::make_unique<PoolJob::State>();
    s->work = std::move(work);
    s->done = std::move(done);
    s->req.data = s.get();
    int rc = uv_queue_work(
        loop, &s->req,
        [](uv_work_t* w) {
            auto* st = static_cast<PoolJob::State*>(w->data);
            if (!st->dropped && st->work) st->work();
        },
        [](uv_work_t* w, int status) {
            std::unique_ptr<PoolJob::State> st(static_cast<PoolJob::State*>(w->data));
            if ((!st->owner && !st->detached) || status == UV_ECANCELED) return;
            if (st->owner) st->owner->state_ = nullptr;
            st->owner = nullptr;
            // `done` may destroy whoever held the PoolJob: it is moved out first.
            auto done = std::move(st->done);
            if (done) done();
        });
    PoolJob job;
    if (rc != 0) {
        if (s->work) s->work();
        if (s->done) s->done();
        return job;
    }
    job.state_ = s.release();
    job.state_->owner = &job;
    return job;
}

}  // namespace postern
