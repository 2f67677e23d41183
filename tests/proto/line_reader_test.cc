#include "libproto/core/line_reader.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using postern::LineEnd;
using postern::LineEvent;
using postern::LineReader;

namespace {

// Renders events as "L:text" (CRLF), "N:text" (bare LF), "TOOLONG", "R:bytes" / "R$:bytes" (last).
std::vector<std::string> drain(LineReader& r) {
    std::vector<std::string> out;
    while (auto ev = r.next()) {
        switch (ev->kind) {
        case LineEvent::Kind::line:
            out.push_back((ev->end == LineEnd::crlf ? "L:" : "N:") + std::string(ev->data));
            break;
        case LineEvent::Kind::too_long: out.push_back("TOOLONG"); break;
        case LineEvent::Kind::raw:
            out.push_back((ev->raw_last ? "R$:" : "R:") + std::string(ev->data));
            break;
        }
    }
    return out;
}

// Feeds `input` in pieces of `step` bytes (0: all at once), draining after each.
std::vector<std::string> run(const std::string& input, size_t step, size_t max_line = 10) {
    LineReader r({.max_line = max_line, .max_buffer = 1024});
    std::vector<std::string> out;
    if (step == 0) step = input.size() ? input.size() : 1;
    for (size_t i = 0; i < input.size(); i += step) {
        REQUIRE(r.feed(std::string_view(input).substr(i, step)));
        for (auto& e : drain(r)) out.push_back(e);
    }
    return out;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (auto& e : v) s += "[" + e + "]";
    return s;
}

}  // namespace

TEST_CASE("line_reader: splits lines the same way whatever the framing") {
    struct Case {
        const char* label;
        std::string input;
        std::string want;
    };
    auto tc = GENERATE(values<Case>({
        {"one line", "HELO x\r\n", "[L:HELO x]"},
        {"two lines", "A\r\nB\r\n", "[L:A][L:B]"},
        {"bare LF", "A\nB\r\n", "[N:A][L:B]"},
        {"empty lines", "\r\n\n", "[L:][N:]"},
        {"CR inside a line is data", "A\rB\r\n", "[L:A\rB]"},
        {"partial tail waits", "A\r\nB", "[L:A]"},
        {"exactly max_line", "0123456789\r\n", "[L:0123456789]"},
        {"one over max_line, complete", "0123456789X\r\nok\r\n", "[TOOLONG][L:ok]"},
        {"very long resyncs at LF", std::string(50, 'x') + "\r\nnext\r\n", "[TOOLONG][L:next]"},
        {"very long with bare LF", std::string(30, 'y') + "\nnext\n", "[TOOLONG][N:next]"},
        {"NUL is data", std::string("a\0b\r\n", 5), std::string("[L:a\0b]", 7)},
    }));
    for (size_t step : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(7)}) {
        DYNAMIC_SECTION(tc.label << " step " << step) {
            std::string got = join(run(tc.input, step));
            INFO("got:  " << got << "\nwant: " << tc.want);
            CHECK(got == tc.want);
        }
    }
}

TEST_CASE("line_reader: raw mode delivers counted bytes then returns to lines") {
    for (size_t step : {size_t(1), size_t(4), size_t(100)}) {
        DYNAMIC_SECTION("step " << step) {
            LineReader r({.max_line = 100, .max_buffer = 1024});
            std::string input = "BDAT 5\r\nhel\nlQUIT\r\n";
            std::string raw;
            std::vector<std::string> lines;
            bool saw_last = false;
            for (size_t i = 0; i < input.size(); i += step) {
                REQUIRE(r.feed(std::string_view(input).substr(i, step)));
                while (auto ev = r.next()) {
                    if (ev->kind == LineEvent::Kind::raw) {
                        raw += ev->data;
                        saw_last = ev->raw_last;
                    } else {
                        lines.emplace_back(ev->data);
                        if (ev->data == "BDAT 5") r.read_raw(5);
                    }
                }
            }
            CHECK(raw == "hel\nl");
            CHECK(saw_last);
            CHECK(lines == std::vector<std::string>{"BDAT 5", "QUIT"});
            CHECK_FALSE(r.in_raw());
        }
    }
}

TEST_CASE("line_reader: buffer limit refuses an undrained feed") {
    LineReader r({.max_line = 10, .max_buffer = 16});
    CHECK(r.feed("0123456789"));
    CHECK_FALSE(r.feed("0123456789"));  // would hold 20 > 16
    CHECK(r.buffered() == 10);
}

TEST_CASE("line_reader: an over-long line never grows the buffer") {
    LineReader r({.max_line = 10, .max_buffer = 64});
    int too_long = 0;
    for (int i = 0; i < 1000; ++i) {
        REQUIRE(r.feed("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
        while (auto ev = r.next()) too_long += ev->kind == LineEvent::Kind::too_long;
        REQUIRE(r.buffered() <= 12);
    }
    REQUIRE(r.feed("\r\nok\r\n"));
    auto got = drain(r);
    CHECK(too_long == 1);
    CHECK(join(got) == "[L:ok]");
}

TEST_CASE("line_reader: discard drops pipelined bytes (STARTTLS)") {
    LineReader r;
    REQUIRE(r.feed("STARTTLS\r\nMAIL FROM:<evil>\r\n"));
    auto ev = r.next();
    REQUIRE(ev);
    CHECK(ev->data == "STARTTLS");
    CHECK(r.discard() == 18);
    CHECK_FALSE(r.next());
    REQUIRE(r.feed("EHLO x\r\n"));
    CHECK(join(drain(r)) == "[L:EHLO x]");
}
