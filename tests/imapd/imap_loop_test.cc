// imapd's connection glue on a real loop with a store that takes 2 s per call: while one
// session waits for its STATUS, another session on the same loop answers NOOP at once; a
// folder watch posted from the store's thread reaches an IDLEing session.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "imapd/imap_connection.h"
#include "imapd/loop_poster.h"
#include "libproto/net/listener.h"
#include "libproto/net/loop.h"
#include "libproto/net/pool_job.h"
#include "tests/proto/net_test_util.h"
#include "tests/support/memory_store.h"

using namespace postern;
using namespace std::chrono;

namespace {

class LoopBackend : public ImapBackend {
public:
    explicit LoopBackend(uv_loop_t* loop) : loop_(loop), poster_(loop) {
        store_.create_user("alice@example.org");
        cb_.resolve_login = [](std::string_view) -> std::expected<std::string, SaslLookupError> {
            return std::string("alice@example.org");
        };
        cb_.verify_password = [](std::string_view, std::string_view pw) {
            return pw == "pw" ? PasswordCheck::ok : PasswordCheck::mismatch;
        };
    }
    MailStore& store() override { return store_; }
    MemoryStore& memory() { return store_; }
    const SaslCallbacks& sasl_callbacks() override { return cb_; }
    SaslOptions sasl_options() override { return {}; }
    void run_blocking(std::function<void()> work, std::function<void()> done) override {
        run_on_pool_detached(loop_, std::move(work), std::move(done));
    }
    void post(std::function<void()> fn) override { poster_.post(std::move(fn)); }

private:
    uv_loop_t* loop_;
    MemoryStore store_;
    SaslCallbacks cb_;
    LoopPoster poster_;
};

struct ImapServer {
    EventLoop loop;
    ConnectionTracker tracker;
    LoopBackend backend{loop.get()};
    std::unique_ptr<Listener> listener;

    ImapServer() {
        ListenerSpec spec;
        spec.address = "127.0.0.1";
        spec.port = 0;
        spec.name = "imap";
        spec.factory = [this](Connection& c) {
            ImapSessionOptions o;
            o.plaintext_auth = true;
            return std::make_unique<ImapConnection>(c, backend, o, nullptr);
        };
        auto l = Listener::open(loop.get(), spec, tracker, nullptr);
        REQUIRE(l);
        listener = std::move(*l);
    }
};

// Reads lines until one starts with `prefix`; returns it.
std::string until(nettest::Client& c, const std::string& prefix) {
    for (int i = 0; i < 50; ++i) {
        std::string l = c.line();
        if (l.empty() || l.starts_with(prefix)) return l;
    }
    return {};
}

}  // namespace

TEST_CASE("imapd: a slow store does not stall another session", "[imapd][loop]") {
    ImapServer srv;
    uint16_t port = srv.listener->port();
    std::atomic<bool> done{false};
    long noop_ms = -1, slow_ms = -1;
    std::string noop, status;
    std::thread t([&] {
        nettest::Client fast("127.0.0.1", port), slow("127.0.0.1", port);
        until(fast, "* OK");
        until(slow, "* OK");
        fast.send("a LOGIN alice pw\r\n");
        until(fast, "a OK");
        slow.send("a LOGIN alice pw\r\n");
        until(slow, "a OK");
        srv.backend.memory().set_delay(seconds(2));
        auto t0 = steady_clock::now();
        slow.send("b STATUS INBOX (MESSAGES)\r\n");
        std::this_thread::sleep_for(milliseconds(50));
        auto t1 = steady_clock::now();
        fast.send("c NOOP\r\n");
        noop = until(fast, "c ");
        noop_ms = duration_cast<milliseconds>(steady_clock::now() - t1).count();
        status = until(slow, "b ");
        slow_ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
        done = true;
    });
    bool ok = srv.loop.run_until([&] { return done.load(); }, seconds(15));
    t.join();
    REQUIRE(ok);
    CHECK(noop.starts_with("c OK NOOP"));
    CHECK(noop_ms >= 0);
    CHECK(noop_ms < 200);
    CHECK(status.starts_with("b OK STATUS"));
    CHECK(slow_ms >= 1900);
    srv.backend.memory().set_delay(milliseconds(0));
    srv.loop.run_until([&] { return srv.tracker.count() == 0; }, seconds(5));
}

TEST_CASE("imapd: IDLE on a real loop hears a delivery within a second", "[imapd][loop]") {
    ImapServer srv;
    uint16_t port = srv.listener->port();
    std::atomic<bool> done{false};
    long ms = -1;
    std::string exists, idle_ok;
    std::thread t([&] {
        nettest::Client c("127.0.0.1", port);
        until(c, "* OK");
        c.send("a LOGIN alice pw\r\nb SELECT INBOX\r\n");
        until(c, "b OK");
        c.send("c IDLE\r\n");
        until(c, "+");
        auto t0 = steady_clock::now();
        std::string msg = "Subject: x\r\n\r\nhi\r\n";
        REQUIRE(srv.backend.store().deliver("alice@example.org", MessageSource::from_bytes(msg)));
        exists = c.line();
        ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
        c.send("DONE\r\n");
        idle_ok = until(c, "c ");
        done = true;
    });
    bool ok = srv.loop.run_until([&] { return done.load(); }, seconds(10));
    t.join();
    REQUIRE(ok);
    CHECK(exists == "* 1 EXISTS");
    CHECK(ms < 1000);
    CHECK(idle_ok.starts_with("c OK IDLE"));
    srv.loop.run_until([&] { return srv.tracker.count() == 0; }, seconds(5));
}
