#pragma once
// Runs closures on a uv loop, posted from any thread (a store's folder-watch thread):
// one uv_async_t and a locked queue. Posts after the poster is gone are dropped.

#include <functional>
#include <memory>

#include <uv.h>

namespace postern {

class LoopPoster {
public:
    explicit LoopPoster(uv_loop_t* loop);
    ~LoopPoster();  // on the loop thread
    LoopPoster(const LoopPoster&) = delete;
    LoopPoster& operator=(const LoopPoster&) = delete;

    // Thread-safe: `fn` runs on the loop thread soon.
    void post(std::function<void()> fn);

    struct Shared;

private:
    std::shared_ptr<Shared> shared_;
};

}  // namespace postern
