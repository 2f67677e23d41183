// The DNS answer parser: header flags, compression, CNAME chains, SOA
// negative TTL, TXT and TLSA RDATA, and every way a message can be broken.
#include "libproto/dns_parse/dns_message.h"

#include <catch2/catch.hpp>

#include "tests/proto/dns_test_util.h"

using namespace postern;
using dns_test::u16;
using dns_test::u32;
using dns_test::wire_name;

namespace {

// Header + question for example.test/type, with the given flags and counts.
std::string head(unsigned flags, unsigned an, unsigned ns, uint16_t qtype) {
    return u16(0x4242) + u16(flags) + u16(1) + u16(an) + u16(ns) + u16(0) +
           wire_name("Example.TEST") + u16(qtype) + u16(1);
}
// An RR whose owner is a pointer to the question name (offset 12).
std::string rr_at_q(uint16_t type, uint32_t ttl, const std::string& rdata) {
    return u16(0xc00c) + u16(type) + u16(1) + u32(ttl) + u16(unsigned(rdata.size())) + rdata;
}

}  // namespace

TEST_CASE("dns_message: MX answer with compression, AD and TTLs") {
    // mx1 is a full name; mx2's exchange is "mx2" + pointer to example.test.
    std::string w = head(0x81a0, 2, 0, dns_type::mx) +
                    rr_at_q(dns_type::mx, 120, u16(10) + wire_name("mx1.example.test")) +
                    rr_at_q(dns_type::mx, 60, u16(20) + std::string("\x03MX2\xc0\x0c", 6));
    auto m = parse_dns_message(w);
    REQUIRE(m.has_value());
    CHECK(m->id == 0x4242);
    CHECK(m->authenticated);
    CHECK_FALSE(m->truncated);
    CHECK(m->qname == "example.test");
    CHECK(m->qtype == dns_type::mx);
    REQUIRE(m->answers.size() == 2);
    CHECK(m->answers[0].name == "example.test");
    CHECK(m->answers[0].target == "mx1.example.test");
    CHECK(m->answers[0].preference == 10);
    CHECK(m->answers[1].target == "mx2.example.test");
    auto set = records_for(*m, "EXAMPLE.test.", dns_type::mx);
    CHECK(set.records.size() == 2);
    CHECK(set.ttl == 60);
}

TEST_CASE("dns_message: CNAME chain is followed, TTL is the path's minimum") {
    std::string w =
        head(0x8180, 3, 0, dns_type::a) + rr_at_q(dns_type::cname, 30, wire_name("b.test")) +
        u16(0xc000 | 42) /* b.test, the first RDATA */ + u16(dns_type::cname) + u16(1) + u32(300) +
        u16(8) + wire_name("c.test") +
        std::string(
            "\x01"
            "c\x04test\x00",
            8) +
        u16(dns_type::a) + u16(1) + u32(200) + u16(4) + std::string("\xc0\x00\x02\x07", 4);
    auto m = parse_dns_message(w);
    REQUIRE(m.has_value());
    REQUIRE(m->answers.size() == 3);
    auto set = records_for(*m, "example.test", dns_type::a);
    REQUIRE(set.records.size() == 1);
    CHECK(address_text(*set.records[0]) == "192.0.2.7");
    CHECK(set.canonical == "c.test");
    CHECK(set.ttl == 30);
    CHECK(records_for(*m, "example.test", dns_type::aaaa).records.empty());
}

TEST_CASE("dns_message: a CNAME loop ends") {
    DnsMessage m = dns_test::message(
        {dns_test::cname("a.test", "b.test"), dns_test::cname("b.test", "a.test")});
    auto set = records_for(m, "a.test", dns_type::a);
    CHECK(set.records.empty());
}

TEST_CASE("dns_message: NXDOMAIN with SOA gives min(SOA TTL, MINIMUM)") {
    std::string soa = wire_name("ns.test") + wire_name("hostmaster.test") + u32(1) + u32(3600) +
                      u32(600) + u32(86400) + u32(45);
    std::string w = head(0x8183, 0, 1, dns_type::a) + wire_name("test") + u16(dns_type::soa) +
                    u16(1) + u32(300) + u16(unsigned(soa.size())) + soa;
    auto m = parse_dns_message(w);
    REQUIRE(m.has_value());
    CHECK(m->rcode == dns_rcode::nxdomain);
    CHECK(m->negative_ttl == 45u);
    CHECK(m->answers.empty());
}

