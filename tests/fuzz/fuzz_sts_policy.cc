// fuzz_sts_policy: arbitrary bytes as an MTA-STS policy file (RFC 8461 3.2). Whatever parses
// must be sane: a mode, max_age within the cap, mx patterns within the limit, each a
// lower-case [*.]domain that matches itself (its wildcard: one label in front).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libproto/mta_sts/sts_policy.h"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto p = parse_sts_policy(text);
    if (!p) {
        if (p.error().empty() || p.error().find('\n') != std::string::npos) std::abort();
        return 0;
    }
    if (size > kStsPolicyMaxBytes || p->max_age > kStsMaxAge || p->mx.size() > kStsMaxMx)
        std::abort();
    if (p->mode != StsMode::none && p->mx.empty()) std::abort();
    for (const auto& m : p->mx) {
        if (m.empty()) std::abort();
        for (char c : m)
            if (c >= 'A' && c <= 'Z') std::abort();
        std::string host = m.starts_with("*.") ? "x" + m.substr(1) : m;
        if (!sts_mx_pattern_matches(m, host) || !sts_mx_matches(*p, host)) std::abort();
        if (m.starts_with("*.") && sts_mx_pattern_matches(m, m.substr(2))) std::abort();
    }
    return 0;
}
