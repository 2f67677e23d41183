#pragma once
// Builders for DNS answers in tests: wire bytes (for the parser) and parsed
// messages (for the planning logic).
#include <arpa/inet.h>
#include <string>

#include "libproto/dns_parse/dns_message.h"

namespace dns_test {

inline std::string u16(unsigned v) { return {char(v >> 8), char(v & 0xff)}; }
inline std::string u32(unsigned v) { return u16(v >> 16) + u16(v & 0xffff); }

inline std::string wire_name(const std::string& dotted) {
    std::string out;
    size_t start = 0;
    while (start < dotted.size()) {
        size_t dot = dotted.find('.', start);
        if (dot == std::string::npos) dot = dotted.size();
        out += char(dot - start);
        out += dotted.substr(start, dot - start);
        start = dot + 1;
    }
    return out + '\0';
}

inline postern::DnsRecord rr(const std::string& name, uint16_t type, uint32_t ttl = 300) {
    postern::DnsRecord r;
    r.name = name;
    r.type = type;
    r.ttl = ttl;
    return r;
}
inline postern::DnsRecord mx(const std::string& name, uint16_t pref, const std::string& host,
                             uint32_t ttl = 300) {
    auto r = rr(name, postern::dns_type::mx, ttl);
    r.preference = pref;
    r.target = host;
    return r;
}
inline postern::DnsRecord addr(const std::string& name, const std::string& ip, uint32_t ttl = 300) {
    unsigned char b[16];
    bool v4 = inet_pton(AF_INET, ip.c_str(), b) == 1;
    if (!v4) inet_pton(AF_INET6, ip.c_str(), b);
    auto r = rr(name, v4 ? postern::dns_type::a : postern::dns_type::aaaa, ttl);
    r.rdata.assign(reinterpret_cast<char*>(b), v4 ? 4 : 16);
    return r;
}
inline postern::DnsRecord cname(const std::string& name, const std::string& target,
                                uint32_t ttl = 300) {
    auto r = rr(name, postern::dns_type::cname, ttl);
    r.target = target;
    return r;
}
inline postern::DnsMessage message(std::vector<postern::DnsRecord> answers, bool ad = false,
                                   uint8_t rcode = 0) {
    postern::DnsMessage m;
    m.answers = std::move(answers);
    m.authenticated = ad;
    m.rcode = rcode;
    return m;
}

}  // namespace dns_test
