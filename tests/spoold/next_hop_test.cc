// DeliveryPlanner (spoold/next_hop.h) over c-ares against tests/support/dns_server.py on
// 127.0.0.1: MX order and the shuffle among equals, null MX, no MX -> A/AAAA, NXDOMAIN,
// SERVFAIL, a timeout, a loop back to our own name, routes (IP, name, ".parent"), the
// smarthost exclusive and as fallback, per-domain TLS policy; the server's query counts
// show what was (not) looked up.
#include "spoold/next_hop.h"

#include <catch2/catch.hpp>
#include <set>

#include "libproto/net/loop.h"
#include "spoold/dane_hops.h"
#include "tests/dns/dns_server_process.h"

using namespace postern;
using namespace std::chrono_literals;

namespace {

const char* kZone = R"({
  "ttl": 300, "soa_minimum": 30,
  "names": {
    "ex.test": {"MX": [[10, "mx1.ex.test"], [10, "mx2.ex.test"], [20, "mx3.ex.test"]]},
    "mx1.ex.test": {"A": ["192.0.2.1"], "AAAA": ["2001:db8::1"]},
    "mx2.ex.test": {"A": ["192.0.2.2"]},
    "mx3.ex.test": {"A": ["192.0.2.3"]},
    "implicit.test": {"A": ["192.0.2.10"], "AAAA": ["2001:db8::10"]},
    "null.test": {"MX": [[0, "."]]},
    "mxdown.test": {"MX": [[10, "sf.test"]]},
    "loop.test": {"MX": [[10, "mx.postern.test"], [20, "backup.loop.test"]]},
    "backup.loop.test": {"A": ["192.0.2.40"]},
    "ownmx.test": {"MX": [[5, "other.ownmx.test"], [10, "MX.postern.test"], [20, "backup.loop.test"]]},
    "other.ownmx.test": {"A": ["192.0.2.41"]},
    "relay.test": {"A": ["192.0.2.50"], "AAAA": ["2001:db8::50"]},
    "smarthost.test": {"A": ["192.0.2.60"]},
    "routed.test": {"MX": [[10, "mx1.ex.test"]]},
    "dane.test": {"MX": [[10, "mx.dane.test"], [20, "mx2.dane.test"]]},
    "mx.dane.test": {"A": ["192.0.2.70"]},
    "_25._tcp.mx.dane.test": {"TLSA": [[3, 1, 1, "1111111111111111111111111111111111111111111111111111111111111111"], [1, 1, 1, "1111111111111111111111111111111111111111111111111111111111111111"]]},
    "mx2.dane.test": {"A": ["192.0.2.71"]},
    "_25._tcp.mx2.dane.test": {"TLSA": [[0, 0, 1, "1111111111111111111111111111111111111111111111111111111111111111"]]},
    "insecure.test": {"MX": [[10, "mx.dane.test"]]},
    "unsigned-tlsa.test": {"MX": [[10, "mx.unsigned-tlsa.test"]]},
    "mx.unsigned-tlsa.test": {"A": ["192.0.2.72"]},
    "_25._tcp.mx.unsigned-tlsa.test": {"TLSA": [[3, 1, 1, "1111111111111111111111111111111111111111111111111111111111111111"]]},
    "unsigned-a.test": {"MX": [[10, "mx.unsigned-a.test"]]},
    "mx.unsigned-a.test": {"A": ["192.0.2.73"]},
    "_25._tcp.mx.unsigned-a.test": {"TLSA": [[3, 1, 1, "1111111111111111111111111111111111111111111111111111111111111111"]]},
    "tlsafail.test": {"MX": [[10, "mx.tlsafail.test"], [20, "mx.dane.test"]]},
    "mx.tlsafail.test": {"A": ["192.0.2.74"]},
    "notlsa.test": {"MX": [[10, "mx.notlsa.test"]]},
    "mx.notlsa.test": {"A": ["192.0.2.75"]},
    "_2525._tcp.mx.dane.test": {"TLSA": [[3, 1, 1, "1111111111111111111111111111111111111111111111111111111111111111"]]}
  },
  "ad": ["dane.test", "mx.dane.test", "_25._tcp.mx.dane.test", "mx2.dane.test",
         "_25._tcp.mx2.dane.test", "unsigned-tlsa.test", "mx.unsigned-tlsa.test",
         "unsigned-a.test", "_25._tcp.mx.unsigned-a.test", "tlsafail.test",
         "mx.tlsafail.test", "notlsa.test", "mx.notlsa.test", "_2525._tcp.mx.dane.test"],
  "servfail": ["sf.test", "servfail.test", "_25._tcp.mx.tlsafail.test"],
  "drop": ["slow.test"]
})";

