// SaslOptions::defer_lookups: the callbacks run in SaslPending work (meant for a pool
// thread), the exchange continues with resume(), and admission still comes before the
// password is verified.

#include <catch2/catch.hpp>

#include "tests/proto/sasl_test_util.h"

using namespace postern;
using namespace sasl_test;

namespace {

SaslOptions deferred() {
    SaslOptions o;
    o.defer_lookups = true;
    o.nonce_source = [] { return std::string("srvnonce"); };
    return o;
}

// Runs pending work until the step is something else; counts the rounds.
SaslStep settle(SaslServer& s, SaslStep step, int& rounds) {
    while (auto* p = std::get_if<SaslPending>(&step)) {
        ++rounds;
        p->work();
        step = s.resume();
    }
    return step;
}

}  // namespace

TEST_CASE("sasl deferred: PLAIN resolves, admits, then verifies off the loop") {
    Users users;
    auto s = make_sasl_server("PLAIN", users.callbacks(), deferred());
    std::vector<std::string> admitted;
    s->set_admission([&](std::string_view a) {
        admitted.emplace_back(a);
        CHECK(users.verify_calls == 0);  // before any password check
        return true;
    });
    SaslStep r = s->start(b64(std::string("\0alice\0secret", 13)));
    REQUIRE(std::holds_alternative<SaslPending>(r));
    CHECK(users.verify_calls == 0);
    int rounds = 0;
    r = settle(*s, std::move(r), rounds);
    CHECK(rounds == 2);
    CHECK(success_user(r) == "alice@example.org");
    CHECK(admitted == std::vector<std::string>{"alice@example.org"});
    CHECK(users.verify_calls == 1);
}

TEST_CASE("sasl deferred: unknown users still cost a hash; authzid; refusal") {
    Users users;
    int rounds = 0;
    auto s = make_sasl_server("PLAIN", users.callbacks(), deferred());
    auto r = settle(*s, s->start(b64(std::string("\0ghost\0x", 8))), rounds);
    CHECK(is_failure(r, SaslFailure::bad_credentials));
    CHECK(users.verify_calls == 1);

    s = make_sasl_server("PLAIN", users.callbacks(), deferred());
    r = settle(*s, s->start(b64(std::string("bob\0alice\0secret", 16))), rounds);
    CHECK(is_failure(r, SaslFailure::bad_credentials));

    s = make_sasl_server("LOGIN", users.callbacks(), deferred());
    s->set_admission([](std::string_view) { return false; });
    CHECK(challenge_text(s->start(std::nullopt)) == "Username:");
    CHECK(challenge_text(s->step(b64("alice"))) == "Password:");
    int before = users.verify_calls;
    r = settle(*s, s->step(b64("secret")), rounds);
    CHECK(is_failure(r, SaslFailure::refused));
    CHECK(users.verify_calls == before);
}

TEST_CASE("sasl deferred: SCRAM key lookup is pending work; no step while pending") {
    Users users;
    auto s = make_sasl_server("SCRAM-SHA-256", users.callbacks(), deferred());
    SaslStep r = s->start(b64("n,,n=user,r=abc"));
    REQUIRE(std::holds_alternative<SaslPending>(r));
    auto work = std::move(std::get<SaslPending>(r).work);
    // Input while a lookup is pending is a protocol error, never a second exchange.
    CHECK(is_failure(s->step(b64("c=biws")), SaslFailure::malformed));

    // The server may be gone before its work runs: the work holds only its own state.
    s = make_sasl_server("SCRAM-SHA-256", users.callbacks(), deferred());
    r = s->start(b64("n,,n=user,r=abc"));
    work = std::move(std::get<SaslPending>(r).work);
    s.reset();
    work();

    s = make_sasl_server("SCRAM-SHA-256", users.callbacks(), deferred());
    int rounds = 0;
    r = settle(*s, s->start(b64("n,,n=user,r=abc")), rounds);
    CHECK(rounds == 1);
    CHECK(challenge_text(r).starts_with("r=abcsrvnonce,s="));
}
