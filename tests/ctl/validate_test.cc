#include <catch2/catch.hpp>

#include "ctl/services.h"
#include "ctl/validate.h"

using namespace postern::ctl;

TEST_CASE("valid_hostname") {
    auto [label, host, want] = GENERATE(table<const char*, std::string, bool>({
        {"simple", "localhost", true},
        {"fqdn", "mail.example.org", true},
        {"digits and hyphen", "mx-1.test", true},
        {"empty", "", false},
        {"trailing dot", "mail.test.", false},
        {"double dot", "a..b", false},
        {"leading hyphen", "-a.test", false},
        {"underscore", "a_b.test", false},
        {"space", "a b", false},
        {"label too long", std::string(64, 'a') + ".test", false},
        {"label of 63", std::string(63, 'a') + ".test", true},
    }));
    DYNAMIC_SECTION(label) {
        INFO("got " << valid_hostname(host) << ", want " << want);
        CHECK(valid_hostname(host) == want);
    }
}

TEST_CASE("valid_ip") {
    CHECK(valid_ip("127.0.0.1"));
    CHECK(valid_ip("::"));
    CHECK(valid_ip("::1"));
    CHECK(valid_ip("0.0.0.0"));
    CHECK_FALSE(valid_ip("localhost"));
    CHECK_FALSE(valid_ip("256.1.1.1"));
    CHECK_FALSE(valid_ip(""));
}

TEST_CASE("split_list") {
    CHECK(split_list("a,b") == std::vector<std::string>{"a", "b"});
    CHECK(split_list(" a , ,b,") == std::vector<std::string>{"a", "b"});
    CHECK(split_list("").empty());
    CHECK(split_list(",,").empty());
}

TEST_CASE("resolve_services") {
    auto all = resolve_services({});
    REQUIRE(all.has_value());
    REQUIRE(all->size() == 4);
    CHECK((*all)[0]->name == "smtpd");
    CHECK((*all)[3]->name == "spoold");

    auto some = resolve_services({"spoold", "smtpd", "spoold"});
    REQUIRE(some.has_value());
    REQUIRE(some->size() == 2);
    CHECK((*some)[0]->name == "spoold");

    auto bad = resolve_services({"smtpd", "mailmand"});
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error() == "unknown service mailmand (one of smtpd pop3d imapd spoold)");
}
