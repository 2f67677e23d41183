// SMTP AUTH and the failed-login budget: the engine over an in-memory transport, a fake
// clock and a captured log (the other session tests are in smtp_session_test.cc).
#include "libproto/auth/auth_budget.h"
#include "libproto/core/base64.h"
#include "libproto/core/log.h"
#include "libproto/smtp/smtp_session.h"

#include <catch2/catch.hpp>

using namespace postern;

namespace {

struct Transport : SmtpTransport {
    LineReader reader{LineReaderLimits{smtp_max_auth_line, 1u << 20}};
    SmtpSession* session = nullptr;
    std::string out;
    bool closed = false;
    bool paused = false;
    std::optional<uint64_t> timer;  // pending delay

    void write(std::string_view b) override { out += b; }
    void close() override { closed = true; }
    void start_tls() override {}
    void pause_reading() override { paused = true; }
    void resume_reading() override { paused = false; }
    void read_raw(uint64_t n) override { reader.read_raw(n); }
    void set_max_line(size_t n) override { reader.set_limits({n, 1u << 20}); }
    void start_timer(uint64_t ms) override { timer = ms; }

    void pump() {
        while (!paused && !closed) {
            auto ev = reader.next();
            if (!ev) break;
            if (ev->kind == LineEvent::Kind::too_long)
                session->on_line_too_long();
            else if (ev->kind == LineEvent::Kind::line)
                session->on_line(ev->data, ev->end);
        }
    }
};

struct Handler : SmtpHandler {
    std::vector<std::string> verified;  // users whose password was checked

    void check_mail(const SmtpClientInfo&, const ParsedPath&, const MailParams&, Done d) override {
        d(SmtpVerdict::ok);
    }
    void check_rcpt(const SmtpClientInfo&, const ParsedPath&, Done d) override {
        d(SmtpVerdict::ok);
    }
    void check_data(const SmtpClientInfo&, const SmtpEnvelope&, Done d) override {
        d(SmtpVerdict::ok);
    }
    void deliver(const SmtpClientInfo&, SmtpMessage,
                 std::function<void(SmtpDeliveryResult)> d) override {
        d({SmtpVerdict::ok, "Q1"});
    }
    std::unique_ptr<SaslServer> sasl(std::string_view mech) override {
        SaslCallbacks cb;
        cb.resolve_login = [](std::string_view l) -> std::expected<std::string, SaslLookupError> {
            if (l == "alice" || l == "alice@example.test") return "alice@example.test";
            return std::unexpected(SaslLookupError::not_found);
        };
        cb.verify_password = [this](std::string_view user, std::string_view pw) {
            verified.emplace_back(user);  // unknown users too: the daemon's dummy hash
            return user == "alice@example.test" && pw == "secret" ? PasswordCheck::ok
                                                                  : PasswordCheck::mismatch;
        };
        return make_sasl_server(mech, cb);
    }
};

// Captures log lines for the life of the test.
struct LogCapture {
    std::vector<std::string> lines;
    LogCapture() {
        log_set_sink([this](LogLevel, const std::string& l) { lines.push_back(l); });
    }
    ~LogCapture() { log_set_sink({}); }
    std::vector<std::string> matching(std::string_view what) const {
        std::vector<std::string> out;
        for (const auto& l : lines)
            if (l.find(what) != std::string::npos) out.push_back(l);
        return out;
    }
};

// One client connection (TLS already on) from `ip`.
struct Client {
    Transport t;
    SessionLog log;
    std::unique_ptr<SmtpSession> s;

    Client(Handler& h, AuthBudget* budget, std::string ip = "192.0.2.7") {
        SmtpSessionConfig cfg;
        cfg.hostname = "mx.test";
        cfg.kind = SmtpListenerKind::submission;
        cfg.auth_budget = budget;
        cfg.max_auth_failures = 3;
        SmtpClientInfo c;
        c.ip = std::move(ip);
        c.tls = true;
        s = std::make_unique<SmtpSession>(cfg, c, t, h, &log);
        t.session = s.get();
        s->on_open();
        say("EHLO client.test\r\n");
    }
    // Sends bytes; the reply, after the delay timer if one was started.
    std::string say(std::string_view bytes) {
        t.out.clear();
        REQUIRE(t.reader.feed(bytes));
        t.pump();
        return std::exchange(t.out, {});
    }
    // Fires the pending delay; returns its length and what was then written.
    std::pair<uint64_t, std::string> fire() {
        REQUIRE(t.timer);
        uint64_t ms = *t.timer;
        t.timer.reset();
        s->on_timer();
        t.pump();
        return {ms, std::exchange(t.out, {})};
    }
    std::pair<uint64_t, std::string> auth_plain(std::string_view user, std::string_view pw) {
        std::string raw = std::string(1, '\0') + std::string(user) + '\0' + std::string(pw);
        CHECK(say("AUTH PLAIN " + base64_encode(raw) + "\r\n").empty());  // held back
        return fire();
    }
};

AuthBudgetConfig small_budget() {
    AuthBudgetConfig c;
    c.window_seconds = 600;
    c.ip_lockout_failures = 5;
    c.login_lockout_failures = 10;
    c.lockout_seconds = 60;
    c.failure_delay_ms = 100;
    c.max_failure_delay_ms = 800;
    return c;
}

}  // namespace

