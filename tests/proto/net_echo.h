#pragma once
// The echo session the network tests serve, and a fixture that runs a
// listener on the test's loop while a blocking client runs on a thread.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "libproto/net/listener.h"
#include "libproto/net/loop.h"
#include "libproto/net/tls.h"

namespace nettest {

struct EchoStats {
    std::atomic<int> opened{0}, closed{0}, lines{0}, drains{0}, timeouts{0};
    std::atomic<bool> saw_blocked{false};
    std::atomic<bool> ping_after_drain{false};
    std::atomic<bool> tls_ready{false};
    std::atomic<bool> compress_started{false};
    std::atomic<int> close_reason{-1};
    std::string tls_version;  // written on the loop thread, read after join
    std::string last_peer_ip;
    int last_peer_family = 0;
};

// hello on open; "STARTTLS" -> "220 go" + start_tls; "BIG n" -> n bytes of 'x' + CRLF;
// "RAW n" -> next n bytes echoed as "raw:<bytes>"; "QUIT" -> "bye" + close;
// "COMPRESS" -> "ok" uncompressed, then DEFLATE both ways (start_compression);
// else "echo:<line>:crlf|lf". Timeout -> "timeout"; shutdown -> "shutdown".
class EchoSession final : public postern::ConnectionHandler {
public:
    EchoSession(EchoStats& s, const postern::TlsServer& tls) : s_(s), tls_(tls) {}
    void on_open(postern::Connection& c) override {
        ++s_.opened;
        s_.last_peer_ip = c.peer().ip;
        s_.last_peer_family = c.peer().family;
        s_.tls_version = c.tls_version();
        c.write(c.is_tls() ? "hello tls\r\n" : "hello\r\n");
    }
    void on_line(postern::Connection& c, std::string_view line, postern::LineEnd end) override {
        ++s_.lines;
        if (line == "STARTTLS") {
            c.write("220 go\r\n");
            auto ctx = tls_.current();
            c.start_tls(ctx.get());
        } else if (line.starts_with("BIG ")) {
            c.write(std::string(std::stoul(std::string(line.substr(4))), 'x') + "\r\n");
            if (c.output_blocked()) s_.saw_blocked = true;
        } else if (line.starts_with("RAW ")) {
            c.read_raw(std::stoul(std::string(line.substr(4))));
        } else if (line == "COMPRESS") {
            c.write("ok\r\n");
            s_.compress_started = c.start_compression({});
        } else if (line == "QUIT") {
            c.write("bye\r\n");
            c.close();
        } else {
            if (line == "PING" && s_.drains > 0) s_.ping_after_drain = true;
            c.write("echo:" + std::string(line) +
                    (end == postern::LineEnd::crlf ? ":crlf\r\n" : ":lf\r\n"));
        }
    }
    void on_raw(postern::Connection& c, std::string_view bytes, bool last) override {
        raw_ += bytes;
        if (last) {
            c.write("raw:" + raw_ + "\r\n");
            raw_.clear();
        }
    }
    void on_line_too_long(postern::Connection& c) override { c.write("too long\r\n"); }
    void on_tls_ready(postern::Connection& c) override {
        s_.tls_ready = true;
        s_.tls_version = c.tls_version();
    }
    void on_drain(postern::Connection&) override { ++s_.drains; }
    void on_timeout(postern::Connection& c) override {
        ++s_.timeouts;
        c.write("timeout\r\n");
        c.close(postern::CloseReason::timeout);
    }
    void on_shutdown(postern::Connection& c) override {
        c.write("shutdown\r\n");
        c.close();
    }
    void on_close(postern::Connection&, postern::CloseReason why) override {
        s_.close_reason = static_cast<int>(why);
        ++s_.closed;
    }

private:
    EchoStats& s_;
    const postern::TlsServer& tls_;
    std::string raw_;
};

struct EchoServer {
    postern::EventLoop loop;
    EchoStats stats;
    postern::TlsServer tls;
    postern::ConnectionTracker tracker;
    std::unique_ptr<postern::Listener> listener;

    // Returns the error text, empty on success.
    std::string start(const std::string& addr, bool implicit_tls = false,
                      postern::ConnectionOptions opts = {}) {
        postern::ListenerSpec spec;
        spec.address = addr;
        spec.port = 0;
        spec.implicit_tls = implicit_tls;
        spec.name = "echo";
        spec.options = opts;
        spec.factory = [this](postern::Connection&) {
            return std::make_unique<EchoSession>(stats, tls);
        };
        auto l = postern::Listener::open(loop.get(), spec, tracker, &tls);
        if (!l) return l.error();
        listener = std::move(*l);
        return {};
    }
    uint16_t port() const { return listener->port(); }

    // Runs `client` on a thread while serving; true if it finished in time.
    template <class F>
    bool serve_while(F client, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::atomic<bool> done{false};
        std::thread t([&] {
            client();
            done = true;
        });
        bool ok = loop.run_until([&] { return done.load(); }, timeout);
        t.join();
        // Let closes that the client caused finish.
        loop.run_until([&] { return tracker.count() == 0; }, std::chrono::milliseconds(2000));
        return ok;
    }
};

}  // namespace nettest
