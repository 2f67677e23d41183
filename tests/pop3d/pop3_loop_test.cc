// pop3d on a real loop with a store that takes 2 s per maildrop open: while one session
// waits for its maildrop, another session on the same loop still answers at once, and a
// client that leaves while its open is in flight harms nobody. (That a dropped PoolJob is
// never called back is tests/proto/pool_job_test.cc.)

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "libproto/core/base64.h"
#include "libproto/net/listener.h"
#include "libproto/net/loop.h"
#include "pop3d/pop3_connection.h"
#include "tests/proto/net_test_util.h"
#include "tests/support/pop3_maildrop_memory.h"

using namespace postern;
using namespace std::chrono;

namespace {

// Logins "slow*" take `delay` to open their maildrop (as a stalled disk would).
class SlowBackend : public Pop3Backend {
public:
    explicit SlowBackend(milliseconds delay) : delay_(delay) {
        cb_.resolve_login =
            [](std::string_view login) -> std::expected<std::string, SaslLookupError> {
            return std::string(login);
        };
        cb_.verify_password = [](std::string_view, std::string_view pw) {
            return pw == "pw" ? PasswordCheck::ok : PasswordCheck::mismatch;
        };
        store_.deliver("fast", "Subject: a\r\n\r\nhello\r\n");
        store_.deliver("slow", "Subject: b\r\n\r\nhello\r\n");
    }
    const SaslCallbacks& sasl_callbacks() override { return cb_; }
    std::expected<std::unique_ptr<Maildrop>, MaildropError> open_maildrop(
        const std::string& user) override {
        on_loop_thread = on_loop_thread || std::this_thread::get_id() == loop_thread;
        if (user.starts_with("slow")) std::this_thread::sleep_for(delay_);
        std::lock_guard lock(mu_);  // the memory store is not thread-safe
        auto d = store_.open(user, false);
        ++opened;
        return d;
    }

    std::atomic<int> opened{0};
    std::atomic<bool> on_loop_thread{false};
    std::thread::id loop_thread = std::this_thread::get_id();

private:
    milliseconds delay_;
    SaslCallbacks cb_;
    std::mutex mu_;
    Pop3MemoryStore store_;
};

struct Pop3Server {
    EventLoop loop;
    ConnectionTracker tracker;
    SlowBackend backend{seconds(2)};
    std::unique_ptr<Listener> listener;
    Connection* last = nullptr;  // the newest server-side connection

    Pop3Server() {
        ListenerSpec spec;
        spec.address = "127.0.0.1";
        spec.port = 0;
        spec.name = "pop3";
        spec.factory = [this](Connection& c) {
            last = &c;
            Pop3SessionOptions o;
            o.plaintext_without_tls = true;
            return std::make_unique<Pop3Connection>(c, backend, o, nullptr);
        };
        auto l = Listener::open(loop.get(), spec, tracker, nullptr);
        REQUIRE(l);
        listener = std::move(*l);
    }
};

bool login(nettest::Client& c, const std::string& user) {
    return c.line().starts_with("+OK") && c.send("USER " + user + "\r\n") &&
           c.line().starts_with("+OK") && c.send("PASS pw\r\n");
}

}  // namespace

TEST_CASE("pop3d: a slow maildrop open does not stall other sessions", "[pop3d][loop]") {
    Pop3Server srv;
    uint16_t port = srv.listener->port();
    std::atomic<bool> done{false};
    long noop_ms = -1, slow_ms = -1;
    std::string slow_reply, fast_noop, left_reply;
    std::thread t([&] {
        nettest::Client fast("127.0.0.1", port);
        REQUIRE(login(fast, "fast"));
        REQUIRE(fast.line().starts_with("+OK Logged in"));

        // One session leaves while its open is in flight, one waits for it.
        {
            nettest::Client gone("127.0.0.1", port);
            REQUIRE(login(gone, "slow-gone"));
        }
        nettest::Client slow("127.0.0.1", port);
        REQUIRE(login(slow, "slow"));
        auto t0 = steady_clock::now();
        std::this_thread::sleep_for(milliseconds(50));  // both opens are under way now

        auto t1 = steady_clock::now();
        fast.send("NOOP\r\n");
        fast_noop = fast.line();
        noop_ms = duration_cast<milliseconds>(steady_clock::now() - t1).count();

        slow_reply = slow.line();
        slow_ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
        slow.send("RETR 1\r\n");
        left_reply = slow.line();
        done = true;
    });
    bool ok = srv.loop.run_until([&] { return done.load(); }, seconds(10));
    t.join();
    REQUIRE(ok);
    CHECK(fast_noop == "+OK");
    CHECK(noop_ms >= 0);
    CHECK(noop_ms < 100);
    CHECK(slow_reply.starts_with("+OK Logged in, 1 messages"));
    CHECK(slow_ms >= 1900);
    CHECK(left_reply.starts_with("+OK"));
    // The departed client's open still finishes on the pool, never on the loop thread.
    REQUIRE(srv.loop.run_until([&] { return srv.backend.opened.load() == 3; }, seconds(5)));
    srv.loop.run_until([&] { return srv.tracker.count() == 0; }, seconds(2));
    CHECK_FALSE(srv.backend.on_loop_thread.load());
}

// Any POP3 line may hold a credential: once handled, none stays in the input buffer.
TEST_CASE("pop3d: no copy of PASS or AUTH PLAIN stays in the connection's input buffer",
          "[pop3d][secret]") {
    Pop3Server srv;
    uint16_t port = srv.listener->port();
    const std::string plain = base64_encode(std::string("\0fast\0pw", 8));
    std::atomic<int> step{0}, looked{0};
    std::string pass_reply, auth_reply;
    Connection* first = nullptr;
    std::thread t([&] {
        nettest::Client a("127.0.0.1", port);
        REQUIRE(login(a, "fast"));
        pass_reply = a.line();
        step = 1;
        while (looked < 1) std::this_thread::sleep_for(milliseconds(1));
        a.send("QUIT\r\n");
        a.line();
        nettest::Client b("127.0.0.1", port);
        b.line();
        b.send("AUTH PLAIN " + plain + "\r\n");
        auth_reply = b.line();
        step = 2;
        while (looked < 2) std::this_thread::sleep_for(milliseconds(1));
    });
    REQUIRE(srv.loop.run_until([&] { return step == 1; }, seconds(5)));
    first = srv.last;
    REQUIRE(first);
    CHECK(pass_reply.starts_with("+OK Logged in"));
    CHECK(first->input_buffer_for_tests().find("PASS pw") == std::string_view::npos);
    looked = 1;
    REQUIRE(srv.loop.run_until([&] { return step == 2; }, seconds(5)));
    CHECK(auth_reply.starts_with("+OK Logged in"));
    CHECK(srv.last->input_buffer_for_tests().find(plain) == std::string_view::npos);
    looked = 2;
    t.join();
    srv.loop.run_until([&] { return srv.tracker.count() == 0; }, seconds(2));
}
