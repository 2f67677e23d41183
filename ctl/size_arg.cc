#include "ctl/size_arg.h"

#include "libproto/core/log_escape.h"

namespace postern::ctl {
namespace {

constexpr std::string_view want = " (want e.g. 1048576, 500M, 2G or none)";

// The shift of a unit suffix (K=10 ... T=40), or -1 when the letter is not one.
int unit_shift(char c) {
    switch (c) {
    case 'k':
    case 'K': return 10;
    case 'm':
    case 'M': return 20;
    case 'g':
    case 'G': return 30;
    case 't':
    case 'T': return 40;
    default: return -1;
    }
}

}  // namespace

std::expected<uint64_t, std::string> parse_size(std::string_view s) {
    const std::string shown = log_escape(s);  // the error stays one line
    if (s.empty()) return std::unexpected("empty size" + std::string(want));
    if (s == "none") return 0;
    if (s.front() == '-') return std::unexpected("negative size: " + shown);
    size_t i = 0;
    uint64_t n = 0;
    bool too_large = false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        const auto digit = static_cast<uint64_t>(s[i] - '0');
        if (n > (UINT64_MAX - digit) / 10) too_large = true;
        n = n * 10 + digit;
    }
    if (i == 0) return std::unexpected("invalid size: " + shown + std::string(want));
    int shift = 0;
    if (i < s.size()) {
        shift = unit_shift(s[i]);
        if (shift < 0 || i + 1 != s.size())
            return std::unexpected("unknown size suffix in " + shown + " (want K, M, G or T)");
    }
    if (too_large || (shift > 0 && n > (UINT64_MAX >> shift)))
        return std::unexpected("size too large: " + shown);
    return n << shift;
}

std::string format_size(uint64_t octets) {
    if (octets == 0) return "none";
    static constexpr struct {
        int shift;
        char suffix;
    } units[] = {{40, 'T'}, {30, 'G'}, {20, 'M'}, {10, 'K'}};
    for (const auto& u : units) {
        const uint64_t unit = uint64_t{1} << u.shift;
        if (octets % unit == 0) return std::to_string(octets / unit) + u.suffix;
    }
    return std::to_string(octets);
}

}  // namespace postern::ctl