bool python_or_fail() {
    if (dns_test::have_python()) return true;
    if (dns_test::in_ci()) FAIL("python3 (" PYTHON3 ") is missing: the DNS server cannot run");
    WARN("python3 (" PYTHON3 ") is missing: next-hop tests against a live server NOT RUN");
    return false;
}

struct Fixture {
    dns_test::DnsServerProcess server{kZone};
    EventLoop loop;
    std::unique_ptr<DeliveryPlanner> planner;

    // `delivery` as [delivery] would give it; the DNS server is its only server.
    bool start(DeliveryConfig delivery = {}, std::optional<uint32_t> seed = 42) {
        if (!server.error().empty()) return false;
        DeliveryPlannerOptions o;
        o.delivery = std::move(delivery);
        o.delivery.dns_servers = {server.server()};
        o.local_names = {"mx.postern.test"};
        o.dns_timeout_ms = 300;
        o.dns_tries = 2;
        o.seed = seed;
        o.smarthost_auth = SmtpCredentials{"relayuser", "s3cret"};
        auto p = DeliveryPlanner::create(loop.get(), std::move(o));
        if (!p) return false;
        planner = std::move(*p);
        return true;
    }
    HopPlan plan(const std::string& domain) {
        std::optional<HopPlan> got;
        int calls = 0;
        planner->plan(domain, [&](HopPlan p) {
            ++calls;
            got = std::move(p);
        });
        REQUIRE(loop.run_until([&] { return got.has_value(); }, 10s));
        loop.run_until([] { return false; }, 20ms);  // a second call would show here
        CHECK(calls == 1);
        CHECK(planner->in_flight() == 0);
        return std::move(*got);
    }
};

std::vector<std::string> hosts(const std::vector<NextHop>& hops) {
    std::vector<std::string> out;
    for (auto& h : hops) out.push_back(h.host);
    return out;
}

DeliveryConfig with_smarthost(SmarthostMode mode) {
    DeliveryConfig d;
    d.smarthost = HostPort{"smarthost.test", 587};
    d.smarthost_mode = mode;
    d.smarthost_user = "relayuser";
    return d;
}

}  // namespace

TEST_CASE("next hop: MX by preference, equals shuffled, both families, port 25, TLS may") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    REQUIRE(f.start());
    auto p = f.plan("ex.test");
    REQUIRE_FALSE(p.failure.has_value());
    REQUIRE(p.hops.size() == 3);
    CHECK(std::set<std::string>{p.hops[0].host, p.hops[1].host} ==
          std::set<std::string>{"mx1.ex.test", "mx2.ex.test"});
    CHECK(p.hops[2].host == "mx3.ex.test");
    CHECK(p.fallback.empty());
    for (auto& h : p.hops) {
        CHECK(h.port == 25);
        CHECK(h.tls == TlsPolicy::may);
        CHECK_FALSE(h.auth.has_value());
        CHECK_FALSE(h.smarthost);
        if (h.host == "mx1.ex.test")
            CHECK(h.addresses == std::vector<std::string>{"2001:db8::1", "192.0.2.1"});
        if (h.host == "mx3.ex.test") CHECK(h.addresses == std::vector<std::string>{"192.0.2.3"});
    }
}

TEST_CASE("next hop: equal preferences come in both orders across seeds") {
    if (!python_or_fail()) return;
    std::set<std::string> firsts;
    for (uint32_t seed = 1; seed <= 16 && firsts.size() < 2; ++seed) {
        Fixture f;
        INFO(f.server.error());
        REQUIRE(f.start({}, seed));
        auto p = f.plan("ex.test");
        REQUIRE(p.hops.size() == 3);
        firsts.insert(p.hops[0].host);
        CHECK(p.hops[2].host == "mx3.ex.test");  // never shuffled above its preference
    }
    CHECK(firsts == std::set<std::string>{"mx1.ex.test", "mx2.ex.test"});
}

