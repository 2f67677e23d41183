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

void PoolJob::abandon() {
    if (!state_) return;
    // Neither dropped (the work still runs) nor detached (done is not called).
    state_->owner = nullptr;
    state_ = nullptr;
}

void PoolJob::detach() {
    if (!state_) return;
    state_->detached = true;
    state_->owner = nullptr;
    state_ = nullptr;
}

PoolJob::PoolJob(Adopt, State* s) : state_(s) { s->owner = this; }

int PoolJob::start(uv_loop_t* loop, State* s) {
    s->req.data = s;
    int rc = uv_queue_work(
        loop, &s->req,
        [](uv_work_t* w) {
            auto* st = static_cast<State*>(w->data);
            if (!st->dropped && st->work) st->work();
        },
        [](uv_work_t* w, int status) {
            std::unique_ptr<State> st(static_cast<State*>(w->data));
            if ((!st->owner && !st->detached) || status == UV_ECANCELED) return;
            if (st->owner) st->owner->state_ = nullptr;
            st->owner = nullptr;
            // `done` may destroy whoever held the PoolJob: it is moved out first.
            auto done = std::move(st->done);
            if (done) done();
        });
    return rc;
}

PoolJob run_on_pool(uv_loop_t* loop, std::function<void()> work, std::function<void()> done) {
    auto s = std::make_unique<PoolJob::State>();
    s->work = std::move(work);
    s->done = std::move(done);
    if (PoolJob::start(loop, s.get()) == 0) return PoolJob(PoolJob::Adopt{}, s.release());
    if (s->work) s->work();
    if (s->done) s->done();
    return {};
}

std::expected<PoolJob, int> try_run_on_pool(uv_loop_t* loop, std::function<void()> work,
                                            std::function<void()> done) {
    auto s = std::make_unique<PoolJob::State>();
    s->work = std::move(work);
    s->done = std::move(done);
    if (int rc = PoolJob::start(loop, s.get()); rc != 0) return std::unexpected(rc);
    return std::expected<PoolJob, int>(std::in_place, PoolJob::Adopt{}, s.release());
}

}  // namespace postern
