#pragma once
// Sizes as the administrator types them (user quota, user add --quota), and how mailctl
// shows them. Pure: text in, number or one-line error out.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace postern::ctl {

// Octets from "1048576", "500K", "500M", "2G", "1T" (binary units, suffix either case) or
// "none"; "0" and "none" both give 0 (no quota). Errors are one line naming the input:
// empty, negative, not a number, an unknown suffix, more than 2^64-1 octets (the input
// shown log_escape()d).
std::expected<uint64_t, std::string> parse_size(std::string_view s);

// The shortest exact form parse_size reads back: 0 -> "none", 524288000 -> "500M",
// 1000 -> "1000".
std::string format_size(uint64_t octets);

}  // namespace postern::ctl
