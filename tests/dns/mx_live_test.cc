// MxResolver over c-ares against tests/support/dns_server.py on 127.0.0.1:
// MX order, CNAMEs, implicit and null MX, NXDOMAIN, SERVFAIL, a timeout, TC
// with the TCP retry, the AD bit, TLSA and TXT, and the TTL cache (the
// server counts the queries it gets).
#include "libproto/dns/mx_resolver.h"

#include <catch2/catch.hpp>
#include <set>

#include "libproto/net/loop.h"
#include "tests/dns/dns_server_process.h"

using namespace postern;
using namespace std::chrono_literals;

namespace {

const char* kZone = R"({
  "ttl": 300, "soa_minimum": 30,
  "names": {
    "ex.test": {"MX": [[10, "mx1.ex.test"], [10, "mx2.ex.test"], [20, "mx3.ex.test"]]},
    "mx1.ex.test": {"A": ["192.0.2.1"], "AAAA": ["2001:db8::1"]},
    "mx2.ex.test": {"CNAME": "real-mx2.ex.test"},
    "real-mx2.ex.test": {"A": ["192.0.2.2"], "AAAA": ["2001:db8::2"]},
    "mx3.ex.test": {"A": ["192.0.2.3"]},
    "alias.test": {"CNAME": "ex.test"},
    "implicit.test": {"A": ["192.0.2.10"], "AAAA": ["2001:db8::10"]},
    "null.test": {"MX": [[0, "."]]},
    "literal.test": {"MX": [[10, "192.0.2.99"], [20, "mx3.ex.test"]]},
    "mxdown.test": {"MX": [[10, "sf.test"]]},
    "nohost.test": {"MX": [[10, "gone.test"]]},
    "big.test": {"MX": [[10, "tc.test"]]},
    "tc.test": {"A": ["192.0.2.20", "192.0.2.21", "192.0.2.22"]},
    "secure.test": {"MX": [[10, "mx.secure.test"]]},
    "mx.secure.test": {"A": ["192.0.2.30"], "AAAA": ["2001:db8::30"]},
    "_25._tcp.mx.secure.test": {"TLSA": [[3, 1, 1, "0102030405060708"]]},
    "_mta-sts.ex.test": {"TXT": [["v=STSv1; ", "id=20240101"]]}
  },
  "servfail": ["sf.test"],
  "drop": ["slow.test"],
  "truncate": ["tc.test"],
  "ad": ["secure.test", "mx.secure.test", "_25._tcp.mx.secure.test"]
})";

struct Fixture {
    dns_test::DnsServerProcess server{kZone};
    EventLoop loop;
    std::unique_ptr<AresResolver> ares;
    std::unique_ptr<MxResolver> mx;

    bool start() {
        if (!server.error().empty()) return false;
        ResolverOptions o;
        o.servers = {server.server()};  // the only server: never /etc/resolv.conf's
        o.timeout_ms = 300;
        o.tries = 2;
        auto r = AresResolver::create(loop.get(), o);
        if (!r) return false;
        ares = std::move(*r);
        MxResolverOptions mo;
        mo.seed = 42;
        mx = std::make_unique<MxResolver>(loop.get(), *ares, mo);
        return true;
    }
    PlanResult resolve(const std::string& domain) {
        std::optional<PlanResult> got;
        auto job = mx->resolve(domain, [&](PlanResult r) { got = std::move(r); });
        REQUIRE(loop.run_until([&] { return got.has_value(); }, 10s));
        return std::move(*got);
    }
};

// python3 is part of the build's requirements; missing it fails under CI.
bool python_or_fail() {
    if (dns_test::have_python()) return true;
    if (dns_test::in_ci()) FAIL("python3 (" PYTHON3 ") is missing: the DNS server cannot run");
    WARN("python3 (" PYTHON3 ") is missing: DNS tests against a live server NOT RUN");
    return false;
}

std::vector<std::string> host_names(const DeliveryPlan& p) {
    std::vector<std::string> out;
    for (auto& h : p.hosts) out.push_back(h.name);
    return out;
}

}  // namespace

TEST_CASE("mx live: MX order, CNAME'd MX host, addresses of both families") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    REQUIRE(f.start());
    auto p = f.resolve("EX.test");
    REQUIRE(p.has_value());
    auto n = host_names(*p);
    REQUIRE(n.size() == 3);
    std::set<std::string> first_two{n[0], n[1]};
    CHECK(first_two == std::set<std::string>{"mx1.ex.test", "mx2.ex.test"});
    CHECK(n[2] == "mx3.ex.test");
    CHECK_FALSE(p->implicit_mx);
    CHECK_FALSE(p->mx_authenticated);
    for (auto& h : p->hosts) {
        if (h.name == "mx2.ex.test")  // through its CNAME
            CHECK(h.addresses == std::vector<std::string>{"2001:db8::2", "192.0.2.2"});
        if (h.name == "mx1.ex.test")
            CHECK(h.addresses == std::vector<std::string>{"2001:db8::1", "192.0.2.1"});
        if (h.name == "mx3.ex.test") CHECK(h.addresses == std::vector<std::string>{"192.0.2.3"});
    }
    CHECK(f.server.asked("ex.test/MX") == 1);
    CHECK(f.server.asked("mx2.ex.test/A") == 1);

    auto via_alias = f.resolve("alias.test");  // the domain itself is a CNAME
    REQUIRE(via_alias.has_value());
    CHECK(via_alias->hosts.size() == 3);
}

