// fuzz_sts_record: arbitrary bytes as the TXT record at _mta-sts.<domain> (RFC 8461 3.1), and
// split at NUL bytes as several records. A parsed id is 1..32 letters and digits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/mta_sts/sts_policy.h"

using namespace postern;

namespace {
void check(const std::expected<StsRecord, std::string>& r) {
    if (!r) return;
    if (r->id.empty() || r->id.size() > 32) std::abort();
    for (char c : r->id)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    check(parse_sts_record(text));
    std::vector<std::string> records;
    for (size_t start = 0; start <= text.size();) {
        size_t nul = text.find('\0', start);
        if (nul == std::string_view::npos) nul = text.size();
        records.emplace_back(text.substr(start, nul - start));
        start = nul + 1;
    }
    check(select_sts_record(records));
    return 0;
}
