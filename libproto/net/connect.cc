// Outbound TCP connections and address formatting.
#include <arpa/inet.h>
#include <netinet/in.h>

#include "libproto/net/connection.h"
#include "libproto/net/uv_handle.h"

namespace postern {

PeerAddress peer_from_sockaddr(const sockaddr* sa) {
    PeerAddress p;
    char buf[INET6_ADDRSTRLEN] = {};
    if (sa->sa_family == AF_INET) {
        auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
        p.family = AF_INET;
        p.port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        p.port = ntohs(in6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buf, sizeof buf);
            p.family = AF_INET;
        } else {
            inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
            p.family = AF_INET6;
        }
    }
    p.ip = buf;
    return p;
}

namespace {

struct ConnectJob {
    uv_connect_t req{};
    uv_tcp_t* tcp = nullptr;
    uv_timer_t* timer = nullptr;
    ConnectionOptions opts;
    HandlerFactory factory;
    std::function<void(const std::string&)> on_error;
    bool timed_out = false;
};

}  // namespace

void connect_tcp(uv_loop_t* loop, const std::string& ip, uint16_t port,
                 const ConnectionOptions& opts, HandlerFactory factory,
                 std::function<void(const std::string&)> on_error, uint64_t timeout_ms) {
    sockaddr_storage ss{};
    if (uv_ip4_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in*>(&ss)) != 0 &&
        uv_ip6_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in6*>(&ss)) != 0) {
        if (on_error) on_error("not an IP address: " + ip);
        return;
    }
    auto* job = new ConnectJob;
    job->opts = opts;
    job->factory = std::move(factory);
    job->on_error = std::move(on_error);
    job->tcp = new uv_tcp_t;
    uv_tcp_init(loop, job->tcp);
    job->timer = new uv_timer_t;
    uv_timer_init(loop, job->timer);
    job->timer->data = job;
    job->req.data = job;
    int r = uv_tcp_connect(
        &job->req, job->tcp, reinterpret_cast<sockaddr*>(&ss), [](uv_connect_t* req, int status) {
            auto* j = static_cast<ConnectJob*>(req->data);
            uv_timer_stop(j->timer);
            close_and_delete(j->timer);
            if (status == 0) {
                Connection::adopt(j->tcp, j->factory, j->opts);
            } else {
                close_and_delete(j->tcp);
                if (j->on_error)
                    j->on_error(j->timed_out ? std::string("connection timed out")
                                             : uv_strerror(status));
            }
            delete j;
        });
    if (r != 0) {
        close_and_delete(job->tcp);
        close_and_delete(job->timer);
        if (job->on_error) job->on_error(uv_strerror(r));
        delete job;
        return;
    }
    uv_timer_start(
        job->timer,
        [](uv_timer_t* t) {
            auto* j = static_cast<ConnectJob*>(t->data);
            j->timed_out = true;
            // Closing the handle cancels the connect: its callback runs with ECANCELED.
            uv_close(reinterpret_cast<uv_handle_t*>(j->tcp),
                     [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
        },
        timeout_ms, 0);
}

}  // namespace postern
