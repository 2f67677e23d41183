// PLAIN (RFC 4616) and LOGIN.
#include "sasl_test_util.h"

#include <catch2/catch.hpp>

using namespace postern;
using namespace sasl_test;

namespace {

std::string plain(std::string_view authz, std::string_view authc, std::string_view pw) {
    std::string s(authz);
    s += '\0';
    s += authc;
    s += '\0';
    s += pw;
    return b64(s);
}

}  // namespace

TEST_CASE("sasl PLAIN: table of initial responses") {
    struct Case {
        const char* label;
        std::string ir;
        std::string want_user;  // empty: want failure
        SaslFailure want_fail;
    };
    auto c = GENERATE(
        Case{"ok", plain("", "alice", "secret"), "alice@example.org", {}},
        Case{"ok full name", plain("", "alice@example.org", "secret"), "alice@example.org", {}},
        Case{"ok percent login", plain("", "alice%example.org", "secret"), "alice@example.org", {}},
        Case{"authzid = authcid", plain("alice", "alice", "secret"), "alice@example.org", {}},
        Case{"authzid = canonical", plain("alice@example.org", "alice", "secret"),
             "alice@example.org", {}},
        Case{"authzid other user", plain("user@example.org", "alice", "secret"), "",
             SaslFailure::bad_credentials},
        Case{"wrong password", plain("", "alice", "Secret"), "", SaslFailure::bad_credentials},
        Case{"unknown user", plain("", "mallory", "secret"), "", SaslFailure::bad_credentials},
        Case{"empty password", plain("", "alice", ""), "", SaslFailure::bad_credentials},
        Case{"empty authcid", plain("", "", "secret"), "", SaslFailure::bad_credentials},
        Case{"temp lookup", plain("", "temp", "x"), "", SaslFailure::temp_failure},
        Case{"one NUL", b64(std::string("alice\0secret", 12)), "", SaslFailure::malformed},
        Case{"no NUL", b64("alicesecret"), "", SaslFailure::malformed},
        Case{"three NULs", b64(std::string("\0alice\0sec\0ret", 14)), "", SaslFailure::malformed},
        Case{"bad base64", "AGFsaWNlAHNlY3JldA=", "", SaslFailure::malformed},
        Case{"bad base64 chars", "AGFsaWNl*HNlY3JldA==", "", SaslFailure::malformed},
        Case{"empty IR '='", "=", "", SaslFailure::malformed},
        Case{"cancel", "*", "", SaslFailure::cancelled},
        Case{"oversize", std::string(9000, 'A'), "", SaslFailure::malformed},
        Case{"oversize field", plain("", "alice", std::string(2000, 'x')), "",
             SaslFailure::malformed});
    DYNAMIC_SECTION(c.label) {
        Users users;
        auto s = make_sasl_server("PLAIN", users.callbacks());
        REQUIRE(s);
        SaslStep r = s->start(c.ir);
        CHECK(s->done());
        if (!c.want_user.empty()) {
            INFO("got " << success_user(r) << ", want " << c.want_user);
            CHECK(success_user(r) == c.want_user);
        } else {
            INFO("want failure " << sasl_failure_text(c.want_fail) << ", got index " << r.index());
            CHECK(is_failure(r, c.want_fail));
        }
    }
}

TEST_CASE("sasl PLAIN: without initial response the server sends an empty challenge") {
    Users users;
    auto s = make_sasl_server("plain", users.callbacks());  // case-insensitive
    REQUIRE(s);
    CHECK(s->mechanism() == "PLAIN");
    auto r = s->start(std::nullopt);
    auto* c = std::get_if<SaslChallenge>(&r);
    REQUIRE(c);
    CHECK(c->base64.empty());
    CHECK(success_user(s->step(plain("", "alice", "secret"))) == "alice@example.org");
    CHECK(users.verify_calls == 1);
    // The exchange is over: anything else is a protocol error.
    CHECK(is_failure(s->step(plain("", "alice", "secret")), SaslFailure::malformed));
}

TEST_CASE("sasl PLAIN: cancel and empty response after the challenge") {
    Users users;
    auto s = make_sasl_server("PLAIN", users.callbacks());
    s->start(std::nullopt);
    CHECK(is_failure(s->step("*"), SaslFailure::cancelled));
    auto t = make_sasl_server("PLAIN", users.callbacks());
    t->start(std::nullopt);
    CHECK(is_failure(t->step(""), SaslFailure::malformed));
    auto u = make_sasl_server("PLAIN", users.callbacks());
    CHECK(is_failure(u->step(plain("", "alice", "secret")), SaslFailure::malformed));  // no start
}

TEST_CASE("sasl LOGIN: prompts, happy path and failures") {
    Users users;
    SECTION("no initial response") {
        auto s = make_sasl_server("LOGIN", users.callbacks());
        auto r = s->start(std::nullopt);
        CHECK(std::get<SaslChallenge>(r).base64 == "VXNlcm5hbWU6");
        r = s->step(b64("alice"));
        CHECK(std::get<SaslChallenge>(r).base64 == "UGFzc3dvcmQ6");
        CHECK(s->login_name() == "alice");
        CHECK(success_user(s->step(b64("secret"))) == "alice@example.org");
    }
    SECTION("user name as initial response") {
        auto s = make_sasl_server("LOGIN", users.callbacks());
        CHECK(challenge_text(s->start(b64("alice@example.org"))) == "Password:");
        CHECK(success_user(s->step(b64("secret"))) == "alice@example.org");
    }
    SECTION("wrong password") {
        auto s = make_sasl_server("LOGIN", users.callbacks());
        s->start(std::nullopt);
        s->step(b64("alice"));
        CHECK(is_failure(s->step(b64("nope")), SaslFailure::bad_credentials));
        CHECK(s->done());
    }
    SECTION("cancel at the password prompt") {
        auto s = make_sasl_server("LOGIN", users.callbacks());
        s->start(std::nullopt);
        s->step(b64("alice"));
        CHECK(is_failure(s->step("*"), SaslFailure::cancelled));
    }
    SECTION("malformed base64 user name") {
        auto s = make_sasl_server("LOGIN", users.callbacks());
        s->start(std::nullopt);
        CHECK(is_failure(s->step("YWxpY2U"), SaslFailure::malformed));
    }
    SECTION("empty user name") {
        auto s = make_sasl_server("LOGIN", users.callbacks());
        s->start(std::nullopt);
        s->step("");
        CHECK(is_failure(s->step(b64("secret")), SaslFailure::bad_credentials));
    }
    SECTION("temporary failure") {
        auto s = make_sasl_server("LOGIN", users.callbacks());
        s->start(b64("temp"));
        CHECK(is_failure(s->step(b64("x")), SaslFailure::temp_failure));
    }
    SECTION("oversize line") {
        SaslOptions opt;
        opt.max_line = 16;
        auto s = make_sasl_server("LOGIN", users.callbacks(), opt);
        s->start(std::nullopt);
        CHECK(is_failure(s->step(b64(std::string(20, 'a'))), SaslFailure::malformed));
    }
}
