#pragma once
// RUN/spoold.sock: a unix datagram socket on which smtpd ("w<ID>") and mailctl ("f")
// poke spoold (see queue_wake in libmailstore/queue/queue.h). Closed with the object.

#include <expected>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <uv.h>

namespace postern {

class WakeSocket {
public:
    using Handler = std::function<void(std::string_view msg)>;
    // Binds the socket (error if another spoold answers on it) and watches it on `loop`.
    static std::expected<std::unique_ptr<WakeSocket>, std::string> open(
        uv_loop_t* loop, const std::filesystem::path& path, Handler on_message);
    ~WakeSocket();
    WakeSocket(const WakeSocket&) = delete;
    WakeSocket& operator=(const WakeSocket&) = delete;

private:
    WakeSocket() = default;
    void drain();
    uv_poll_t* poll_ = nullptr;
    int fd_ = -1;
    std::filesystem::path path_;
    Handler on_message_;
};

}  // namespace postern
