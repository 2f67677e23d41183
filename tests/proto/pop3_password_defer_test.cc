// Pop3SessionOptions::defer_password_check: USER/PASS waits (Pop3Wait::password) while
// the daemon verifies the password elsewhere (pop3d: libuv's thread pool).

#include <catch2/catch.hpp>

#include "tests/support/pop3_maildrop_memory.h"
#include "libproto/pop3/pop3_session.h"

using namespace postern;

namespace {

struct DeferBackend : Pop3Backend {
    Pop3MemoryStore store;
    SaslCallbacks cb;
    int inline_checks = 0;
    DeferBackend() {
        cb.resolve_login =
            [](std::string_view login) -> std::expected<std::string, SaslLookupError> {
            if (login == "alice" || login == "alice@example.test") return "alice@example.test";
            return std::unexpected(SaslLookupError::not_found);
        };
        cb.verify_password = [this](std::string_view, std::string_view) {
            ++inline_checks;
            return PasswordCheck::ok;
        };
    }
    const SaslCallbacks& sasl_callbacks() override { return cb; }
    std::expected<std::unique_ptr<Maildrop>, MaildropError> open_maildrop(
        const std::string& user) override {
        return store.open(user, true);
    }
};

Pop3SessionOptions deferred() {
    Pop3SessionOptions o;
    o.tls_active = true;
    o.defer_password_check = true;
    return o;
}

}  // namespace

TEST_CASE("pop3 deferred password check") {
    DeferBackend be;
    be.store.deliver("alice@example.test", "Subject: a\r\n\r\nhello\r\n");
    Pop3Session s(be, deferred());
    s.start();
    s.take_output();
    s.on_line("USER alice");
    REQUIRE(s.take_output().starts_with("+OK"));

    SECTION("ok: logged in, pipelined lines run after the verdict") {
        s.on_line("PASS right");
        s.on_line("STAT");
        CHECK(s.wait() == Pop3Wait::password);
        CHECK(s.take_output().empty());
        const auto& req = s.password_request();
        CHECK(req.user == "alice@example.test");
        CHECK(req.login == "alice");
        CHECK(req.password == "right");
        CHECK(req.known_user);
        s.password_checked(PasswordCheck::ok);
        std::string out = s.take_output();
        INFO("got: " << out);
        CHECK(out.starts_with("+OK Logged in, 1 messages"));
        CHECK(out.find("\r\n+OK 1 ") != std::string::npos);  // the pipelined STAT
        CHECK(s.authenticated());
        CHECK(s.password_request().password.empty());
        CHECK(be.inline_checks == 0);
    }
    SECTION("mismatch: the delayed -ERR [AUTH]") {
        s.on_line("PASS wrong");
        s.password_checked(PasswordCheck::mismatch);
        CHECK(s.wait() == Pop3Wait::timer);
        s.timer_fired();
        CHECK(s.take_output().starts_with("-ERR [AUTH] Authentication failed"));
        CHECK_FALSE(s.authenticated());
    }
    SECTION("temporary: [SYS/TEMP] at once, still in AUTHORIZATION") {
        s.on_line("PASS x");
        s.password_checked(PasswordCheck::temporary);
        CHECK(s.take_output().starts_with("-ERR [SYS/TEMP]"));
        CHECK(s.wait() == Pop3Wait::input);
    }
    SECTION("connection lost meanwhile: a late verdict is ignored") {
        s.on_line("PASS right");
        s.connection_lost();
        s.password_checked(PasswordCheck::ok);
        CHECK_FALSE(s.authenticated());
        CHECK(s.wait() == Pop3Wait::closed);
    }
    SECTION("shutdown meanwhile: closes once the check is done") {
        s.on_line("PASS right");
        s.shutdown();
        CHECK(s.wait() == Pop3Wait::password);
        s.password_checked(PasswordCheck::ok);
        CHECK(s.wait() == Pop3Wait::closed);
    }
}

TEST_CASE("pop3 deferred password check: unknown user still asks for one check") {
    DeferBackend be;
    Pop3Session s(be, deferred());
    s.start();
    s.on_line("USER mallory");
    s.on_line("PASS guess");
    REQUIRE(s.wait() == Pop3Wait::password);
    CHECK_FALSE(s.password_request().known_user);
    s.password_checked(PasswordCheck::ok);  // whatever the daemon says: not known
    CHECK(s.wait() == Pop3Wait::timer);
}
