// Resolver helpers shared by every implementation (c-ares, the tests' fake).
#include <algorithm>
#include <arpa/inet.h>
#include <cstdio>

#include "libproto/dns/resolver.h"

namespace postern {

const char* dns_error_text(DnsError e) {
    switch (e) {
    case DnsError::not_found: return "no such domain";
    case DnsError::no_data: return "no records of that type";
    case DnsError::temporary: return "temporary DNS failure";
    case DnsError::bad_name: return "malformed DNS query";
    }
    return "?";
}

void sort_mx(std::vector<MxRecord>& mx) {
    std::stable_sort(mx.begin(), mx.end(), [](const MxRecord& a, const MxRecord& b) {
        return a.preference < b.preference;
    });
}

std::string reverse_name(std::string_view ip) {
    std::string s(ip);
    unsigned char b[16];
    if (inet_pton(AF_INET, s.c_str(), b) == 1) {
        char out[32];
        std::snprintf(out, sizeof out, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
        return out;
    }
    if (inet_pton(AF_INET6, s.c_str(), b) == 1) {
        static const char hex[] = "0123456789abcdef";
        std::string out;
        for (int i = 15; i >= 0; --i) {
            out += hex[b[i] & 0xf];
            out += '.';
            out += hex[b[i] >> 4];
            out += '.';
        }
        return out + "ip6.arpa";
    }
    return {};
}

}  // namespace postern
