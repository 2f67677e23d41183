// spoold/mta_sts.h over the FakeResolver with a fake fetch and clock: the TXT id decides
// whether to fetch, the cache (memory and file) is used while fresh, a failed fetch keeps
// it (RFC 8461 5.1), concurrent lookups share one fetch. And spoold/mta_sts_enforce.h: what
// each mode does to a plan.
#include "spoold/mta_sts.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "libproto/net/loop.h"
#include "spoold/dane_hops.h"
#include "spoold/mta_sts_enforce.h"
#include "tests/support/fake_resolver.h"

using namespace postern;
using namespace std::chrono_literals;

namespace {

const std::string kEnforce = "version: STSv1\nmode: enforce\nmx: *.ex.test\nmax_age: 600\n";
const std::string kTesting = "version: STSv1\nmode: testing\nmx: mx.ex.test\nmax_age: 600\n";

struct Fixture {
    EventLoop loop;
    FakeResolver dns{loop.get()};
    int64_t now = 1'000'000;
    std::unique_ptr<MxResolver> mx;
    std::unique_ptr<MtaSts> sts;
    std::string body = kEnforce;  // what the fake fetch answers; empty: a failure
    std::vector<HttpsGet> asked;
    std::filesystem::path cache_file;

    Fixture() {
        char tmpl[] = "/tmp/postern-sts-XXXXXX";
        cache_file = std::filesystem::path(::mkdtemp(tmpl)) / "mta-sts.cache";
        dns.add_txt("_mta-sts.ex.test", {"v=spf1 -all", "v=STSv1; id=1"});
        dns.add_a("mta-sts.ex.test", {"127.0.0.1"});
        restart();
    }
    ~Fixture() {
        // A cache write on the pool completes on this loop: let it, before the loop goes.
        if (sts) loop.run_until([&] { return !sts->saving(); }, 5s);
        sts.reset();
        std::error_code ec;
        std::filesystem::remove_all(cache_file.parent_path(), ec);
    }

    // A new MxResolver (empty DNS cache) and MtaSts (reading the cache file), as at start.
    void restart() {
        if (sts) loop.run_until([&] { return !sts->saving(); }, 5s);
        sts.reset();
        mx = std::make_unique<MxResolver>(loop.get(), dns, MxResolverOptions{}, [this] {
            return DnsCache::Clock::time_point{} + std::chrono::seconds(now);
        });
        MtaStsOptions o;
        o.cache_file = cache_file;
        o.ca_file = "/ca.pem";
        o.now = [this] { return now; };
        auto* self = this;
        o.fetch = [self](const HttpsGet& req) -> std::expected<std::string, std::string> {
            self->asked.push_back(req);  // (the pool runs one job here at a time)
            if (self->body.empty()) return std::unexpected("connection refused");
            return self->body;
        };
        sts = std::make_unique<MtaSts>(loop.get(), *mx, o);
    }

    std::optional<StsPolicy> lookup(const std::string& domain = "ex.test") {
        std::optional<std::optional<StsPolicy>> got;
        auto q = sts->lookup(domain, [&](std::optional<StsPolicy> p) { got = std::move(p); });
        CHECK_FALSE(got.has_value());  // never inside the call
        REQUIRE(loop.run_until([&] { return got.has_value(); }, 5s));
        return *got;
    }
    void wait_saved() {
        loop.run_until(
            [&] {
                std::ifstream f(cache_file);
                return f.good() && f.peek() != EOF;
            },
            5s);
    }
};

}  // namespace

