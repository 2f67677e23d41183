#include "libproto/smtp/smtp_address.h"

#include <catch2/catch.hpp>

using namespace postern;

namespace {

struct Ok {
    const char* label;
    std::string text;
    PathKind kind;
    bool utf8;
    std::string local, domain;
    bool is_null = false, is_postmaster = false, percent = false;
};

struct Bad {
    const char* label;
    std::string text;
    PathKind kind;
    bool utf8;
    PathError want;
};

constexpr auto MAIL = PathKind::reverse_path;
constexpr auto RCPT = PathKind::forward_path;

}  // namespace

TEST_CASE("smtp_address: accepted paths") {
    auto c = GENERATE(
        Ok{"simple", "<user@example.org>", RCPT, false, "user", "example.org"},
        Ok{"domain lowercased", "<User@Example.ORG>", RCPT, false, "User", "example.org"},
        Ok{"one leading space", " <a@b.c>", MAIL, false, "a", "b.c"},
        Ok{"trailing spaces", "<a@b.c>  ", MAIL, false, "a", "b.c"},
        Ok{"dots and atext", "<first.last+tag!x#y$z&'*/=?^_`{|}~-@ex.org>", RCPT, false,
           "first.last+tag!x#y$z&'*/=?^_`{|}~-", "ex.org", false, false, true},
        Ok{"single-label domain", "<root@localhost>", RCPT, false, "root", "localhost"},
        Ok{"null reverse path", "<>", MAIL, false, "", "", true},
        Ok{"null with params", "<> SIZE=10", MAIL, false, "", "", true},
        Ok{"postmaster", "<Postmaster>", RCPT, false, "Postmaster", "", false, true},
        Ok{"postmaster lowercase", "<postmaster>", RCPT, false, "postmaster", "", false, true},
        Ok{"postmaster with domain", "<postmaster@Ex.org>", RCPT, false, "postmaster", "ex.org"},
        Ok{"quoted local", "<\"john doe\"@ex.org>", RCPT, false, "john doe", "ex.org"},
        Ok{"quoted with escapes", "<\"a\\\"b\\\\c\"@ex.org>", RCPT, false, "a\"b\\c", "ex.org"},
        Ok{"quoted @ and >", "<\"a@b>c\"@ex.org>", RCPT, false, "a@b>c", "ex.org"},
        Ok{"percent hack flagged", "<user%other.net@ex.org>", RCPT, false, "user%other.net",
           "ex.org", false, false, true},
        Ok{"bang path flagged", "<other!user@ex.org>", RCPT, false, "other!user", "ex.org", false,
           false, true},
        Ok{"quoted percent flagged", "<\"a%b\"@ex.org>", RCPT, false, "a%b", "ex.org", false, false,
           true},
        Ok{"IPv4 literal", "<u@[192.0.2.1]>", RCPT, false, "u", "[192.0.2.1]"},
        Ok{"IPv6 literal", "<u@[IPv6:2001:DB8::1]>", RCPT, false, "u", "[IPv6:2001:db8::1]"},
        Ok{"IPv6 tag case", "<u@[ipv6:::1]>", RCPT, false, "u", "[IPv6:::1]"},
        Ok{"hyphen domain", "<u@a-b.c-d.org>", RCPT, false, "u", "a-b.c-d.org"},
        Ok{"utf8 local", "<\xc3\xa9l\xc3\xa8ve@ex.org>", RCPT, true, "\xc3\xa9l\xc3\xa8ve",
           "ex.org"},
        Ok{"utf8 domain", "<u@b\xc3\xbc\x63her.DE>", RCPT, true, "u", "b\xc3\xbc\x63her.de"},
        Ok{"64-octet local", "<" + std::string(64, 'a') + "@ex.org>", RCPT, false,
           std::string(64, 'a'), "ex.org"},
        Ok{"63-octet label", "<u@" + std::string(63, 'd') + ".org>", RCPT, false, "u",
           std::string(63, 'd') + ".org"});
    DYNAMIC_SECTION(c.label) {
        auto r = parse_smtp_path(c.text, c.kind, c.utf8);
        INFO("input " << c.text);
        if (!r) INFO("got error " << path_error_text(r.error()));
        REQUIRE(r.has_value());
        INFO("got local=" << r->local << " domain=" << r->domain << ", want " << c.local << " / "
                          << c.domain);
        CHECK(r->local == c.local);
        CHECK(r->domain == c.domain);
        CHECK(r->is_null == c.is_null);
        CHECK(r->is_postmaster == c.is_postmaster);
        CHECK(r->percent_hack == c.percent);
    }
}

