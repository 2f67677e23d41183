#include "libproto/mta_sts/sts_cache_file.h"

#include <charconv>

#include "libproto/core/ascii.h"
#include "libproto/core/base64.h"

namespace postern {

std::string format_sts_cache(const std::vector<StsCacheEntry>& entries) {
    std::string out;
    for (const auto& e : entries)
        out += "sts1 " + e.domain + " " + e.id + " " + std::to_string(e.fetched) + " " +
               base64_encode(e.body) + "\n";
    return out;
}

std::vector<StsCacheEntry> parse_sts_cache(std::string_view text) {
    std::vector<StsCacheEntry> out;
    while (!text.empty() && out.size() < kStsCacheMaxEntries) {
        size_t eol = text.find('\n');
        if (eol == std::string_view::npos) break;  // a torn last line
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol + 1);
        std::string_view f[5];
        size_t n = 0;
        while (n < 5 && !line.empty()) {
            size_t sp = line.find(' ');
            f[n++] = line.substr(0, sp);
            line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
        }
        if (n != 5 || !line.empty() || f[0] != "sts1" || f[1].empty()) continue;
        StsCacheEntry e;
        e.domain = ascii_lowered(f[1]);
        auto id = select_sts_record({"v=STSv1; id=" + std::string(f[2])});
        if (!id) continue;
        e.id = id->id;
        auto [p, ec] = std::from_chars(f[3].data(), f[3].data() + f[3].size(), e.fetched);
        if (ec != std::errc{} || p != f[3].data() + f[3].size() || e.fetched < 0) continue;
        auto body = base64_decode(f[4]);
        if (!body) continue;
        auto policy = parse_sts_policy(*body);
        if (!policy) continue;
        e.body = std::move(*body);
        e.policy = std::move(*policy);
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace postern
