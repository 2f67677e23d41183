#pragma once
// CIDR network lists (smtpd.relay_networks: checked by load_config, matched by smtpd):
// "192.0.2.0/24", "2001:db8::/32", or a bare address (a /32 or /128). IPv4 and IPv6 never
// match each other; peers arrive with IPv4-mapped IPv6 already shown as IPv4.

#include <array>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

struct Cidr {
    int family = 0;  // AF_INET or AF_INET6
    std::array<uint8_t, 16> addr{};
    unsigned prefix = 0;
};

// Error: one line naming the bad entry.
std::expected<Cidr, std::string> parse_cidr(std::string_view text);

// True when the network is wider than the largest private range of its family
// (10.0.0.0/8, fc00::/7): as a relay network it would open the relay to a large part of
// the internet (0.0.0.0/0 and ::/0 to all of it).
bool wider_than_private(const Cidr& c);

class CidrList {
public:
    static std::expected<CidrList, std::string> parse(const std::vector<std::string>& entries);
    // False for anything that is not an IP address.
    bool contains(std::string_view ip) const;
    size_t size() const { return nets_.size(); }

private:
    std::vector<Cidr> nets_;
};

}  // namespace postern
