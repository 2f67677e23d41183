#include "libproto/core/base64.h"

#include <catch2/catch.hpp>

using postern::base64_decode;
using postern::base64_encode;

TEST_CASE("base64: RFC 4648 test vectors round-trip") {
    struct Case {
        std::string raw, b64;
    };
    auto c =
        GENERATE(Case{"", ""}, Case{"f", "Zg=="}, Case{"fo", "Zm8="}, Case{"foo", "Zm9v"},
                 Case{"foob", "Zm9vYg=="}, Case{"fooba", "Zm9vYmE="}, Case{"foobar", "Zm9vYmFy"},
                 Case{std::string("\0a\0b", 4), "AGEAYg=="}, Case{"\xff\xfe\xfd", "//79"});
    DYNAMIC_SECTION("raw=" << c.b64) {
        INFO("got " << base64_encode(c.raw) << ", want " << c.b64);
        CHECK(base64_encode(c.raw) == c.b64);
        auto d = base64_decode(c.b64);
        REQUIRE(d.has_value());
        CHECK(*d == c.raw);
    }
}

TEST_CASE("base64: strict decoding rejects non-canonical input") {
    auto bad = GENERATE(as<std::string>{}, "Zg", "Zg=", "Zg===", "Z===", "====", "Zm9v\r\n",
                        " Zm9v", "Zm9v ", "Zm=v", "Zh==", "Zm9=", "Zm-v", "Zm_v",
                        "Zg==Zg==", "Zm8=Zm9v", "Zm9v=", "\x80Zm9");
    DYNAMIC_SECTION("input=" << bad) {
        auto d = base64_decode(bad);
        INFO("got a value where rejection was wanted");
        CHECK_FALSE(d.has_value());
    }
}

TEST_CASE("base64: every byte value survives a round trip") {
    std::string all;
    for (int i = 0; i < 256; ++i) all += char(i);
    for (size_t n = 0; n <= all.size(); n += 37) {
        auto d = base64_decode(base64_encode(all.substr(0, n)));
        REQUIRE(d.has_value());
        CHECK(*d == all.substr(0, n));
    }
}
