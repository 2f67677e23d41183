// Mechanism-independent parts: factory, advertising, CRAM-MD5.
#include "sasl_test_util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <catch2/catch.hpp>

using namespace postern;
using namespace sasl_test;

TEST_CASE("sasl: factory knows the mechanisms, case-insensitively") {
    Users users;
    auto cb = users.callbacks();
    CHECK(make_sasl_server("PLAIN", cb));
    CHECK(make_sasl_server("login", cb));
    CHECK(make_sasl_server("Scram-Sha-256", cb));
    CHECK(make_sasl_server("CRAM-MD5", cb));
    CHECK_FALSE(make_sasl_server("GSSAPI", cb));
    CHECK_FALSE(make_sasl_server("SCRAM-SHA-256-PLUS", cb));
    CHECK_FALSE(make_sasl_server("", cb));
    cb.cram_md5_secret = nullptr;
    CHECK_FALSE(make_sasl_server("CRAM-MD5", cb));
}

TEST_CASE("sasl: advertised mechanisms follow TLS and policy") {
    using V = std::vector<std::string_view>;
    CHECK(sasl_mechanisms(true, {}) == V{"SCRAM-SHA-256", "PLAIN", "LOGIN"});
    CHECK(sasl_mechanisms(false, {}) == V{"SCRAM-SHA-256"});
    CHECK(sasl_mechanisms(false, SaslPolicy{true, false}) == V{"SCRAM-SHA-256", "PLAIN", "LOGIN"});
    CHECK(sasl_mechanisms(true, SaslPolicy{false, true}) ==
          V{"SCRAM-SHA-256", "PLAIN", "LOGIN", "CRAM-MD5"});
    CHECK(sasl_mechanism_allowed("plain", true, {}));
    CHECK_FALSE(sasl_mechanism_allowed("PLAIN", false, {}));
    CHECK_FALSE(sasl_mechanism_allowed("CRAM-MD5", true, {}));
    CHECK(sasl_mechanism_allowed("scram-sha-256", false, {}));
}

TEST_CASE("sasl: start twice is a protocol error") {
    Users users;
    auto s = make_sasl_server("LOGIN", users.callbacks());
    s->start(std::nullopt);
    CHECK(is_failure(s->start(std::nullopt), SaslFailure::malformed));
    CHECK(s->done());
}

TEST_CASE("sasl: failure texts are distinct") {
    CHECK(sasl_failure_text(SaslFailure::malformed) != sasl_failure_text(SaslFailure::cancelled));
    CHECK(sasl_failure_text(SaslFailure::bad_credentials) !=
          sasl_failure_text(SaslFailure::temp_failure));
}

namespace {

std::string cram_response(std::string_view user, std::string_view secret,
                          std::string_view challenge) {
    unsigned char mac[16];
    unsigned len = 0;
    HMAC(EVP_md5(), secret.data(), int(secret.size()), (const unsigned char*)challenge.data(),
         challenge.size(), mac, &len);
    std::string hex;
    for (unsigned char c : mac) {
        hex += "0123456789abcdef"[c >> 4];
        hex += "0123456789abcdef"[c & 15];
    }
    return std::string(user) + " " + hex;
}

}  // namespace

TEST_CASE("sasl CRAM-MD5: RFC 2195 style exchange") {
    Users users;
    SaslOptions opt;
    opt.nonce_source = [] { return "1896.697170952"; };
    opt.hostname = "postoffice.reston.mci.net";
    SECTION("RFC 2195 example digest") {
        users.passwords["tim@example.org"] = "tanstaaftanstaaf";
        auto cb = users.callbacks();
        cb.resolve_login = [](std::string_view l) -> std::expected<std::string, SaslLookupError> {
            if (l == "tim") return std::string("tim@example.org");
            return std::unexpected(SaslLookupError::not_found);
        };
        auto s = make_sasl_server("CRAM-MD5", cb, opt);
        auto r = s->start(std::nullopt);
        CHECK(challenge_text(r) == "<1896.697170952@postoffice.reston.mci.net>");
        CHECK(std::get<SaslChallenge>(r).base64 ==
              "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
        CHECK(success_user(s->step("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw")) ==
              "tim@example.org");
    }
    SECTION("wrong secret, unknown user, malformed, initial response") {
        auto s = make_sasl_server("CRAM-MD5", users.callbacks(), opt);
        auto ch = challenge_text(s->start(std::nullopt));
        CHECK(is_failure(s->step(b64(cram_response("alice", "wrong", ch))),
                         SaslFailure::bad_credentials));
        auto t = make_sasl_server("CRAM-MD5", users.callbacks(), opt);
        t->start(std::nullopt);
        CHECK(is_failure(t->step(b64(cram_response("ghost", "secret", ch))),
                         SaslFailure::bad_credentials));
        auto u = make_sasl_server("CRAM-MD5", users.callbacks(), opt);
        u->start(std::nullopt);
        CHECK(is_failure(u->step(b64("alice 1234")), SaslFailure::malformed));
        auto v = make_sasl_server("CRAM-MD5", users.callbacks(), opt);
        CHECK(is_failure(v->start(b64("alice")), SaslFailure::malformed));
        auto w = make_sasl_server("CRAM-MD5", users.callbacks(), opt);
        w->start(std::nullopt);
        CHECK(success_user(w->step(b64(cram_response("alice", "secret", ch)))) ==
              "alice@example.org");
    }
}
