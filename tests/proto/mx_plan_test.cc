// RFC 5321 5.1 planning, pure: preference order, shuffling among equals
// (seeded), null MX, implicit MX, IP literals, limits, address order, failures.
#include "libproto/dns/mx_plan.h"

#include <catch2/catch.hpp>
#include <set>

#include "tests/proto/dns_test_util.h"

using namespace postern;
using dns_test::addr;
using dns_test::message;
using dns_test::mx;

namespace {

std::vector<std::string> names(const MxCandidates& c) {
    std::vector<std::string> out;
    for (auto& h : c.hosts) out.push_back(h.name);
    return out;
}

HostAnswers answers(std::vector<DnsRecord> a, std::vector<DnsRecord> aaaa, bool ad = false) {
    return {message(std::move(a), ad), message(std::move(aaaa), ad)};
}

}  // namespace

TEST_CASE("mx_plan: hosts by preference, equal ones shuffled by the seeded generator") {
    DnsMessage m = message({mx("ex.test", 20, "c.ex.test"), mx("ex.test", 10, "a.ex.test"),
                            mx("ex.test", 10, "b.ex.test"), mx("ex.test", 30, "d.ex.test"),
                            mx("ex.test", 10, "e.ex.test")},
                           true);
    MxPlanOptions o;
    std::set<std::vector<std::string>> orders;
    for (uint32_t seed = 0; seed < 200; ++seed) {
        std::mt19937 rng(seed);
        auto c = mx_candidates("EX.test.", m, o, rng);
        REQUIRE(c.has_value());
        CHECK(c->authenticated);
        CHECK_FALSE(c->implicit);
        auto n = names(*c);
        REQUIRE(n.size() == 5);
        CHECK(n[3] == "c.ex.test");
        CHECK(n[4] == "d.ex.test");
        orders.insert({n[0], n[1], n[2]});
        std::mt19937 again(seed);  // same seed, same order
        CHECK(names(*mx_candidates("ex.test", m, o, again)) == n);
    }
    CHECK(orders.size() == 6);  // every order of a, b, e shows up
}

TEST_CASE("mx_plan: null MX, NXDOMAIN, SERVFAIL, implicit MX") {
    MxPlanOptions o;
    std::mt19937 rng(1);
    SECTION("a lone '.' is a null MX: permanent") {
        auto c = mx_candidates("ex.test", message({mx("ex.test", 0, "")}), o, rng);
        REQUIRE_FALSE(c.has_value());
        CHECK(c.error().permanent);
        CHECK(c.error().reason == "domain ex.test accepts no mail (null MX, RFC 7505)");
    }
    SECTION("'.' beside real MX records is ignored") {
        auto c = mx_candidates(
            "ex.test", message({mx("ex.test", 0, ""), mx("ex.test", 10, "mx.ex.test")}), o, rng);
        REQUIRE(c.has_value());
        CHECK(names(*c) == std::vector<std::string>{"mx.ex.test"});
        CHECK(c->skipped.size() == 1);
    }
    SECTION("NXDOMAIN: permanent") {
        auto c = mx_candidates("ex.test", message({}, false, dns_rcode::nxdomain), o, rng);
        REQUIRE_FALSE(c.has_value());
        CHECK(c.error().permanent);
        CHECK(c.error().reason == "domain ex.test does not exist (NXDOMAIN)");
    }
    SECTION("SERVFAIL or timeout: temporary") {
        auto c = mx_candidates("ex.test", std::unexpected(DnsError::temporary), o, rng);
        REQUIRE_FALSE(c.has_value());
        CHECK_FALSE(c.error().permanent);
    }
    SECTION("NODATA: the implicit MX is the domain itself") {
        auto c = mx_candidates("Ex.Test", message({addr("ex.test", "192.0.2.1")}), o, rng);
        REQUIRE(c.has_value());
        CHECK(c->implicit);
        CHECK(c->hosts == std::vector<MxHost>{{"ex.test", 0}});
        auto p = assemble_plan("ex.test", *c, {answers({addr("ex.test", "192.0.2.1")}, {})}, o);
        REQUIRE(p.has_value());
        CHECK(p->implicit_mx);
        CHECK_FALSE(p->mx_authenticated);
        CHECK(p->hosts[0].addresses == std::vector<std::string>{"192.0.2.1"});
    }
    SECTION("implicit MX without addresses: permanent") {
        auto c = mx_candidates("ex.test", message({}), o, rng);
        REQUIRE(c.has_value());
        auto p = assemble_plan("ex.test", *c, {answers({}, {})}, o);
        REQUIRE_FALSE(p.has_value());
        CHECK(p.error().permanent);
        CHECK(p.error().reason == "domain ex.test has no MX, A or AAAA records");
    }
}

