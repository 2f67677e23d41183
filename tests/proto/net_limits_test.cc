// Slow and hostile clients: what the idle timer, the handshake deadline and the
// refusal budget bound (docs/security.md, "Network").
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "tests/proto/net_echo.h"
#include "tests/proto/net_test_util.h"

using nettest::Client;
using nettest::EchoServer;
using nettest::TempDir;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

// Sends `byte` every `gap` until the peer closes or `limit` passes; returns how
// long the connection lived (ms).
long trickle(Client& c, const std::string& byte, std::chrono::milliseconds gap,
             std::chrono::milliseconds limit) {
    auto start = Clock::now();
    while (Clock::now() - start < limit) {
        if (!c.send_raw(byte) || c.peer_closed_within(static_cast<int>(gap.count()))) break;
    }
    return ms_since(start);
}

// A TLS record header announcing a 16 KiB handshake record: OpenSSL waits for
// the rest, so trickled bytes after it keep the handshake pending.
const std::string kRecordHeader("\x16\x03\x01\x40\x00", 5);

}  // namespace

TEST_CASE("net: a command line trickled byte by byte gets one idle timeout, not one per byte") {
    EchoServer srv;
    postern::ConnectionOptions o;
    o.idle_timeout_ms = 300;
    REQUIRE(srv.start("127.0.0.1", false, o).empty());
    long lived = -1;
    std::string greeting;
    REQUIRE(srv.serve_while([&] {
        Client c("127.0.0.1", srv.port());
        greeting = c.line();
        lived = trickle(c, "a", 50ms, 3000ms);
    }));
    CHECK(greeting == "hello");
    CHECK(srv.stats.timeouts == 1);
    // Before: every byte restarted the timer and the session outlived the 3 s trickle.
    CHECK(lived < 1500);
}

TEST_CASE("net: complete lines are progress and keep a session alive") {
    EchoServer srv;
    postern::ConnectionOptions o;
    o.idle_timeout_ms = 300;
    REQUIRE(srv.start("127.0.0.1", false, o).empty());
    int echoed = 0;
    REQUIRE(srv.serve_while([&] {
        Client c("127.0.0.1", srv.port());
        c.line();
        for (int i = 0; i < 10; ++i) {
            c.send("ping\r\n");
            if (c.line() == "echo:ping:crlf") ++echoed;
            std::this_thread::sleep_for(100ms);
        }
    }));
    CHECK(echoed == 10);  // 1 s of traffic, 300 ms timeout: lines restart it
    CHECK(srv.stats.timeouts == 0);
}

TEST_CASE("net: a trickled TLS handshake ends at the handshake deadline") {
    TempDir d;
    REQUIRE(nettest::make_self_signed(d.path));
    EchoServer srv;
    REQUIRE(srv.tls.load(d.path / "cert.pem", d.path / "key.pem").has_value());
    postern::ConnectionOptions o;
    o.idle_timeout_ms = 60'000;
    o.handshake_timeout_ms = 300;
    REQUIRE(srv.start("127.0.0.1", true, o).empty());
    long lived = -1;
    REQUIRE(srv.serve_while([&] {
        Client c("127.0.0.1", srv.port());
        c.send_raw(kRecordHeader);
        lived = trickle(c, "x", 50ms, 3000ms);
    }));
    CHECK(lived < 1500);
    CHECK(srv.stats.opened == 0);  // never got past the handshake
}

TEST_CASE("net: refused connections are counted, bounded and closed at a hard deadline") {
    TempDir d;
    REQUIRE(nettest::make_self_signed(d.path));
    EchoServer srv;
    REQUIRE(srv.tls.load(d.path / "cert.pem", d.path / "key.pem").has_value());
    postern::ConnectionLimits lim{100, 1, "* BYE busy\r\n"};
    lim.max_refusing = 3;
    lim.refuse_deadline_ms = 400;
    srv.tracker.set_limits(lim);
    REQUIRE(srv.start("127.0.0.1", true).empty());
    constexpr int kRefused = 10;
    int closed_at_once = 0, closed_by_deadline = 0;
    std::string holder_greeting;
    REQUIRE(srv.serve_while([&] {
        Client holder("127.0.0.1", srv.port());  // takes the one per-IP slot
        if (!holder.start_tls()) return;
        holder_greeting = holder.line();
        std::vector<std::unique_ptr<Client>> extra;
        for (int i = 0; i < kRefused; ++i) {
            extra.push_back(std::make_unique<Client>("127.0.0.1", srv.port()));
            extra.back()->send_raw(kRecordHeader);
        }
        // Over the budget: closed without a handshake.
        std::vector<Client*> open;
        for (auto& c : extra) {
            if (c->peer_closed_within(100))
                ++closed_at_once;
            else
                open.push_back(c.get());
        }
        // The rest trickle their handshake; bytes do not extend the deadline.
        auto start = Clock::now();
        while (!open.empty() && ms_since(start) < 3000) {
            for (auto it = open.begin(); it != open.end();) {
                if (!(*it)->send_raw("x") || (*it)->peer_closed_within(10)) {
                    ++closed_by_deadline;
                    it = open.erase(it);
                } else {
                    ++it;
                }
            }
            std::this_thread::sleep_for(40ms);
        }
        CHECK(ms_since(start) < 1500);
    }));
    CHECK(holder_greeting == "hello tls");
    CHECK(closed_at_once >= kRefused - 3);
    CHECK(closed_at_once + closed_by_deadline == kRefused);
    CHECK(srv.tracker.refusing() == 0);
    CHECK(srv.stats.opened == 1);
}
