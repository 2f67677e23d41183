// RFC 5322 address lists as IMAP address structures; the expected strings are what Dovecot
// 2.3.19 answers in ENVELOPE for the same To: field.

#include <catch2/catch.hpp>

#include "libproto/imap/imap_envelope.h"
#include "libproto/mime/mime_address.h"

using namespace postern;

TEST_CASE("address lists: groups, routes, comments, obs forms", "[mime]") {
    struct Case {
        const char* label;
        const char* field;
        const char* want;
    };
    const Case cases[] = {
        {"no domain", "foo", R"(((NIL NIL "foo" "MISSING_DOMAIN")))"},
        {"null address", "<>", R"(((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")))"},
        {"empty group", "undisclosed-recipients:;",
         R"(((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)))"},
        {"quoted and plain names",
         R"("John Q. Public" <jqp@example.com>, Mary Smith <mary@x.test>)",
         R"((("John Q. Public" NIL "jqp" "example.com")("Mary Smith" NIL "mary" "x.test")))"},
        {"obs phrase with a dot", "John Q. Public <jqp@example.com>",
         R"((("John Q. Public" NIL "jqp" "example.com")))"},
        {"comment as name", "a@b (Real Name)", R"((("Real Name" NIL "a" "b")))"},
        {"group with members then more", R"(Group: a@b, "c d" <c@d>; , e@f)",
         R"(((NIL NIL "Group" NIL)(NIL NIL "a" "b")("c d" NIL "c" "d")(NIL NIL NIL NIL)(NIL NIL "e" "f")))"},
        {"route", "<@r1.test,@r2.test:user@host.test>",
         R"(((NIL "@r1.test,@r2.test" "user" "host.test")))"},
        {"quoted local part", R"("quoted local"@host.test)",
         R"(((NIL NIL "quoted local" "host.test")))"},
        {"encoded words stay raw", "=?utf-8?q?J=C3=B6rg?= <j@x>",
         R"((("=?utf-8?q?J=C3=B6rg?=" NIL "j" "x")))"},
        {"addr-spec then angle", "a@b <c@d>", R"(((NIL NIL "a" "b")))"},
        {"no local part", "@host", R"(((NIL NIL "MISSING_MAILBOX" "host")))"},
        {"no domain after @", "user@", R"(((NIL NIL "user" "MISSING_DOMAIN")))"},
        {"comments everywhere", R"(Pete(A nice \) chap) <pete(his account)@silly.test(his host)>)",
         R"((("Pete" NIL "pete" "silly.test")))"},
        {"empty", "", "NIL"},
        // Where we differ from Dovecot on broken input: it gives two MISSING_MAILBOX
        // addresses for " , ,", host SYNTAX_ERROR for the unclosed angle and
        // MISSING_MAILBOX for the unclosed quote; we keep what can be read.
        {"only commas", " , ,", "NIL"},
        {"unclosed angle", "Bob <bob@example.org", R"((("Bob" NIL "bob" "example.org")))"},
        {"unclosed quote", "\"Bob <bob@example.org>",
         R"(((NIL NIL "Bob <bob@example.org>" "MISSING_DOMAIN")))"},
        {"domain literal", "x@[127.0.0.1]", R"(((NIL NIL "x" "[127.0.0.1]")))"},
    };
    for (const Case& c : cases) {
        DYNAMIC_SECTION(c.label) {
            std::string got;
            imap_write_address_list(got, mime_parse_address_list(c.field));
            CHECK(got == c.want);
        }
    }
}

TEST_CASE("address lists: deep comments and long input stay bounded", "[mime]") {
    std::string deep(100000, '(');
    deep += "a@b";
    CHECK(mime_parse_address_list(deep).empty());
    std::string many;
    for (int i = 0; i < 5000; ++i) many += "a" + std::to_string(i) + "@b, ";
    CHECK(mime_parse_address_list(many).size() == 5000);
}
