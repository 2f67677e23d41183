// libproto/mta_sts/sts_policy.h: the policy file (RFC 8461 3.2), the TXT record (3.1) and
// MX matching (4.1), table-driven.
#include <catch2/catch.hpp>

#include "libproto/mta_sts/sts_policy.h"

using namespace postern;

namespace {
struct Good {
    const char* label;
    std::string text;
    StsPolicy want;
};
struct Bad {
    const char* label;
    std::string text;
    std::string want;  // the error
};
}  // namespace

TEST_CASE("mta_sts: policies that parse") {
    auto tc = GENERATE(values<Good>({
        {"RFC 8461 3.2 example, CRLF",
         "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
         "mx: backupmx.example.com\r\nmax_age: 604800\r\n",
         {StsMode::enforce, {"mail.example.com", "*.example.net", "backupmx.example.com"}, 604800}},
        {"LF, no final line end",
         "version: STSv1\nmode: testing\nmx: MX.Example.COM.\nmax_age: 86400",
         {StsMode::testing, {"mx.example.com"}, 86400}},
        {"mode none needs no mx",
         "version: STSv1\nmode: none\nmax_age: 0\n",
         {StsMode::none, {}, 0}},
        {"max_age capped",
         "version: STSv1\nmode: none\nmax_age: 9999999999\n",
         {StsMode::none, {}, kStsMaxAge}},
        {"unknown keys ignored, spaces and blank lines",
         "version:STSv1\n\nfoo_bar: anything at all\nmode:   enforce  \nmx: a.test\t\n"
         "max_age: 5\nx.y-z: 1\n",
         {StsMode::enforce, {"a.test"}, 5}},
        {"order does not matter",
         "max_age: 1\nmx: a.test\nmode: enforce\nversion: STSv1\n",
         {StsMode::enforce, {"a.test"}, 1}},
    }));
    DYNAMIC_SECTION(tc.label) {
        auto p = parse_sts_policy(tc.text);
        INFO((p ? std::string("ok") : p.error()));
        REQUIRE(p.has_value());
        CHECK(*p == tc.want);
    }
}

TEST_CASE("mta_sts: policies that do not parse") {
    const std::string ok_tail = "mode: enforce\nmx: a.test\nmax_age: 60\n";
    auto tc = GENERATE_COPY(values<Bad>({
        {"empty", "", "no version"},
        {"no version", ok_tail, "no version"},
        {"wrong version", "version: STSv2\n" + ok_tail, "line 1: version is not STSv1"},
        {"version case", "version: stsv1\n" + ok_tail, "line 1: version is not STSv1"},
        {"no mode", "version: STSv1\nmx: a.test\nmax_age: 60\n", "no mode"},
        {"bad mode", "version: STSv1\nmode: strict\nmx: a.test\nmax_age: 60\n",
         "line 2: mode is not enforce, testing or none"},
        {"no max_age", "version: STSv1\nmode: enforce\nmx: a.test\n", "no max_age"},
        {"max_age 11 digits", "version: STSv1\nmode: none\nmax_age: 12345678901\n",
         "line 3: max_age is not 1 to 10 digits"},
        {"max_age negative", "version: STSv1\nmode: none\nmax_age: -1\n",
         "line 3: max_age is not 1 to 10 digits"},
        {"max_age empty", "version: STSv1\nmode: none\nmax_age:\n",
         "line 3: max_age is not 1 to 10 digits"},
        {"enforce without mx", "version: STSv1\nmode: enforce\nmax_age: 60\n",
         "no mx (mode is not none)"},
        {"bad mx", "version: STSv1\n" + ok_tail + "mx: a..test\n",
         "line 5: mx is not a [*.]domain"},
        {"mx wildcard inside", "version: STSv1\n" + ok_tail + "mx: a.*.test\n",
         "line 5: mx is not a [*.]domain"},
        {"mx bare star", "version: STSv1\n" + ok_tail + "mx: *\n",
         "line 5: mx is not a [*.]domain"},
        {"mode twice", "version: STSv1\n" + ok_tail + "mode: testing\n",
         "line 5: mode given twice"},
        {"version twice", "version: STSv1\nversion: STSv1\n" + ok_tail,
         "line 2: version given twice"},
        {"not key: value", "version: STSv1\n" + ok_tail + "garbage\n",
         "line 5: not \"key: value\""},
        {"bad key", "version: STSv1\n" + ok_tail + "my key: x\n", "line 5: bad key name"},
        {"NUL", "version: STSv1\n" + ok_tail + std::string("x: a\0b\n", 7), "line 5: NUL byte"},
        {"too big", "version: STSv1\n" + ok_tail + std::string(kStsPolicyMaxBytes, '\n'),
         "policy larger than 64 KB"},
    }));
    DYNAMIC_SECTION(tc.label) {
        auto p = parse_sts_policy(tc.text);
        REQUIRE_FALSE(p.has_value());
        CHECK(p.error() == tc.want);
    }
}