TEST_CASE("mx live: implicit MX, null MX, NXDOMAIN, IP-literal MX, host without address") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    REQUIRE(f.start());
    auto imp = f.resolve("implicit.test");
    REQUIRE(imp.has_value());
    CHECK(imp->implicit_mx);
    REQUIRE(imp->hosts.size() == 1);
    CHECK(imp->hosts[0].addresses == std::vector<std::string>{"2001:db8::10", "192.0.2.10"});

    auto null = f.resolve("null.test");
    REQUIRE_FALSE(null.has_value());
    CHECK(null.error().permanent);
    CHECK(null.error().reason == "domain null.test accepts no mail (null MX, RFC 7505)");

    auto nx = f.resolve("nowhere.test");
    REQUIRE_FALSE(nx.has_value());
    CHECK(nx.error().permanent);
    CHECK(nx.error().reason == "domain nowhere.test does not exist (NXDOMAIN)");

    auto lit = f.resolve("literal.test");
    REQUIRE(lit.has_value());
    CHECK(host_names(*lit) == std::vector<std::string>{"mx3.ex.test"});
    CHECK(f.server.asked("192.0.2.99/A") == 0);  // an address is never looked up as a name

    auto gone = f.resolve("nohost.test");
    REQUIRE_FALSE(gone.has_value());
    CHECK(gone.error().permanent);
}

TEST_CASE("mx live: SERVFAIL and a timeout are temporary, and bounded") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    REQUIRE(f.start());
    auto sf = f.resolve("sf.test");
    REQUIRE_FALSE(sf.has_value());
    CHECK_FALSE(sf.error().permanent);
    CHECK(f.server.asked("sf.test/MX") == 2);  // c-ares' two tries

    auto down = f.resolve("mxdown.test");  // the MX host's lookups fail
    REQUIRE_FALSE(down.has_value());
    CHECK_FALSE(down.error().permanent);

    auto t0 = std::chrono::steady_clock::now();
    auto slow = f.resolve("slow.test");
    auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE_FALSE(slow.has_value());
    CHECK_FALSE(slow.error().permanent);
    CHECK(f.server.asked("slow.test/MX") == 2);
    CHECK(took >= 500ms);  // 300 ms, then 600 ms (c-ares doubles per try)
    CHECK(took < 3s);
}

TEST_CASE("mx live: a truncated UDP answer is asked again over TCP") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    REQUIRE(f.start());
    auto p = f.resolve("big.test");
    REQUIRE(p.has_value());
    REQUIRE(p->hosts.size() == 1);
    CHECK(p->hosts[0].addresses ==
          std::vector<std::string>{"192.0.2.20", "192.0.2.21", "192.0.2.22"});
    CHECK(f.server.tcp() >= 1);
    CHECK(f.server.asked("tc.test/A") == 2);  // UDP, then TCP
}

TEST_CASE("mx live: the AD bit, TLSA and TXT") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    REQUIRE(f.start());
    auto p = f.resolve("secure.test");
    REQUIRE(p.has_value());
    CHECK(p->mx_authenticated);
    REQUIRE(p->hosts.size() == 1);
    CHECK(p->hosts[0].authenticated);

    std::optional<DnsResult<TlsaAnswer>> tlsa, notlsa;
    std::optional<DnsResult<TxtAnswer>> txt;
    auto j1 = f.mx->tlsa("mx.secure.test", 25, [&](auto r) { tlsa = std::move(r); });
    auto j2 = f.mx->tlsa("mx1.ex.test", 25, [&](auto r) { notlsa = std::move(r); });
    auto j3 = f.mx->txt("_mta-sts.ex.test", [&](auto r) { txt = std::move(r); });
    REQUIRE(f.loop.run_until([&] { return tlsa && notlsa && txt; }, 10s));
    REQUIRE(tlsa->has_value());
    CHECK((*tlsa)->authenticated);
    CHECK((*tlsa)->records ==
          std::vector<TlsaRecord>{{3, 1, 1, std::string("\x01\x02\x03\x04\x05\x06\x07\x08")}});
    CHECK(*notlsa == std::unexpected(DnsError::not_found));
    REQUIRE(txt->has_value());
    CHECK_FALSE((*txt)->authenticated);
    CHECK((*txt)->records == std::vector<std::string>{"v=STSv1; id=20240101"});
}

TEST_CASE("mx live: answers are cached, negative ones too: the server is not asked again") {
    if (!python_or_fail()) return;
    Fixture f;
    INFO(f.server.error());
    REQUIRE(f.start());
    REQUIRE(f.resolve("ex.test").has_value());
    int before = f.server.total();
    CHECK(before == 7);  // MX, then A and AAAA for three hosts
    auto again = f.resolve("ex.test");
    REQUIRE(again.has_value());
    CHECK(again->hosts.size() == 3);
    CHECK(f.server.total() == before);

    REQUIRE_FALSE(f.resolve("nowhere.test").has_value());
    REQUIRE_FALSE(f.resolve("nowhere.test").has_value());
    CHECK(f.server.asked("nowhere.test/MX") == 1);

    REQUIRE_FALSE(f.resolve("sf.test").has_value());  // temporary failures are not cached
    REQUIRE_FALSE(f.resolve("sf.test").has_value());
    CHECK(f.server.asked("sf.test/MX") == 4);  // two tries each
}

TEST_CASE("resolver options: server lists with ports, IPv6 in brackets, bad ones refused") {
    EventLoop loop;
    ResolverOptions o;
    o.servers = {"127.0.0.1:5353", "[::1]:53"};
    CHECK(AresResolver::create(loop.get(), o).has_value());  // no query is sent
    o.servers = {"not-an-address"};
    auto bad = AresResolver::create(loop.get(), o);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().find("bad DNS server list") != std::string::npos);
}