TEST_CASE("dns_message: TXT strings are joined, TLSA fields split") {
    std::string w = head(0x8180, 2, 0, dns_type::txt) +
                    rr_at_q(dns_type::txt, 300, std::string("\x08v=STSv1;\x05 id=1", 15)) +
                    rr_at_q(dns_type::tlsa, 300, std::string("\x03\x01\x01\xab\xcd", 5));
    auto m = parse_dns_message(w);
    REQUIRE(m.has_value());
    CHECK(txt_text(m->answers[0].rdata) == "v=STSv1; id=1");
    auto t = tlsa_record(m->answers[1].rdata);
    REQUIRE(t.has_value());
    CHECK(*t == TlsaRecord{3, 1, 1, "\xab\xcd"});
    CHECK_FALSE(txt_text("\x05"
                         "ab")
                    .has_value());
    CHECK_FALSE(tlsa_record("\x03\x01").has_value());
}

TEST_CASE("dns_message: broken messages are refused, every prefix too") {
    std::string good = head(0x8180, 1, 0, dns_type::a) +
                       rr_at_q(dns_type::a, 300, std::string("\xc0\x00\x02\x01", 4));
    REQUIRE(parse_dns_message(good).has_value());
    for (size_t n = 0; n < good.size(); ++n)
        CHECK_FALSE(parse_dns_message(std::string_view(good).substr(0, n)).has_value());

    SECTION("a query, not a response") {
        CHECK(parse_dns_message(head(0x0100, 0, 0, 1)).error() == DnsParseError::not_response);
    }
    SECTION("A record of 3 bytes") {
        auto w = head(0x8180, 1, 0, 1) + rr_at_q(dns_type::a, 1, "abc");
        CHECK(parse_dns_message(w).error() == DnsParseError::bad_rdata);
    }
    SECTION("a pointer to itself or forward") {
        auto w = u16(1) + u16(0x8180) + u16(1) + u16(0) + u16(0) + u16(0) + u16(0xc00c) + u16(1) +
                 u16(1);
        CHECK(parse_dns_message(w).error() == DnsParseError::bad_name);
    }
    SECTION("a label over 63 (0x40 type bits)") {
        auto w = u16(1) + u16(0x8180) + u16(1) + u16(0) + u16(0) + u16(0) + "\x40" +
                 std::string(64, 'a') + '\0' + u16(1) + u16(1);
        CHECK(parse_dns_message(w).error() == DnsParseError::bad_name);
    }
    SECTION("a name over 255 bytes") {
        std::string name;
        for (int i = 0; i < 5; ++i) name += char(60) + std::string(60, 'a');
        auto w = u16(1) + u16(0x8180) + u16(1) + u16(0) + u16(0) + u16(0) + name + '\0' + u16(1) +
                 u16(1);
        CHECK(parse_dns_message(w).error() == DnsParseError::bad_name);
    }
    SECTION("an MX name that runs past its RDATA") {
        auto w = head(0x8180, 1, 0, dns_type::mx) +
                 rr_at_q(dns_type::mx, 1, u16(5) + std::string("\x03mx1", 4));
        CHECK_FALSE(parse_dns_message(w + wire_name("x")).has_value());
    }
    SECTION("a truncated answer keeps the complete records") {
        auto w = head(0x8380, 2, 0, dns_type::a) +
                 rr_at_q(dns_type::a, 300, std::string("\xc0\x00\x02\x01", 4)) + u16(0xc00c);
        auto m = parse_dns_message(w);
        REQUIRE(m.has_value());
        CHECK(m->truncated);
        CHECK(m->answers.size() == 1);
    }
}

TEST_CASE("dns_message: odd label bytes are escaped, so they cannot split a name") {
    auto w = u16(1) + u16(0x8180) + u16(1) + u16(0) + u16(0) + u16(0) +
             std::string(
                 "\x03"
                 "a.b\x04test\x00",
                 10) +
             u16(1) + u16(1);
    auto m = parse_dns_message(w);
    REQUIRE(m.has_value());
    CHECK(m->qname == "a\\046b.test");
}
