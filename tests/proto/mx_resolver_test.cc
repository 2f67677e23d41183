// MxResolver over the FakeResolver: the lookups it makes, the cache (with a
// fake clock), callbacks never inside the call, cancellation.
#include "libproto/dns/mx_resolver.h"
#include "tests/support/fake_resolver.h"

#include <catch2/catch.hpp>

#include "libproto/net/loop.h"

using namespace postern;
using namespace std::chrono_literals;

TEST_CASE("mx_resolver: plan over the fake, cached until the TTL runs out") {
    EventLoop loop;
    FakeResolver dns(loop.get());
    dns.add_mx("ex.test", {{10, "mx1.ex.test"}, {20, "mx2.ex.test"}});
    dns.add_a("mx1.ex.test", {"192.0.2.1"});
    dns.add_aaaa("mx1.ex.test", {"2001:db8::1"});
    dns.add_a("mx2.ex.test", {"192.0.2.2"});
    dns.authenticate("ex.test");
    auto now = DnsCache::Clock::time_point{} + 1000s;
    MxResolverOptions o;
    o.seed = 1;
    MxResolver mx(loop.get(), dns, o, [&] { return now; });

    std::optional<PlanResult> got;
    auto job = mx.resolve("Ex.Test.", [&](PlanResult r) { got = std::move(r); });
    CHECK_FALSE(got.has_value());  // never inside the call
    REQUIRE(loop.run_until([&] { return got.has_value(); }, 2s));
    REQUIRE(got->has_value());
    const auto& p = **got;
    CHECK(p.mx_authenticated);
    REQUIRE(p.hosts.size() == 2);
    CHECK(p.hosts[0].name == "mx1.ex.test");
    CHECK(p.hosts[0].addresses == std::vector<std::string>{"2001:db8::1", "192.0.2.1"});
    CHECK(p.hosts[1].addresses == std::vector<std::string>{"192.0.2.2"});
    CHECK(dns.lookups() == 5);  // MX, 2 x (A, AAAA)

    got.reset();
    job = mx.resolve("ex.test", [&](PlanResult r) { got = std::move(r); });
    CHECK_FALSE(got.has_value());  // cached, still later
    REQUIRE(loop.run_until([&] { return got.has_value(); }, 2s));
    CHECK(got->has_value());
    CHECK(dns.lookups() == 5);

    now += 301s;  // the fake's TTL is 300 s
    got.reset();
    job = mx.resolve("ex.test", [&](PlanResult r) { got = std::move(r); });
    REQUIRE(loop.run_until([&] { return got.has_value(); }, 2s));
    CHECK(dns.lookups() == 10);
}

TEST_CASE("mx_resolver: failures, TLSA and TXT, cancellation") {
    EventLoop loop;
    FakeResolver dns(loop.get());
    dns.fail("down.test", DnsError::temporary);
    dns.add_txt("_mta-sts.ex.test", {"v=STSv1; id=1"});
    DnsRecord t;
    t.name = "_25._tcp.mx.ex.test";
    t.type = dns_type::tlsa;
    t.ttl = 300;
    t.rdata = std::string("\x03\x01\x01\xaa", 4);
    dns.add_record(t);
    dns.authenticate("_25._tcp.mx.ex.test");
    MxResolver mx(loop.get(), dns);

    std::optional<PlanResult> down, nx;
    std::optional<DnsResult<TlsaAnswer>> tlsa;
    std::optional<DnsResult<TxtAnswer>> txt, notxt;
    bool cancelled_called = false;
    auto j1 = mx.resolve("down.test", [&](PlanResult r) { down = std::move(r); });
    auto j2 = mx.resolve("nowhere.test", [&](PlanResult r) { nx = std::move(r); });
    auto j3 = mx.tlsa("MX.ex.test", 25, [&](auto r) { tlsa = std::move(r); });
    auto j4 = mx.txt("_mta-sts.ex.test", [&](auto r) { txt = std::move(r); });
    auto j5 = mx.txt("nowhere.test", [&](auto r) { notxt = std::move(r); });
    auto j6 = mx.resolve("down.test", [&](PlanResult) { cancelled_called = true; });
    j6.cancel();
    REQUIRE(loop.run_until([&] { return down && nx && tlsa && txt && notxt; }, 2s));
    REQUIRE_FALSE(down->has_value());
    CHECK_FALSE(down->error().permanent);
    REQUIRE_FALSE(nx->has_value());
    CHECK(nx->error().permanent);
    REQUIRE(tlsa->has_value());
    CHECK((*tlsa)->authenticated);
    CHECK((*tlsa)->records == std::vector<TlsaRecord>{{3, 1, 1, "\xaa"}});
    REQUIRE(txt->has_value());
    CHECK_FALSE((*txt)->authenticated);
    CHECK((*txt)->records == std::vector<std::string>{"v=STSv1; id=1"});
    CHECK(*notxt == std::unexpected(DnsError::not_found));
    loop.run_until([] { return false; }, 30ms);
    CHECK_FALSE(cancelled_called);
}
