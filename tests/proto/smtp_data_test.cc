#include "libproto/smtp/smtp_data.h"

#include <catch2/catch.hpp>

using namespace postern;

namespace {

struct Fed {
    bool done;
    size_t used;
    std::string msg;
    bool too_big;
    bool eight_bit;
};

// Feeds `in` in pieces of `step` bytes (0: all at once). With `stream`, the
// stored bytes are taken out after every feed, as the session does (the
// reader then never holds more than one piece).
Fed feed_all(std::string_view in, size_t step, uint64_t max = 1 << 20, bool stream = false) {
    DataReader r(max);
    size_t used = 0;
    std::string taken;
    while (used < in.size() && !r.done()) {
        size_t n = step == 0 ? in.size() - used : std::min(step, in.size() - used);
        size_t u = r.feed(in.substr(used, n));
        used += u;
        if (stream) {
            CHECK(r.message().size() <= 2 * n + 2);
            taken += r.message();
            r.message().clear();
        }
        if (u < n) break;
    }
    if (!stream) taken = r.message();
    if (r.too_big()) taken.clear();  // the session drops its sink
    return {r.done(), used, taken, r.too_big(), r.eight_bit()};
}

}  // namespace

TEST_CASE("smtp_data: end of data, dot-stuffing and smuggling variants") {
    struct Case {
        const char* label;
        std::string in;
        bool done;
        std::string want;  // stored message (when done)
        const char* rest;  // input left over when done
    };
    auto tc = GENERATE(values<Case>({
        {"simple", "Subject: x\r\n\r\nhi\r\n.\r\n", true, "Subject: x\r\n\r\nhi\r\n", ""},
        {"empty message", ".\r\n", true, "", ""},
        {"trailing commands left", "a\r\n.\r\nQUIT\r\n", true, "a\r\n", "QUIT\r\n"},
        {"dot-stuffed", "..leading\r\n...\r\n.\r\n", true, ".leading\r\n..\r\n", ""},
        {"dot mid-line untouched", "a.b\r\n .\r\n.\r\n", true, "a.b\r\n .\r\n", ""},
        {"LF.LF does not end", "a\n.\nMAIL FROM:<x@y>\r\n.\r\n", true,
         "a\r\n.\r\nMAIL FROM:<x@y>\r\n", ""},
        {"CRLF.LF does not end", "a\r\n.\nRCPT TO:<x@y>\r\n.\r\n", true,
         "a\r\n.\r\nRCPT TO:<x@y>\r\n", ""},
        {"LF.CRLF does not end", "a\n.\r\nDATA\r\n.\r\n", true, "a\r\n.\r\nDATA\r\n", ""},
        {"CR.CR does not end", "a\r.\rQUIT\r\n.\r\n", true, "a\r.\rQUIT\r\n", ""},
        {"CRLF.CR x", "a\r\n.\rx\r\n.\r\n", true, "a\r\n.\rx\r\n", ""},
        {"bare LF normalised", "l1\nl2\r\n.\r\n", true, "l1\r\nl2\r\n", ""},
        {"bare CR kept", "a\rb\r\n.\r\n", true, "a\rb\r\n", ""},
        {"CR CR LF", "a\r\r\n.\r\n", true, "a\r\r\n", ""},
        {"no terminator yet", "a\r\n.", false, "", ""},
        {"dot space is content", "a\r\n. \r\n.\r\n", true, "a\r\n \r\n", ""},
    }));
    for (size_t step : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{7}}) {
        DYNAMIC_SECTION(tc.label << " step " << step) {
            for (bool stream : {false, true}) {
                auto got = feed_all(tc.in, step, 1 << 20, stream);
                CHECK(got.done == tc.done);
                if (tc.done) {
                    INFO("got: " << got.msg << " stream " << stream);
                    CHECK(got.msg == tc.want);
                    CHECK(tc.in.substr(got.used) == tc.rest);
                }
            }
        }
    }
}

TEST_CASE("smtp_data: 8-bit bytes are stored byte for byte") {
    std::string body;
    for (int i = 1; i < 256; ++i)
        if (i != '\r' && i != '\n') body += static_cast<char>(i);
    body += "\r\n";
    for (size_t step : {size_t{0}, size_t{1}, size_t{5}}) {
        auto got = feed_all(body + ".\r\n", step);
        REQUIRE(got.done);
        CHECK(got.msg == body);
        CHECK(got.eight_bit);
    }
    auto ascii = feed_all("plain\r\n.\r\n", 0);
    CHECK_FALSE(ascii.eight_bit);
}

TEST_CASE("smtp_data: oversize keeps reading to the terminator") {
    std::string big(5000, 'x');
    std::string in = big + "\r\n" + big + "\r\n.\r\nNOOP\r\n";
    for (size_t step : {size_t{0}, size_t{1}, size_t{100}}) {
        DataReader r(4000);
        size_t used = 0;
        while (used < in.size() && !r.done()) {
            size_t n = step == 0 ? in.size() - used : std::min(step, in.size() - used);
            used += r.feed(std::string_view(in).substr(used, n));
        }
        CHECK(r.done());
        CHECK(r.too_big());
        CHECK(r.message().empty());
        CHECK(r.size() == 10004u);
        CHECK(in.substr(used) == "NOOP\r\n");
    }
    DataReader exact(7);
    exact.feed("12345\r\n.\r\n");
    CHECK(exact.done());
    CHECK_FALSE(exact.too_big());
    CHECK(exact.message() == "12345\r\n");
}

TEST_CASE("smtp_data: BDAT chunks are raw") {
    ChunkReader c(20);
    c.begin_chunk(6);
    CHECK(c.feed("a\n.\r\nXYZ") == 6);  // no dot handling, stops at the count
    CHECK(c.chunk_done());
    c.begin_chunk(3);
    CHECK(c.feed("\xff") == 1);
    CHECK(c.remaining() == 2);
    CHECK(c.feed("bcd") == 2);
    CHECK(c.message() ==
          "a\n.\r\nX\xff"
          "bc");
    CHECK(c.eight_bit());
    CHECK_FALSE(c.too_big());
    c.begin_chunk(100);
    CHECK(c.feed(std::string(100, 'z')) == 100);
    CHECK(c.too_big());
    CHECK(c.message().empty());
}

TEST_CASE("smtp_data: streamed in any split, the stored bytes are the same") {
    // Dot lines, bare LF/CR, CR LF pairs and the smuggling separators, split at every offset.
    const std::string in =
        "a\r\n..b\r\n.\nc\r.\rd\n.\r\ne\r\r\n.x\r\n" + std::string(300, 'y') + "\r\n.\r\nQUIT\r\n";
    const auto whole = feed_all(in, 0);
    REQUIRE(whole.done);
    for (size_t cut = 1; cut < in.size(); ++cut) {
        DataReader r(1 << 20);
        std::string got;
        size_t used = r.feed(std::string_view(in).substr(0, cut));
        got += std::exchange(r.message(), {});
        if (!r.done()) used += r.feed(std::string_view(in).substr(cut));
        got += r.message();
        CHECK(r.done());
        CHECK(got == whole.msg);
        CHECK(used == whole.used);
    }
    for (size_t step : {size_t{1}, size_t{5}, size_t{64}}) {
        auto s = feed_all(in, step, 1 << 20, true);
        CHECK(s.msg == whole.msg);
        CHECK(s.used == whole.used);
    }
}
