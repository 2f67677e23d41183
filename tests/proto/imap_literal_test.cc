// Literals and limits: synchronizing literals refused, LITERAL+ literals over a limit skipped
// byte-exactly, over-long lines, and the parser back in step after each.
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

ImapParserLimits small_limits() {
    ImapParserLimits l;
    l.line_max = 64;
    l.literal_max = 16;
    l.command_max = 100;
    l.append_max = 32;
    l.depth_max = 4;
    l.search_keys_max = 8;
    l.sequence_ranges_max = 4;
    return l;
}

void check(const Case& tc, const ImapParserLimits& limits) {
    INFO("input: " << tc.input);
    std::string whole = join(run_whole(tc.input, limits, tc.policy));
    CHECK(whole == tc.want);
    CHECK(join(run_bytes(tc.input, limits, tc.policy)) == tc.want);
    for (size_t at = 1; at < tc.input.size(); ++at) {
        std::string got = join(run_split(tc.input, at, limits, tc.policy));
        if (got != tc.want) FAIL("split at " << at << ": got " << got << ", want " << tc.want);
    }
}

}  // namespace

TEST_CASE("imap literal: limits, refusals and resynchronisation") {
    const std::string big(40, 'x');
    auto tc = GENERATE_COPY(values<Case>({
        {"sync literal within limit", "a LOGIN {3}\r\nabc def\r\n",
         "LITERAL 3\na LOGIN [abc] [def]\n"},
        {"sync literal over limit: the client sends nothing more", "a LOGIN {17}\r\nb NOOP\r\n",
         "BAD [a] literal_too_big LOGIN\nb NOOP\n"},
        {"literal+ over limit skipped exactly",
         "a LOGIN {17+}\r\n" + std::string(17, '\n') + " x\r\nb NOOP\r\n",
         "BAD [a] literal_too_big LOGIN\nb NOOP\n"},
        {"literal+ over limit, more literals in the skipped command",
         "a LOGIN {20+}\r\n" + std::string(20, 'y') + " {3+}\r\na\r\n\r\nb NOOP\r\n",
         "BAD [a] literal_too_big LOGIN\nb NOOP\n"},
        {"skipped command ends at a sync literal",
         "a LOGIN {20+}\r\n" + std::string(20, 'y') + " {3}\r\nb NOOP\r\n",
         "BAD [a] literal_too_big LOGIN\nb NOOP\n"},
        {"refused sync literal", "a LOGIN {3}\r\nb NOOP\r\n",
         "LITERAL 3\nBAD [a] refused LOGIN\nb NOOP\n", LiteralPolicy::refuse},
        {"refused literal+ skipped", "a LOGIN {3+}\r\n\r\n\r y\r\nb NOOP\r\n",
         "LITERAL 3+\nBAD [a] refused LOGIN\nb NOOP\n", LiteralPolicy::refuse},
        {"literal8 skipped by size", "a LOGIN ~{2}\r\n\r\n y\r\nb NOOP\r\n",
         "LITERAL 2\nBAD [a] syntax LOGIN\nb NOOP\n"},
        {"line too long", "a LOGIN " + big + " " + big + "\r\nb NOOP\r\n",
         "BAD [a] line_too_long LOGIN\nb NOOP\n"},
        {"line too long ending in literal+",
         "a LOGIN " + big + " " + big + " {4+}\r\n\r\n\r\n\r\nb NOOP\r\n",
         "BAD [a] line_too_long LOGIN\nb NOOP\n"},
        {"line too long ending in sync literal",
         "a LOGIN " + big + " " + big + " {4}\r\nb NOOP\r\n",
         "BAD [a] line_too_long LOGIN\nb NOOP\n"},
        {"line too long, tag unknown yet", std::string(80, 'a') + "\r\nb NOOP\r\n",
         "BAD [] line_too_long \nb NOOP\n"},
        {"line limit counts every line of a command",
         "a LOGIN {16+}\r\n" + std::string(16, 'p') + " " + std::string(60, 'q') + "\r\nb NOOP\r\n",
         "LITERAL 16+\nBAD [a] line_too_long LOGIN\nb NOOP\n"},
        {"command too big",
         "a SEARCH TEXT {16+}\r\n" + std::string(16, 'p') + " TEXT {16+}\r\n" +
             std::string(16, 'p') + " TEXT {16+}\r\n" + std::string(16, 'p') + " TEXT {16+}\r\n" +
             std::string(16, 'p') + " TEXT {16+}\r\n" + std::string(16, 'p') + "\r\nb NOOP\r\n",
         "LITERAL 16+\nLITERAL 16+\nLITERAL 16+\nBAD [a] command_too_big SEARCH\nb NOOP\n"},
        {"literal size overflow", "a LOGIN {99999999999999999999}\r\nb NOOP\r\n",
         "BAD [a] literal_too_big LOGIN\nb NOOP\n"},
        {"too many ranges", "a FETCH 1,2,3,4,5 FLAGS\r\nb NOOP\r\n",
         "BAD [a] limit FETCH\nb NOOP\n"},
        {"ranges at the limit", "a FETCH 1,2,3,4 FLAGS\r\n", "a FETCH 1,2,3,4 (FLAGS)\n"},
        {"too many search keys", "a SEARCH SEEN SEEN SEEN SEEN SEEN SEEN SEEN SEEN SEEN\r\n",
         "BAD [a] limit SEARCH\n"},
        {"search nested too deeply", "a SEARCH ((((SEEN))))\r\n", "BAD [a] limit SEARCH\n"},
        {"search NOT chain too deep", "a SEARCH NOT NOT NOT NOT SEEN\r\n",
         "BAD [a] limit SEARCH\n"},
        {"search nesting at the limit", "a SEARCH (((SEEN)))\r\n",
         "a SEARCH AND(AND(AND(AND(SEEN))))\n"},
        {"idle line too long", "i IDLE\r\n" + big + big + "\r\nb NOOP\r\n",
         "i IDLE\nBAD [] line_too_long IDLE\nb NOOP\n"},
    }));
    DYNAMIC_SECTION(tc.label) { check(tc, small_limits()); }
}

