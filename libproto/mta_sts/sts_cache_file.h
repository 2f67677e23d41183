#pragma once
// The MTA-STS policy cache as a text file (spoold keeps it as queue/mta-sts.cache so a
// restart keeps what it learnt, RFC 8461 5.1), pure: formatting and parsing only.
//
//   sts1 DOMAIN ID FETCHED BASE64(POLICY)\n
//
// FETCHED is the Unix time of the fetch; the policy text is kept as served and parsed again
// on load, so its expiry is FETCHED + max_age. Lines that do not parse are skipped (a torn
// or foreign line costs one fetch, never the rest of the file).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/mta_sts/sts_policy.h"

namespace postern {

struct StsCacheEntry {
    std::string domain;  // lower-case
    std::string id;      // the TXT record's id when the policy was fetched
    int64_t fetched = 0;
    std::string body;  // the policy text as served
    StsPolicy policy;  // parse_sts_policy(body)
    int64_t expires() const { return fetched + int64_t(policy.max_age); }
};

inline constexpr size_t kStsCacheMaxEntries = 10000;  // more lines are ignored

std::string format_sts_cache(const std::vector<StsCacheEntry>& entries);
std::vector<StsCacheEntry> parse_sts_cache(std::string_view text);

}  // namespace postern
