// smtpd's connection glue and the SMTP engine on a real loop, with a handler whose password
// check and recipient lookup take 2 s each on the thread pool (as SmtpPolicy does for the
// store): meanwhile another session on the same loop answers NOOP at once.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "libproto/core/base64.h"
#include "libproto/net/listener.h"
#include "libproto/net/loop.h"
#include "libproto/net/pool_job.h"
#include "smtpd/smtp_connection.h"
#include "tests/proto/net_test_util.h"

using namespace postern;
using namespace std::chrono;

namespace {

class SlowHandler : public SmtpHandler {
public:
    explicit SlowHandler(uv_loop_t* loop) : loop_(loop) {
        cb_.resolve_login =
            [](std::string_view login) -> std::expected<std::string, SaslLookupError> {
            return std::string(login);
        };
        cb_.verify_password = [this](std::string_view, std::string_view pw) {
            if (std::this_thread::get_id() == loop_thread) checked_on_loop = true;
            std::this_thread::sleep_for(seconds(2));  // a stalled accounts database
            return pw == "pw" ? PasswordCheck::ok : PasswordCheck::mismatch;
        };
    }
    void check_mail(const SmtpClientInfo&, const ParsedPath&, const MailParams&,
                    Done done) override {
        done(SmtpVerdict::ok);
    }
    void check_rcpt(const SmtpClientInfo&, const ParsedPath& to, Done done) override {
        bool slow = to.local == "slow";
        run_on_pool_detached(
            loop_,
            [slow] {
                if (slow) std::this_thread::sleep_for(seconds(2));
            },
            [done = std::move(done)] { done(SmtpVerdict::ok); });
    }
    void check_data(const SmtpClientInfo&, const SmtpEnvelope&, Done done) override {
        done(SmtpVerdict::ok);
    }
    std::unique_ptr<SaslServer> sasl(std::string_view mechanism) override {
        SaslOptions o;
        o.defer_lookups = true;
        return make_sasl_server(mechanism, cb_, o);
    }
    void run_blocking(std::function<void()> work, std::function<void()> done) override {
        run_on_pool_detached(loop_, std::move(work), std::move(done));
    }

    std::atomic<bool> checked_on_loop{false};
    std::thread::id loop_thread = std::this_thread::get_id();

private:
    uv_loop_t* loop_;
    SaslCallbacks cb_;
};

// The last line of a (multi-line) reply.
std::string reply(nettest::Client& c) {
    for (int i = 0; i < 50; ++i) {
        std::string l = c.line();
        if (l.size() < 4 || l[3] != '-') return l;
    }
    return {};
}

}  // namespace

TEST_CASE("smtpd: a slow password check or recipient lookup does not stall other sessions",
          "[smtpd][loop]") {
    EventLoop loop;
    ConnectionTracker tracker;
    SlowHandler handler(loop.get());
    ListenerSpec spec;
    spec.address = "127.0.0.1";
    spec.port = 0;
    spec.name = "smtp";
    spec.factory = [&](Connection& c) {
        SmtpSessionConfig cfg;
        cfg.hostname = "mx.test";
        cfg.allow_plaintext_auth = true;
        return std::make_unique<SmtpConnection>(c, handler, cfg, nullptr);
    };
    auto l = Listener::open(loop.get(), spec, tracker, nullptr);
    REQUIRE(l);
    uint16_t port = (*l)->port();

    std::atomic<bool> done{false};
    long noop_ms = -1, auth_ms = -1;
    std::string noop, auth, rcpt;
    std::thread t([&] {
        nettest::Client fast("127.0.0.1", port), authc("127.0.0.1", port), rcptc("127.0.0.1", port);
        for (auto* c : {&fast, &authc, &rcptc}) {
            reply(*c);
            c->send("EHLO client.test\r\n");
            reply(*c);
        }
        auto t0 = steady_clock::now();
        authc.send("AUTH PLAIN " + base64_encode(std::string("\0u\0pw", 5)) + "\r\n");
        rcptc.send("MAIL FROM:<a@client.test>\r\n");
        reply(rcptc);
        rcptc.send("RCPT TO:<slow@mx.test>\r\n");
        std::this_thread::sleep_for(milliseconds(50));  // both are on the pool now

        auto t1 = steady_clock::now();
        fast.send("NOOP\r\n");
        noop = reply(fast);
        noop_ms = duration_cast<milliseconds>(steady_clock::now() - t1).count();

        auth = reply(authc);
        auth_ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
        rcpt = reply(rcptc);
        done = true;
    });
    bool ok = loop.run_until([&] { return done.load(); }, seconds(10));
    t.join();
    REQUIRE(ok);
    CHECK(noop.starts_with("250"));
    CHECK(noop_ms >= 0);
    CHECK(noop_ms < 100);
    CHECK(auth.starts_with("235"));
    CHECK(auth_ms >= 1900);
    CHECK(rcpt.starts_with("250"));
    CHECK_FALSE(handler.checked_on_loop.load());
    loop.run_until([&] { return tracker.count() == 0; }, seconds(2));
}
