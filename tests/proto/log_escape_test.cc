// log_escape: client strings made safe for one log line.
#include "libproto/core/log_escape.h"

#include <catch2/catch.hpp>

using namespace postern;

TEST_CASE("log_escape: table of inputs") {
    struct Case {
        const char* label;
        std::string in;
        size_t max;
        std::string want;
    };
    auto c = GENERATE(Case{"plain text", "bob@example.org", 256, "bob@example.org"},
                      Case{"CR LF forge a second line", "bob\r\nauth ok", 256, "bob\\r\\nauth ok"},
                      Case{"terminal escape", "\x1b[31mred", 256, "\\x1b[31mred"},
                      Case{"tab, NUL, DEL", std::string("a\tb\0c\x7f", 6), 256, "a\\tb\\x00c\\x7f"},
                      Case{"quote and backslash", "x\" y=\\z", 256, "x\\\" y=\\\\z"},
                      Case{"valid UTF-8 passes", "J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80", 256,
                           "J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80"},
                      Case{"lone high byte",
                           "a\xff"
                           "b",
                           256, "a\\xffb"},
                      Case{"truncated sequence", "a\xe2\x82", 256, "a\\xe2\\x82"},
                      Case{"overlong '/'", "\xc0\xaf", 256, "\\xc0\\xaf"},
                      Case{"UTF-16 surrogate", "\xed\xa0\x80", 256, "\\xed\\xa0\\x80"},
                      Case{"C1 control CSI as UTF-8",
                           "\xc2\x9b"
                           "31m",
                           256, "\\xc2\\x9b31m"},
                      Case{"raw C1 CSI",
                           "\x9b"
                           "31m",
                           256, "\\x9b31m"},
                      Case{"cut to max_len", "abcdefgh", 5, "abcde..."},
                      Case{"cut never splits a character", "ab\xc3\xbc", 3, "ab..."},
                      Case{"exactly max_len", "abc", 3, "abc"}, Case{"empty", "", 256, ""});
    DYNAMIC_SECTION(c.label) {
        std::string got = log_escape(c.in, c.max);
        INFO("got " << got << ", want " << c.want);
        CHECK(got == c.want);
    }
}

TEST_CASE("log_escape: no byte of the output is a control character") {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    std::string got = log_escape(all, all.size());
    for (unsigned char ch : got) {
        INFO("byte " << int(ch));
        CHECK((ch >= 0x20 && ch != 0x7f));
    }
    // Every quote and backslash is part of an escape: the text fits inside "...".
    for (size_t i = 0; i < got.size(); ++i) {
        INFO("at " << i << " in " << got);
        REQUIRE(got[i] != '"');
        if (got[i] != '\\') continue;
        REQUIRE(i + 1 < got.size());
        char e = got[++i];
        REQUIRE(std::string_view("rnt\\\"x").find(e) != std::string_view::npos);
        if (e == 'x') i += 2;
    }
}
