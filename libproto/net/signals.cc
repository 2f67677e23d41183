#include "libproto/net/signals.h"

#include <csignal>

#include "libproto/net/uv_handle.h"

namespace postern {

SignalWatcher::SignalWatcher(uv_loop_t* loop, int signum, std::function<void(int)> cb)
    : h_(new uv_signal_t), cb_(std::move(cb)) {
    uv_signal_init(loop, h_);
    h_->data = this;
    uv_signal_start(
        h_,
        [](uv_signal_t* s, int sig) {
            auto* self = static_cast<SignalWatcher*>(s->data);
            if (self && self->cb_) self->cb_(sig);
        },
        signum);
}

SignalWatcher::~SignalWatcher() {
    uv_signal_stop(h_);
    h_->data = nullptr;
    close_and_delete(h_);
}

void SignalWatcher::unref() { uv_unref(reinterpret_cast<uv_handle_t*>(h_)); }

void ignore_sigpipe() {
    struct sigaction sa {};
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, nullptr);
}

}  // namespace postern
