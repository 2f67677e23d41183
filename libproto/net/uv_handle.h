#pragma once
// RAII over libuv handles. A uv handle must be closed with uv_close and may
// only be freed in the close callback, so handles live on the heap and are
// released through close_and_delete().

#include <cstdint>
#include <functional>
#include <uv.h>

namespace postern {

// uv_close(h) and `delete (T*)h` in the close callback. Safe on a handle
// that is already closing (then it does nothing: the first closer frees it).
template <class T>
void close_and_delete(T* h) {
    auto* base = reinterpret_cast<uv_handle_t*>(h);
    if (uv_is_closing(base)) return;
    uv_close(base, [](uv_handle_t* x) { delete reinterpret_cast<T*>(x); });
}

// A one-shot or repeating timer with a std::function callback.
// Destroying the Timer stops it; the callback is never called afterwards.
class Timer {
public:
    explicit Timer(uv_loop_t* loop);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    // (Re)starts: fires after `ms`, then every `repeat_ms` if non-zero.
    void start(uint64_t ms, std::function<void()> cb, uint64_t repeat_ms = 0);
    // Restarts with the current callback and timeout.
    void again();
    void stop();
    bool active() const;
    // Does not keep the loop alive (uv_unref).
    void unref();

private:
    uv_timer_t* h_;
    std::function<void()> cb_;
    uint64_t ms_ = 0;
    uint64_t repeat_ms_ = 0;
};

// "EADDRINUSE: address already in use" style text for a libuv error code.
const char* uv_error_text(int err);

}  // namespace postern
