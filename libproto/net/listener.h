#pragma once
// TCP listeners and the live-connection registry of a daemon.
//
// A ConnectionTracker counts live connections overall and per client IP,
// enforces the caps at accept time, and can tell every session the daemon is
// stopping. One tracker per service, shared by its listeners (smtpd's limit
// covers port 25, 587 and 465 together).
//
// A Listener binds one address:port (IPv6 sockets set IPV6_V6ONLY so "0.0.0.0"
// and "::" can both be bound; SO_REUSEADDR via libuv), accepts connections and
// hands each to a Connection with the daemon's HandlerFactory. Over the cap,
// the client gets the daemon's one-line refusal (over TLS on implicit-TLS
// ports) and is closed. Refused clients are counted too: at most
// max_refusing are being answered at once, each within a hard deadline that
// nothing the client sends extends; beyond that a refused socket is closed
// at once, so refusals can never eat the process's file descriptors.

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <uv.h>

#include "libproto/net/connection.h"
#include "libproto/net/tls.h"

namespace postern {

struct ConnectionLimits {
    uint32_t max_connections = 500;  // overall, 0: no cap
    uint32_t max_per_ip = 20;        // per client address, 0: no cap
    // Sent to a refused client, CR LF included, e.g.
    // "421 4.7.0 mx.example.org Too many connections, try later\r\n" or "* BYE Too many connections\r\n".
    std::string refuse_message;
    uint32_t max_refusing = 32;  // refusals being answered at once; beyond: closed unanswered
    uint64_t refuse_deadline_ms = 5'000;  // a refusal's whole life (TLS handshake included)
};

class ConnectionTracker {
public:
    explicit ConnectionTracker(ConnectionLimits limits = {}) : limits_(std::move(limits)) {}
    ~ConnectionTracker();  // detaches from live connections (they keep running)
    ConnectionTracker(const ConnectionTracker&) = delete;
    ConnectionTracker& operator=(const ConnectionTracker&) = delete;

    // Whether a new connection from `ip` is within the caps.
    bool admits(const std::string& ip) const;
    void add(Connection& c);  // counts it; removed automatically when it closes
    size_t count() const { return live_.size(); }
    size_t count_for(const std::string& ip) const;

    // Refused connections still being answered (not in count()).
    bool may_refuse() const { return refusing_.size() < limits_.max_refusing; }
    void add_refusing(Connection& c);
    size_t refusing() const { return refusing_.size(); }

    // Calls on_shutdown on every live session (once).
    void notify_shutdown();
    // Aborts every live connection (end of the grace period).
    void abort_all();

    void set_limits(ConnectionLimits l) { limits_ = std::move(l); }
    const ConnectionLimits& limits() const { return limits_; }

private:
    void remove(Connection& c);

    ConnectionLimits limits_;
    std::unordered_set<Connection*> live_;
    std::unordered_set<Connection*> refusing_;
    std::unordered_map<std::string, uint32_t> per_ip_;
};

struct ListenerSpec {
    std::string address;        // "127.0.0.1", "::", "0.0.0.0"
    uint16_t port = 0;          // 0: ephemeral (tests); see Listener::port()
    bool implicit_tls = false;  // SMTPS 465, POP3S 995, IMAPS 993
    std::string name;           // for logs: "smtpd/submission"
    ConnectionOptions options{};
    HandlerFactory factory;
};

class Listener {
public:
    // Binds and starts listening. `tls` is required when spec.implicit_tls;
    // it is read at every accept, so TlsServer::load() takes effect at once.
    // Error: one line, e.g. "cannot listen on [::1]:25: address already in use".
    static std::expected<std::unique_ptr<Listener>, std::string> open(
        uv_loop_t* loop, ListenerSpec spec, ConnectionTracker& tracker,
        const TlsServer* tls = nullptr);

    ~Listener();  // stop()
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    // Stops accepting and closes the socket; live connections carry on.
    void stop();
    uint16_t port() const { return port_; }  // the bound port
    const ListenerSpec& spec() const { return spec_; }

private:
    Listener(uv_loop_t* loop, ListenerSpec spec, ConnectionTracker& tracker, const TlsServer* tls);
    void on_connection();
    void refuse(uv_tcp_t* client);
    void log_refusals();
    SslCtxPtr implicit_tls_context() const;  // a reference for a new session on a TLS port

    uv_loop_t* loop_;
    ListenerSpec spec_;
    ConnectionTracker& tracker_;
    const TlsServer* tls_;
    uv_tcp_t* server_ = nullptr;
    uint16_t port_ = 0;
    uint64_t refused_ = 0, dropped_ = 0;  // since the last log line (at most one a second)
    uint64_t last_refusal_log_ms_ = 0;
};

}  // namespace postern
