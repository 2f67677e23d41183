#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "ctl/size_arg.h"

using namespace postern::ctl;

TEST_CASE("parse_size: every accepted form") {
    auto [label, text, want] = GENERATE(table<const char*, std::string, uint64_t>({
        {"plain octets", "1048576", 1048576},
        {"zero removes", "0", 0},
        {"none removes", "none", 0},
        {"K", "500K", 500ull << 10},
        {"k lowercase", "500k", 500ull << 10},
        {"M", "500M", 500ull << 20},
        {"m lowercase", "500m", 500ull << 20},
        {"G", "2G", 2ull << 30},
        {"g lowercase", "2g", 2ull << 30},
        {"T", "1T", 1ull << 40},
        {"0 with a unit", "0M", 0},
        {"leading zeros", "007", 7},
        {"largest octets", "18446744073709551615", UINT64_MAX},
        {"largest T", "16777215T", 16777215ull << 40},
    }));
    DYNAMIC_SECTION(label) {
        auto got = parse_size(text);
        INFO("input " << text << ": got " << (got ? std::to_string(*got) : got.error()) << ", want "
                      << want);
        REQUIRE(got.has_value());
        CHECK(*got == want);
    }
}

TEST_CASE("parse_size: one-line errors naming the input") {
    auto [label, text, want] = GENERATE(table<const char*, std::string, std::string>({
        {"empty", "", "empty size (want e.g. 1048576, 500M, 2G or none)"},
        {"negative", "-5", "negative size: -5"},
        {"negative with unit", "-1G", "negative size: -1G"},
        {"overflow octets", "18446744073709551616", "size too large: 18446744073709551616"},
        {"overflow many digits", "99999999999999999999999",
         "size too large: 99999999999999999999999"},
        {"overflow by the unit", "16777216T", "size too large: 16777216T"},
        {"overflow G", "17179869184G", "size too large: 17179869184G"},
        {"unknown suffix", "5X", "unknown size suffix in 5X (want K, M, G or T)"},
        {"two-letter suffix", "5MB", "unknown size suffix in 5MB (want K, M, G or T)"},
        {"decimal point", "1.5G", "unknown size suffix in 1.5G (want K, M, G or T)"},
        {"trailing space", "5 ", "unknown size suffix in 5  (want K, M, G or T)"},
        {"unit alone", "M", "invalid size: M (want e.g. 1048576, 500M, 2G or none)"},
        {"word", "unlimited", "invalid size: unlimited (want e.g. 1048576, 500M, 2G or none)"},
        {"None capitalised", "None", "invalid size: None (want e.g. 1048576, 500M, 2G or none)"},
        {"plus sign", "+5", "invalid size: +5 (want e.g. 1048576, 500M, 2G or none)"},
        {"newline shown escaped", "5\n", "unknown size suffix in 5\\n (want K, M, G or T)"},
    }));
    DYNAMIC_SECTION(label) {
        auto got = parse_size(text);
        INFO("input '" << text << "': got " << (got ? std::to_string(*got) : got.error())
                       << ", want error " << want);
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error() == want);
        CHECK(got.error().find('\n') == std::string::npos);
    }
}

TEST_CASE("format_size: shortest exact form, read back by parse_size") {
    auto [octets, want] = GENERATE(table<uint64_t, std::string>({
        {0, "none"},
        {1, "1"},
        {1000, "1000"},
        {1024, "1K"},
        {1536, "1536"},
        {524288000, "500M"},
        {2ull << 30, "2G"},
        {1ull << 40, "1T"},
        {(1ull << 30) + (1ull << 20), "1025M"},
        {UINT64_MAX, "18446744073709551615"},
    }));
    DYNAMIC_SECTION(want) {
        CHECK(format_size(octets) == want);
        auto back = parse_size(format_size(octets));
        REQUIRE(back.has_value());
        CHECK(*back == octets);
    }
}
