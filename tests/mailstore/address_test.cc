#include <catch2/catch.hpp>

#include "libmailstore/address.h"

using namespace postern;

namespace {
struct Case {
    const char* label;
    const char* input;
    const char* want;  // nullptr: invalid
};
}  // namespace

TEST_CASE("normalize_domain", "[address]") {
    auto c = GENERATE(values<Case>({
        {"lowercases", "Example.COM", "example.com"},
        {"single label", "localhost", "localhost"},
        {"hyphen inside", "mail-1.example.org", "mail-1.example.org"},
        {"empty", "", nullptr},
        {"leading dot", ".example.com", nullptr},
        {"trailing dot", "example.com.", nullptr},
        {"double dot", "example..com", nullptr},
        {"leading hyphen", "-a.com", nullptr},
        {"trailing hyphen", "a-.com", nullptr},
        {"underscore", "a_b.com", nullptr},
        {"slash", "a/b.com", nullptr},
        {"reserved accounts", "accounts", nullptr},
        {"reserved tmp", "TMP", nullptr},
        {"label too long", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
         nullptr},
    }));
    DYNAMIC_SECTION(c.label) {
        auto got = normalize_domain(c.input);
        INFO("input " << c.input);
        if (c.want == nullptr) {
            REQUIRE_FALSE(got.has_value());
            CHECK(got.error() == StoreError::invalid);
        } else {
            REQUIRE(got.has_value());
            CHECK(*got == c.want);
        }
    }
}

TEST_CASE("normalize_local_part", "[address]") {
    auto c = GENERATE(values<Case>({
        {"lowercases", "John.Doe", "john.doe"},
        {"plus", "a+tag", "a+tag"},
        {"atext", "x!#$&'*=?^_`{|}~-y", "x!#$&'*=?^_`{|}~-y"},
        {"empty", "", nullptr},
        {"percent", "a%b", nullptr},
        {"at", "a@b", nullptr},
        {"slash", "a/b", nullptr},
        {"backslash", "a\\b", nullptr},
        {"space", "a b", nullptr},
        {"control", "a\x01", nullptr},
        {"leading dot", ".a", nullptr},
        {"trailing dot", "a.", nullptr},
        {"double dot", "a..b", nullptr},
        {"dotdot", "..", nullptr},
        {"too long", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", nullptr},
    }));
    DYNAMIC_SECTION(c.label) {
        auto got = normalize_local_part(c.input);
        if (c.want == nullptr) {
            CHECK_FALSE(got.has_value());
        } else {
            REQUIRE(got.has_value());
            CHECK(*got == c.want);
        }
    }
}

TEST_CASE("parse_address splits at the last @", "[address]") {
    auto a = parse_address("Bob@Example.Com");
    REQUIRE(a);
    CHECK(a->local == "bob");
    CHECK(a->domain == "example.com");
    CHECK(a->str() == "bob@example.com");
    CHECK_FALSE(parse_address("nobody"));
    CHECK_FALSE(parse_address("@example.com"));
    CHECK_FALSE(parse_address("bob@"));
    CHECK_FALSE(parse_address("a@b@c.com"));  // '@' left in the local part
}
