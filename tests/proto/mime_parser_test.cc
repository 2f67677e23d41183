// The structure parser: offsets and line counts, and that hostile input stays bounded
// (deep nesting, huge headers, many parts, binary garbage) whatever the chunking.

#include <catch2/catch.hpp>

#include <random>

#include "mime_test_util.h"

using namespace postern;
using namespace postern::mime_test;

TEST_CASE("parser: offsets of header and body, boundary CRLF to the boundary", "[mime]") {
    const std::string msg =
        "Content-Type: multipart/mixed; boundary=b\r\n"  // 43
        "\r\n"                                           // 45
        "pre\r\n"                                        // 50
        "--b\r\n"                                        // 55
        "Content-Type: text/plain\r\n"                   // 81
        "\r\n"                                           // 83
        "one\r\ntwo\r\n"                                 // 93
        "--b--\r\n"
        "epi\r\n";
    for (size_t chunk : {size_t{0}, size_t{1}, size_t{5}}) {
        MimeMessage m = parse_chunked(msg, chunk);
        REQUIRE(m.parts.size() == 2);
        const MimePart& root = m.parts[0];
        CHECK(root.header_start == 0);
        CHECK(root.header_size == 45);
        CHECK(root.body_start == 45);
        CHECK(root.end() == msg.size());
        const MimePart& p = m.parts[1];
        CHECK(p.header_start == 55);
        CHECK(p.header_size == 28);
        CHECK(p.body_start == 83);
        CHECK(p.body_size == 8);  // "one\r\ntwo": the last CRLF goes with "--b--"
        CHECK(p.body_lines == 1);
        CHECK(msg.substr(p.body_start, p.body_size) == "one\r\ntwo");
        CHECK(p.parent == 0);
        CHECK(p.depth == 1);
    }
}

TEST_CASE("parser: envelope fields raw, unfolded, first occurrence", "[mime]") {
    MimeMessage m = MimeParser::parse(
        "Subject: folded\r\n  twice\r\n\there\r\nSubject: second\r\nFROM : a@b\r\n"
        "To:\r\n x@y\r\nMessage-ID:   <id@x>   \r\n\r\n");
    REQUIRE(m.root().envelope);
    const MimeEnvelopeFields& e = *m.root().envelope;
    CHECK(e.subject == "folded  twice\there");
    CHECK(e.from == "a@b");
    CHECK(e.to == "x@y");
    CHECK(e.message_id == "<id@x>");
    CHECK(!e.date);
    // Parts of a multipart carry no envelope.
    MimeMessage mp = MimeParser::parse(
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nSubject: no\r\n\r\nx\r\n--b--");
    REQUIRE(mp.parts.size() == 2);
    CHECK(!mp.parts[1].envelope);
}

TEST_CASE("parser: 100-deep nesting stops splitting at the depth limit", "[mime]") {
    std::string msg;
    for (int i = 0; i < 100; ++i)
        msg += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "x\r\n\r\n--b" +
               std::to_string(i) + "x\r\n";
    msg += "\r\ninnermost\r\n";
    for (int i = 99; i >= 0; --i) msg += "--b" + std::to_string(i) + "x--\r\n";
    for (size_t chunk : {size_t{0}, size_t{1}, size_t{100}}) {
        MimeMessage m = parse_chunked(msg, chunk);
        CHECK(m.parts.size() == kMimeMaxDepth + 1);
        uint32_t max_depth = 0;
        for (const MimePart& p : m.parts) max_depth = std::max(max_depth, p.depth);
        CHECK(max_depth == kMimeMaxDepth);
        CHECK(m.parts.back().opaque);
        CHECK(m.parts.back().children.empty());
        std::string bs;
        imap_write_bodystructure(bs, m, 0, true);
        CHECK(bs.size() < 20000);
    }
    // message/rfc822 nesting too.
    std::string rfc;
    for (int i = 0; i < 100; ++i) rfc += "Content-Type: message/rfc822\r\n\r\n";
    rfc += "Subject: deep\r\n\r\nbody\r\n";
    MimeMessage m = parse_chunked(rfc, 3);
    CHECK(m.parts.size() == kMimeMaxDepth + 1);
    std::string bs;
    imap_write_bodystructure(bs, m, 0, true);
    CHECK(bs.find("message") != std::string::npos);
}

TEST_CASE("parser: a 1 MB header keeps at most the field cap", "[mime]") {
    std::string msg = "Subject: " + std::string(1 << 20, 'x') +
                      "\r\nX-Other: " + std::string(1 << 20, 'y') + "\r\n";
    for (int i = 0; i < 20000; ++i) msg += "Subject: again\r\n To: folded\r\n";
    msg += "\r\nbody\r\n";
    for (size_t chunk : {size_t{0}, size_t{4096}}) {
        MimeMessage m = parse_chunked(msg, chunk);
        REQUIRE(m.parts.size() == 1);
        REQUIRE(m.root().envelope);
        // The cap counts the space after the colon, which trimming then drops.
        CHECK(m.root().envelope->subject->size() >= kMimeMaxFieldBytes - 1);
        CHECK(m.root().envelope->subject->size() <= kMimeMaxFieldBytes);
        CHECK(m.root().body_size == 6);
        CHECK(m.root().body_lines == 1);
        CHECK(m.root().header_size == msg.size() - 6);
    }
}

TEST_CASE("parser: the part count is capped", "[mime]") {
    std::string msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
    for (int i = 0; i < 12000; ++i) msg += "--b\r\n\r\nx\r\n";
    msg += "--b--\r\n";
    MimeMessage m = MimeParser::parse(msg);
    CHECK(m.parts.size() == kMimeMaxParts);
    CHECK(m.root().end() == msg.size());
    CHECK(m.parts.back().end() <= msg.size());
}

TEST_CASE("parser: binary garbage, every chunking gives the same tree", "[mime]") {
    std::mt19937 rng(42);
    for (int round = 0; round < 200; ++round) {
        std::string msg;
        const char* pieces[] = {"--b\r\n",
                                "\r\n",
                                "\n",
                                "Content-Type: multipart/mixed; boundary=b\r\n",
                                "Content-Type: message/rfc822\r\n",
                                "--b--",
                                ":",
                                " ",
                                "\0",
                                "\xff"};
        size_t n = rng() % 60;
        for (size_t i = 0; i < n; ++i) {
            if (rng() % 3 == 0) {
                msg += static_cast<char>(rng());
            } else {
                const char* p = pieces[rng() % 10];
                msg += std::string(p, std::max<size_t>(1, std::char_traits<char>::length(p)));
            }
        }
        MimeMessage whole = MimeParser::parse(msg);
        CHECK(parse_chunked(msg, 1) == whole);
        CHECK(parse_chunked(msg, 9, static_cast<uint32_t>(round)) == whole);
        CHECK(whole.root().end() == msg.size());
        for (const MimePart& p : whole.parts) CHECK(p.end() <= msg.size());
    }
}
