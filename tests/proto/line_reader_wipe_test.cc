// LineReader and secrets: once wipe_consumed() is called no byte of a consumed line is left
// anywhere in the reader's storage (not where it was read, not where compaction left a stale
// copy), discard() wipes what it drops, and wiping never changes the lines still to come.

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "libproto/core/base64.h"
#include "libproto/core/line_reader.h"

using namespace postern;

namespace {

// True when any 8-byte piece of `secret` is somewhere in `storage`.
bool holds_piece(std::string_view storage, std::string_view secret) {
    for (size_t i = 0; i + 8 <= secret.size(); ++i)
        if (storage.find(secret.substr(i, 8)) != std::string_view::npos) return true;
    return false;
}

const std::string kCredential = base64_encode(std::string("\0alice\0correct-horse-battery", 28));

}  // namespace

TEST_CASE("line reader wipe: an AUTH line leaves nothing once wiped, later lines intact",
          "[line_reader][secret]") {
    LineReader r;
    REQUIRE(r.feed("EHLO client.test\r\nAUTH PLAIN " + kCredential + "\r\nNOOP\r\n"));
    REQUIRE(r.next()->data == "EHLO client.test");
    auto auth = r.next();
    REQUIRE(auth);
    CHECK(auth->data == "AUTH PLAIN " + kCredential);
    CHECK(holds_piece(r.raw_buffer_for_tests(), kCredential));  // the check can see it
    r.wipe_consumed();
    CHECK_FALSE(holds_piece(r.raw_buffer_for_tests(), kCredential));
    auto noop = r.next();
    REQUIRE(noop);
    CHECK(noop->data == "NOOP");
    CHECK_FALSE(r.next());
}

TEST_CASE("line reader wipe: stale copies left by compaction are zeroed too",
          "[line_reader][secret]") {
    LineReader r;
    // A long line, then the credential line in two pieces: the second feed compacts (the
    // consumed line is more than half of the buffer), moving the first piece to the front
    // and leaving its old bytes past the new end.
    std::string filler(600, 'x');
    std::string auth = "AUTH PLAIN " + kCredential;
    REQUIRE(r.feed(filler + "\r\n" + auth.substr(0, 30)));
    REQUIRE(r.next()->data == filler);
    CHECK_FALSE(r.next());
    REQUIRE(r.feed(auth.substr(30) + "\r\nQUIT\r\n"));
    REQUIRE(r.next()->data == auth);
    r.wipe_consumed();
    CHECK_FALSE(holds_piece(r.raw_buffer_for_tests(), kCredential));
    CHECK(r.next()->data == "QUIT");
}

TEST_CASE("line reader wipe: growing the buffer keeps the lines, a later wipe leaves nothing",
          "[line_reader][secret]") {
    LineReader r;
    std::string auth = "AUTH PLAIN " + kCredential;
    REQUIRE(r.feed(auth.substr(0, 20)));  // small: the first storage
    CHECK_FALSE(r.next());
    std::string big(5000, 'y');
    REQUIRE(r.feed(auth.substr(20) + "\r\n" + big + "\r\n"));  // grows (old storage wiped)
    REQUIRE(r.next()->data == auth);
    r.wipe_consumed();
    CHECK_FALSE(holds_piece(r.raw_buffer_for_tests(), kCredential));
    CHECK(r.next()->data == big);
}

TEST_CASE("line reader wipe: discard() zeroes what it drops", "[line_reader][secret]") {
    LineReader r;
    REQUIRE(r.feed("STARTTLS\r\nAUTH PLAIN " + kCredential + "\r\n"));
    REQUIRE(r.next()->data == "STARTTLS");
    CHECK(r.discard() > 0);
    CHECK_FALSE(holds_piece(r.raw_buffer_for_tests(), kCredential));
}

TEST_CASE("line reader wipe: wiping after every line changes no event", "[line_reader][secret]") {
    std::string in;
    for (int i = 0; i < 200; ++i)
        in += "LINE " + std::to_string(i) + std::string(i % 37, 'z') + "\r\n";
    for (size_t step : {1, 3, 64, 700}) {
        DYNAMIC_SECTION("chunks of " << step) {
            LineReader plain, wiped;
            std::vector<std::string> a, b;
            for (size_t at = 0; at < in.size(); at += step) {
                std::string_view chunk = std::string_view(in).substr(at, step);
                REQUIRE(plain.feed(chunk));
                REQUIRE(wiped.feed(chunk));
                while (auto ev = plain.next()) a.emplace_back(ev->data);
                while (auto ev = wiped.next()) {
                    b.emplace_back(ev->data);
                    wiped.wipe_consumed();
                }
            }
            CHECK(a.size() == 200);
            CHECK(a == b);
        }
    }
}
