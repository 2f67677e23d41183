// libproto/dane: TLSA records as parsed by dns_parse, SMTP's usable subset (RFC 7672 3.1) and the
// per-host decision (RFC 7672 2.2), as tables.
#include <catch2/catch.hpp>

#include "libproto/dane/dane_policy.h"
#include "libproto/dane/dane_tlsa.h"

using namespace postern;

namespace {

std::string rd(uint8_t u, uint8_t s, uint8_t m, size_t n, char fill = '\x5a') {
    std::string out{char(u), char(s), char(m)};
    out.append(n, fill);
    return out;
}

TlsaRecord rec(uint8_t u, uint8_t s, uint8_t m, size_t n) {
    return TlsaRecord{u, s, m, std::string(n, '\x5a')};
}

}  // namespace

TEST_CASE("dane: TLSA RDATA: what is malformed is never usable") {
    // One parser (libproto/dns_parse tlsa_record) keeps every record of 3 bytes or more, so a
    // zone whose records are all malformed still has TLSA records (present, none usable:
    // RFC 7672 2.2's encrypt); tlsa_usable_for_smtp turns the malformed ones away.
    enum Want { usable, malformed, short_rdata };
    struct Case {
        const char* label;
        std::string rdata;
        Want want;
    };
    auto c = GENERATE(values<Case>({
        {"3 1 1 with 32 bytes", rd(3, 1, 1, 32), usable},
        {"2 0 2 with 64 bytes", rd(2, 0, 2, 64), usable},
        {"3 0 0 full certificate, any length", rd(3, 0, 0, 700), usable},
        {"unknown parameters parse (unusable, not malformed)", rd(9, 8, 7, 5), malformed},
        {"empty", "", short_rdata},
        {"two bytes", std::string("\x03\x01", 2), short_rdata},
        {"no data", rd(3, 1, 1, 0), malformed},
        {"SHA2-256 of 31 bytes", rd(3, 1, 1, 31), malformed},
        {"SHA2-256 of 33 bytes", rd(3, 1, 1, 33), malformed},
        {"SHA2-512 of 32 bytes", rd(2, 1, 2, 32), malformed},
    }));
    DYNAMIC_SECTION(c.label) {
        auto t = tlsa_record(c.rdata);
        if (c.want == short_rdata) {
            CHECK_FALSE(t.has_value());
        } else {
            REQUIRE(t.has_value());
            CHECK(t->usage == uint8_t(c.rdata[0]));
            CHECK(t->selector == uint8_t(c.rdata[1]));
            CHECK(t->matching == uint8_t(c.rdata[2]));
            CHECK(t->data == c.rdata.substr(3));
            CHECK(tlsa_usable_for_smtp(*t) == (c.want == usable));
        }
    }
}

TEST_CASE("dane: what SMTP may use (RFC 7672 3.1)") {
    struct Case {
        const char* label;
        TlsaRecord r;
        bool usable;
    };
    auto c = GENERATE(values<Case>({
        {"DANE-EE SPKI SHA2-256", rec(3, 1, 1, 32), true},
        {"DANE-EE cert SHA2-512", rec(3, 0, 2, 64), true},
        {"DANE-TA cert full", rec(2, 0, 0, 300), true},
        {"DANE-TA SPKI SHA2-256", rec(2, 1, 1, 32), true},
        {"PKIX-TA is not for SMTP", rec(0, 1, 1, 32), false},
        {"PKIX-EE is not for SMTP", rec(1, 1, 1, 32), false},
        {"usage 4", rec(4, 1, 1, 32), false},
        {"selector 2", rec(3, 2, 1, 32), false},
        {"matching type 3", rec(3, 1, 3, 32), false},
        {"short digest (lax parser kept it)", rec(3, 1, 1, 20), false},
        {"no data", rec(3, 1, 0, 0), false},
    }));
    DYNAMIC_SECTION(c.label) {
        INFO("record " << tlsa_text(c.r));
        CHECK(tlsa_usable_for_smtp(c.r) == c.usable);
    }
}

TEST_CASE("dane: tlsa_text for logs") {
    CHECK(tlsa_text(TlsaRecord{3, 1, 1, std::string("\xab\xcd", 2)}) == "3 1 1 abcd");
    CHECK(tlsa_text(rec(2, 0, 1, 32)) == "2 0 1 5a5a5a5a5a5a5a5a...");
}

TEST_CASE("dane: the decision for one host (RFC 7672 2.2)") {
    const std::vector<TlsaRecord> good{rec(3, 1, 1, 32)};
    const std::vector<TlsaRecord> pkix{rec(1, 1, 1, 32), rec(0, 0, 1, 32)};
    const std::vector<TlsaRecord> mixed{rec(1, 1, 1, 32), rec(2, 1, 1, 32), rec(3, 9, 1, 32)};
    struct Case {
        const char* label;
        bool mandatory;
        bool secure;
        TlsaLookup lookup;
        bool tlsa_ad;
        std::vector<TlsaRecord> records;
        DaneOutcome want;
        size_t usable;
    };
    using L = TlsaLookup;
    using O = DaneOutcome;
    auto c = GENERATE_COPY(values<Case>({
        {"secure, usable record", false, true, L::found, true, good, O::verify, 1},
        {"only the usable of mixed records", false, true, L::found, true, mixed, O::verify, 1},
        {"PKIX only: TLS without authentication", false, true, L::found, true, pkix, O::encrypt, 0},
        {"TLSA without AD is ignored", false, true, L::found, false, good, O::not_dane, 0},
        {"insecure MX/addresses: not looked up",
         false,
         false,
         L::skipped,
         false,
         {},
         O::not_dane,
         0},
        {"insecure even if a lookup was made", false, false, L::found, true, good, O::not_dane, 0},
        {"no TLSA records", false, true, L::none, false, {}, O::not_dane, 0},
        {"TLSA SERVFAIL on a signed zone defers",
         false,
         true,
         L::temporary,
         false,
         {},
         O::defer,
         0},
        {"dane-only: usable record", true, true, L::found, true, good, O::verify, 1},
        {"dane-only: no TLSA defers", true, true, L::none, false, {}, O::defer, 0},
        {"dane-only: insecure defers", true, false, L::skipped, false, {}, O::defer, 0},
        {"dane-only: TLSA without AD defers", true, true, L::found, false, good, O::defer, 0},
        {"dane-only: none usable defers", true, true, L::found, true, pkix, O::defer, 0},
        {"dane-only: SERVFAIL defers", true, true, L::temporary, false, {}, O::defer, 0},
    }));
    DYNAMIC_SECTION(c.label) {
        DaneInput in;
        in.mandatory = c.mandatory;
        in.secure = c.secure;
        in.lookup = c.lookup;
        in.tlsa_authenticated = c.tlsa_ad;
        in.records = c.records;
        auto d = dane_decide(in);
        INFO("got " << dane_outcome_text(d.outcome) << " (" << d.why << "), want "
                    << dane_outcome_text(c.want));
        CHECK(d.outcome == c.want);
        CHECK(d.records.size() == c.usable);
        for (const auto& r : d.records) CHECK(tlsa_usable_for_smtp(r));
        CHECK_FALSE(d.why.empty());
    }
}
