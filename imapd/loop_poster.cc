#include "imapd/loop_poster.h"

#include <mutex>
#include <vector>

#include "libproto/net/uv_handle.h"

namespace postern {

struct LoopPoster::Shared {
    std::mutex mu;
    std::vector<std::function<void()>> queue;
    uv_async_t* async = nullptr;  // null once closed
};

LoopPoster::LoopPoster(uv_loop_t* loop) : shared_(std::make_shared<Shared>()) {
    auto* a = new uv_async_t;
    uv_async_init(loop, a, [](uv_async_t* h) {
        auto* s = static_cast<Shared*>(h->data);
        std::vector<std::function<void()>> run;
        {
            std::lock_guard lock(s->mu);
            run.swap(s->queue);
        }
        for (auto& fn : run) fn();
    });
    a->data = shared_.get();
    uv_unref(reinterpret_cast<uv_handle_t*>(a));  // never keeps the loop alive alone
    shared_->async = a;
}

LoopPoster::~LoopPoster() {
    std::lock_guard lock(shared_->mu);
    shared_->queue.clear();
    if (shared_->async != nullptr) close_and_delete(shared_->async);
    shared_->async = nullptr;
}

void LoopPoster::post(std::function<void()> fn) {
    std::lock_guard lock(shared_->mu);
    if (shared_->async == nullptr) return;
    shared_->queue.push_back(std::move(fn));
    uv_async_send(shared_->async);
}

}  // namespace postern
