#include "libproto/config/cidr.h"
#include "libproto/core/log_escape.h"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <sys/socket.h>

namespace postern {

namespace {

bool parse_ip(const std::string& s, int& family, std::array<uint8_t, 16>& out) {
    out.fill(0);
    if (inet_pton(AF_INET, s.c_str(), out.data()) == 1) {
        family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) {
        family = AF_INET6;
        return true;
    }
    return false;
}

}  // namespace

std::expected<Cidr, std::string> parse_cidr(std::string_view text) {
    Cidr c;
    size_t slash = text.find('/');
    std::string ip(text.substr(0, slash));
    if (!parse_ip(ip, c.family, c.addr))
        return std::unexpected("relay network \"" + log_escape(text) + "\": not an IP address");
    unsigned max = c.family == AF_INET ? 32 : 128;
    c.prefix = max;
    if (slash != std::string_view::npos) {
        auto p = text.substr(slash + 1);
        unsigned v = 0;
        auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
        if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || v > max)
            return std::unexpected("relay network \"" + log_escape(text) + "\": bad prefix length");
        c.prefix = v;
    }
    return c;
}

bool wider_than_private(const Cidr& c) { return c.prefix < (c.family == AF_INET ? 8u : 7u); }

std::expected<CidrList, std::string> CidrList::parse(const std::vector<std::string>& entries) {
    CidrList list;
    for (const auto& e : entries) {
        auto c = parse_cidr(e);
        if (!c) return std::unexpected(c.error());
        list.nets_.push_back(*c);
    }
    return list;
}

bool CidrList::contains(std::string_view ip) const {
    int family = 0;
    std::array<uint8_t, 16> a{};
    if (!parse_ip(std::string(ip), family, a)) return false;
    for (const auto& n : nets_) {
        if (n.family != family) continue;
        unsigned full = n.prefix / 8, rest = n.prefix % 8;
        if (std::memcmp(a.data(), n.addr.data(), full) != 0) continue;
        if (rest) {
            uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
            if ((a[full] & mask) != (n.addr[full] & mask)) continue;
        }
        return true;
    }
    return false;
}

}  // namespace postern
