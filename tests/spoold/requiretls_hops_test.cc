// apply_requiretls (spoold/requiretls_hops.h): which hops a REQUIRETLS message may use.

#include <catch2/catch.hpp>

#include "spoold/requiretls_hops.h"

using namespace postern;

namespace {

NextHop hop(const std::string& host, bool trusted, TlsPolicy tls = TlsPolicy::may) {
    NextHop h;
    h.host = host;
    h.name_authenticated = trusted;
    h.tls = tls;
    return h;
}

std::vector<std::string> hosts(const std::vector<NextHop>& hops) {
    std::vector<std::string> out;
    for (auto& h : hops) out.push_back(h.host);
    return out;
}

}  // namespace

TEST_CASE("requiretls: untrusted names are dropped, the rest raised to verify, DANE kept") {
    HopPlan p;
    p.hops = {hop("mx1.ex.test", false), hop("mx2.ex.test", true, TlsPolicy::none),
              hop("mx3.ex.test", true, TlsPolicy::dane), hop("mx4.ex.test", true)};
    p.fallback = {hop("smarthost.test", true, TlsPolicy::encrypt)};
    apply_requiretls(p, "ex.test");
    REQUIRE_FALSE(p.failure.has_value());
    CHECK(hosts(p.hops) == std::vector<std::string>{"mx2.ex.test", "mx3.ex.test", "mx4.ex.test"});
    CHECK(p.hops[0].tls == TlsPolicy::verify);
    CHECK(p.hops[1].tls == TlsPolicy::dane);
    CHECK(p.hops[2].tls == TlsPolicy::verify);
    REQUIRE(hosts(p.fallback) == std::vector<std::string>{"smarthost.test"});
    CHECK(p.fallback[0].tls == TlsPolicy::verify);
}

TEST_CASE("requiretls: no trusted MX: the configured fallback smarthost takes it") {
    HopPlan p;
    p.hops = {hop("mx1.ex.test", false)};
    p.fallback = {hop("smarthost.test", true)};
    apply_requiretls(p, "ex.test");
    REQUIRE_FALSE(p.failure.has_value());
    CHECK(hosts(p.hops) == std::vector<std::string>{"smarthost.test"});
    CHECK(p.hops[0].tls == TlsPolicy::verify);
    CHECK(p.fallback.empty());
}

TEST_CASE("requiretls: nothing trusted fails for good with 5.7.30 naming the hosts") {
    HopPlan p;
    p.hops = {hop("mx1.ex.test", false), hop("mx2.ex.test", false)};
    apply_requiretls(p, "ex.test");
    REQUIRE(p.failure.has_value());
    CHECK(p.failure->state == TargetState::failed);
    CHECK(
        p.failure->reply.starts_with("550 5.7.30 REQUIRETLS support required: no "
                                     "authenticated MX host for ex.test (mx1.ex.test, "
                                     "mx2.ex.test: "));
    CHECK(p.hops.empty());
}

TEST_CASE("requiretls: a plan that already failed is left as it is") {
    HopPlan p;
    p.failure = TargetResult{TargetState::deferred, "451 4.4.3 dns"};
    apply_requiretls(p, "ex.test");
    CHECK(p.failure->reply == "451 4.4.3 dns");
}
