#include "libproto/net/loop.h"

namespace postern {

EventLoop::EventLoop() { uv_loop_init(&loop_); }

EventLoop::~EventLoop() {
    // Close what is still open (connections whose peers never closed, ...).
    // Handles owned by RAII objects are closed by those objects' destructors;
    // anything left is closed here without a callback, i.e. leaked memory
    // rather than a use-after-free. Then let pending close callbacks run.
    for (int i = 0; i < 5 && uv_loop_close(&loop_) == UV_EBUSY; ++i) {
        uv_run(&loop_, UV_RUN_NOWAIT);
        if (i == 3) {
            uv_walk(
                &loop_,
                [](uv_handle_t* h, void*) {
                    if (!uv_is_closing(h)) uv_close(h, nullptr);
                },
                nullptr);
        }
    }
}

bool EventLoop::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    if (done()) return true;
    bool timed_out = false;
    uv_timer_t timer;
    uv_timer_init(&loop_, &timer);
    timer.data = &timed_out;
    uv_timer_start(
        &timer, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
        static_cast<uint64_t>(timeout.count()), 0);
    // done() may depend on another thread (a test client): wake up every 5 ms to look.
    auto deadline = uv_now(&loop_) + static_cast<uint64_t>(timeout.count());
    uv_timer_t tick;
    uv_timer_init(&loop_, &tick);
    uv_timer_start(
        &tick, [](uv_timer_t*) {}, 5, 5);
    while (!timed_out && !done() && uv_now(&loop_) <= deadline) uv_run(&loop_, UV_RUN_ONCE);
    uv_timer_stop(&tick);
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_timer_stop(&timer);
    bool closed = false;
    timer.data = &closed;
    uv_close(reinterpret_cast<uv_handle_t*>(&timer),
             [](uv_handle_t* h) { *static_cast<bool*>(h->data) = true; });
    while (!closed) uv_run(&loop_, UV_RUN_NOWAIT);
    return done();
}

void EventLoop::run() { uv_run(&loop_, UV_RUN_DEFAULT); }

}  // namespace postern
