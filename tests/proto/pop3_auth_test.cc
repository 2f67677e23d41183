// POP3 logins and the failed-login budget: USER/PASS and SASL over a fake backend, a fake
// clock and a captured log (the other session tests are in pop3_session_test.cc).
#include "libproto/auth/auth_budget.h"
#include "libproto/core/base64.h"
#include "libproto/core/log.h"
#include "tests/support/pop3_maildrop_memory.h"
#include "libproto/pop3/pop3_session.h"

#include <catch2/catch.hpp>

using namespace postern;

namespace {

struct Backend : Pop3Backend {
    Pop3MemoryStore store;
    SaslCallbacks cb;
    std::vector<std::string> verified;  // every password check, unknown users included

    Backend() {
        cb.resolve_login = [](std::string_view l) -> std::expected<std::string, SaslLookupError> {
            if (l == "alice" || l == "alice@example.test") return "alice@example.test";
            return std::unexpected(SaslLookupError::not_found);
        };
        cb.verify_password = [this](std::string_view user, std::string_view pw) {
            verified.emplace_back(user);
            return user == "alice@example.test" && pw == "s3cret" ? PasswordCheck::ok
                                                                  : PasswordCheck::mismatch;
        };
    }
    const SaslCallbacks& sasl_callbacks() override { return cb; }
    std::expected<std::unique_ptr<Maildrop>, MaildropError> open_maildrop(
        const std::string& user) override {
        return store.open(user, false);
    }
};

struct LogCapture {
    std::vector<std::string> lines;
    LogCapture() {
        log_set_sink([this](LogLevel, const std::string& l) { lines.push_back(l); });
    }
    ~LogCapture() { log_set_sink({}); }
    size_t count(std::string_view what) const {
        size_t n = 0;
        for (const auto& l : lines) n += l.find(what) != std::string::npos;
        return n;
    }
};

struct Client {
    SessionLog log;
    Pop3Session s;

    Client(Backend& b, AuthBudget* budget, bool defer = false, std::string ip = "192.0.2.7")
        : s(b, options(budget, defer, std::move(ip)), &log) {
        s.start();
        s.take_output();
    }
    static Pop3SessionOptions options(AuthBudget* budget, bool defer, std::string ip) {
        Pop3SessionOptions o;
        o.tls_active = true;
        o.auth_budget = budget;
        o.client_ip = std::move(ip);
        o.defer_password_check = defer;
        return o;
    }
    std::string cmd(const std::string& line) {
        s.on_line(line);
        return s.take_output();
    }
    // A login attempt whose reply waits for the timer: (delay, reply).
    std::pair<uint32_t, std::string> login(const std::string& user, const std::string& pw) {
        REQUIRE(cmd("USER " + user).starts_with("+OK"));
        std::string r = cmd("PASS " + pw);
        if (s.wait() != Pop3Wait::timer) return {0, r};
        uint32_t ms = s.timer_ms();
        s.timer_fired();
        return {ms, r + s.take_output()};
    }
};

AuthBudgetConfig small_budget() {
    AuthBudgetConfig c;
    c.ip_lockout_failures = 4;
    c.login_lockout_failures = 10;
    c.lockout_seconds = 60;
    c.failure_delay_ms = 100;
    c.max_failure_delay_ms = 400;
    return c;
}

}  // namespace

TEST_CASE("pop3 auth: failures are logged on one fixed-format line, the login escaped") {
    LogCapture logs;
    Backend b;
    Client c(b, nullptr);
    auto [ms, reply] = c.login("mal\x1b[2Jlo\rry", "x");
    CHECK(ms == 2000);  // no budget: the session's fixed delay
    CHECK(reply == "-ERR [AUTH] Authentication failed\r\n");
    CHECK(logs.count("[" + c.log.id() +
                     "] auth failed: ip=192.0.2.7 login=\"mal\\x1b[2Jlo\\rry\" mech=USER") == 1);
    CHECK(b.verified.size() == 1);  // the unknown user cost one check
    std::string plain = base64_encode(std::string("\0alice\0nope", 11));
    CHECK(c.cmd("AUTH PLAIN " + plain).empty());
    c.s.timer_fired();
    CHECK(logs.count("auth failed: ip=192.0.2.7 login=\"alice\" mech=PLAIN") == 1);
}

TEST_CASE("pop3 auth: the budget spans sessions, then refuses without checking passwords") {
    LogCapture logs;
    Backend b;
    uint64_t now = 1'000'000;
    AuthBudget budget(small_budget(), [&] { return now; });
    std::vector<uint32_t> delays;
    {
        Client c(b, &budget);
        for (int i = 0; i < 3; ++i) delays.push_back(c.login("alice", "wrong").first);
        CHECK(c.s.wait() == Pop3Wait::closed);  // pop3d.max_auth_failures
    }
    Client c(b, &budget);
    delays.push_back(c.login("nobody", "wrong").first);  // the 4th: the address is locked
    CHECK(delays == std::vector<uint32_t>{100, 200, 400, 400});
    CHECK(logs.count("auth lockout: ip=192.0.2.7 failures=4 seconds=60") == 1);
    size_t checks = b.verified.size();
    auto [ms, reply] = c.login("alice", "s3cret");
    CHECK(ms == 400);
    CHECK(reply == "-ERR [SYS/TEMP] Too many failed logins, try again later\r\n");
    std::string plain = base64_encode(std::string("\0alice\0s3cret", 13));
    CHECK(c.cmd("AUTH PLAIN " + plain).empty());
    c.s.timer_fired();
    CHECK(c.s.take_output() ==
          "-ERR [SYS/TEMP] Too many failed logins, try again later; closing connection\r\n");
    CHECK(b.verified.size() == checks);  // nothing was checked
    CHECK(logs.count("reason=ip-locked") == 2);

    Client elsewhere(b, &budget, false, "198.51.100.1");
    CHECK(elsewhere.login("alice", "s3cret").second.starts_with("+OK"));
    now += 60'000;
    Client later(b, &budget);
    CHECK(later.login("alice", "s3cret").second.starts_with("+OK"));
}

TEST_CASE("pop3 auth: a refused USER/PASS never reaches the deferred password check") {
    LogCapture logs;
    Backend b;
    uint64_t now = 0;
    auto cfg = small_budget();
    cfg.ip_lockout_failures = 1;
    AuthBudget budget(cfg, [&] { return now; });
    budget.failed("192.0.2.7", "x");
    Client c(b, &budget, true);
    REQUIRE(c.cmd("USER alice").starts_with("+OK"));
    CHECK(c.cmd("PASS s3cret").empty());
    CHECK(c.s.wait() == Pop3Wait::timer);  // not Pop3Wait::password
    c.s.timer_fired();
    CHECK(c.s.take_output().starts_with("-ERR [SYS/TEMP]"));
}

TEST_CASE("pop3 auth: an over-long SASL password says so and is never checked") {
    Backend b;
    Client c(b, nullptr);
    std::string plain = base64_encode(std::string("\0alice\0", 7) + std::string(4000, 'p'));
    CHECK(c.cmd("AUTH PLAIN") == "+ \r\n");  // an initial response that long is no command
    CHECK(c.cmd(plain) ==
          "-ERR Authentication exchange line is too long, authentication aborted\r\n");
    CHECK(c.s.wait() == Pop3Wait::input);
    CHECK(c.cmd("AUTH PLAIN") == "+ \r\n");
    c.s.on_line_too_long();
    CHECK(c.s.take_output() ==
          "-ERR Authentication exchange line is too long, authentication aborted\r\n");
    CHECK(b.verified.empty());
}
