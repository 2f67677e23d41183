#include "spoold/queue_watch.h"

#include "libproto/core/log.h"
#include "libproto/net/uv_handle.h"

namespace postern {

QueueWatch::QueueWatch(uv_loop_t* loop, const std::filesystem::path& dir, Handler on_change)
    : on_change_(std::move(on_change)) {
    h_ = new uv_fs_event_t;
    if (int rc = uv_fs_event_init(loop, h_); rc != 0) {
        delete h_;
        h_ = nullptr;
        return;
    }
    h_->data = this;
    int rc = uv_fs_event_start(
        h_,
        [](uv_fs_event_t* h, const char* name, int, int status) {
            auto* self = static_cast<QueueWatch*>(h->data);
            if (!self) return;
            // A null name (or an error such as an inotify overflow): look at everything.
            self->on_change_(status == 0 && name ? std::string_view(name) : std::string_view());
        },
        dir.c_str(), 0);
    if (rc != 0) {
        log_msg(LogLevel::warning, "cannot watch %s: %s (relying on wake-ups and timers)",
                dir.c_str(), uv_error_text(rc));
        close_and_delete(h_);
        h_ = nullptr;
    }
}

QueueWatch::~QueueWatch() {
    if (!h_) return;
    uv_fs_event_stop(h_);
    h_->data = nullptr;
    close_and_delete(h_);
}

}  // namespace postern
