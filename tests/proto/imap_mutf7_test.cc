#include "libproto/imap/imap_mutf7.h"

#include <catch2/catch.hpp>

using namespace postern;

namespace {

struct Pair {
    const char* label;
    std::string utf8;
    std::string mutf7;
};

struct Reject {
    const char* label;
    std::string input;
};

}  // namespace

TEST_CASE("imap mutf7: round trips") {
    auto tc = GENERATE(values<Pair>({
        {"ascii", "INBOX/Sent Items", "INBOX/Sent Items"},
        {"ampersand", "Tom & Jerry", "Tom &- Jerry"},
        {"only ampersands", "&&", "&-&-"},
        {"rfc 3501 example",
         "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
         "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
        {"umlaut", "Entw\xc3\xbcrfe", "Entw&APw-rfe"},
        {"surrogate pair", "\xf0\x9f\x98\x80", "&2D3eAA-"},
        {"control char", "a\tb", "a&AAk-b"},
        {"empty", "", ""},
    }));
    DYNAMIC_SECTION(tc.label) {
        auto enc = utf8_to_mutf7(tc.utf8);
        REQUIRE(enc.has_value());
        CHECK(*enc == tc.mutf7);
        auto dec = mutf7_to_utf8(tc.mutf7);
        REQUIRE(dec.has_value());
        CHECK(*dec == tc.utf8);
    }
}

TEST_CASE("imap mutf7: strict decoding rejects") {
    auto tc = GENERATE(values<Reject>({
        {"unterminated", "&U,BTFw"},
        {"bad base64 char", "&U/BTFw-"},
        {"adjacent runs", "&U,BTFw-&ZeVnLIqe-"},
        {"encoded printable", "&AGE-"},
        {"nonzero padding bits", "Entw&APx-rfe"},
        {"extra base64 char", "&APwA-"},
        {"lone high surrogate", "&2AA-"},
        {"lone low surrogate", "&3gA-"},
        {"raw 8-bit", "Entw\xc3\xbcrfe"},
        {"raw control", "a\tb"},
        {"DEL", "a\x7f"},
    }));
    DYNAMIC_SECTION(tc.label) {
        auto got = mutf7_to_utf8(tc.input);
        CHECK_FALSE(got.has_value());
    }
}

TEST_CASE("imap mutf7: invalid UTF-8 is not encoded") {
    auto tc = GENERATE(values<Reject>({
        {"overlong slash", "\xc0\xaf"},
        {"surrogate", "\xed\xa0\x80"},
        {"above U+10FFFF", "\xf4\x90\x80\x80"},
        {"truncated", "\xe6\x97"},
        {"stray continuation", "\x80"},
        {"overlong 3-byte", "\xe0\x80\xaf"},
    }));
    DYNAMIC_SECTION(tc.label) { CHECK_FALSE(utf8_to_mutf7(tc.input).has_value()); }
}
