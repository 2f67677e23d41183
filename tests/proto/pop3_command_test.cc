#include "libproto/pop3/pop3_command.h"

#include <catch2/catch.hpp>

#include "libproto/core/line_reader.h"
#include "libproto/pop3/pop3_dotstuff.h"

using namespace postern;

namespace {

struct Case {
    const char* label;
    std::string line;
    bool ok;
    Pop3Verb verb;
    std::string arg;
    uint32_t msg;
    uint64_t lines;
    Pop3ParseError error;
};

}  // namespace

TEST_CASE("pop3 command: table") {
    using V = Pop3Verb;
    using E = Pop3ParseError;
    auto tc = GENERATE(values<Case>({
        {"user", "USER alice", true, V::user, "alice", 0, 0, E::empty},
        {"lowercase keyword", "user alice@example.org", true, V::user, "alice@example.org", 0, 0,
         E::empty},
        {"mixed case", "UsEr bob%example.org", true, V::user, "bob%example.org", 0, 0, E::empty},
        {"user without arg", "USER", false, V::user, "", 0, 0, E::missing_argument},
        {"user two args", "USER a b", false, V::user, "", 0, 0, E::extra_argument},
        {"pass keeps spaces", "PASS my secret ", true, V::pass, "my secret ", 0, 0, E::empty},
        {"pass empty", "PASS", false, V::pass, "", 0, 0, E::missing_argument},
        {"pass only space", "PASS ", false, V::pass, "", 0, 0, E::missing_argument},
        {"stat", "STAT", true, V::stat, "", 0, 0, E::empty},
        {"stat arg", "STAT 1", false, V::stat, "", 0, 0, E::extra_argument},
        {"list", "LIST", true, V::list, "", 0, 0, E::empty},
        {"list n", "LIST 7", true, V::list, "", 7, 0, E::empty},
        {"list zero", "LIST 0", false, V::list, "", 0, 0, E::bad_number},
        {"list negative", "LIST -1", false, V::list, "", 0, 0, E::bad_number},
        {"list plus", "LIST +1", false, V::list, "", 0, 0, E::bad_number},
        {"list hex", "LIST 0x10", false, V::list, "", 0, 0, E::bad_number},
        {"list huge", "LIST 4294967296", false, V::list, "", 0, 0, E::bad_number},
        {"list max", "LIST 4294967295", true, V::list, "", 4294967295u, 0, E::empty},
        {"retr", "RETR 1", true, V::retr, "", 1, 0, E::empty},
        {"retr missing", "RETR", false, V::retr, "", 0, 0, E::missing_argument},
        {"retr word", "RETR one", false, V::retr, "", 0, 0, E::bad_number},
        {"dele", "dele 3", true, V::dele, "", 3, 0, E::empty},
        {"top", "TOP 2 10", true, V::top, "", 2, 10, E::empty},
        {"top zero lines", "TOP 2 0", true, V::top, "", 2, 0, E::empty},
        {"top one arg", "TOP 2", false, V::top, "", 0, 0, E::missing_argument},
        {"top bad lines", "TOP 2 x", false, V::top, "", 0, 0, E::bad_number},
        {"uidl", "UIDL", true, V::uidl, "", 0, 0, E::empty},
        {"uidl n", "UIDL 12", true, V::uidl, "", 12, 0, E::empty},
        {"noop", "NOOP", true, V::noop, "", 0, 0, E::empty},
        {"rset", "RSET", true, V::rset, "", 0, 0, E::empty},
        {"quit", "QUIT", true, V::quit, "", 0, 0, E::empty},
        {"quit trailing space", "QUIT ", true, V::quit, "", 0, 0, E::empty},
        {"capa", "CAPA", true, V::capa, "", 0, 0, E::empty},
        {"stls", "STLS", true, V::stls, "", 0, 0, E::empty},
        {"apop", "APOP mrose c4c9334bac560ecc979e58001b3e22fb", true, V::apop, "mrose", 0, 0,
         E::empty},
        {"auth bare", "AUTH", true, V::auth, "", 0, 0, E::empty},
        {"auth mech upper-cased", "auth plain", true, V::auth, "PLAIN", 0, 0, E::empty},
        {"auth ir", "AUTH PLAIN AGFsaWNlAHM=", true, V::auth, "PLAIN", 0, 0, E::empty},
        {"auth three", "AUTH PLAIN a b", false, V::auth, "", 0, 0, E::extra_argument},
        {"empty", "", false, V::noop, "", 0, 0, E::empty},
        {"spaces", "   ", false, V::noop, "", 0, 0, E::empty},
        {"unknown", "HELO x", false, V::noop, "", 0, 0, E::unknown_command},
        {"prefix of keyword", "RET 1", false, V::noop, "", 0, 0, E::unknown_command},
        {"keyword glued", "RETR1", false, V::noop, "", 0, 0, E::unknown_command},
        {"nul byte", std::string("NO\0P", 4), false, V::noop, "", 0, 0, E::unknown_command},
        {"stray cr", "NOOP\r", true, V::noop, "", 0, 0, E::empty},
        {"too long", "USER " + std::string(2000, 'a'), false, V::user, "", 0, 0, E::too_long},
        {"255 octets ok", "USER " + std::string(250, 'a'), true, V::user, std::string(250, 'a'), 0,
         0, E::empty},
    }));
    DYNAMIC_SECTION(tc.label) {
        auto got = parse_pop3_command(tc.line);
        INFO("line: " << tc.line);
        REQUIRE(got.has_value() == tc.ok);
        if (tc.ok) {
            INFO("got verb " << pop3_verb_name(got->verb) << ", want " << pop3_verb_name(tc.verb));
            CHECK(got->verb == tc.verb);
            CHECK(got->arg == tc.arg);
            CHECK(got->msg == tc.msg);
            CHECK(got->lines == tc.lines);
        } else {
            INFO("got error " << pop3_parse_error_text(got.error()) << ", want "
                              << pop3_parse_error_text(tc.error));
            CHECK(got.error() == tc.error);
        }
    }
}

