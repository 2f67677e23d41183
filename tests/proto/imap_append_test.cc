// APPEND and MULTIAPPEND stream: the message literal comes out as data pieces, never
// buffered whole, with every input split.
#include <catch2/catch.hpp>

#include "imap_test_util.h"

using namespace postern;
using namespace postern::imap_test;

namespace {

struct Case {
    const char* label;
    std::string input;
    std::string want;
    LiteralPolicy policy = LiteralPolicy::accept;
};

}  // namespace

TEST_CASE("imap append: events for every split") {
    ImapParserLimits limits;
    limits.append_max = 20;
    auto tc = GENERATE(values<Case>({
        {"plain", "a APPEND INBOX {5}\r\nHello\r\n",
         "APPEND a [INBOX]\nMESSAGE 5 ()\nDATA Hello\nEND\n"},
        {"flags and date",
         "a APPEND saved-messages (\\Seen $Work) \" 7-Feb-1994 21:52:25 -0800\" {4}\r\nx\r\ny\r\n",
         "APPEND a [saved-messages]\nMESSAGE 4 (\\Seen $Work) 1994-2-7 760686745\nDATA "
         "x\r\ny\nEND\n"},
        {"date only", "a APPEND x \"07-Feb-1994 21:52:25 +0100\" {1+}\r\nz\r\n",
         "APPEND a [x]\nMESSAGE 1+ () 1994-2-7 760654345\nDATA z\nEND\n"},
        {"literal8", std::string("a APPEND x ~{3}\r\n\0\1\2\r\n", 22),
         std::string("APPEND a [x]\nMESSAGE 3 binary ()\nDATA \0\1\2\nEND\n", 46)},
        {"mailbox literal", "a APPEND {5}\r\nDraft {2}\r\nhi\r\n",
         "LITERAL 5\nAPPEND a [Draft]\nMESSAGE 2 ()\nDATA hi\nEND\n"},
        {"empty message", "a APPEND x {0}\r\n\r\n", "APPEND a [x]\nMESSAGE 0 ()\nEND\n"},
        {"multiappend",
         "a APPEND x (\\Seen) {2}\r\nab (\\Draft) {3+}\r\ncde {1}\r\nf\r\nb NOOP\r\n",
         "APPEND a [x]\nMESSAGE 2 (\\Seen)\nDATA ab\nMESSAGE 3+ (\\Draft)\nDATA cde\nMESSAGE 1 ()\n"
         "DATA f\nEND\nb NOOP\n"},
        {"message with what looks like commands", "a APPEND x {10}\r\nb LOGOUT\r\n\r\n",
         "APPEND a [x]\nMESSAGE 10 ()\nDATA b LOGOUT\r\n\nEND\n"},
        {"too big sync", "a APPEND x {21}\r\nb NOOP\r\n",
         "BAD [a] literal_too_big APPEND\nb NOOP\n"},
        {"too big literal+ skipped",
         "a APPEND x {21+}\r\n" + std::string(21, '\n') + "\r\nb NOOP\r\n",
         "BAD [a] literal_too_big APPEND\nb NOOP\n"},
        {"second message too big", "a APPEND x {1}\r\nq {21}\r\nb NOOP\r\n",
         "APPEND a [x]\nMESSAGE 1 ()\nDATA q\nBAD [a] literal_too_big APPEND\nb NOOP\n"},
        {"refused", "a APPEND x {4}\r\nb NOOP\r\n",
         "APPEND a [x]\nMESSAGE 4 ()\nBAD [a] refused APPEND\nb NOOP\n", LiteralPolicy::refuse},
        {"refused literal+", "a APPEND x {4+}\r\nabcd {1+}\r\nz\r\nb NOOP\r\n",
         "APPEND a [x]\nMESSAGE 4+ ()\nBAD [a] refused APPEND\nb NOOP\n", LiteralPolicy::refuse},
        {"bad flag", "a APPEND x (\\Recent) {4}\r\nb NOOP\r\n", "BAD [a] syntax APPEND\nb NOOP\n"},
        {"bad date", "a APPEND x \"7-Feb-1994 21:52:25 -0800\" {4}\r\nb NOOP\r\n",
         "BAD [a] syntax APPEND\nb NOOP\n"},
        {"junk after message", "a APPEND x {1}\r\nz junk\r\nb NOOP\r\n",
         "APPEND a [x]\nMESSAGE 1 ()\nDATA z\nBAD [a] syntax APPEND\nb NOOP\n"},
        {"catenate refused", "a APPEND x CATENATE (TEXT {1}\r\nb NOOP\r\n",
         "BAD [a] syntax APPEND\nb NOOP\n"},
    }));
    DYNAMIC_SECTION(tc.label) {
        INFO("input: " << tc.input);
        CHECK(join(run_whole(tc.input, limits, tc.policy)) == tc.want);
        CHECK(join(run_bytes(tc.input, limits, tc.policy)) == tc.want);
        for (size_t at = 1; at < tc.input.size(); ++at) {
            std::string got = join(run_split(tc.input, at, limits, tc.policy));
            if (got != tc.want) FAIL("split at " << at << ": got " << got << ", want " << tc.want);
        }
    }
}

