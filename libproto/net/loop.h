#pragma once
// The one event loop of a process, as an owning RAII object. Daemons use the
// loop run_daemon() gives them; tests create an EventLoop and drive it with
// run_until(), which is bounded by a timeout so a broken test cannot hang.

#include <chrono>
#include <functional>
#include <uv.h>

namespace postern {

// The loop's clock (uv_now: monotonic milliseconds, cached per loop turn), for pure
// components that are fed the time (AuthBudget).
inline std::function<uint64_t()> loop_clock(uv_loop_t* loop) {
    return [loop] { return uint64_t(uv_now(loop)); };
}

class EventLoop {
public:
    EventLoop();
    // Closes every handle still open, runs the loop until they are freed, closes it.
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    uv_loop_t* get() { return &loop_; }

    // Runs the loop until done() is true (checked after each iteration) or the
    // timeout passes; done() is also polled every 5 ms, so it may watch
    // another thread. Returns done()'s final value.
    bool run_until(const std::function<bool()>& done,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Runs until no handle is active.
    void run();

private:
    uv_loop_t loop_;
};

}  // namespace postern