TEST_CASE("next hop: DNS failures become the right result") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    REQUIRE(f.start());
    struct Case {
        const char* domain;
        TargetState state;
        const char* reply;
    };
    auto tc = GENERATE(values<Case>({
        {"null.test", TargetState::failed,
         "556 5.1.10 domain null.test accepts no mail (null MX, RFC 7505)"},
        {"nowhere.test", TargetState::failed,
         "550 5.1.2 domain nowhere.test does not exist (NXDOMAIN)"},
        {"loop.test", TargetState::failed, "550 5.4.6 mail for loop.test loops back to myself"},
        {"servfail.test", TargetState::deferred,
         "451 4.4.3 DNS lookup of MX for servfail.test failed: "},
        {"mxdown.test", TargetState::deferred, "451 4.4.3 DNS lookup of the address for sf.test"},
        {"slow.test", TargetState::deferred, "451 4.4.3 DNS lookup of MX for slow.test failed: "},
    }));
    DYNAMIC_SECTION(tc.domain) {
        auto start = std::chrono::steady_clock::now();
        auto p = f.plan(tc.domain);
        CHECK(std::chrono::steady_clock::now() - start < 3s);  // the timeout is 300 ms x 2
        CHECK(p.hops.empty());
        CHECK(p.fallback.empty());
        REQUIRE(p.failure.has_value());
        CHECK(p.failure->state == tc.state);
        INFO("got: " << p.failure->reply);
        CHECK(p.failure->reply.starts_with(tc.reply));
    }
}

TEST_CASE("next hop: no MX means the domain's own A/AAAA, and our own MX ends the list") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    REQUIRE(f.start());
    auto p = f.plan("implicit.test");
    REQUIRE(hosts(p.hops) == std::vector<std::string>{"implicit.test"});
    CHECK(p.hops[0].addresses == std::vector<std::string>{"2001:db8::10", "192.0.2.10"});

    auto own = f.plan("ownmx.test");  // we are preference 10: only the better one is tried
    CHECK(hosts(own.hops) == std::vector<std::string>{"other.ownmx.test"});
}

TEST_CASE("next hop: routes come first, an IP as is, a name by A/AAAA without MX") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    DeliveryConfig d = with_smarthost(SmarthostMode::exclusive);
    d.routes["routed.test"] = HostPort{"127.0.0.1", 2526};
    d.routes["named.test"] = HostPort{"relay.test", 2527};
    d.routes[".sub.test"] = HostPort{"::1", 2528};
    d.routes["broken.test"] = HostPort{"gone.test", 25};
    d.tls_policy["routed.test"] = DeliveryTls::verify;
    REQUIRE(f.start(d));

    // An IP route is answered before plan() returns: nothing to look up.
    std::optional<HopPlan> now;
    f.planner->plan("routed.test", [&](HopPlan p) { now = std::move(p); });
    REQUIRE(now.has_value());
    REQUIRE(now->hops.size() == 1);
    CHECK(now->hops[0].host == "127.0.0.1");
    CHECK(now->hops[0].addresses == std::vector<std::string>{"127.0.0.1"});
    CHECK(now->hops[0].port == 2526);
    CHECK(now->hops[0].tls == TlsPolicy::verify);
    CHECK_FALSE(now->hops[0].smarthost);
    CHECK(now->fallback.empty());  // exclusive mode: no fallback

    auto named = f.plan("named.test");
    REQUIRE(named.hops.size() == 1);
    CHECK(named.hops[0].host == "relay.test");
    CHECK(named.hops[0].addresses == std::vector<std::string>{"2001:db8::50", "192.0.2.50"});
    CHECK(named.hops[0].port == 2527);
    CHECK(f.server.asked("named.test/MX") == 0);
    CHECK(f.server.asked("relay.test/MX") == 0);

    auto sub = f.plan("deep.in.sub.test");
    REQUIRE(sub.hops.size() == 1);
    CHECK(sub.hops[0].addresses == std::vector<std::string>{"::1"});
    CHECK(sub.hops[0].port == 2528);

    auto broken = f.plan("broken.test");  // a route to nowhere waits for the admin
    CHECK(broken.hops.empty());
    REQUIRE(broken.failure.has_value());
    CHECK(broken.failure->state == TargetState::deferred);
    CHECK(broken.failure->reply.starts_with("451 4.4.3 route gone.test for broken.test: "));
    CHECK(f.server.asked("routed.test/MX") == 0);
    CHECK(f.server.asked("smarthost.test/A") == 0);
}

