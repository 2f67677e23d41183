// fuzz_sts_cache: arbitrary bytes as spoold's MTA-STS cache file. What parses formats back to
// text that parses to the same entries.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libproto/mta_sts/sts_cache_file.h"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto a = parse_sts_cache(text);
    if (a.size() > kStsCacheMaxEntries) std::abort();
    auto b = parse_sts_cache(format_sts_cache(a));
    if (a.size() != b.size()) std::abort();
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].domain != b[i].domain || a[i].id != b[i].id || a[i].fetched != b[i].fetched ||
            a[i].body != b[i].body || !(a[i].policy == b[i].policy))
            std::abort();
    return 0;
}
