#pragma once
// Watches QUEUE/active with inotify (uv_fs_event) so spoold sees every commit even when the
// wake datagrams from smtpd overflow the socket's small queue (net.unix.max_dgram_qlen).

#include <filesystem>
#include <functional>
#include <string_view>
#include <uv.h>

namespace postern {

class QueueWatch {
public:
    using Handler = std::function<void(std::string_view name)>;
    // Starts watching `dir`; on error (no inotify) the watch is simply inactive.
    QueueWatch(uv_loop_t* loop, const std::filesystem::path& dir, Handler on_change);
    ~QueueWatch();
    QueueWatch(const QueueWatch&) = delete;
    QueueWatch& operator=(const QueueWatch&) = delete;
    bool active() const { return h_ != nullptr; }

private:
    uv_fs_event_t* h_ = nullptr;
    Handler on_change_;
};

}  // namespace postern
