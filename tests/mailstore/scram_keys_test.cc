#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <string>

#include "libproto/core/scram_keys.h"

using namespace postern;

namespace {

std::string unbase64(const std::string& s) {
    std::string out(s.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(s.data()), int(s.size()));
    REQUIRE(n >= 0);
    out.resize(size_t(n) - std::count(s.end() - 2, s.end(), '='));
    return out;
}

std::string hex(const std::array<uint8_t, 32>& a) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (uint8_t b : a) {
        s.push_back(d[b >> 4]);
        s.push_back(d[b & 15]);
    }
    return s;
}

std::array<uint8_t, 32> hmac(const std::array<uint8_t, 32>& key, const std::string& msg) {
    std::array<uint8_t, 32> out{};
    unsigned int len = 32;
    HMAC(EVP_sha256(), key.data(), 32, reinterpret_cast<const unsigned char*>(msg.data()),
         msg.size(), out.data(), &len);
    return out;
}

}  // namespace

// RFC 7677 section 3: user "user", password "pencil".
TEST_CASE("scram_derive_keys matches the RFC 7677 example", "[scram]") {
    const std::string salt = unbase64("W22ZaJ0SNY7soEsUEjb6gQ==");
    REQUIRE(salt.size() == 16);
    ScramKeys k = scram_derive_keys("pencil", salt, 4096);
    CHECK(k.iterations == 4096);
    CHECK(k.salt == salt);
    // Computed independently with Python hashlib.pbkdf2_hmac / hmac (see docs/store.md).
    CHECK(hex(k.stored_key) == "586e5df283e6dceb5c3e791d8b8528ec191e664045ce971792e2e6b5bb13e2a6");
    CHECK(hex(k.server_key) == "c1f3cbc1c13a9d35a14c0990eed97629ea225863e566a4314ab99f3f00e5d9d5");

    // And the exchange in the RFC verifies against these keys, as a server would check it.
    const std::string auth =
        "n=user,r=rOprNGfwEbeRWgbNEkqO,"
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    auto server_sig = hmac(k.server_key, auth);
    const std::string want_v = unbase64("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    CHECK(std::string(server_sig.begin(), server_sig.end()) == want_v);

    const std::string proof = unbase64("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    REQUIRE(proof.size() == 32);
    auto client_sig = hmac(k.stored_key, auth);
    std::array<uint8_t, 32> client_key{};
    for (size_t i = 0; i < 32; ++i) client_key[i] = uint8_t(proof[i]) ^ client_sig[i];
    std::array<uint8_t, 32> stored{};
    SHA256(client_key.data(), 32, stored.data());
    CHECK(stored == k.stored_key);
}

TEST_CASE("scram_make_keys uses a fresh 16-byte salt", "[scram]") {
    auto a = scram_make_keys("pw");
    auto b = scram_make_keys("pw");
    CHECK(a.salt.size() == scram_salt_bytes);
    CHECK(a.iterations == scram_default_iterations);
    CHECK(a.salt != b.salt);
    CHECK(a.stored_key != b.stored_key);
    auto again = scram_derive_keys("pw", a.salt, a.iterations);
    CHECK(again.stored_key == a.stored_key);
    CHECK(again.server_key == a.server_key);
}
