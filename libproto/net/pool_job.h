#pragma once
// Blocking work (store calls, password hashes) on libuv's thread pool, completed on the
// loop thread: run_on_pool(loop, work, done). The returned PoolJob is the owner's hold on
// the result: destroying it (or cancel()) means `done` is never called, so a session that
// dies while its job runs leaves nothing behind that points at it. The work itself may still
// run to completion on its pool thread (a store commit cannot stop halfway); uv_cancel stops
// it when it has not started yet. `work` must only touch what it owns (capture shared_ptrs
// or values, never the session); both closures are destroyed on the loop thread.

#include <expected>
#include <functional>
#include <uv.h>

namespace postern {

class PoolJob {
public:
    PoolJob() = default;
    ~PoolJob() { cancel(); }
    PoolJob(PoolJob&& o) noexcept;
    PoolJob& operator=(PoolJob&& o) noexcept;
    PoolJob(const PoolJob&) = delete;
    PoolJob& operator=(const PoolJob&) = delete;

    // The result will not be delivered; a job not yet started is cancelled.
    void cancel();
    // Lets go of the handle but keeps the delivery: `done` will run (for owners that guard
    // their callbacks themselves, e.g. with a weak token).
    void detach();
    // Lets go of the result but not of the work: `done` is never called, and `work` runs
    // even if it has not started yet (a queue commit the client asked for must complete).
    void abandon();
    // True while the job is queued or running and its `done` still due.
    bool active() const { return state_ != nullptr; }

    struct State;

private:
    struct Adopt {};  // only run_on_pool and try_run_on_pool can make a bound PoolJob

public:
    PoolJob(Adopt, State* s);

private:
    friend PoolJob run_on_pool(uv_loop_t*, std::function<void()>, std::function<void()>);
    friend std::expected<PoolJob, int> try_run_on_pool(uv_loop_t*, std::function<void()>,
                                                       std::function<void()>);
    // uv_queue_work for `s`; on success the request owns it until after_work.
    static int start(uv_loop_t* loop, State* s);
    State* state_ = nullptr;
};

// Runs `work` on the pool, then `done` on `loop`, like run_on_pool; when the work cannot be
// queued nothing runs and the libuv error comes back (for callers with their own fallback).
std::expected<PoolJob, int> try_run_on_pool(uv_loop_t* loop, std::function<void()> work,
                                            std::function<void()> done);

// Runs `work` on the pool, then `done` on `loop` (unless the PoolJob went first, undetached). If the
// work cannot be queued both run at once, before this returns (the PoolJob is then inactive).
PoolJob run_on_pool(uv_loop_t* loop, std::function<void()> work, std::function<void()> done);

// run_on_pool(...).detach(): `done` always runs; it must check itself that its owner lives.
inline void run_on_pool_detached(uv_loop_t* loop, std::function<void()> work,
                                 std::function<void()> done) {
    run_on_pool(loop, std::move(work), std::move(done)).detach();
}

}  // namespace postern