TEST_CASE("pop3 command: AUTH initial response and APOP digest in arg2") {
    auto a = parse_pop3_command("AUTH PLAIN =");
    REQUIRE(a);
    CHECK(a->has_arg2);
    CHECK(a->arg2 == "=");
    auto b = parse_pop3_command("AUTH LOGIN");
    REQUIRE(b);
    CHECK_FALSE(b->has_arg2);
}

TEST_CASE("pop3 command: split frames and single bytes through the line reader") {
    const std::string wire = "USER alice\r\nPASS s e c\r\nLIST 2\r\nTOP 1 0\r\nQUIT\r\n";
    auto run = [&](size_t step) {
        LineReader r({.max_line = pop3_max_sasl_line});
        std::vector<Pop3Verb> verbs;
        for (size_t i = 0; i < wire.size(); i += step) {
            r.feed(std::string_view(wire).substr(i, step));
            while (auto ev = r.next()) {
                REQUIRE(ev->kind == LineEvent::Kind::line);
                auto c = parse_pop3_command(ev->data);
                REQUIRE(c);
                verbs.push_back(c->verb);
            }
        }
        return verbs;
    };
    std::vector<Pop3Verb> want{Pop3Verb::user, Pop3Verb::pass, Pop3Verb::list, Pop3Verb::top,
                               Pop3Verb::quit};
    for (size_t step : {1, 2, 3, 7, 100}) {
        INFO("step " << step);
        CHECK(run(step) == want);
    }
}

TEST_CASE("pop3 dot-stuffing: RETR") {
    struct C {
        const char* label;
        std::string in;
        std::string want;
    };
    auto tc = GENERATE(values<C>({
        {"plain", "a\r\nb\r\n", "a\r\nb\r\n.\r\n"},
        {"leading dot", ".a\r\n..b\r\nc.d\r\n", "..a\r\n...b\r\nc.d\r\n.\r\n"},
        {"lone dot line", "x\r\n.\r\ny\r\n", "x\r\n..\r\ny\r\n.\r\n"},
        {"no final crlf", "x\r\n.y", "x\r\n..y\r\n.\r\n"},
        {"empty", "", ".\r\n"},
        // Another delivery agent's file: bare LF goes out as CR LF, so the end is CRLF.CRLF.
        {"bare lf", "a\n.b\n", "a\r\n..b\r\n.\r\n"},
        {"bare lf, empty lines", "a\n\n\nb", "a\r\n\r\n\r\nb\r\n.\r\n"},
        {"mixed line ends", "a\r\nb\nc\r\n", "a\r\nb\r\nc\r\n.\r\n"},
        {"bare cr kept", "a\rb\r\n", "a\rb\r\n.\r\n"},
    }));
    DYNAMIC_SECTION(tc.label) {
        for (size_t step : {1, 2, 3, 1000}) {
            Pop3DotStuffer d;
            std::string out;
            for (size_t i = 0; i < tc.in.size(); i += step)
                d.feed(std::string_view(tc.in).substr(i, step), out);
            d.finish(out);
            INFO("step " << step);
            CHECK(out == tc.want);
        }
    }
}

TEST_CASE("pop3 dot-stuffing: TOP n") {
    const std::string msg = "Subject: x\r\nFrom: y\r\n\r\n.one\r\ntwo\r\nthree\r\n";
    struct C {
        uint64_t n;
        std::string want;
    };
    auto tc = GENERATE(values<C>({
        {0, "Subject: x\r\nFrom: y\r\n\r\n.\r\n"},
        {1, "Subject: x\r\nFrom: y\r\n\r\n..one\r\n.\r\n"},
        {2, "Subject: x\r\nFrom: y\r\n\r\n..one\r\ntwo\r\n.\r\n"},
        {99, "Subject: x\r\nFrom: y\r\n\r\n..one\r\ntwo\r\nthree\r\n.\r\n"},
    }));
    for (size_t step : {1, 2, 5, 1000}) {
        Pop3DotStuffer d(tc.n);
        std::string out;
        for (size_t i = 0; i < msg.size() && !d.done(); i += step)
            d.feed(std::string_view(msg).substr(i, step), out);
        d.finish(out);
        INFO("n " << tc.n << " step " << step);
        CHECK(out == tc.want);
    }
    SECTION("headers only, no blank line") {
        Pop3DotStuffer d(0);
        std::string out;
        d.feed("Subject: x\r\n", out);
        d.finish(out);
        CHECK(out == "Subject: x\r\n.\r\n");
    }
}