TEST_CASE("next hop: exclusive smarthost takes every unrouted domain, with AUTH") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    DeliveryConfig d = with_smarthost(SmarthostMode::exclusive);
    d.tls_policy["smarthost.test"] = DeliveryTls::encrypt;
    REQUIRE(f.start(d));
    for (const char* domain : {"ex.test", "null.test", "nowhere.test"}) {
        auto p = f.plan(domain);
        INFO(domain);
        REQUIRE_FALSE(p.failure.has_value());
        REQUIRE(p.hops.size() == 1);
        const auto& h = p.hops[0];
        CHECK(h.host == "smarthost.test");
        CHECK(h.addresses == std::vector<std::string>{"192.0.2.60"});
        CHECK(h.port == 587);
        CHECK(h.smarthost);
        CHECK(h.tls == TlsPolicy::encrypt);
        REQUIRE(h.auth.has_value());
        CHECK(h.auth->user == "relayuser");
        CHECK(h.auth->password == "s3cret");
        CHECK(p.fallback.empty());
    }
    CHECK(f.server.asked("ex.test/MX") == 0);  // no MX lookup at all
}

TEST_CASE("next hop: fallback smarthost after the MX hosts, and instead of a failed lookup") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    REQUIRE(f.start(with_smarthost(SmarthostMode::fallback)));

    auto p = f.plan("ex.test");
    CHECK(p.hops.size() == 3);
    REQUIRE(hosts(p.fallback) == std::vector<std::string>{"smarthost.test"});
    CHECK(p.fallback[0].smarthost);
    CHECK(p.fallback[0].port == 587);
    CHECK(p.fallback[0].auth.has_value());
    for (auto& h : p.hops) CHECK_FALSE(h.smarthost);

    auto sf = f.plan("servfail.test");  // direct delivery failed temporarily: the smarthost
    CHECK_FALSE(sf.failure.has_value());
    CHECK(hosts(sf.hops) == std::vector<std::string>{"smarthost.test"});
    CHECK(sf.fallback.empty());

    auto null = f.plan("null.test");  // permanent: the smarthost does not change that
    CHECK(null.hops.empty());
    REQUIRE(null.failure.has_value());
    CHECK(null.failure->state == TargetState::failed);
    CHECK(null.failure->reply.starts_with("556 5.1.10 "));
}

TEST_CASE("next hop: which names REQUIRETLS may trust (RFC 8689 4.2.1)") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    DeliveryConfig d = with_smarthost(SmarthostMode::fallback);
    d.routes["named.test"] = HostPort{"relay.test", 2527};
    REQUIRE(f.start(d));
    auto signed_mx = f.plan("dane.test");  // MX answer with AD
    REQUIRE(signed_mx.hops.size() == 2);
    for (auto& h : signed_mx.hops) CHECK(h.name_authenticated);
    auto unsigned_mx = f.plan("insecure.test");  // the same MX host, the answer without AD
    REQUIRE(unsigned_mx.hops.size() == 1);
    CHECK_FALSE(unsigned_mx.hops[0].name_authenticated);
    REQUIRE(unsigned_mx.fallback.size() == 1);
    CHECK(unsigned_mx.fallback[0].name_authenticated);  // the configured smarthost
    auto implicit = f.plan("implicit.test");            // no MX: the domain's own name
    REQUIRE(implicit.hops.size() == 1);
    CHECK(implicit.hops[0].name_authenticated);
    auto routed = f.plan("named.test");
    REQUIRE(routed.hops.size() == 1);
    CHECK(routed.hops[0].name_authenticated);
}

TEST_CASE("next hop: per-domain TLS policy and its default") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    DeliveryConfig d;
    d.tls_policy["ex.test"] = DeliveryTls::verify;
    d.default_tls = DeliveryTls::none;
    REQUIRE(f.start(d));
    for (auto& h : f.plan("ex.test").hops) CHECK(h.tls == TlsPolicy::verify);
    for (auto& h : f.plan("implicit.test").hops) CHECK(h.tls == TlsPolicy::none);
}