TEST_CASE("imap literal: memory stays bounded while an oversized literal+ is skipped") {
    ImapParserLimits limits;
    ImapParser p(limits);
    std::string head = "a LOGIN {10000000+}\r\n";
    p.feed(head);
    REQUIRE(std::holds_alternative<ImapNeedMore>(p.next()));
    std::string chunk(64 * 1024, 'z');
    size_t sent = 0;
    while (sent < 10000000) {
        size_t n = std::min(chunk.size(), size_t(10000000) - sent);
        p.feed(std::string_view(chunk).substr(0, n));
        auto ev = p.next();
        REQUIRE(std::holds_alternative<ImapNeedMore>(ev));
        sent += n;
    }
    p.feed(" x\r\nb NOOP\r\n");
    auto bad = p.next();
    REQUIRE(std::holds_alternative<ImapBad>(bad));
    CHECK(std::get<ImapBad>(bad).reason == ImapBadReason::literal_too_big);
    auto noop = p.next();
    REQUIRE(std::holds_alternative<ImapCommand>(noop));
    CHECK(std::get<ImapCommand>(noop).tag == "b");
}

TEST_CASE("imap literal: refuse_literal only applies right after the announcement") {
    ImapParser p;
    p.feed("a NOOP\r\n");
    auto ev = p.next();
    REQUIRE(std::holds_alternative<ImapCommand>(ev));
    p.refuse_literal();  // nothing to refuse
    p.feed("b NOOP\r\n");
    auto ev2 = p.next();
    REQUIRE(std::holds_alternative<ImapCommand>(ev2));
    CHECK(std::get<ImapCommand>(ev2).tag == "b");
}
