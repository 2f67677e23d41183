// parse_cidr (smtpd.relay_networks, checked by load_config) on arbitrary text.
// Invariants: an accepted entry has a prefix within its family's bits, matches its own
// address, and an entry that covers a /0 also counts as wider than any private network.
#include "libproto/config/cidr.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto c = parse_cidr(text);
    if (!c) {
        if (c.error().empty() || c.error().find('\n') != std::string::npos) __builtin_trap();
        return 0;
    }
    const unsigned bits = c->family == AF_INET ? 32 : c->family == AF_INET6 ? 128 : 0;
    if (bits == 0 || c->prefix > bits) __builtin_trap();
    if (c->prefix == 0 && !wider_than_private(*c)) __builtin_trap();
    char buf[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(c->family, c->addr.data(), buf, sizeof buf)) __builtin_trap();
    auto list = CidrList::parse({text});
    if (!list || !list->contains(buf)) __builtin_trap();
    return 0;
}