TEST_CASE("mta_sts: fetched once per TXT id, pinned to the address DNS gave") {
    Fixture f;
    auto p = f.lookup();
    REQUIRE(p.has_value());
    CHECK(p->mode == StsMode::enforce);
    REQUIRE(f.asked.size() == 1);
    CHECK(f.asked[0].host == "mta-sts.ex.test");
    CHECK(f.asked[0].address == "127.0.0.1");
    CHECK(f.asked[0].port == 443);
    CHECK(f.asked[0].path == "/.well-known/mta-sts.txt");
    CHECK(f.asked[0].ca_file == "/ca.pem");
    CHECK(f.asked[0].content_type == "text/plain");
    CHECK(f.asked[0].max_bytes == 64 * 1024);
    CHECK(f.asked[0].connect_timeout_ms == 10'000);

    f.now += 400;  // the DNS answer expired (TTL 300), the policy (600) did not
    CHECK(f.lookup().has_value());
    CHECK(f.asked.size() == 1);  // same id, fresh: no fetch

    f.dns.add_txt("_mta-sts.ex.test", {"v=STSv1; id=2"});
    f.body = kTesting;
    f.now += 301;
    p = f.lookup();
    REQUIRE(p.has_value());
    CHECK(p->mode == StsMode::testing);  // a new id: fetched again
    CHECK(f.asked.size() == 2);
}

TEST_CASE("mta_sts: a failed fetch keeps the unexpired cached policy, then none") {
    Fixture f;
    REQUIRE(f.lookup().has_value());
    f.dns.add_txt("_mta-sts.ex.test", {"v=STSv1; id=2"});
    f.body.clear();
    f.now += 301;
    auto p = f.lookup();
    REQUIRE(p.has_value());  // the id changed, the fetch failed: the old policy holds
    CHECK(p->mode == StsMode::enforce);
    CHECK(f.asked.size() == 2);

    f.now += 300;  // 601 s after the fetch: expired
    CHECK_FALSE(f.lookup().has_value());
}

TEST_CASE("mta_sts: no record, several records, a bad policy: no policy") {
    Fixture f;
    CHECK_FALSE(f.lookup("none.test").has_value());  // NXDOMAIN at _mta-sts
    f.dns.add_txt("_mta-sts.two.test", {"v=STSv1; id=1", "v=STSv1; id=2"});
    CHECK_FALSE(f.lookup("two.test").has_value());
    f.dns.add_txt("_mta-sts.bad.test", {"v=STSv1; id=1"});
    f.dns.add_a("mta-sts.bad.test", {"127.0.0.1"});
    f.body = "version: STSv1\nmode: enforce\nmax_age: 60\n";  // no mx
    CHECK_FALSE(f.lookup("bad.test").has_value());
    f.dns.add_txt("_mta-sts.noaddr.test", {"v=STSv1; id=1"});
    CHECK_FALSE(f.lookup("noaddr.test").has_value());
    CHECK(f.asked.size() == 1);  // only bad.test got as far as a fetch
}

TEST_CASE("mta_sts: the cache file survives a restart; the TXT record may then be gone") {
    Fixture f;
    REQUIRE(f.lookup().has_value());
    f.wait_saved();
    f.dns.fail("_mta-sts.ex.test", DnsError::temporary);
    f.restart();
    CHECK(f.sts->cache().count("ex.test") == 1);
    auto p = f.lookup();
    REQUIRE(p.has_value());  // SERVFAIL at _mta-sts: the cached policy (RFC 8461 5.1)
    CHECK(p->mode == StsMode::enforce);
    CHECK(f.asked.size() == 1);

    f.now += 601;  // expired entries are not loaded
    f.restart();
    CHECK(f.sts->cache().empty());
}

TEST_CASE("mta_sts: concurrent lookups share one fetch; a cancelled one is not called") {
    Fixture f;
    int called = 0, cancelled_called = 0;
    auto q1 = f.sts->lookup("ex.test", [&](auto p) { called += p.has_value(); });
    auto q2 = f.sts->lookup("ex.test", [&](auto) { ++cancelled_called; });
    auto q3 = f.sts->lookup("ex.test", [&](auto p) { called += p.has_value(); });
    q2.cancel();
    REQUIRE(f.loop.run_until([&] { return called == 2; }, 5s));
    CHECK(cancelled_called == 0);
    CHECK(f.asked.size() == 1);
}

namespace {
HopPlan mx_plan(std::vector<std::string> hosts) {
    HopPlan p;
    for (auto& h : hosts) {
        NextHop n;
        n.host = h;
        n.addresses = {"192.0.2.1"};
        n.tls = TlsPolicy::may;
        p.hops.push_back(n);
    }
    NextHop sh;
    sh.host = "smarthost.test";
    sh.smarthost = true;
    p.fallback.push_back(sh);
    return p;
}
}  // namespace

TEST_CASE("mta_sts enforce: only matching MX, each raised to verify") {
    StsPolicy pol{StsMode::enforce, {"*.ex.test", "mx.other.test"}, 600};
    auto plan = mx_plan({"mx1.ex.test", "evil.test", "mx.other.test", "a.b.ex.test"});
    apply_sts_policy(pol, "ex.test", plan);
    REQUIRE_FALSE(plan.failure.has_value());
    REQUIRE(plan.hops.size() == 2);
    CHECK(plan.hops[0].host == "mx1.ex.test");
    CHECK(plan.hops[1].host == "mx.other.test");
    for (auto& h : plan.hops) {
        CHECK(h.tls == TlsPolicy::verify);
        CHECK(h.sts_verify);
        CHECK(h.name_authenticated);  // REQUIRETLS may use them (RFC 8689 4.2.1)
    }
    CHECK(plan.fallback.size() == 1);
}

TEST_CASE("mta_sts enforce with dane: usable TLSA records win, else verify (RFC 8461 2)") {
    StsPolicy pol{StsMode::enforce, {"*.ex.test"}, 600};
    auto plan = mx_plan({"mx1.ex.test", "mx2.ex.test", "mx3.ex.test"});
    for (auto& h : plan.hops) {
        h.tls = TlsPolicy::dane;
        h.dnssec = true;
    }
    apply_sts_policy(pol, "ex.test", plan);
    REQUIRE(plan.hops.size() == 3);
    for (auto& h : plan.hops) {
        CHECK(h.tls == TlsPolicy::dane);  // left for DANE to decide
        CHECK(h.sts_verify);
    }
    DnsResult<TlsaAnswer> usable = TlsaAnswer{{{3, 1, 1, std::string(32, 'x')}}, true};
    DnsResult<TlsaAnswer> unusable = TlsaAnswer{{{1, 1, 1, std::string(32, 'x')}}, true};
    DnsResult<TlsaAnswer> none = std::unexpected(DnsError::no_data);
    apply_dane(plan.hops[0], &usable, "ex.test");
    apply_dane(plan.hops[1], &unusable, "ex.test");
    apply_dane(plan.hops[2], &none, "ex.test");
    CHECK(plan.hops[0].tls == TlsPolicy::dane);
    CHECK(plan.hops[1].tls == TlsPolicy::verify);  // not encrypt: the policy still holds
    CHECK(plan.hops[2].tls == TlsPolicy::verify);  // not may
}

TEST_CASE("mta_sts enforce: no MX matches: deferred, naming MTA-STS, no fallback") {
    StsPolicy pol{StsMode::enforce, {"mx.ex.test"}, 600};
    auto plan = mx_plan({"mx1.evil.test", "mx2.evil.test"});
    apply_sts_policy(pol, "ex.test", plan);
    REQUIRE(plan.failure.has_value());
    CHECK(plan.failure->state == TargetState::deferred);
    CHECK(plan.failure->reply ==
          "451 4.7.5 MTA-STS policy of ex.test (mode enforce) matches none of its MX hosts "
          "(mx1.evil.test, mx2.evil.test)");
    CHECK(plan.hops.empty());
    CHECK(plan.fallback.empty());
}

TEST_CASE("mta_sts testing and none: the hops and their TLS are unchanged") {
    for (auto mode : {StsMode::testing, StsMode::none}) {
        StsPolicy pol{mode, {"mx.ex.test"}, 600};
        auto plan = mx_plan({"mx1.evil.test", "mx.ex.test"});
        apply_sts_policy(pol, "ex.test", plan);
        CHECK_FALSE(plan.failure.has_value());
        REQUIRE(plan.hops.size() == 2);
        CHECK(plan.hops[0].host == "mx1.evil.test");
        CHECK(plan.hops[0].tls == TlsPolicy::may);
        CHECK_FALSE(plan.hops[1].sts_verify);
        CHECK_FALSE(plan.hops[0].name_authenticated);
        // A testing policy still lists the MX hosts over HTTPS: REQUIRETLS may trust them.
        CHECK(plan.hops[1].name_authenticated == (mode == StsMode::testing));
    }
}