TEST_CASE("smtp auth: a failure is logged on one fixed-format line, the login escaped") {
    LogCapture logs;
    Handler h;
    Client c(h, nullptr);
    auto [ms, reply] = c.auth_plain("ev\"il\r\n\x1b[31mbob", "x");
    CHECK(ms == 1000);  // no budget: the session's fixed delay
    CHECK(reply == "535 5.7.8 Authentication credentials invalid\r\n");
    auto lines = logs.matching("auth failed:");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "[" + c.log.id() + "] auth failed: ip=192.0.2.7 " +
                          "login=\"ev\\\"il\\r\\n\\x1b[31mbob\" mech=PLAIN");
    // The unknown user still cost one password check (the daemon's dummy hash).
    CHECK(h.verified == std::vector<std::string>{std::string("ev\"il\r\n\x1b[31mbob")});
}

TEST_CASE("smtp auth: the budget spans sessions, then refuses without checking passwords") {
    LogCapture logs;
    Handler h;
    uint64_t now = 5'000'000;
    AuthBudget budget(small_budget(), [&] { return now; });
    std::vector<uint64_t> delays;
    {
        Client c(h, &budget);
        for (int i = 0; i < 3; ++i) {
            auto [ms, reply] = c.auth_plain("alice", "guess" + std::to_string(i));
            delays.push_back(ms);
            CHECK(reply.starts_with("535 5.7.8"));
        }
        CHECK(c.t.closed);  // smtpd.max_auth_failures
    }
    {
        Client c(h, &budget);  // a new session starts where the last one stopped
        delays.push_back(c.auth_plain("alice", "guess3").first);
        auto [ms, reply] = c.auth_plain("bob", "guess4");  // the address's 5th failure
        delays.push_back(ms);
        CHECK(reply.starts_with("535 5.7.8"));
        CHECK(delays == std::vector<uint64_t>{100, 200, 400, 800, 800});
        CHECK(logs.matching("auth lockout: ip=192.0.2.7 failures=5 seconds=60").size() == 1);

        // Locked: even the right password gets the temporary refusal, unchecked.
        size_t checks = h.verified.size();
        std::tie(ms, reply) = c.auth_plain("alice", "secret");
        CHECK(reply ==
              "454 4.7.0 Too many failed logins, try again later\r\n"
              "421 4.7.0 mx.test Error: too many authentication failures\r\n");
        CHECK(ms == 800);
        CHECK(h.verified.size() == checks);
        CHECK(logs.matching("auth refused: ip=192.0.2.7 login=\"alice\" mech=PLAIN "
                            "reason=ip-locked")
                  .size() == 1);
    }
    {
        Client other(h, &budget, "198.51.100.1");  // another address is not locked
        CHECK(other.say("AUTH PLAIN " + base64_encode(std::string("\0alice\0secret", 13)) +
                        "\r\n") == "235 2.7.0 Authentication successful\r\n");
    }
    now += 60'000;  // the lockout is over
    Client again(h, &budget);
    CHECK(again.say("AUTH PLAIN " + base64_encode(std::string("\0alice\0secret", 13)) + "\r\n") ==
          "235 2.7.0 Authentication successful\r\n");
    CHECK(logs.matching("auth failed:").size() == 5);
}

TEST_CASE("smtp auth: an over-long password says so and is never checked") {
    Handler h;
    SECTION("inside the line limit: PLAIN field over its limit") {
        Client c(h, nullptr);
        auto [ms, reply] = c.auth_plain("alice", std::string(5000, 'p'));
        CHECK(reply == "500 5.5.6 Authentication exchange line is too long\r\n");
    }
    SECTION("over the line limit: an AUTH LOGIN password line of 250 kB") {
        Client c(h, nullptr);
        CHECK(c.say("AUTH LOGIN " + base64_encode("alice") + "\r\n") == "334 UGFzc3dvcmQ6\r\n");
        CHECK(c.say(std::string(250'000, 'A') + "\r\n").empty());
        CHECK(c.fire().second == "500 5.5.6 Authentication exchange line is too long\r\n");
        CHECK(c.say("NOOP\r\n") == "250 2.0.0 Ok\r\n");  // the session goes on
    }
    CHECK(h.verified.empty());
}
