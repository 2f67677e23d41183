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
        Case{"authzid = canonical",
             plain("alice@example.org", "alice", "secret"),
             "alice@example.org",
             {}},
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
        Case{"oversize", std::string(9000, 'A'), "", SaslFailure::too_long},
        Case{"oversize field", plain("", "alice", std::string(2000, 'x')), "",
             SaslFailure::too_long});
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
        CHECK(is_failure(s->step(b64(std::string(20, 'a'))), SaslFailure::too_long));
    }
}

TEST_CASE("sasl PLAIN/LOGIN: unknown users cost one password check too") {
    // The daemon's verify_password runs a dummy hash for names that are no user; the
    // engine must call it for them, or unknown users answer faster than known ones.
    struct Case {
        const char* label;
        const char* mech;
        std::string login;
        int want_calls;
    };
    auto c = GENERATE(Case{"PLAIN known user", "PLAIN", "alice", 1},
                      Case{"PLAIN unknown user", "PLAIN", "mallory", 1},
                      Case{"LOGIN known user", "LOGIN", "alice", 1},
                      Case{"LOGIN unknown user", "LOGIN", "mallory@example.org", 1},
                      Case{"PLAIN temporary lookup", "PLAIN", "temp", 0});
    DYNAMIC_SECTION(c.label) {
        Users users;
        std::vector<std::string> verified;
        auto cb = users.callbacks();
        auto inner = cb.verify_password;
        cb.verify_password = [&](std::string_view user, std::string_view pw) {
            verified.emplace_back(user);
            return inner(user, pw);
        };
        auto s = make_sasl_server(c.mech, cb);
        SaslStep r = std::string(c.mech) == "PLAIN"
                         ? s->start(plain("", c.login, "wrong"))
                         : (s->start(b64(c.login)), s->step(b64("wrong")));
        CHECK(std::holds_alternative<SaslFailed>(r));
        INFO("verify_password calls: " << verified.size());
        REQUIRE(int(verified.size()) == c.want_calls);
        CHECK(s->login_name() == c.login);
    }
}

TEST_CASE("sasl: admission is asked with the canonical user before any password check") {
    Users users;
    std::vector<std::string> asked;
    bool allow = false;
    auto admit = [&](std::string_view account) {
        asked.emplace_back(account);
        return allow;
    };
    SECTION("PLAIN refused: no verification at all") {
        auto s = make_sasl_server("PLAIN", users.callbacks());
        s->set_admission(admit);
        CHECK(is_failure(s->start(plain("", "alice%example.org", "secret")), SaslFailure::refused));
        CHECK(asked == std::vector<std::string>{"alice@example.org"});
        CHECK(users.verify_calls == 0);
        CHECK(s->account() == "alice@example.org");
    }
    SECTION("LOGIN, unknown user: the key is the name as typed") {
        auto s = make_sasl_server("LOGIN", users.callbacks());
        s->set_admission(admit);
        s->start(b64("Mallory"));
        CHECK(is_failure(s->step(b64("x")), SaslFailure::refused));
        CHECK(asked == std::vector<std::string>{"Mallory"});
        CHECK(users.verify_calls == 0);
    }
    SECTION("admitted: the exchange goes on as usual") {
        allow = true;
        auto s = make_sasl_server("PLAIN", users.callbacks());
        s->set_admission(admit);
        CHECK(success_user(s->start(plain("", "alice", "secret"))) == "alice@example.org");
        CHECK(users.verify_calls == 1);
    }
    SECTION("SCRAM: asked at client-first, before the proof") {
        auto s = make_sasl_server("SCRAM-SHA-256", users.callbacks());
        s->set_admission(admit);
        CHECK(is_failure(s->start(b64("n,,n=user,r=abcdef")), SaslFailure::refused));
        CHECK(asked == std::vector<std::string>{"user@example.org"});
    }
}

TEST_CASE("sasl PLAIN/LOGIN: an over-long password is too_long and never verified") {
    Users users;
    const std::string huge(5000, 'p');
    SECTION("PLAIN") {
        auto s = make_sasl_server("PLAIN", users.callbacks());
        CHECK(is_failure(s->start(plain("", "alice", huge)), SaslFailure::too_long));
    }
    SECTION("LOGIN") {
        auto s = make_sasl_server("LOGIN", users.callbacks());
        s->start(b64("alice"));
        CHECK(is_failure(s->step(b64(huge)), SaslFailure::too_long));
    }
    SECTION("a line over max_line") {
        auto s = make_sasl_server("PLAIN", users.callbacks());
        CHECK(is_failure(s->start(std::string(9000, 'A')), SaslFailure::too_long));
    }
    CHECK(users.verify_calls == 0);
    CHECK(sasl_failure_text(SaslFailure::too_long) != sasl_failure_text(SaslFailure::malformed));
}
