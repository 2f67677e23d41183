#include <argon2.h>
#include <crypt.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "libmailstore/password.h"

using namespace postern;

namespace {

std::string crypt_with(const char* prefix, unsigned long cost, const char* pw) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    REQUIRE(crypt_gensalt_rn(prefix, cost, nullptr, 0, setting, sizeof setting) != nullptr);
    crypt_data data{};
    const char* out = crypt_rn(pw, setting, &data, sizeof data);
    REQUIRE(out != nullptr);
    REQUIRE(out[0] != '*');
    return out;
}

std::string argon2id_encoded(const char* pw) {
    const char salt[] = "saltsaltsaltsalt";
    char encoded[256];
    REQUIRE(argon2id_hash_encoded(2, 1 << 10, 1, pw, std::strlen(pw), salt, 16, 32, encoded,
                                  sizeof encoded) == ARGON2_OK);
    return encoded;
}

}  // namespace

TEST_CASE("hash_password makes yescrypt that verifies", "[password]") {
    auto h = hash_password("correct horse");
    REQUIRE(h);
    CHECK(h->starts_with("$y$"));
    CHECK(verify_password(*h, "correct horse"));
    CHECK_FALSE(verify_password(*h, "correct horsE"));
    CHECK_FALSE(verify_password(*h, ""));
    auto h2 = hash_password("correct horse");
    REQUIRE(h2);
    CHECK(*h != *h2);  // fresh salt each time
}

TEST_CASE("verify_password accepts crypt and Dovecot forms", "[password]") {
    const char* pw = "s3cret!";
    const std::string sha512 = crypt_with("$6$", 5000, pw);
    const std::string bcrypt = crypt_with("$2b$", 4, pw);
    const std::string yes = crypt_with("$y$", 0, pw);
    const std::string argon = argon2id_encoded(pw);
    std::string bcrypt_2y = bcrypt;
    bcrypt_2y[2] = 'y';  // Dovecot writes $2y$; libcrypt treats it like $2b$

    struct Case {
        std::string label, hash;
        bool want;
    };
    auto c = GENERATE_COPY(values<Case>({
        {"plain $6$", sha512, true},
        {"plain $2b$", bcrypt, true},
        {"plain $y$", yes, true},
        {"plain argon2id", argon, true},
        {"{SHA512-CRYPT}", "{SHA512-CRYPT}" + sha512, true},
        {"{sha512-crypt} lowercase scheme", "{sha512-crypt}" + sha512, true},
        {"{BLF-CRYPT} $2y$", "{BLF-CRYPT}" + bcrypt_2y, true},
        {"{CRYPT}", "{CRYPT}" + yes, true},
        {"{YESCRYPT}", "{YESCRYPT}" + yes, true},
        {"{ARGON2ID}", "{ARGON2ID}" + argon, true},
        {"{ARGON2ID} with crypt inside", "{ARGON2ID}" + sha512, false},
        {"{PLAIN} refused", std::string("{PLAIN}") + pw, false},
        {"unknown scheme", "{FOO}" + sha512, false},
        {"unterminated scheme", "{SHA512-CRYPT" + sha512, false},
        {"truncated hash", sha512.substr(0, sha512.size() - 3), false},
        {"empty", "", false},
        {"locked", "*", false},
        {"DES crypt refused", "abJnggxhB/yWI", false},
        {"plain text", pw, false},
    }));
    DYNAMIC_SECTION(c.label) {
        INFO("hash " << c.hash);
        CHECK(verify_password(c.hash, pw) == c.want);
        CHECK_FALSE(verify_password(c.hash, "wrong"));
    }
}