TEST_CASE("mx_plan: IP literals, duplicates, CNAME'd domain, the limit on hosts") {
    MxPlanOptions o;
    std::mt19937 rng(7);
    SECTION("IP-literal targets are not host names: skipped; only those: permanent") {
        auto c = mx_candidates(
            "ex.test", message({mx("ex.test", 5, "192.0.2.9"), mx("ex.test", 10, "mx.ex.test")}), o,
            rng);
        REQUIRE(c.has_value());
        CHECK(names(*c) == std::vector<std::string>{"mx.ex.test"});
        auto bad = mx_candidates("ex.test", message({mx("ex.test", 5, "2001:db8::1")}), o, rng);
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error().permanent);
    }
    SECTION("a host listed twice keeps its best preference") {
        auto c = mx_candidates("ex.test",
                               message({mx("ex.test", 20, "a.test"), mx("ex.test", 10, "a.test"),
                                        mx("ex.test", 15, "b.test")}),
                               o, rng);
        REQUIRE(c.has_value());
        CHECK(c->hosts == std::vector<MxHost>{{"a.test", 10}, {"b.test", 15}});
    }
    SECTION("the domain's CNAME is followed to its MX") {
        auto c = mx_candidates(
            "alias.test",
            message({dns_test::cname("alias.test", "ex.test"), mx("ex.test", 10, "mx.ex.test")}), o,
            rng);
        REQUIRE(c.has_value());
        CHECK_FALSE(c->implicit);
        CHECK(names(*c) == std::vector<std::string>{"mx.ex.test"});
    }
    SECTION("at most max_hosts, the most preferred kept") {
        std::vector<DnsRecord> many;
        for (int i = 0; i < 15; ++i)
            many.push_back(mx("ex.test", uint16_t(i), "h" + std::to_string(i) + ".test"));
        auto c = mx_candidates("ex.test", message(many), o, rng);
        REQUIRE(c.has_value());
        REQUIRE(c->hosts.size() == 10);
        CHECK(c->hosts.back().name == "h9.test");
        CHECK(c->skipped.back() == "5 MX host(s) over the limit of 10");
    }
    SECTION("an MX that is us cuts the list; us first: a loop, permanent") {
        o.local_names = {"MX2.test."};
        auto c =
            mx_candidates("ex.test",
                          message({mx("ex.test", 10, "mx1.test"), mx("ex.test", 20, "mx2.test"),
                                   mx("ex.test", 30, "mx3.test")}),
                          o, rng);
        REQUIRE(c.has_value());
        CHECK(names(*c) == std::vector<std::string>{"mx1.test"});
        o.local_names = {"mx1.test"};
        auto loop = mx_candidates("ex.test", message({mx("ex.test", 10, "mx1.test")}), o, rng);
        REQUIRE_FALSE(loop.has_value());
        CHECK(loop.error().reason == "mail for ex.test loops back to myself");
    }
}

TEST_CASE("mx_plan: addresses interleaved IPv6 first, limited, not repeated across hosts") {
    MxCandidates c;
    c.hosts = {{"a.test", 10}, {"b.test", 20}, {"c.test", 30}};
    c.authenticated = true;
    std::vector<HostAnswers> ans = {
        answers(
            {addr("a.test", "192.0.2.1"), addr("a.test", "192.0.2.2"), addr("a.test", "192.0.2.3")},
            {addr("a.test", "2001:db8::1")}, true),
        answers({addr("b.test", "192.0.2.1"), addr("b.test", "192.0.2.5")}, {}, false),
        {std::unexpected(DnsError::not_found), std::unexpected(DnsError::not_found)},
    };
    MxPlanOptions o;
    o.max_addresses_per_host = 3;
    auto p = assemble_plan("ex.test", c, ans, o);
    REQUIRE(p.has_value());
    CHECK(p->mx_authenticated);
    REQUIRE(p->hosts.size() == 2);
    CHECK(p->hosts[0].addresses ==
          std::vector<std::string>{"2001:db8::1", "192.0.2.1", "192.0.2.2"});
    CHECK(p->hosts[0].authenticated);
    CHECK(p->hosts[1].addresses == std::vector<std::string>{"192.0.2.5"});  // .1 already tried
    CHECK_FALSE(p->hosts[1].authenticated);
    CHECK(p->skipped == std::vector<std::string>{"c.test: no usable address"});

    o.prefer_ipv6 = false;
    o.families = AddressFamilies::both;
    auto v4first = assemble_plan("ex.test", c, ans, o);
    CHECK(v4first->hosts[0].addresses ==
          std::vector<std::string>{"192.0.2.1", "2001:db8::1", "192.0.2.2"});
    o.families = AddressFamilies::ipv4_only;
    auto v4only = assemble_plan("ex.test", c, ans, o);
    CHECK(v4only->hosts[0].addresses ==
          std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3"});
}

TEST_CASE("mx_plan: no host with an address: temporary if any lookup failed temporarily") {
    MxCandidates c;
    c.hosts = {{"a.test", 10}, {"b.test", 20}};
    MxPlanOptions o;
    std::vector<HostAnswers> ans = {
        {std::unexpected(DnsError::temporary), message({})},
        {std::unexpected(DnsError::not_found), std::unexpected(DnsError::not_found)}};
    auto p = assemble_plan("ex.test", c, ans, o);
    REQUIRE_FALSE(p.has_value());
    CHECK_FALSE(p.error().permanent);
    CHECK(p.error().reason == "DNS lookup of the address for a.test failed: temporary DNS failure");
    ans[0].a = std::unexpected(DnsError::no_data);
    auto perm = assemble_plan("ex.test", c, ans, o);
    REQUIRE_FALSE(perm.has_value());
    CHECK(perm.error().permanent);
    CHECK(perm.error().reason == "no MX host of ex.test has an address");
}

TEST_CASE("mx_plan: IP literal recognition") {
    CHECK(is_ip_literal("192.0.2.1"));
    CHECK(is_ip_literal("[2001:db8::1]"));
    CHECK_FALSE(is_ip_literal("192.0.2.1.example"));
    CHECK_FALSE(is_ip_literal("mx.test"));
}