TEST_CASE("smtp_address: refused paths") {
    std::string long_local(65, 'a');
    std::string long_domain;
    for (int i = 0; i < 5; ++i) long_domain += std::string(60, 'd') + ".";
    long_domain += "org";  // 303 octets
    auto c = GENERATE_COPY(
        Bad{"empty", "", MAIL, false, PathError::empty},
        Bad{"only spaces", "   ", MAIL, false, PathError::empty},
        Bad{"no brackets", "user@example.org", MAIL, false, PathError::missing_brackets},
        Bad{"no closing bracket", "<user@example.org", MAIL, false, PathError::missing_brackets},
        Bad{"closing only", "user@example.org>", RCPT, false, PathError::missing_brackets},
        Bad{"source route", "<@a.example,@b.example:user@d.example>", RCPT, false,
            PathError::source_route},
        Bad{"source route one hop", "<@relay.example:user@d.example>", RCPT, false,
            PathError::source_route},
        Bad{"two @", "<user@evil.example@ex.org>", RCPT, false, PathError::multiple_at},
        Bad{"three @", "<a@b@c@d>", RCPT, false, PathError::multiple_at},
        Bad{"quoted then two @", "<\"a\"@b@c>", RCPT, false, PathError::multiple_at},
        Bad{"empty local", "<@ex.org>", RCPT, false, PathError::empty_local_part},
        Bad{"empty quoted local", "<\"\"@ex.org>", RCPT, false, PathError::empty_local_part},
        Bad{"no domain", "<user>", RCPT, false, PathError::missing_domain},
        Bad{"empty domain", "<user@>", RCPT, false, PathError::missing_domain},
        Bad{"postmaster in MAIL", "<Postmaster>", MAIL, false, PathError::missing_domain},
        Bad{"null in RCPT", "<>", RCPT, false, PathError::null_not_allowed},
        Bad{"local too long", "<" + long_local + "@ex.org>", RCPT, false,
            PathError::local_too_long},
        Bad{"domain too long", "<u@" + long_domain + ">", RCPT, false, PathError::path_too_long},
        Bad{"label too long", "<u@" + std::string(64, 'd') + ".org>", RCPT, false,
            PathError::domain_too_long},
        Bad{"leading dot", "<.user@ex.org>", RCPT, false, PathError::bad_local_part},
        Bad{"trailing dot", "<user.@ex.org>", RCPT, false, PathError::bad_local_part},
        Bad{"double dot", "<us..er@ex.org>", RCPT, false, PathError::bad_local_part},
        Bad{"space in local", "<us er@ex.org>", RCPT, false, PathError::bad_local_part},
        Bad{"comma in local", "<us,er@ex.org>", RCPT, false, PathError::bad_local_part},
        Bad{"NUL in local", std::string("<us\0er@ex.org>", 14), RCPT, false,
            PathError::bad_local_part},
        Bad{"control in quoted", "<\"a\x01\"@ex.org>", RCPT, false, PathError::bad_local_part},
        Bad{"unterminated quote", "<\"abc@ex.org>", RCPT, false, PathError::missing_brackets},
        Bad{"junk after quote", "<\"abc\"x@ex.org>", RCPT, false, PathError::bad_local_part},
        Bad{"underscore domain", "<u@ex_ample.org>", RCPT, false, PathError::bad_domain},
        Bad{"leading hyphen label", "<u@-ex.org>", RCPT, false, PathError::bad_domain},
        Bad{"trailing dot domain", "<u@ex.org.>", RCPT, false, PathError::bad_domain},
        Bad{"empty label", "<u@ex..org>", RCPT, false, PathError::bad_domain},
        Bad{"bad IPv4 literal", "<u@[300.1.2.3]>", RCPT, false, PathError::bad_address_literal},
        Bad{"bad IPv6 literal", "<u@[IPv6:zz::1]>", RCPT, false, PathError::bad_address_literal},
        Bad{"general literal", "<u@[x400:foo]>", RCPT, false, PathError::bad_address_literal},
        Bad{"unclosed literal", "<u@[1.2.3.4>", RCPT, false, PathError::bad_address_literal},
        Bad{"utf8 without SMTPUTF8", "<\xc3\xa9@ex.org>", RCPT, false, PathError::utf8_not_allowed},
        Bad{"invalid utf8", "<\xc3(@ex.org>", RCPT, true, PathError::invalid_utf8},
        Bad{"overlong utf8", "<\xc0\xafx@ex.org>", RCPT, true, PathError::invalid_utf8},
        Bad{"surrogate utf8", "<\xed\xa0\x80@ex.org>", RCPT, true, PathError::invalid_utf8},
        Bad{"truncated utf8", "<a@ex.org\xe2\x82>", RCPT, true, PathError::invalid_utf8},
        Bad{"garbage after >", "<a@ex.org>x", MAIL, false, PathError::trailing_garbage},
        Bad{"bad param key", "<a@ex.org> -SIZE=1", MAIL, false, PathError::bad_parameter},
        Bad{"empty param value", "<a@ex.org> SIZE=", MAIL, false, PathError::bad_parameter},
        Bad{"= in param value", "<a@ex.org> ENVID=a=b", MAIL, false, PathError::bad_parameter},
        Bad{"control in param", "<a@ex.org> ENVID=a\tb", MAIL, false, PathError::bad_parameter},
        Bad{"utf8 param without SMTPUTF8", "<a@ex.org> X=\xc3\xa9", MAIL, false,
            PathError::utf8_not_allowed});
    DYNAMIC_SECTION(c.label) {
        auto r = parse_smtp_path(c.text, c.kind, c.utf8);
        INFO("input " << c.text);
        REQUIRE_FALSE(r.has_value());
        INFO("got " << path_error_text(r.error()) << ", want " << path_error_text(c.want));
        CHECK(r.error() == c.want);
    }
}

