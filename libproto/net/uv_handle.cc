#include "libproto/net/uv_handle.h"

namespace postern {

Timer::Timer(uv_loop_t* loop) : h_(new uv_timer_t) {
    uv_timer_init(loop, h_);
    h_->data = this;
}

Timer::~Timer() {
    uv_timer_stop(h_);
    h_->data = nullptr;
    close_and_delete(h_);
}

void Timer::start(uint64_t ms, std::function<void()> cb, uint64_t repeat_ms) {
    cb_ = std::move(cb);
    ms_ = ms;
    repeat_ms_ = repeat_ms;
    uv_timer_start(
        h_,
        [](uv_timer_t* t) {
            auto* self = static_cast<Timer*>(t->data);
            if (!self || !self->cb_) return;
            // Copy: the callback may restart or destroy this timer.
            auto cb = self->cb_;
            cb();
        },
        ms, repeat_ms);
}

void Timer::again() {
    if (cb_) start(ms_, cb_, repeat_ms_);
}

void Timer::stop() { uv_timer_stop(h_); }

bool Timer::active() const { return uv_is_active(reinterpret_cast<const uv_handle_t*>(h_)) != 0; }

void Timer::unref() { uv_unref(reinterpret_cast<uv_handle_t*>(h_)); }

const char* uv_error_text(int err) { return uv_strerror(err); }

}  // namespace postern
