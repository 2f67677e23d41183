// DnsCache: TTLs (positive, negative with and without SOA, caps, zero), LRU bound.
#include "libproto/dns/dns_cache.h"

#include <catch2/catch.hpp>

#include "tests/proto/dns_test_util.h"

using namespace postern;
using namespace std::chrono_literals;
using dns_test::addr;
using dns_test::message;

TEST_CASE("dns_cache: answers live for their TTL") {
    DnsCache cache;
    auto t0 = DnsCache::Clock::time_point{} + 1000s;
    cache.put("A.test.", dns_type::a,
              message({dns_test::cname("a.test", "b.test", 30), addr("b.test", "192.0.2.1", 100)}),
              t0);
    CHECK(cache.get("a.test", dns_type::a, t0 + 29s).has_value());
    CHECK_FALSE(cache.get("a.test", dns_type::a, t0 + 30s).has_value());  // the CNAME's 30 s
    CHECK(cache.size() == 0);
    CHECK_FALSE(cache.get("a.test", dns_type::aaaa, t0).has_value());

    cache.put("big.test", dns_type::a, message({addr("big.test", "192.0.2.2", 86400 * 7)}), t0);
    CHECK(cache.get("big.test", dns_type::a, t0 + 3599s).has_value());
    CHECK_FALSE(cache.get("big.test", dns_type::a, t0 + 3600s).has_value());  // max_ttl

    cache.put("zero.test", dns_type::a, message({addr("zero.test", "192.0.2.3", 0)}), t0);
    CHECK(cache.size() == 0);
}

TEST_CASE("dns_cache: negative answers: SOA minimum, else 60 s, at most 300 s") {
    DnsCache cache;
    auto t0 = DnsCache::Clock::time_point{} + 1000s;
    auto nx = message({}, false, dns_rcode::nxdomain);
    cache.put("nx.test", dns_type::mx, nx, t0);
    CHECK(cache.get("nx.test", dns_type::mx, t0 + 59s).has_value());
    CHECK_FALSE(cache.get("nx.test", dns_type::mx, t0 + 60s).has_value());
    nx.negative_ttl = 10;
    cache.put("nx.test", dns_type::mx, nx, t0);
    CHECK_FALSE(cache.get("nx.test", dns_type::mx, t0 + 10s).has_value());
    auto nodata = message({});
    nodata.negative_ttl = 86400;
    cache.put("nd.test", dns_type::mx, nodata, t0);
    CHECK(cache.get("nd.test", dns_type::mx, t0 + 299s).has_value());
    CHECK_FALSE(cache.get("nd.test", dns_type::mx, t0 + 300s).has_value());
}

TEST_CASE("dns_cache: bounded, the least recently used goes first") {
    DnsCacheOptions o;
    o.capacity = 2;
    DnsCache cache(o);
    auto t0 = DnsCache::Clock::time_point{} + 1000s;
    cache.put("a.test", dns_type::a, message({addr("a.test", "192.0.2.1")}), t0);
    cache.put("b.test", dns_type::a, message({addr("b.test", "192.0.2.2")}), t0);
    CHECK(cache.get("a.test", dns_type::a, t0).has_value());  // a is now the newest
    cache.put("c.test", dns_type::a, message({addr("c.test", "192.0.2.3")}), t0);
    CHECK(cache.size() == 2);
    CHECK(cache.get("a.test", dns_type::a, t0).has_value());
    CHECK_FALSE(cache.get("b.test", dns_type::a, t0).has_value());
    CHECK(cache.get("c.test", dns_type::a, t0).has_value());
}