TEST_CASE("smtp_address: path length limit counts the brackets") {
    // local 64 + '@' + domain: the inner part may be 254 octets, not 255.
    std::string domain =
        std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(59, 'c');  // 187
    std::string inner254 = std::string(64, 'l') + "@" + domain + "de";  // 64 + 1 + 189
    REQUIRE(inner254.size() == 254);
    CHECK(parse_smtp_path("<" + inner254 + ">", RCPT, false).has_value());
    auto r = parse_smtp_path("<" + inner254 + "e>", RCPT, false);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == PathError::path_too_long);
}

TEST_CASE("smtp_address: ESMTP parameters are split and keys uppercased") {
    auto r = parse_smtp_path("<a@ex.org> size=1000  Body=8BITMIME SMTPUTF8 ret=HDRS", MAIL, true);
    REQUIRE(r.has_value());
    std::vector<SmtpParam> want{
        {"SIZE", "1000"}, {"BODY", "8BITMIME"}, {"SMTPUTF8", std::nullopt}, {"RET", "HDRS"}};
    CHECK(r->params == want);
    auto n = parse_smtp_path("<> ENVID=QQ314159+2B", MAIL, false);
    REQUIRE(n.has_value());
    CHECK(n->is_null);
    CHECK(n->params == std::vector<SmtpParam>{{"ENVID", "QQ314159+2B"}});
    auto u = parse_smtp_path("<a@ex.org> ORCPT=utf-8;\xc3\xa9", RCPT, true);
    REQUIRE(u.has_value());
    CHECK(u->params.at(0).value == "utf-8;\xc3\xa9");
}

TEST_CASE("smtp_address: format and quoting round-trip") {
    struct Case {
        std::string in, out;
    };
    auto c =
        GENERATE(Case{"<a@Ex.org>", "<a@ex.org>"}, Case{"<>", "<>"},
                 Case{"<\"john doe\"@ex.org>", "<\"john doe\"@ex.org>"},
                 Case{"<\"plain\"@ex.org>", "<plain@ex.org>"},
                 Case{"<\"a\\\"b\"@ex.org>", "<\"a\\\"b\"@ex.org>"},
                 Case{"<\"a..b\"@ex.org>", "<\"a..b\"@ex.org>"},
                 Case{"<Postmaster>", "<Postmaster>"}, Case{"<u@[IPv6:::1]>", "<u@[IPv6:::1]>"});
    DYNAMIC_SECTION(c.in) {
        auto kind = c.in == "<>" ? MAIL : RCPT;
        auto r = parse_smtp_path(c.in, kind, false);
        REQUIRE(r.has_value());
        CHECK(format_smtp_path(*r) == c.out);
        auto again = parse_smtp_path(format_smtp_path(*r), kind, false);
        REQUIRE(again.has_value());
        CHECK(again->local == r->local);
        CHECK(again->domain == r->domain);
    }
}

TEST_CASE("smtp_address: every error has a text") {
    for (int e = 0; e <= int(PathError::trailing_garbage); ++e)
        CHECK_FALSE(path_error_text(PathError(e)).empty());
}
