// Raw DEFLATE streams (libproto/net/deflate_stream.h) for IMAP COMPRESS: round trips in
// pieces and single bytes, the sync flush at the end of a batch, interoperation with
// zlib's own defaults (a client with a 32 KiB window), the output bound against a zip
// bomb, and errors for garbage and for bytes after the end of the stream.
#include <catch2/catch.hpp>

#include <zlib.h>

#include "libproto/net/deflate_stream.h"

using namespace postern;

namespace {

// What a client such as Python's zlib.compressobj(wbits=-15) sends: raw deflate at zlib's
// default window and memLevel, each batch sync-flushed (or finished with `finish`).
std::string client_deflate(const std::string& in, bool finish = false, int level = 6) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, in.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int r = deflate(&z, finish ? Z_FINISH : Z_SYNC_FLUSH);
    REQUIRE(r == (finish ? Z_STREAM_END : Z_OK));
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out;
}

// Inflates all of `in` in steps of at most `max_out`; fails the test on an error.
std::string inflate_all(Inflater& i, std::string_view in, size_t max_out = 16 * 1024) {
    std::string out;
    while (!in.empty()) {
        size_t before = out.size();
        REQUIRE(i.read(in, out, max_out) != InflateStatus::error);
        REQUIRE(out.size() - before <= max_out);
    }
    return out;
}

std::string sample_text(size_t n) {
    std::string s;
    uint32_t x = 12345;
    while (s.size() < n) {
        x = x * 1103515245 + 12345;
        s += "* " + std::to_string(x % 5000) + " FETCH (UID " + std::to_string(x % 9973) +
             " FLAGS (\\Seen))\r\n";
    }
    s.resize(n);
    return s;
}

}  // namespace

TEST_CASE("deflate: a batch written in pieces comes back whole after the sync flush") {
    auto d = Deflater::create();
    auto i = Inflater::create();
    REQUIRE(d);
    REQUIRE(i);
    std::string text = sample_text(200'000);
    std::string wire;
    for (size_t off = 0; off < text.size(); off += 777)
        REQUIRE(d->write(std::string_view(text).substr(off, 777), wire));
    REQUIRE(d->pending());
    REQUIRE(d->flush(wire));
    CHECK_FALSE(d->pending());
    CHECK(wire.size() < text.size() / 3);  // it does compress
    // A sync flush ends with an empty stored block.
    REQUIRE(wire.size() >= 4);
    CHECK(wire.substr(wire.size() - 4) == std::string("\0\0\xff\xff", 4));
    CHECK(inflate_all(*i, wire) == text);
}

TEST_CASE("deflate: every batch is decodable at its flush; a flush with nothing new adds nothing") {
    auto d = Deflater::create();
    auto i = Inflater::create();
    for (std::string reply : {"a OK LOGIN done\r\n", "* 3 EXISTS\r\n", "b OK NOOP\r\n"}) {
        std::string wire;
        REQUIRE(d->write(reply, wire));
        REQUIRE(d->flush(wire));
        CHECK(inflate_all(*i, wire) == reply);
        std::string again;
        REQUIRE(d->flush(again));
        CHECK(again.empty());
    }
}

TEST_CASE("deflate: the inflater takes a client's stream byte by byte and in odd pieces") {
    std::string text = sample_text(100'000);  // more than the client's 32 KiB window
    std::string wire = client_deflate(text);
    for (size_t piece : {size_t(1), size_t(7), size_t(4096)}) {
        DYNAMIC_SECTION("pieces of " << piece) {
            auto i = Inflater::create();
            std::string got;
            for (size_t off = 0; off < wire.size(); off += piece)
                got += inflate_all(*i, std::string_view(wire).substr(off, piece));
            CHECK(got == text);
        }
    }
}

TEST_CASE("deflate: a zip bomb comes out max_out bytes at a time, the rest stays unread") {
    std::string zeros(64 << 20, '\0');
    std::string bomb = client_deflate(zeros, false, 9);
    REQUIRE(bomb.size() < 128 * 1024);  // about 1000:1
    auto i = Inflater::create();
    std::string_view in = bomb;
    std::string out;
    REQUIRE(i->read(in, out, 16 * 1024) == InflateStatus::ok);
    CHECK(out.size() == 16 * 1024);
    CHECK(in.size() > bomb.size() - 1024);  // it read only what those 16 KiB needed
    CHECK(i->total_out() == 16 * 1024);
    // And so on, chunk by chunk, never more per call, to the end.
    uint64_t total = out.size();
    while (!in.empty()) {
        out.clear();
        REQUIRE(i->read(in, out, 16 * 1024) == InflateStatus::ok);
        REQUIRE(out.size() <= 16 * 1024);
        total += out.size();
    }
    CHECK(total == zeros.size());
}

TEST_CASE("deflate: garbage and bytes after the end of the stream are errors") {
    SECTION("a reserved block type") {
        auto i = Inflater::create();
        std::string bad("\xff\xff\xff\xff\xff\xff", 6);
        std::string_view in = bad;
        std::string out;
        CHECK(i->read(in, out, 1024) == InflateStatus::error);
    }
    SECTION("plain text where compressed data belongs") {
        auto i = Inflater::create();
        std::string bad = "a SELECT INBOX\r\nb FETCH 1:* (FLAGS)\r\n";
        std::string_view in = bad;
        std::string out;
        CHECK(i->read(in, out, 1024) == InflateStatus::error);
    }
    SECTION("the client finished the stream, then sent more") {
        auto i = Inflater::create();
        std::string wire = client_deflate("c LOGOUT\r\n", true);
        std::string_view in = wire;
        std::string out;
        CHECK(i->read(in, out, 1024) == InflateStatus::finished);
        CHECK(out == "c LOGOUT\r\n");
        CHECK(i->finished());
        std::string more = "x";
        std::string_view in2 = more;
        CHECK(i->read(in2, out, 1024) == InflateStatus::error);
    }
}

TEST_CASE("deflate: options outside zlib's range give no stream") {
    CHECK(Deflater::create({.level = 6, .window_bits = 30, .mem_level = 6}) == nullptr);
    CHECK(Deflater::create({.level = 6, .window_bits = 15, .mem_level = 8}) != nullptr);
}
