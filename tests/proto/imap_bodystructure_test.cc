// FETCH ENVELOPE / BODYSTRUCTURE / BODY for the corpus in tests/data/mime: each NAME.eml
// against NAME.expected (Dovecot 2.3.19's answer for the same file unless the corpus
// README says otherwise), fed whole, one byte at a time and in random chunks.

#include <catch2/catch.hpp>

#include "mime_test_util.h"

using namespace postern;
using namespace postern::mime_test;

TEST_CASE("corpus: ENVELOPE and BODYSTRUCTURE as Dovecot answers them", "[mime][imap]") {
    auto name =
        GENERATE(as<std::string>{}, "nested_multipart", "rfc822_in_multipart", "rfc2231_params",
                 "rfc2047_words", "unclosed_boundary", "missing_headers", "header_only", "bare_lf",
                 "nul_8bit", "missing_boundary", "digest", "boundary_whitespace", "cr_cr_lf");
    std::string msg = read_file(corpus_path(name + ".eml"));
    std::string want = read_file(corpus_path(name + ".expected"));
    REQUIRE(!msg.empty());
    REQUIRE(!want.empty());
    if (want.back() == '\n') want.pop_back();
    want = normalize_literals(want);
    MimeMessage whole = MimeParser::parse(msg);
    for (size_t chunk : {size_t{0}, size_t{1}, size_t{7}, size_t{300}}) {
        for (uint32_t seed : {1u, 2u, 3u}) {
            DYNAMIC_SECTION(name << " chunk " << chunk << " seed " << seed) {
                MimeMessage m = parse_chunked(msg, chunk, seed);
                CHECK(m == whole);
                CHECK(m.size == msg.size());
                std::string got = normalize_literals(fetch_items(m));
                INFO("got  " << got);
                INFO("want " << want);
                CHECK(got == want);
            }
            if (chunk <= 1) break;
        }
    }
}

TEST_CASE("bare LF: stored sizes or CRLF sizes", "[mime][imap]") {
    std::string msg =
        "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\ntwo\n--b\r\n\r\nx\r\ny\n--b--\n";
    MimeMessage m = MimeParser::parse(msg);
    REQUIRE(m.parts.size() == 3);
    CHECK(m.parts[0].header_bare_lf == 2);
    CHECK(m.parts[1].header_bare_lf == 1);
    CHECK(m.parts[1].body_bare_lf == 1);  // "one\ntwo": the LF before --b is the boundary's
    CHECK(m.parts[2].header_bare_lf == 0);
    CHECK(m.parts[2].body_bare_lf == 0);  // "x\r\ny"
    std::string raw, crlf;
    imap_write_bodystructure(raw, m, 1, false);
    imap_write_bodystructure(crlf, m, 1, false, false, true);
    CHECK(raw == R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 7 1))");
    CHECK(crlf == R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 8 1))");
    CHECK(parse_chunked(msg, 1) == m);
    // The fast path (no boundary left to find) counts them too.
    MimeMessage plain = parse_chunked("Subject: s\n\na\nb\r\nc\n", 1);
    CHECK(plain.root().header_bare_lf == 2);
    CHECK(plain.root().body_bare_lf == 2);
}

TEST_CASE("BODYSTRUCTURE of parts: text lines, message lines, extension data", "[mime][imap]") {
    struct Case {
        const char* label;
        const char* msg;
        const char* want;  // BODYSTRUCTURE
    };
    const Case cases[] = {
        {"no header at all, no body", "",
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))"},
        {"text/plain without charset gets us-ascii last",
         "Content-Type: text/plain; format=flowed\r\n\r\nx\r\n",
         R"(("text" "plain" ("format" "flowed" "charset" "us-ascii") NIL NIL "7bit" 3 1 NIL NIL NIL NIL))"},
        {"non-text has no lines",
         "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n",
         R"(("image" "png" NIL NIL NIL "base64" 6 NIL NIL NIL NIL))"},
        {"invalid content type keeps the defaults", "Content-Type: garbage\r\n\r\nx",
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0 NIL NIL NIL NIL))"},
        {"comments in content type",
         "Content-Type: (c) text (d) / (e) html (f) ; (g) charset (h) = (i) \"utf-8\" (j)\r\n\r\n",
         R"(("text" "html" ("charset" "utf-8") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))"},
        {"folded parameters",
         "Content-Type: text/plain;\r\n\tcharset=utf-8;\r\n name=a.txt\r\n\r\n",
         R"(("text" "plain" ("charset" "utf-8" "name" "a.txt") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))"},
        {"multipart: the boundary before the last CRLF",
         "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nab\r\n\r\n--b--\r\n",
         R"((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 4 1 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL))"},
        {"empty part between boundaries",
         "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n\r\nx\r\n--b--\r\n",
         R"((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL))"},
        {"message/rfc822 without a body", "Content-Type: message/rfc822\r\n\r\nSubject: s\r\n",
         R"(("message" "rfc822" NIL NIL NIL "7bit" 12 (NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) 1 NIL NIL NIL NIL))"},
    };
    for (const Case& c : cases) {
        DYNAMIC_SECTION(c.label) {
            MimeMessage m = MimeParser::parse(c.msg);
            std::string got;
            imap_write_bodystructure(got, m, 0, true);
            CHECK(got == c.want);
            CHECK(parse_chunked(c.msg, 1) == m);
        }
    }
}

TEST_CASE("8-bit strings become literals unless UTF8=ACCEPT", "[mime][imap]") {
    MimeMessage m = MimeParser::parse("Content-Type: text/plain; name=\"caf\xc3\xa9\"\r\n\r\n");
    std::string plain, utf8;
    imap_write_bodystructure(plain, m, 0, false);
    imap_write_bodystructure(utf8, m, 0, false, true);
    CHECK(plain ==
          "(\"text\" \"plain\" (\"name\" {5}\r\ncaf\xc3\xa9 \"charset\" \"us-ascii\") NIL NIL "
          "\"7bit\" 0 0)");
    CHECK(utf8 ==
          "(\"text\" \"plain\" (\"name\" \"caf\xc3\xa9\" \"charset\" \"us-ascii\") NIL NIL "
          "\"7bit\" 0 0)");
}
