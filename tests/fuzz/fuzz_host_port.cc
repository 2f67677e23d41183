// parse_host_port ([delivery] smarthost and route values, config/delivery_section.h) on
// arbitrary text. Invariants: an accepted value has a non-empty lower-case host without
// brackets, spaces or control bytes and a port of 1..65535, and it prints back (host:port,
// IPv6 in brackets) to a text that parses to the same value.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/delivery_section.h"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto hp = parse_host_port(text);
    if (!hp) return 0;
    if (hp->host.empty() || hp->port == 0) __builtin_trap();
    for (unsigned char ch : hp->host)
        if (ch <= ' ' || ch >= 0x7f || ch == '[' || ch == ']' || (ch >= 'A' && ch <= 'Z'))
            __builtin_trap();
    const bool v6 = hp->host.find(':') != std::string::npos;
    std::string printed = (v6 ? "[" + hp->host + "]" : hp->host) + ":" + std::to_string(hp->port);
    auto again = parse_host_port(printed);
    if (!again || !(*again == *hp)) __builtin_trap();
    return 0;
}
