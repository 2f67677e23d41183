// SCRAM-SHA-256 (RFC 5802 / RFC 7677).
#include "sasl_test_util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <catch2/catch.hpp>

using namespace postern;
using namespace sasl_test;

namespace {

const std::string rfc_cnonce = "rOprNGfwEbeRWgbNEkqO";
const std::string rfc_snonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const std::string rfc_salt_b64 = "W22ZaJ0SNY7soEsUEjb6gQ==";

struct Fixture {
    Users users;
    SaslOptions opt;
    Fixture() {
        users.scram["user@example.org"] =
            scram_derive_keys("pencil", *base64_decode(rfc_salt_b64), 4096);
        opt.nonce_source = [] { return rfc_snonce; };
        opt.fake_user_secret = "test secret";
    }
    std::unique_ptr<SaslServer> server() {
        return make_sasl_server("SCRAM-SHA-256", users.callbacks(), opt);
    }
};

std::string hmac(std::string_view key, std::string_view data) {
    unsigned char out[32];
    unsigned len = 0;
    HMAC(EVP_sha256(), key.data(), int(key.size()), (const unsigned char*)data.data(), data.size(),
         out, &len);
    return std::string((char*)out, 32);
}

// Client side of the exchange, for building proofs in the tests.
std::string client_final(std::string_view password, std::string_view client_first_bare,
                         std::string_view server_first, std::string_view without_proof) {
    auto attrs = std::string(server_first);
    size_t s = attrs.find(",s="), i = attrs.find(",i=");
    auto salt = *base64_decode(attrs.substr(s + 3, i - s - 3));
    int iter = std::stoi(attrs.substr(i + 3));
    unsigned char salted[32];
    PKCS5_PBKDF2_HMAC(password.data(), int(password.size()), (const unsigned char*)salt.data(),
                      int(salt.size()), iter, EVP_sha256(), 32, salted);
    std::string salted_s((char*)salted, 32);
    std::string client_key = hmac(salted_s, "Client Key");
    unsigned char stored[32];
    SHA256((const unsigned char*)client_key.data(), 32, stored);
    std::string auth = std::string(client_first_bare) + "," + std::string(server_first) + "," +
                       std::string(without_proof);
    std::string sig = hmac(std::string((char*)stored, 32), auth);
    std::string proof(32, '\0');
    for (int k = 0; k < 32; ++k) proof[k] = char(client_key[k] ^ sig[k]);
    return std::string(without_proof) + ",p=" + base64_encode(proof);
}

}  // namespace

