#pragma once
// Signals through uv_signal_t: the handler runs from the loop as an ordinary
// callback (libuv's own async-safe self-pipe), so it may log, allocate, etc.

#include <functional>
#include <uv.h>

namespace postern {

class SignalWatcher {
public:
    SignalWatcher(uv_loop_t* loop, int signum, std::function<void(int)> cb);
    ~SignalWatcher();
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;
    // Keeps watching but does not keep the loop alive.
    void unref();

private:
    uv_signal_t* h_;
    std::function<void(int)> cb_;
};

// SIGPIPE -> SIG_IGN (a write to a closed socket must be an EPIPE, not a death).
void ignore_sigpipe();

}  // namespace postern