TEST_CASE("mta_sts: exactly 64 KB is accepted") {
    std::string text = "version: STSv1\nmode: none\nmax_age: 1\n";
    text += std::string(kStsPolicyMaxBytes - text.size(), '\n');
    REQUIRE(text.size() == kStsPolicyMaxBytes);
    CHECK(parse_sts_policy(text).has_value());
}

TEST_CASE("mta_sts: MX matching (RFC 8461 4.1)") {
    struct Case {
        const char* pattern;
        const char* host;
        bool want;
    };
    auto tc = GENERATE(values<Case>({
        {"mail.example.com", "mail.example.com", true},
        {"mail.example.com", "MAIL.Example.com.", true},
        {"mail.example.com", "mail2.example.com", false},
        {"mail.example.com", "example.com", false},
        {"*.example.com", "mx1.example.com", true},
        {"*.example.com", "MX1.EXAMPLE.COM.", true},
        {"*.example.com", "example.com", false},      // the wildcard needs a label
        {"*.example.com", "a.b.example.com", false},  // exactly one label
        {"*.example.com", "mx1.example.com.evil", false},
        {"*.example.com", "mx1example.com", false},
        {"*.example.com", ".example.com", false},
        {"*.example.com", "", false},
        {"", "example.com", false},
    }));
    DYNAMIC_SECTION(tc.pattern << " vs " << tc.host) {
        CHECK(sts_mx_pattern_matches(tc.pattern, tc.host) == tc.want);
    }
}

TEST_CASE("mta_sts: a policy matches when any pattern does") {
    StsPolicy p{StsMode::enforce, {"mx.a.test", "*.b.test"}, 60};
    CHECK(sts_mx_matches(p, "mx.a.test"));
    CHECK(sts_mx_matches(p, "x.b.test"));
    CHECK_FALSE(sts_mx_matches(p, "mx.c.test"));
}

TEST_CASE("mta_sts: TXT records") {
    struct Case {
        const char* label;
        std::string txt;
        std::string want;  // the id, or "!" + the error
    };
    auto tc = GENERATE(values<Case>({
        {"RFC example", "v=STSv1; id=20160831085700Z;", "20160831085700Z"},
        {"no trailing ;", "v=STSv1; id=abc", "abc"},
        {"no spaces", "v=STSv1;id=abc;", "abc"},
        {"tabs and spaces", "v=STSv1 \t;\t id=abc ; ", "abc"},
        {"extension ignored", "v=STSv1; foo=bar; id=x1; z_z.9=%%", "x1"},
        {"32 characters", "v=STSv1; id=" + std::string(32, 'a'), std::string(32, 'a')},
        {"id too long", "v=STSv1; id=" + std::string(33, 'a'), "!id longer than 32"},
        {"no id", "v=STSv1; foo=bar", "!no id"},
        {"only version", "v=STSv1", "!no fields after v=STSv1"},
        {"only version and ;", "v=STSv1;", "!no id"},
        {"id twice", "v=STSv1; id=a; id=b", "!id given twice"},
        {"id not alnum", "v=STSv1; id=a-b", "!id is not letters and digits"},
        {"empty value", "v=STSv1; id=", "!empty field value"},
        {"no =", "v=STSv1; id", "!field without '='"},
        {"wrong version", "v=STSv2; id=a", "!does not start with v=STSv1"},
        {"version not first", "id=a; v=STSv1", "!does not start with v=STSv1"},
        {"lower-case v value", "v=stsv1; id=a", "!does not start with v=STSv1"},
        {"junk after version", "v=STSv1x; id=a", "!no ';' after v=STSv1"},
        {"space in value", "v=STSv1; foo=a b; id=c", "!bad character in a field value"},
        {"bad name", "v=STSv1; -x=1; id=c", "!bad field name"},
    }));
    DYNAMIC_SECTION(tc.label) {
        auto r = parse_sts_record(tc.txt);
        if (tc.want.starts_with("!")) {
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error() == tc.want.substr(1));
        } else {
            INFO((r ? std::string("ok") : r.error()));
            REQUIRE(r.has_value());
            CHECK(r->id == tc.want);
        }
    }
}

TEST_CASE("mta_sts: choosing the TXT record (RFC 8461 3.1)") {
    using V = std::vector<std::string>;
    CHECK(select_sts_record(V{"v=spf1 -all", "v=STSv1; id=1"})->id == "1");
    CHECK(select_sts_record(V{}).error() == "no v=STSv1 record");
    CHECK(select_sts_record(V{"v=spf1 -all", "v=STSv10; id=1"}).error() == "no v=STSv1 record");
    CHECK(select_sts_record(V{"v=STSv1; id=1", "v=STSv1; id=2"}).error() == "2 v=STSv1 records");
    CHECK(select_sts_record(V{"v=STSv1; nothing=here"}).error() == "no id");
}