TEST_CASE("imap append: a 1 MB message streams in pieces with bounded memory") {
    const size_t size = 1 << 20;
    std::string body;
    body.reserve(size);
    for (size_t i = 0; body.size() < size; ++i) body += "line " + std::to_string(i) + "\r\n";
    body.resize(size);

    ImapParser p;
    // feed() keeps a view: the bytes must outlive the events they give.
    const std::string head = "t1 APPEND INBOX (\\Seen) {" + std::to_string(size) + "}\r\n";
    p.feed(head);
    auto begin = p.next();
    INFO(describe(begin));
    REQUIRE(std::holds_alternative<ImapAppendBegin>(begin));
    CHECK(std::get<ImapAppendBegin>(begin).tag == "t1");
    auto msg = p.next();
    REQUIRE(std::holds_alternative<ImapAppendMessage>(msg));
    CHECK(std::get<ImapAppendMessage>(msg).size == size);
    REQUIRE(std::holds_alternative<ImapNeedMore>(p.next()));

    std::string got;
    size_t pieces = 0, largest = 0;
    const size_t step = 16 * 1024 + 7;
    for (size_t off = 0; off < size; off += step) {
        std::string piece = body.substr(off, step);
        p.feed(piece);
        for (;;) {
            auto ev = p.next();
            if (std::holds_alternative<ImapNeedMore>(ev)) break;
            REQUIRE(std::holds_alternative<ImapAppendData>(ev));
            auto bytes = std::get<ImapAppendData>(ev).bytes;
            // A view into what was fed: nothing was copied.
            CHECK(bytes.data() >= piece.data());
            CHECK(bytes.data() + bytes.size() <= piece.data() + piece.size());
            largest = std::max(largest, bytes.size());
            got.append(bytes);
            ++pieces;
        }
        CHECK(p.pending_bytes() == 0);
    }
    p.feed("\r\n");
    CHECK(std::holds_alternative<ImapAppendEnd>(p.next()));
    CHECK(got == body);
    CHECK(pieces >= size / step);
    CHECK(largest <= step);
}

TEST_CASE("imap append: the append limit is set per command") {
    ImapParser p;
    p.set_append_limit(3);
    p.feed("a APPEND x {4}\r\n");
    auto ev = p.next();
    REQUIRE(std::holds_alternative<ImapBad>(ev));
    CHECK(std::get<ImapBad>(ev).reason == ImapBadReason::literal_too_big);
    CHECK(std::get<ImapBad>(ev).id == ImapCommandId::append);
    p.set_append_limit(4);
    p.feed("b APPEND x {4}\r\n");
    CHECK(std::holds_alternative<ImapAppendBegin>(p.next()));
    CHECK(std::holds_alternative<ImapAppendMessage>(p.next()));
}
