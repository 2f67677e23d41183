#include "spoold/wake_socket.h"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "libmailstore/queue/queue.h"
#include "libproto/net/uv_handle.h"

namespace postern {

std::expected<std::unique_ptr<WakeSocket>, std::string> WakeSocket::open(
    uv_loop_t* loop, const std::filesystem::path& path, Handler on_message) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::string p = path.string();
    if (p.size() >= sizeof sa.sun_path) return std::unexpected("socket path too long: " + p);
    std::memcpy(sa.sun_path, p.data(), p.size());
    // A live spoold answers a ping: refuse to steal its socket. (The pid file lock comes
    // later in the scaffold, so check here.)
    if (queue_wake(path.parent_path(), "")) {
        // queue_wake sent "w" to someone listening: another spoold is running.
        return std::unexpected("another spoold is listening on " + p);
    }
    ::unlink(p.c_str());
    std::unique_ptr<WakeSocket> ws(new WakeSocket);
    ws->path_ = path;
    ws->on_message_ = std::move(on_message);
    ws->fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ws->fd_ < 0) return std::unexpected(std::string("socket: ") + std::strerror(errno));
    if (::bind(ws->fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
        return std::unexpected("bind " + p + ": " + std::strerror(errno));
    ws->poll_ = new uv_poll_t;
    if (int rc = uv_poll_init(loop, ws->poll_, ws->fd_); rc != 0) {
        delete ws->poll_;
        ws->poll_ = nullptr;
        return std::unexpected(std::string("uv_poll_init: ") + uv_error_text(rc));
    }
    ws->poll_->data = ws.get();
    uv_poll_start(ws->poll_, UV_READABLE, [](uv_poll_t* h, int status, int) {
        if (status == 0) static_cast<WakeSocket*>(h->data)->drain();
    });
    return ws;
}

WakeSocket::~WakeSocket() {
    if (poll_) {
        uv_poll_stop(poll_);
        poll_->data = nullptr;
        close_and_delete(poll_);
    }
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
}

void WakeSocket::drain() {
    char buf[256];
    for (int i = 0; i < 1024; ++i) {  // bounded: the loop gets its turn back
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0) return;
        on_message_(std::string_view(buf, static_cast<size_t>(n)));
    }
}

}  // namespace postern
