#include "libproto/net/listener.h"

#include <vector>

#include "libproto/core/log.h"
#include "libproto/net/uv_handle.h"

namespace postern {
namespace {

// Answers an over-the-cap client with the daemon's refusal line, then closes.
class RefuseHandler final : public ConnectionHandler {
public:
    explicit RefuseHandler(std::string msg) : msg_(std::move(msg)) {}
    void on_open(Connection& c) override {
        c.write(msg_);
        c.close();
    }
    void on_line(Connection&, std::string_view, LineEnd) override {}

private:
    std::string msg_;
};

std::string bracket(const std::string& addr) {
    return addr.find(':') != std::string::npos ? "[" + addr + "]" : addr;
}

}  // namespace

// --- ConnectionTracker ---

ConnectionTracker::~ConnectionTracker() {
    for (Connection* c : live_) c->on_destroy = nullptr;
    for (Connection* c : refusing_) c->on_destroy = nullptr;
}

void ConnectionTracker::add_refusing(Connection& c) {
    refusing_.insert(&c);
    c.on_destroy = [this](Connection& x) { refusing_.erase(&x); };
}

bool ConnectionTracker::admits(const std::string& ip) const {
    if (limits_.max_connections && live_.size() >= limits_.max_connections) return false;
    if (limits_.max_per_ip && count_for(ip) >= limits_.max_per_ip) return false;
    return true;
}

size_t ConnectionTracker::count_for(const std::string& ip) const {
    auto it = per_ip_.find(ip);
    return it == per_ip_.end() ? 0 : it->second;
}

void ConnectionTracker::add(Connection& c) {
    live_.insert(&c);
    ++per_ip_[c.peer().ip];
    c.on_destroy = [this](Connection& x) { remove(x); };
}

void ConnectionTracker::remove(Connection& c) {
    if (!live_.erase(&c)) return;
    auto it = per_ip_.find(c.peer().ip);
    if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

void ConnectionTracker::notify_shutdown() {
    // Removal happens only in uv close callbacks, but copy anyway: a session
    // may open a new connection from its shutdown handler.
    std::vector<Connection*> all(live_.begin(), live_.end());
    for (Connection* c : all) c->notify_shutdown();
}

void ConnectionTracker::abort_all() {
    std::vector<Connection*> all(live_.begin(), live_.end());
    all.insert(all.end(), refusing_.begin(), refusing_.end());
    for (Connection* c : all) c->abort(CloseReason::local);
}

// --- Listener ---

Listener::Listener(uv_loop_t* loop, ListenerSpec spec, ConnectionTracker& tracker,
                   const TlsServer* tls)
    : loop_(loop), spec_(std::move(spec)), tracker_(tracker), tls_(tls) {}

Listener::~Listener() { stop(); }

std::expected<std::unique_ptr<Listener>, std::string> Listener::open(uv_loop_t* loop,
                                                                     ListenerSpec spec,
                                                                     ConnectionTracker& tracker,
                                                                     const TlsServer* tls) {
    std::string where = bracket(spec.address) + ":" + std::to_string(spec.port);
    if (spec.implicit_tls && (!tls || !tls->available()))
        return std::unexpected("cannot listen on " + where + ": TLS port but no TLS context");
    sockaddr_storage ss{};
    unsigned flags = 0;
    if (uv_ip4_addr(spec.address.c_str(), spec.port, reinterpret_cast<sockaddr_in*>(&ss)) != 0) {
        if (uv_ip6_addr(spec.address.c_str(), spec.port, reinterpret_cast<sockaddr_in6*>(&ss)) != 0)
            return std::unexpected("cannot listen on " + where + ": not an IP address");
        flags = UV_TCP_IPV6ONLY;  // so "::" and "0.0.0.0" can both be bound
    }
    std::unique_ptr<Listener> l(new Listener(loop, std::move(spec), tracker, tls));
    l->server_ = new uv_tcp_t;
    uv_tcp_init(loop, l->server_);
    l->server_->data = l.get();
    int r = uv_tcp_bind(l->server_, reinterpret_cast<sockaddr*>(&ss), flags);  // sets SO_REUSEADDR
    if (r == 0)
        r = uv_listen(reinterpret_cast<uv_stream_t*>(l->server_), 511,
                      [](uv_stream_t* s, int status) {
                          if (status == 0 && s->data)
                              static_cast<Listener*>(s->data)->on_connection();
                      });
    if (r != 0) return std::unexpected("cannot listen on " + where + ": " + uv_strerror(r));
    int len = sizeof ss;
    if (uv_tcp_getsockname(l->server_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
        l->port_ = peer_from_sockaddr(reinterpret_cast<sockaddr*>(&ss)).port;
    return l;
}

void Listener::stop() {
    if (!server_) return;
    server_->data = nullptr;
    close_and_delete(server_);
    server_ = nullptr;
}

void Listener::on_connection() {
    auto* client = new uv_tcp_t;
    uv_tcp_init(loop_, client);
    if (uv_accept(reinterpret_cast<uv_stream_t*>(server_),
                  reinterpret_cast<uv_stream_t*>(client)) != 0) {
        close_and_delete(client);
        return;
    }
    sockaddr_storage ss{};
    int len = sizeof ss;
    std::string ip;
    if (uv_tcp_getpeername(client, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
        ip = peer_from_sockaddr(reinterpret_cast<sockaddr*>(&ss)).ip;
    if (!tracker_.admits(ip)) {
        refuse(client);
        return;
    }
    SslCtxPtr ctx = implicit_tls_context();
    Connection* c = Connection::adopt(client, spec_.factory, spec_.options, ctx.get());
    tracker_.add(*c);
}

void Listener::refuse(uv_tcp_t* client) {
    const ConnectionLimits& lim = tracker_.limits();
    if (!tracker_.may_refuse()) {
        ++dropped_;
        close_and_delete(client);
        log_refusals();
        return;
    }
    ++refused_;
    log_refusals();
    // The refusal's reads never restart a timer (RefuseHandler closes in
    // on_open, and the close flush timer is fixed), and the handshake has its
    // own deadline: nothing the client sends keeps this socket.
    ConnectionOptions o;
    o.idle_timeout_ms = lim.refuse_deadline_ms;
    o.handshake_timeout_ms = lim.refuse_deadline_ms;
    o.close_flush_timeout_ms = lim.refuse_deadline_ms;
    std::string msg = lim.refuse_message;
    SslCtxPtr ctx = implicit_tls_context();
    Connection* c = Connection::adopt(
        client, [msg](Connection&) { return std::make_unique<RefuseHandler>(msg); }, o, ctx.get());
    tracker_.add_refusing(*c);
}

SslCtxPtr Listener::implicit_tls_context() const {
    return spec_.implicit_tls && tls_ ? tls_->current() : nullptr;
}

void Listener::log_refusals() {
    uint64_t now = uv_now(loop_);
    if (last_refusal_log_ms_ && now - last_refusal_log_ms_ < 1000) return;
    last_refusal_log_ms_ = now;
    log_msg(LogLevel::info, "%s: too many connections: refused %llu, closed %llu unanswered",
            spec_.name.c_str(), static_cast<unsigned long long>(refused_),
            static_cast<unsigned long long>(dropped_));
    refused_ = dropped_ = 0;
}

}  // namespace postern
