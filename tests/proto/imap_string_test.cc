#include "libproto/imap/imap_string.h"

#include <catch2/catch.hpp>

#include "libproto/imap/imap_lexer.h"

using namespace postern;

namespace {

struct Case {
    const char* label;
    std::string in;
    std::string astring;  // what imap_write_astring gives
    std::string nstring;  // what imap_write_nstring gives
};

}  // namespace

TEST_CASE("imap string: the shortest form, read back the same") {
    const std::string long_text(imap_quoted_max + 1, 'a');
    auto tc = GENERATE_COPY(values<Case>({
        {"atom", "INBOX", "INBOX", "\"INBOX\""},
        {"empty", "", "\"\"", "\"\""},
        {"space", "Sent Items", "\"Sent Items\"", "\"Sent Items\""},
        {"escapes", "a\"b\\c", "\"a\\\"b\\\\c\"", "\"a\\\"b\\\\c\""},
        {"NIL must not be an atom", "NIL", "\"NIL\"", "\"NIL\""},
        {"bracket is astring-char", "a]b", "a]b", "\"a]b\""},
        {"wildcards quoted", "a*%", "\"a*%\"", "\"a*%\""},
        {"crlf literal", "a\r\nb", "{4}\r\na\r\nb", "{4}\r\na\r\nb"},
        {"8-bit literal", "\xc3\xa9", "{2}\r\n\xc3\xa9", "{2}\r\n\xc3\xa9"},
        {"long literal", long_text, "{" + std::to_string(long_text.size()) + "}\r\n" + long_text,
         "{" + std::to_string(long_text.size()) + "}\r\n" + long_text},
    }));
    DYNAMIC_SECTION(tc.label) {
        std::string a, n;
        imap_write_astring(a, tc.in);
        imap_write_nstring(n, tc.in);
        CHECK(a == tc.astring);
        CHECK(n == tc.nstring);
        // What we write, our own lexer reads back.
        std::string back;
        ImapLexer lx(a);
        REQUIRE(lx.astring(back));
        CHECK(lx.at_end());
        CHECK(back == tc.in);
    }
}

TEST_CASE("imap string: NIL and UTF-8 quoted") {
    std::string out;
    imap_write_nstring(out, std::nullopt);
    CHECK(out == "NIL");
    out.clear();
    imap_write_string(out, "\xc3\xa9t\xc3\xa9", true);
    CHECK(out == "\"\xc3\xa9t\xc3\xa9\"");
    out.clear();
    imap_write_string(out, "a\r\n", true);
    CHECK(out == "{3}\r\na\r\n");
}
