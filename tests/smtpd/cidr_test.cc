#include "libproto/config/cidr.h"

#include <catch2/catch.hpp>

using namespace postern;

TEST_CASE("cidr: matching v4 and v6") {
    auto list = CidrList::parse({"127.0.0.0/8", "192.0.2.128/25", "10.1.2.3", "2001:db8::/32",
                                 "::1/128", "198.51.100.0/0"});
    REQUIRE(list.has_value());
    struct Case {
        const char* ip;
        bool want;
    };
    auto tc = GENERATE(values<Case>({
        {"127.0.0.1", true},
        {"127.255.255.255", true},
        {"128.0.0.1", true},  // matched by the /0 entry
        {"192.0.2.200", true},
        {"10.1.2.3", true},
        {"2001:db8:ffff::1", true},
        {"2001:db9::1", false},
        {"::1", true},
        {"::2", false},
        {"not-an-ip", false},
        {"", false},
    }));
    DYNAMIC_SECTION(tc.ip) {
        INFO("got " << list->contains(tc.ip) << ", want " << tc.want);
        CHECK(list->contains(tc.ip) == tc.want);
    }
}

TEST_CASE("cidr: v4 list does not match v6 and prefixes are exact") {
    auto list = CidrList::parse({"192.0.2.128/25"});
    REQUIRE(list.has_value());
    CHECK_FALSE(list->contains("192.0.2.127"));
    CHECK(list->contains("192.0.2.128"));
    CHECK_FALSE(list->contains("::ffff:c000:2ff"));
}

TEST_CASE("cidr: bad entries are one-line errors") {
    for (const char* bad :
         {"300.0.0.1", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "foo"}) {
        auto list = CidrList::parse({bad});
        INFO(bad);
        REQUIRE_FALSE(list.has_value());
        CHECK(list.error().find(bad) != std::string::npos);
    }
}
