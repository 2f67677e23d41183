// LineReader split mode (SMTP DATA): over-long lines come out in pieces with
// LineEnd::none, never as too_long, and the pieces put back together are the input.
#include "libproto/core/line_reader.h"

#include <catch2/catch.hpp>

using namespace postern;

namespace {

// Feeds `in` in `step`-byte pieces; returns the bytes rebuilt from the events.
std::string rebuild(std::string_view in, size_t step, size_t max_line, size_t* max_piece) {
    LineReader r(LineReaderLimits{max_line, 1 << 20, true});
    std::string out;
    for (size_t i = 0; i < in.size(); i += step) {
        REQUIRE(r.feed(in.substr(i, step)));
        while (auto ev = r.next()) {
            REQUIRE(ev->kind == LineEvent::Kind::line);
            *max_piece = std::max(*max_piece, ev->data.size());
            out += ev->data;
            if (ev->end == LineEnd::crlf) out += "\r\n";
            if (ev->end == LineEnd::bare_lf) out += "\n";
            if (ev->end == LineEnd::none) CHECK_FALSE(ev->data.ends_with('\r'));
        }
        CHECK(r.buffered() <= max_line + 2 + step);
    }
    return out;
}

}  // namespace

TEST_CASE("line_reader: split mode gives long lines in pieces") {
    const std::string in = std::string(100, 'a') + "\r\n" + std::string(37, 'b') + "\r" +
                           std::string(20, 'c') + "\n" + std::string(15, 'd') + "\r\r\n" +
                           "short\r\n";
    for (size_t step : {size_t{1}, size_t{3}, size_t{16}, size_t{17}, in.size()}) {
        DYNAMIC_SECTION("step " << step) {
            size_t max_piece = 0;
            CHECK(rebuild(in, step, 16, &max_piece) == in);
            CHECK(max_piece <= 16 + 2 + step);
        }
    }
}

TEST_CASE("line_reader: without split mode a long line is still too_long") {
    LineReader r(LineReaderLimits{16, 1 << 20});
    REQUIRE(r.feed(std::string(40, 'x') + "\r\nok\r\n"));
    auto ev = r.next();
    REQUIRE(ev);
    CHECK(ev->kind == LineEvent::Kind::too_long);
    ev = r.next();
    REQUIRE(ev);
    CHECK(ev->data == "ok");
}