TEST_CASE("next hop: a planner destroyed mid-lookup never calls back") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    REQUIRE(f.start(with_smarthost(SmarthostMode::fallback)));
    bool called = false;
    f.planner->plan("slow.test", [&](HopPlan) { called = true; });
    CHECK(f.planner->in_flight() == 1);
    f.planner.reset();
    f.loop.run_until([] { return false; }, 800ms);  // past the DNS timeout
    CHECK_FALSE(called);
}

TEST_CASE("next hop: the options read the smarthost password, refusing a world-readable file") {
    char tmpl[] = "/tmp/postern-nexthop-XXXXXX";
    std::filesystem::path dir = mkdtemp(tmpl);
    auto file = dir / "secret";
    std::ofstream(file) << "pw\n";
    DeliveryConfig d = with_smarthost(SmarthostMode::exclusive);
    d.smarthost_password_file = file;

    std::filesystem::permissions(
        file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto ok = delivery_planner_options(d, "mx.postern.test");
    REQUIRE(ok.has_value());
    REQUIRE(ok->smarthost_auth.has_value());
    CHECK(ok->smarthost_auth->password == "pw");
    CHECK(ok->local_names == std::vector<std::string>{"mx.postern.test"});

    std::filesystem::permissions(file, std::filesystem::perms::others_read,
                                 std::filesystem::perm_options::add);
    auto bad = delivery_planner_options(d, "mx.postern.test");
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error() == file.string() +
                             ": smarthost password file is readable or writable by others "
                             "(chmod o-rw it)");
    std::filesystem::remove_all(dir);
}

TEST_CASE("next hop: DANE from authenticated MX, address and TLSA answers (RFC 7672 2.2)") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    DeliveryConfig d;  // tls_policy_default is dane
    d.routes["routed-dane.test"] = HostPort{"mx.dane.test", 2525};
    d.routes["routed-ip.test"] = HostPort{"192.0.2.70", 25};
    REQUIRE(f.start(d));
    const std::string digest(32, '\x11');

    SECTION("usable records: dane, only the usable ones; PKIX only: encrypt") {
        auto p = f.plan("dane.test");
        REQUIRE(p.hops.size() == 2);
        CHECK(p.hops[0].dnssec);
        CHECK(p.hops[0].tls == TlsPolicy::dane);
        CHECK(p.hops[0].dane.outcome == DaneOutcome::verify);
        CHECK(p.hops[0].dane.records == std::vector<TlsaRecord>{{3, 1, 1, digest}});
        CHECK(p.hops[1].tls == TlsPolicy::encrypt);
        CHECK(p.hops[1].dane.outcome == DaneOutcome::encrypt);
    }
    SECTION("an unauthenticated MX answer: no TLSA lookup, may") {
        auto p = f.plan("insecure.test");
        REQUIRE(p.hops.size() == 1);
        CHECK_FALSE(p.hops[0].dnssec);
        CHECK(p.hops[0].tls == TlsPolicy::may);
        CHECK(f.server.asked("_25._tcp.mx.dane.test/TLSA") == 0);
    }
    SECTION("unauthenticated address answers: no TLSA lookup, may") {
        auto p = f.plan("unsigned-a.test");
        REQUIRE(p.hops.size() == 1);
        CHECK(p.hops[0].tls == TlsPolicy::may);
        CHECK(f.server.asked("_25._tcp.mx.unsigned-a.test/TLSA") == 0);
    }
    SECTION("an unauthenticated TLSA answer is ignored: may, after one lookup") {
        auto p = f.plan("unsigned-tlsa.test");
        REQUIRE(p.hops.size() == 1);
        CHECK(p.hops[0].dnssec);
        CHECK(p.hops[0].tls == TlsPolicy::may);
        CHECK(p.hops[0].dane.outcome == DaneOutcome::not_dane);
        CHECK(f.server.asked("_25._tcp.mx.unsigned-tlsa.test/TLSA") == 1);
    }
    SECTION("TLSA SERVFAIL defers that host only; the next MX keeps DANE") {
        auto p = f.plan("tlsafail.test");
        REQUIRE(p.hops.size() == 2);
        CHECK(p.hops[0].dane.outcome == DaneOutcome::defer);
        CHECK(dane_defer_reply(p.hops[0]) == "451 4.7.5 mx.tlsafail.test:25: TLSA lookup failed");
        CHECK(p.hops[1].tls == TlsPolicy::dane);
    }
    SECTION("no TLSA records: may") {
        auto p = f.plan("notlsa.test");
        REQUIRE(p.hops.size() == 1);
        CHECK(p.hops[0].tls == TlsPolicy::may);
        CHECK(f.server.asked("_25._tcp.mx.notlsa.test/TLSA") == 1);
    }
    SECTION("a route to a name: TLSA at the route's port; an IP route: no DANE") {
        auto p = f.plan("routed-dane.test");
        REQUIRE(p.hops.size() == 1);
        CHECK(p.hops[0].dnssec);
        CHECK(p.hops[0].tls == TlsPolicy::dane);
        CHECK(f.server.asked("_2525._tcp.mx.dane.test/TLSA") == 1);
        auto ip = f.plan("routed-ip.test");
        REQUIRE(ip.hops.size() == 1);
        CHECK_FALSE(ip.hops[0].dnssec);
        CHECK(ip.hops[0].tls == TlsPolicy::may);
    }
    SECTION("cached: a second plan asks no TLSA again") {
        (void)f.plan("dane.test");
        (void)f.plan("dane.test");
        CHECK(f.server.asked("_25._tcp.mx.dane.test/TLSA") == 1);
    }
}