TEST_CASE("sasl SCRAM-SHA-256: RFC 7677 example exchange") {
    Fixture f;
    auto s = f.server();
    REQUIRE(s);
    auto r = s->start(b64("n,,n=user,r=" + rfc_cnonce));
    std::string want_first = "r=" + rfc_cnonce + rfc_snonce + ",s=" + rfc_salt_b64 + ",i=4096";
    INFO("got " << challenge_text(r) << ", want " << want_first);
    REQUIRE(challenge_text(r) == want_first);
    r = s->step(b64("c=biws,r=" + rfc_cnonce + rfc_snonce +
                    ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
    // SMTP/POP3 style: the server-final goes out as a challenge, acked with an empty line.
    CHECK(challenge_text(r) == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    CHECK_FALSE(s->done());
    CHECK(success_user(s->step("")) == "user@example.org");
    CHECK(s->done());
}

TEST_CASE("sasl SCRAM-SHA-256: final data with success when the protocol allows it") {
    Fixture f;
    f.opt.success_data_allowed = true;
    auto s = f.server();
    s->start(std::nullopt);  // empty challenge first, then client-first as a response
    auto r = s->step(b64("n,,n=user,r=" + rfc_cnonce));
    REQUIRE(std::holds_alternative<SaslChallenge>(r));
    r = s->step(b64("c=biws,r=" + rfc_cnonce + rfc_snonce +
                    ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
    auto* ok = std::get_if<SaslSuccess>(&r);
    REQUIRE(ok);
    CHECK(ok->user == "user@example.org");
    REQUIRE(ok->final_data);
    CHECK(*base64_decode(*ok->final_data) == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

TEST_CASE("sasl SCRAM-SHA-256: 'y' flag, wrong password, unknown user") {
    Fixture f;
    std::string bare = "n=user,r=" + rfc_cnonce;
    std::string nonce = rfc_cnonce + rfc_snonce;
    SECTION("y,, is accepted and its gs2 header must be echoed as c=eSws") {
        auto s = f.server();
        auto sf = challenge_text(s->start(b64("y,," + bare)));
        auto r = s->step(b64(client_final("pencil", bare, sf, "c=eSws,r=" + nonce)));
        CHECK(challenge_text(r).starts_with("v="));
        CHECK(success_user(s->step("")) == "user@example.org");
    }
    SECTION("y,, with c=biws is a channel-binding mismatch") {
        auto s = f.server();
        auto sf = challenge_text(s->start(b64("y,," + bare)));
        CHECK(is_failure(s->step(b64(client_final("pencil", bare, sf, "c=biws,r=" + nonce))),
                         SaslFailure::malformed));
    }
    SECTION("wrong password") {
        auto s = f.server();
        auto sf = challenge_text(s->start(b64("n,," + bare)));
        CHECK(is_failure(s->step(b64(client_final("Pencil", bare, sf, "c=biws,r=" + nonce))),
                         SaslFailure::bad_credentials));
    }
    SECTION("unknown user gets a stable fake salt and the default iteration count") {
        auto a = f.server();
        auto sf1 = challenge_text(a->start(b64("n,,n=ghost,r=" + rfc_cnonce)));
        auto b = f.server();
        auto sf2 = challenge_text(b->start(b64("n,,n=ghost,r=" + rfc_cnonce)));
        auto c = f.server();
        auto sf3 = challenge_text(c->start(b64("n,,n=phantom,r=" + rfc_cnonce)));
        CHECK(sf1 == sf2);
        CHECK(sf1 != sf3);
        CHECK(sf1.ends_with(",i=4096"));
        // Same shape as a real user's server-first-message.
        auto real = challenge_text(f.server()->start(b64("n,," + bare)));
        CHECK(sf1.size() == real.size());
        // Even a proof made from the fake parameters never succeeds.
        std::string b2 = "n=ghost,r=" + rfc_cnonce;
        CHECK(is_failure(a->step(b64(client_final("pencil", b2, sf1, "c=biws,r=" + nonce))),
                         SaslFailure::bad_credentials));
    }
    SECTION("user without SCRAM keys is treated like an unknown user") {
        auto s = f.server();
        auto sf = challenge_text(s->start(b64("n,,n=nokeys,r=" + rfc_cnonce)));
        CHECK(sf.ends_with(",i=4096"));
    }
    SECTION("temporary lookup failure") {
        auto s = f.server();
        CHECK(is_failure(s->start(b64("n,,n=temp,r=" + rfc_cnonce)), SaslFailure::temp_failure));
    }
    SECTION("saslname escapes =2C and =3D are decoded") {
        f.users.scram["user@example.org"] = scram_derive_keys("pencil", "saltsaltsaltsalt", 4096);
        auto s = f.server();
        // "us=3Der" decodes to "us=er", which resolve_login does not know: fake path.
        auto sf = challenge_text(s->start(b64("n,,n=us=3Der,r=" + rfc_cnonce)));
        CHECK(s->login_name() == "us=er");
        auto t = f.server();
        t->start(b64("n,,n=a=2Cb,r=" + rfc_cnonce));
        CHECK(t->login_name() == "a,b");
    }
    SECTION("authzid equal to the user is accepted, another one refused") {
        auto s = f.server();
        CHECK(std::holds_alternative<SaslChallenge>(s->start(b64("n,a=user," + bare))));
        auto t = f.server();
        CHECK(is_failure(t->start(b64("n,a=admin," + bare)), SaslFailure::bad_credentials));
    }
}

TEST_CASE("sasl SCRAM-SHA-256: malformed client-first messages") {
    auto msg = GENERATE(as<std::string>{}, "", "n,,", "n,,n=user", "p=tls-unique,,n=user,r=abc",
                        "x,,n=user,r=abc", "n,,m=ext,n=user,r=abc", "n,,n=user,r=abc,x=ext",
                        "n,,r=abc,n=user", "n,,n=,r=abc", "n,,n=us=2Xer,r=abc", "n,,n=user=,r=abc",
                        "n,,n=user,r=", "n,,n=user,r=a b", "n,b=x,n=user,r=abc",
                        "n,a=,n=user,r=abc", "n,,n=user,s=abc", "n,n=user,r=abc");
    DYNAMIC_SECTION("client-first=" << msg) {
        Fixture f;
        auto s = f.server();
        auto r = s->start(msg.empty() ? "=" : b64(msg));
        CHECK(is_failure(r, SaslFailure::malformed));
    }
}

TEST_CASE("sasl SCRAM-SHA-256: malformed client-final messages") {
    std::string nonce = rfc_cnonce + rfc_snonce;
    std::string proof = ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    auto msg = GENERATE_COPY(as<std::string>{}, "c=biws,r=" + nonce,  // no proof
                             "c=biws,r=" + rfc_cnonce + proof,        // nonce not extended
                             "c=biws,r=" + nonce + "x" + proof,       // wrong nonce
                             "c=bmws,r=" + nonce + proof,             // wrong gs2 echo
                             "r=" + nonce + ",c=biws" + proof,        // order
                             "c=biws,r=" + nonce + ",x=y" + proof,    // extension
                             "c=biws,r=" + nonce + ",p=AAAA",         // short proof
                             "c=biws,r=" + nonce + ",p=!!!!");
    DYNAMIC_SECTION("client-final=" << msg) {
        Fixture f;
        auto s = f.server();
        s->start(b64("n,,n=user,r=" + rfc_cnonce));
        CHECK(is_failure(s->step(b64(msg)), SaslFailure::malformed));
    }
}

TEST_CASE("sasl SCRAM-SHA-256: cancel, and a non-empty ack of the final message") {
    Fixture f;
    auto s = f.server();
    s->start(b64("n,,n=user,r=" + rfc_cnonce));
    CHECK(is_failure(s->step("*"), SaslFailure::cancelled));

    auto t = f.server();
    t->start(b64("n,,n=user,r=" + rfc_cnonce));
    t->step(b64("c=biws,r=" + rfc_cnonce + rfc_snonce +
                ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
    CHECK(is_failure(t->step(b64("more")), SaslFailure::malformed));
}

TEST_CASE("sasl SCRAM-SHA-256: default random nonce is printable and fresh") {
    Users users;
    users.scram["user@example.org"] = scram_derive_keys("pencil", "0123456789abcdef", 4096);
    auto a = make_sasl_server("SCRAM-SHA-256", users.callbacks());
    auto b = make_sasl_server("SCRAM-SHA-256", users.callbacks());
    auto fa = challenge_text(a->start(b64("n,,n=user,r=abc")));
    auto fb = challenge_text(b->start(b64("n,,n=user,r=abc")));
    CHECK(fa.starts_with("r=abc"));
    CHECK(fa != fb);
    CHECK(fa.find(',') == fa.find(",s="));
}
