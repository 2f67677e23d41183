#include <catch2/catch.hpp>
#include <sys/socket.h>

#include "tests/proto/net_echo.h"
#include "tests/proto/net_test_util.h"

using nettest::Client;
using nettest::EchoServer;

TEST_CASE("net: listener and connection echo lines over loopback") {
    struct Case {
        const char* addr;
        int family;
    };
    auto tc = GENERATE(values<Case>({{"127.0.0.1", AF_INET}, {"::1", AF_INET6}}));
    DYNAMIC_SECTION(tc.addr) {
        EchoServer srv;
        std::string err = srv.start(tc.addr);
        if (!err.empty() && tc.family == AF_INET6) {
            WARN("no IPv6 loopback here: " << err);
            return;
        }
        REQUIRE(err.empty());
        std::vector<std::string> got;
        REQUIRE(srv.serve_while([&] {
            Client c(tc.addr, srv.port());
            if (!c.connected()) return;
            got.push_back(c.line());
            c.send("one\r\ntw");
            got.push_back(c.line());
            c.send("o\nRAW 6\r\nab\r\ncdafter\n\r\nQUIT\r\n");
            for (int i = 0; i < 7; ++i) got.push_back(c.line());
        }));
        // "RAW 6" takes "ab\r\ncd" (the client sees it as two lines).
        CHECK(got == std::vector<std::string>{"hello", "echo:one:crlf", "echo:two:lf", "raw:ab",
                                              "cd", "echo:after:lf", "echo::crlf", "bye", "<EOF>"});
        CHECK(srv.stats.last_peer_ip == tc.addr);
        CHECK(srv.stats.last_peer_family == tc.family);
        CHECK(srv.stats.closed == 1);
    }
}

TEST_CASE("net: over-long lines are reported and the session carries on") {
    EchoServer srv;
    postern::ConnectionOptions o;
    o.lines.max_line = 100;
    REQUIRE(srv.start("127.0.0.1", false, o).empty());
    std::vector<std::string> got;
    REQUIRE(srv.serve_while([&] {
        Client c("127.0.0.1", srv.port());
        c.line();
        c.send(std::string(100000, 'z') + "\r\nok\r\n");
        got.push_back(c.line());
        got.push_back(c.line());
    }));
    CHECK(got == std::vector<std::string>{"too long", "echo:ok:crlf"});
}

TEST_CASE("net: per-IP cap refuses with the daemon's message") {
    EchoServer srv;
    srv.tracker.set_limits({10, 1, "421 busy\r\n"});
    REQUIRE(srv.start("127.0.0.1").empty());
    std::string first, second, second_eof;
    REQUIRE(srv.serve_while([&] {
        Client a("127.0.0.1", srv.port());
        first = a.line();
        Client b("127.0.0.1", srv.port());
        second = b.line();
        second_eof = b.line();
    }));
    CHECK(first == "hello");
    CHECK(second == "421 busy");
    CHECK(second_eof == "<EOF>");
    CHECK(srv.stats.opened == 1);
}

TEST_CASE("net: backpressure pauses input until output drains") {
    EchoServer srv;
    postern::ConnectionOptions o;
    o.high_water = 64 * 1024;
    o.low_water = 16 * 1024;
    REQUIRE(srv.start("127.0.0.1", false, o).empty());
    const size_t big = 8 * 1024 * 1024;
    std::string tail;
    size_t got_bytes = 0;
    REQUIRE(srv.serve_while([&] {
        Client c("127.0.0.1", srv.port());
        c.line();
        c.send("BIG " + std::to_string(big) + "\r\nPING\r\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // do not read yet
        got_bytes = c.bytes(big + 2).size();
        tail = c.line();
    }));
    CHECK(got_bytes == big + 2);
    CHECK(tail == "echo:PING:crlf");
    CHECK(srv.stats.saw_blocked);
    CHECK(srv.stats.drains >= 1);
    CHECK(srv.stats.ping_after_drain);  // PING was held back while output was blocked
}

TEST_CASE("net: idle timeout and shutdown notice reach the session") {
    EchoServer srv;
    postern::ConnectionOptions o;
    o.idle_timeout_ms = 100;
    REQUIRE(srv.start("127.0.0.1", false, o).empty());
    std::vector<std::string> got;
    REQUIRE(srv.serve_while([&] {
        Client c("127.0.0.1", srv.port());
        got.push_back(c.line());
        got.push_back(c.line());  // nothing sent: the timer fires
        got.push_back(c.line());
    }));
    CHECK(got == std::vector<std::string>{"hello", "timeout", "<EOF>"});
    CHECK(srv.stats.timeouts == 1);
}

TEST_CASE("net: shutdown stops the listener and notifies live sessions") {
    EchoServer srv;
    REQUIRE(srv.start("127.0.0.1").empty());
    std::atomic<bool> greeted{false};
    std::vector<std::string> got2;
    std::thread t([&] {
        Client c("127.0.0.1", srv.port(), 3000);
        got2.push_back(c.line());
        greeted = true;
        got2.push_back(c.line());
        got2.push_back(c.line());
    });
    srv.loop.run_until([&] { return greeted.load(); }, std::chrono::seconds(5));
    srv.listener->stop();
    srv.tracker.notify_shutdown();
    srv.loop.run_until([&] { return srv.tracker.count() == 0; }, std::chrono::seconds(5));
    t.join();
    CHECK(got2 == std::vector<std::string>{"hello", "shutdown", "<EOF>"});
}

TEST_CASE("net: peer vanishing mid-output is handled") {
    EchoServer srv;
    REQUIRE(srv.start("127.0.0.1").empty());
    REQUIRE(srv.serve_while([&] {
        for (int i = 0; i < 5; ++i) {
            Client c("127.0.0.1", srv.port());
            c.line();
            c.send("BIG 4000000\r\nPING\r\nQUIT\r\n");
            // close without reading: the server sees EPIPE/ECONNRESET
        }
    }));
    CHECK(srv.tracker.count() == 0);
    CHECK(srv.stats.closed == 5);
}

TEST_CASE("net: \"0.0.0.0\" and \"::\" bind the same port side by side") {
    EchoServer v6;
    std::string err = v6.start("::");
    if (!err.empty()) {
        WARN("no IPv6 here: " << err);
        return;
    }
    postern::ListenerSpec spec;
    spec.address = "0.0.0.0";
    spec.port = v6.port();
    spec.factory = [](postern::Connection&) { return nullptr; };
    auto v4 = postern::Listener::open(v6.loop.get(), spec, v6.tracker);
    INFO((v4 ? std::string("ok") : v4.error()));
    CHECK(v4.has_value());
    if (v4) CHECK((*v4)->port() == v6.port());
}