TEST_CASE("next hop: a message waiving the recipient's TLS policies gets no DANE (RFC 8689 5)") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    DeliveryConfig d;  // tls_policy_default is dane
    d.tls_policy["notlsa.test"] = DeliveryTls::dane_only;
    d.tls_policy["relay.test"] = DeliveryTls::verify;
    REQUIRE(f.start(d));
    PlanFor waived;
    waived.recipient_tls_policies = false;
    auto plan = [&](const char* domain) {
        std::optional<HopPlan> got;
        f.planner->plan(domain, waived, [&](HopPlan p) { got = std::move(p); });
        REQUIRE(f.loop.run_until([&] { return got.has_value(); }, 10s));
        return *got;
    };
    auto p = plan("dane.test");
    REQUIRE(p.hops.size() == 2);
    for (auto& h : p.hops) CHECK(h.tls == TlsPolicy::may);
    auto only = plan("notlsa.test");  // dane-only would defer it
    REQUIRE(only.hops.size() == 1);
    CHECK(only.hops[0].tls == TlsPolicy::may);
    CHECK(only.hops[0].dane.outcome != DaneOutcome::defer);
    CHECK(f.server.asked("_25._tcp.mx.dane.test/TLSA") == 0);
    CHECK(f.server.asked("_25._tcp.mx.notlsa.test/TLSA") == 0);
    auto own = plan("relay.test");  // this server's own policy stays
    REQUIRE(own.hops.size() == 1);
    CHECK(own.hops[0].tls == TlsPolicy::verify);
}

TEST_CASE("next hop: dane-only defers hosts without usable TLSA") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    DeliveryConfig d;
    d.default_tls = DeliveryTls::dane_only;
    REQUIRE(f.start(d));
    auto p = f.plan("dane.test");
    REQUIRE(p.hops.size() == 2);
    CHECK(p.hops[0].tls == TlsPolicy::dane);
    CHECK(p.hops[1].dane.outcome == DaneOutcome::defer);  // PKIX only
    for (const char* dom : {"notlsa.test", "insecure.test", "unsigned-tlsa.test"}) {
        INFO(dom);
        auto q = f.plan(dom);
        REQUIRE(q.hops.size() == 1);
        CHECK(q.hops[0].dane.outcome == DaneOutcome::defer);
        CHECK(dane_defer_reply(q.hops[0]).starts_with("451 4.7.5 "));
    }
}

TEST_CASE("next hop: policies other than dane never ask for TLSA") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    DeliveryConfig d;
    d.default_tls = DeliveryTls::may;
    REQUIRE(f.start(d));
    auto p = f.plan("dane.test");
    REQUIRE(p.hops.size() == 2);
    CHECK(p.hops[0].dnssec);
    CHECK(p.hops[0].tls == TlsPolicy::may);
    CHECK(f.server.asked("_25._tcp.mx.dane.test/TLSA") == 0);
}
